"""`make examples`: ask the service the contract's own request examples; write its answers.

``python -m tests.examples_writer [--out DIR]`` (default ``schemas/examples/``) sends every
request model's ``examples``, as the OpenAPI document publishes them, to a fresh service in
this process: ``TestClient`` over a new SQLite database in a temporary directory, migrated by
``repay db upgrade``, with an admin and a collector key made by ``repay keys create`` (the
console script's entry point, called in-process). It writes each answer to its file: JSON
with an indent of 2 and the keys in the order answered; CSV and iCalendar as sent (CRLF).
Where one answer holds another whole (:data:`CONTAINS`), the file has ``{"$ref": ...}``
there instead, which ``schemas.examples`` resolves.

The order is the one the answers record, not the order ``schemas.examples`` lists them in:
readyz; the policy created and listed (first: the calculators store the default policy when
first used, and the answers show it as policy 2 and the list without it); instalment,
deferral, both settlements, negotiate, counter (one debt, then two), APR; a key created,
revoked and listed; the offer saved; the debtor's page and its JSON opened and the schedule
downloaded as CSV and as a calendar (before accepting: the calendar's events are tentative,
and the audit trail shown counts these four views as events 3 to 6); the offer accepted, a
payment, the plan, its payoff, its audit events, the chain verified.

An unchanged service gets the same files, byte for byte, because what differs per run is
pinned:

* **The clock.** Today is the request examples' ``as_of`` (2026-11-25): the calculators
  are given it, but saving, accepting and recording a payment read the real clock (a payment
  may not be dated before its plan was accepted nor after tomorrow; the calendar is stamped
  now). :func:`pinned_clock` swaps the names ``date`` and ``datetime`` in the service's
  modules (``app``, ``app.*``) for ones whose ``today()``/``now()`` read a clock that starts
  at noon UTC that day and moves 1 ms at every reading, so times stay distinct and ordered.
  The plan and its payoff are asked ``?on=`` that day; the payment (``PaymentIn``'s example
  is dated 2026-12-15, a future day then) is dated that day too. A timestamp pinned below
  must fall on its placeholder's day: the real clock leaking in fails the run.
* **Random and derived values.** The offer and plan ids, the link's token, the key prefixes,
  the new key's secret, every timestamp, the calendar's ``DTSTAMP`` and the audit hashes
  (which cover ids and times) are each mapped to the documented value in
  :data:`PLACEHOLDERS`, by what they are (not by position), and replaced wherever they
  appear: in links, iCalendar UIDs, audit actors, ... (:class:`Pins`).
* **The environment** (of this process: run it as a process of its own). ``DATABASE_URL``,
  ``REPAY_BASE_URL`` (``http://127.0.0.1:8000``, the links' host), a fresh key pepper and
  secret key (nothing is written under ``var/``); no webhook.

``tests/schemas/test_examples.py`` runs this into a temporary directory and compares.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import re
import secrets
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi.testclient import TestClient

from schemas.examples import REF

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "schemas" / "examples"
BASE_URL = "http://127.0.0.1:8000"
ADMIN_NAME, COLLECTOR_NAME = "ops", "agent 7"

# What the documented examples show instead of a value that differs on every run.
PLACEHOLDERS = {
    "admin key prefix": "937cd299",
    "collector key prefix": "e0d14ea6",
    "new key prefix": "db3fb320",
    "new key secret": "rk_db3fb320_EXAMPLE-not-a-real-key-0000000000000000",
    "offer id": "5d9514b8397045cbb28cc42fd44b6bc2",
    "link token": "hK9Dhdjm7RrPgA2XSc3JC2llVY4l5Tfy",
    "plan id": "497683fd27514017af18db6462b94be6",
    "admin key created": "2026-11-25T14:52:23.780030Z",
    "collector key created": "2026-11-25T14:52:23.781114Z",
    "policy created": "2026-11-25T14:52:24.998025Z",
    "new key created": "2026-11-25T14:52:25.200543Z",
    "new key revoked": "2026-11-25T14:52:25.215757Z",
    "offer saved": "2026-11-25T14:52:25.228387Z",
    "link expires": "2026-12-02T14:52:25.228387Z",
    "calendar stamped": "20261125T145225Z",
    "offer accepted": "2026-11-25T14:52:25.464026Z",
    "acceptance audited": "2026-11-25T14:52:25.466772Z",
    "payment audited": "2026-11-25T14:52:25.498640Z",
    "hash before acceptance": "5db80b093fb22a5c09e034438a79ac9855669b9eb91e706a9565ba158918103b",
    "acceptance hash": "3416432ad34688f40d6bbd380dce3d144968c7810d1bdd9d3fc3534570f9b8fa",
    "payment hash": "8877bb651e49154ba55998fd10310f046e9871a28218e77e6b31c4c7bfb029d9",
}

# Each file and the operation that answers it, in the order they are asked.
ROUTES: dict[str, tuple[str, str]] = {
    "health.json": ("GET", "/readyz"),
    "policy_version.json": ("POST", "/v1/policies"),
    "policy_list.json": ("GET", "/v1/policies"),
    "instalment_offer.json": ("POST", "/v1/plans/instalment"),
    "deferral_offer.json": ("POST", "/v1/plans/deferral"),
    "settlement_offer.json": ("POST", "/v1/plans/settlement"),
    "settlement_plan_offer.json": ("POST", "/v1/plans/settlement"),
    "offer_set.json": ("POST", "/v1/offers/negotiate"),
    "consolidated_offer_set.json": ("POST", "/v1/offers/negotiate"),
    "counter_result.json": ("POST", "/v1/offers/counter"),
    "consolidated_counter_result.json": ("POST", "/v1/offers/counter"),
    "apr_result.json": ("POST", "/v1/rates/apr"),
    "key_created.json": ("POST", "/v1/keys"),
    "key_revoked.json": ("POST", "/v1/keys/{prefix}/revoke"),
    "key_list.json": ("GET", "/v1/keys"),
    "saved_offer.json": ("POST", "/v1/offers"),
    # before the acceptance, as a debtor deciding would: the calendar's events are tentative
    "link.csv": ("GET", "/s/{token}.csv"),
    "link.ics": ("GET", "/s/{token}.ics"),
    "acceptance.json": ("POST", "/s/{token}/accept"),
    "payment.json": ("POST", "/v1/plans/{plan_id}/payments"),
    "plan.json": ("GET", "/v1/plans/{plan_id}"),
    "payoff.json": ("GET", "/v1/plans/{plan_id}/payoff"),
    "audit_list.json": ("GET", "/v1/audit"),
    "audit_verification.json": ("GET", "/v1/audit/verify"),
}

# (file, JSON pointer, what is there): an answer that holds another whole says so once.
CONTAINS = [
    ("policy_list.json", "/policies/0", "policy_version.json"),
    ("key_list.json", "/keys/2", "key_revoked.json"),
    ("plan.json", "/payments/0", "payment.json"),
    ("plan.json", "/offer", "saved_offer.json#/offer"),
]


# ---- the one place that knows the service's internals --------------------------------------
# Only `create_app` is imported; the database and the keys are made by the `repay` command, and
# the clock is swapped by name in whatever modules make up the `app` package.


def _service() -> tuple[Callable[[], Any], Callable[[], None]]:
    """``create_app``, and the ``repay`` command's entry point (its console script)."""
    from app.main import create_app

    (repay,) = entry_points(group="console_scripts", name="repay")
    return create_app, repay.load()


def _service_modules() -> list[ModuleType]:
    return [m for name, m in sorted(sys.modules.items()) if name.split(".")[0] == "app"]


# ---- the clock ------------------------------------------------------------------------------


class _Clock:
    """``start``, then ``step`` later at each reading (thread-safe: handlers run in threads)."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self._next, self._step, self._lock = start, step, threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            now, self._next = self._next, self._next + self._step
        return now


class _LikeReal(type):
    """``isinstance`` against a pinned class answers as against the real one."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, cls.__mro__[1])

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.__mro__[1])


@contextlib.contextmanager
def pinned_clock(
    start: datetime,
    *,
    step: timedelta = timedelta(milliseconds=1),
    modules: list[ModuleType] | None = None,
) -> Iterator[None]:
    """Inside, ``date.today()`` in the service's modules (or ``modules``) is ``start``'s day
    and ``datetime.now()`` reads a clock from ``start``, ``step`` later at each reading.
    Values made through the swapped names are of the real types.

    Examples
    --------
    >>> service = ModuleType("service")
    >>> service.date, service.datetime = date, datetime
    >>> with pinned_clock(datetime(2026, 11, 25, 12, tzinfo=UTC), modules=[service]):
    ...     first, second = service.datetime.now(UTC), service.datetime.now(UTC)
    ...     today = service.date.today()
    ...     made = service.datetime.fromisoformat("2026-11-25T12:00:00")
    >>> first.isoformat(), (second - first).microseconds, today.isoformat()
    ('2026-11-25T12:00:00+00:00', 1000, '2026-11-25')
    >>> type(first) is datetime, type(made) is datetime, isinstance(first, datetime)
    (True, True, True)
    >>> service.datetime is datetime and service.date is date
    True
    """
    clock = _Clock(start, step)

    class PinnedDate(date, metaclass=_LikeReal):
        def __new__(cls, *args: Any, **kwargs: Any) -> date:  # type: ignore[misc]
            return date(*args, **kwargs)

        @classmethod
        def today(cls) -> date:
            return clock.now().date()

    class PinnedDateTime(datetime, metaclass=_LikeReal):
        def __new__(cls, *args: Any, **kwargs: Any) -> datetime:  # type: ignore[misc]
            return datetime(*args, **kwargs)

        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            now = clock.now()
            return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

        @classmethod
        def utcnow(cls) -> datetime:
            return clock.now().replace(tzinfo=None)

        @classmethod
        def today(cls) -> datetime:
            return cls.now()

    swapped: list[tuple[ModuleType, str, type]] = []
    for module in _service_modules() if modules is None else modules:
        for name, real, pinned in (
            ("date", date, PinnedDate),
            ("datetime", datetime, PinnedDateTime),
        ):
            if getattr(module, name, None) is real:
                setattr(module, name, pinned)
                swapped.append((module, name, real))
    try:
        yield
    finally:
        for module, name, real in swapped:
            setattr(module, name, real)


# ---- placeholders ---------------------------------------------------------------------------


class Pins:
    """Values generated by this run and the placeholders that stand for them.

    Examples
    --------
    >>> pins = Pins()
    >>> pins.pin("0123abcd", "offer id")
    >>> pins.apply({"link": "/s/0123abcd", "uid": "0123abcd@repay-1", "other": "x0123abcd"})
    {'link': '/s/5d9514b8397045cbb28cc42fd44b6bc2',
     'uid': '5d9514b8397045cbb28cc42fd44b6bc2@repay-1', 'other': 'x0123abcd'}
    """

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}

    def pin(self, value: str, what: str) -> None:
        """``value`` is this run's ``what``; a timestamp must fall on its placeholder's day."""
        placeholder = PLACEHOLDERS[what]
        if _day(placeholder) != _day(value):
            raise ValueError(f"{what} is {value}, not on {placeholder}'s day: is the clock pinned?")
        earlier = self._placeholders.setdefault(value, placeholder)
        if earlier != placeholder:
            raise ValueError(f"{value} is both {earlier} and {placeholder}")
        if list(self._placeholders.values()).count(placeholder) > 1:
            raise ValueError(f"two values of this run are both {what}")

    def apply(self, value: Any) -> Any:
        """``value`` with every pinned value replaced, inside strings too (a link, a UID)."""
        if isinstance(value, dict):
            return {key: self.apply(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.apply(item) for item in value]
        if not isinstance(value, str) or not self._placeholders:
            return value
        # longest first, at word edges: a key's prefix inside its secret is the secret's job
        alternatives = sorted(self._placeholders, key=len, reverse=True)
        pattern = "|".join(re.escape(v) for v in alternatives)
        edges = rf"(?<![0-9A-Za-z])(?:{pattern})(?![0-9A-Za-z])"
        return re.sub(edges, lambda m: self._placeholders[m.group(0)], value)


def _day(text: str) -> str | None:
    """The day of a timestamp (ISO 8601 or iCalendar's basic form); ``None`` if not one."""
    time_ = re.fullmatch(r"(\d{4})-?(\d\d)-?(\d\d)T[\d:.]+Z", text)
    return "-".join(time_.groups()) if time_ else None


# ---- the conversation -----------------------------------------------------------------------


def request_examples(document: dict[str, Any], method: str, path: str) -> list[dict[str, Any]]:
    """The ``examples`` of the JSON body an operation takes, as the OpenAPI document has them."""
    schema = document["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    return _examples(document, schema["schema"])


def _examples(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    # a body of several shapes (``oneOf``) has each shape's examples, in order
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "oneOf" in schema:
        return [e for shape in schema["oneOf"] for e in _examples(document, shape)]
    examples: list[dict[str, Any]] = schema["examples"]
    return examples


class _Conversation:
    def __init__(self, client: TestClient, document: dict[str, Any]) -> None:
        self.client, self.document = client, document
        self.answers: dict[str, Any] = {}

    def example(self, name: str, index: int = 0) -> dict[str, Any]:
        method, path = ROUTES[name]
        return request_examples(self.document, method, path)[index]

    def visit(self, path: str) -> None:
        """GET ``path`` for its effect (an audited view); its answer is not an example."""
        response = self.client.get(path)
        if not response.is_success:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text}")

    def ask(
        self,
        name: str,
        key: str | None = None,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> Any:
        method, template = ROUTES[name]
        sent = {**(headers or {}), **({"Authorization": f"Bearer {key}"} if key else {})}
        response = self.client.request(
            method, template.format(**path), json=body, params=params, headers=sent
        )
        if not response.is_success:
            raise RuntimeError(f"{method} {template}: {response.status_code} {response.text}")
        answer = response.json() if name.endswith(".json") else response.text
        self.answers[name] = answer
        return answer


def converse(
    client: TestClient, document: dict[str, Any], *, admin: str, collector: str, pins: Pins
) -> dict[str, Any]:
    """Every answer by file name, in order, each generated value pinned as it first appears;
    the request bodies are the ``examples`` in ``document`` (the OpenAPI document)."""
    talk = _Conversation(client, document)
    talk.ask("health.json")
    # The policy first: the calculators below store the default policy when first used, and
    # the examples show it as policy 2, after this one, which is listed alone.
    policy = talk.ask("policy_version.json", admin, body=talk.example("policy_version.json"))
    pins.pin(policy["created_at"], "policy created")
    talk.ask("policy_list.json", admin)
    talk.ask("instalment_offer.json", collector, body=talk.example("instalment_offer.json"))
    talk.ask("deferral_offer.json", collector, body=talk.example("deferral_offer.json"))
    talk.ask("settlement_offer.json", collector, body=talk.example("settlement_offer.json", 0))
    talk.ask("settlement_plan_offer.json", collector, body=talk.example("settlement_offer.json", 1))
    talk.ask("offer_set.json", collector, body=talk.example("offer_set.json"))
    # the body's second shape, several debts: its first example
    talk.ask(
        "consolidated_offer_set.json",
        collector,
        body=talk.example("consolidated_offer_set.json", 1),
    )
    talk.ask("counter_result.json", collector, body=talk.example("counter_result.json"))
    # the body's second shape, several debts: its first example
    talk.ask(
        "consolidated_counter_result.json",
        collector,
        body=talk.example("consolidated_counter_result.json", 1),
    )
    talk.ask("apr_result.json", collector, body=talk.example("apr_result.json"))

    created = talk.ask("key_created.json", admin, body=talk.example("key_created.json"))
    pins.pin(created["prefix"], "new key prefix")
    pins.pin(created["key"], "new key secret")
    pins.pin(created["created_at"], "new key created")
    revoked = talk.ask("key_revoked.json", admin, prefix=created["prefix"])
    pins.pin(revoked["revoked_at"], "new key revoked")
    for listed in talk.ask("key_list.json", admin)["keys"]:
        role = {ADMIN_NAME: "admin", COLLECTOR_NAME: "collector"}.get(listed["name"])
        if role is not None:
            pins.pin(listed["prefix"], f"{role} key prefix")
            pins.pin(listed["created_at"], f"{role} key created")

    saved = talk.ask("saved_offer.json", collector, body=talk.example("saved_offer.json"))
    token = saved["link"].rsplit("/", 1)[-1]
    pins.pin(saved["id"], "offer id")
    pins.pin(token, "link token")
    pins.pin(saved["created_at"], "offer saved")
    pins.pin(saved["expires_at"], "link expires")
    # The debtor opens the page and its JSON, then downloads the schedule and the calendar,
    # before accepting (the calendar's events are still tentative): the audit trail shown has
    # these four views (events 3 to 6) between the offer saved and the acceptance (7).
    talk.visit(f"/s/{token}")
    talk.visit(f"/s/{token}.json")
    talk.ask("link.csv", token=token)
    calendar = talk.ask("link.ics", token=token)
    for stamp in set(re.findall(r"^DTSTAMP:(\S+)\r$", calendar, flags=re.MULTILINE)):
        pins.pin(stamp, "calendar stamped")

    accepted = talk.ask("acceptance.json", token=token)
    plan_id = accepted["plan_id"]
    pins.pin(plan_id, "plan id")
    pins.pin(accepted["accepted_at"], "offer accepted")
    as_of = saved["offer"]["as_of"]
    payment = {**talk.example("payment.json"), "date": as_of}
    idempotency = {"Idempotency-Key": "example-payment-1"}
    talk.ask("payment.json", collector, body=payment, headers=idempotency, plan_id=plan_id)
    talk.ask("plan.json", collector, params={"on": as_of}, plan_id=plan_id)
    talk.ask("payoff.json", collector, params={"on": as_of}, plan_id=plan_id)
    events = talk.ask("audit_list.json", collector, params={"plan_id": plan_id})["events"]
    acceptance, paid = events
    pins.pin(acceptance["prev_hash"], "hash before acceptance")
    pins.pin(acceptance["hash"], "acceptance hash")
    pins.pin(acceptance["at"], "acceptance audited")
    pins.pin(paid["hash"], "payment hash")
    pins.pin(paid["at"], "payment audited")
    talk.ask("audit_verification.json", admin)
    return talk.answers


# ---- files ----------------------------------------------------------------------------------


def _pointer(value: Any, pointer: str) -> tuple[Any, str | int]:
    *parents, last = [int(t) if t.isdigit() else t for t in pointer.split("/")[1:]]
    for token in parents:
        value = value[token]
    return value, last


def referenced(answers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` with each part listed in :data:`CONTAINS` replaced by a ``$ref`` when it is
    exactly what it is said to be (else kept whole: the diff then shows the service changed)."""
    documents = json.loads(json.dumps(answers))
    for name, pointer, ref in CONTAINS:
        source, _, source_pointer = ref.partition("#")
        whole = answers[source]
        if source_pointer:
            parent, last = _pointer(whole, source_pointer)
            whole = parent[last]
        parent, last = _pointer(documents[name], pointer)
        if parent[last] == whole:
            parent[last] = {REF: ref}
    return documents


def render(name: str, answer: Any) -> bytes:
    """A file's bytes: JSON with an indent of 2 and a final newline, or the text as sent."""
    if name.endswith(".json"):
        return (json.dumps(answer, indent=2, ensure_ascii=False) + "\n").encode()
    return str(answer).encode()


def _repay(main: Callable[[], None], *args: str) -> str:
    """Run ``repay ARGS`` in this process; what it printed on stdout."""
    out, err = io.StringIO(), io.StringIO()
    argv, sys.argv = sys.argv, ["repay", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise RuntimeError(f"repay {' '.join(args)}: {err.getvalue()}") from None
    finally:
        sys.argv = argv
    return out.getvalue()


def write(out: Path) -> list[Path]:
    """Ask a fresh service, write every answer into ``out``; the files that changed."""
    with tempfile.TemporaryDirectory(prefix="repay-examples-") as scratch:
        os.environ.update(
            DATABASE_URL=f"sqlite:///{Path(scratch) / 'repay.db'}",
            REPAY_BASE_URL=BASE_URL,
            REPAY_KEY_PEPPER=secrets.token_urlsafe(32),
            REPAY_SECRET_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
        for unset in ("REPAY_WEBHOOK_URL", "REPAY_WEBHOOK_SECRET"):
            os.environ.pop(unset, None)
        create_app, repay = _service()
        application = create_app()
        document = application.openapi()
        # today is the day the request examples are as of
        instalment = request_examples(document, *ROUTES["instalment_offer.json"])[0]
        today = date.fromisoformat(instalment["debt"]["as_of"])
        pins = Pins()
        with pinned_clock(datetime.combine(today, time(12), tzinfo=UTC)):
            _repay(repay, "db", "upgrade")
            admin = _repay(repay, "keys", "create", "--role", "admin", "--name", ADMIN_NAME)
            collector = _repay(
                repay, "keys", "create", "--role", "collector", "--name", COLLECTOR_NAME
            )
            with TestClient(application) as client:
                answers = converse(
                    client, document, admin=admin.strip(), collector=collector.strip(), pins=pins
                )
    documents = referenced(pins.apply(answers))
    out.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, answer in documents.items():
        path, content = out / name, render(name, answer)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.examples_writer",
        description="Write the service's answers to the contract's request examples.",
    )
    parser.add_argument("--out", type=Path, default=EXAMPLES, help="default: %(default)s")
    out = parser.parse_args(argv).out
    changed = write(out)
    names = ", ".join(p.name for p in changed) or "none"
    print(f"{len(ROUTES)} answers in {out}; changed: {names}", file=sys.stderr)


if __name__ == "__main__":
    main()
