"""Every operation of the service against its own OpenAPI document, by schemathesis.

Schemathesis (4.x) reads ``/openapi.json`` from the ASGI app in-process and, for each
operation, sends the documented examples, the coverage phase's boundary values and a bounded
number of generated requests, valid and invalid. Every response must pass four checks, chosen
here explicitly rather than left to the defaults:

``not_a_server_error``           no 5xx: an unhandled exception anywhere is a defect;
``status_code_conformance``      the status is one the operation documents;
``content_type_conformance``     the media type is the documented one (errors are
                                 ``application/problem+json``);
``response_schema_conformance``  the body matches the documented schema for that status.

Every call carries an admin key, so every operation is reachable (the coverage phase still
drops the header now and then, and must get the documented 401). The module's SQLite database
is seeded with a policy in three versions (the request examples name ``{"id": 1, "version":
3}``), a saved offer still open, and one accepted as a plan with a debtor on file, who asked
for a change.

Generation is steered towards the engine and its edges without narrowing what may be sent
(each steer is one more draw; the generator's own values stay possible):

- ``format: date`` strings are any day in 0001..9999, an edge of the calendar (date arithmetic
  overflows there) or a day near the examples' as-of date;
- generated bodies are mostly filled from the request examples, so the engine would only see
  their currency and dates: ``flatmap_case`` may swap in a real currency (a generated one is
  almost never ISO 4217), and may move all dates together (the as-of date to an edge, the others
  keeping their distance from it) or each on its own;
- ids of saved offers, plans and change requests are random hex, so ``flatmap_case`` may
  swap in the seeded ones;
- only a request generated to be valid is steered: a negative one stays as generated.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, ClassVar

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from psycopg import sql
from schemathesis.checks import CHECKS as CHECKS_REGISTRY
from schemathesis.checks import CheckContext, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    AcceptedNegativeData,
    RejectedPositiveData,
    negative_data_rejection,
    positive_data_acceptance,
)

from app.core.db import get_sessionmaker, reset_engine
from app.core.deps import forget_key
from app.core.keys import create_key
from app.core.migrate import upgrade
from app.core.settings import get_settings
from app.finance.policies import DEFAULT_POLICY_NAME, clear_cache
from app.finance.store import add_policy_version, create_policy
from app.main import create_app
from schemas.common import EARLIEST_DATE, LATEST_DATE
from schemas.offers import CAPACITY_EXAMPLE, DEBT_EXAMPLE
from schemas.policies import PolicyBody
from schemas.sharing import SAVE_CONSOLIDATED
from tests.app.outbox_clock import claimable_now
from tests.conftest import _connect, _empty_postgres, postgres_in_use

load_all_checks()
ANSWERED: dict[str, set[int]] = defaultdict(set)  # "METHOD /path" -> the statuses it gave
RAN: dict[str, set[str]] = defaultdict(set)  # which tests ran: every operation's, the stateful


def declared_rules(case: schemathesis.Case) -> set[str]:
    """The rules the schema cannot state that ``case``'s operation names (``x-rules``)."""
    return {entry["rule"] for entry in case.operation.definition.raw.get("x-rules", [])}


def positive_data_acceptance_or_a_declared_rule(
    ctx: CheckContext, response: Response, case: schemathesis.Case
) -> bool | None:
    """``positive_data_acceptance``, which fails any 4xx to a request valid by the schema,
    except a 422 whose every ``errors[].rule`` is a rule the operation declares in its
    description and ``x-rules`` (app/core/contract.py): a rule across fields, of the stored
    state or of the engine's arithmetic, which no JSON Schema can state."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        # the page's form answers its broken fields on the page (HTML, 422), each data-rule
        if response.status_code in (413, 422) and _rules(response) <= declared_rules(case):
            return None
        raise


def _rules(response: Response) -> set[str | None]:
    """The rules a problem document names, or a page's form by its ``data-rule`` attributes
    (``{None}`` if it names none)."""
    if "text/html" in (response.headers.get("content-type") or [""])[0]:
        return set(re.findall(r'data-rule="([a-z_0-9]+)"', response.text)) or {None}
    try:
        errors = response.json().get("errors") or [{}]
    except (ValueError, AttributeError):
        return {None}
    return {error.get("rule") for error in errors}


def negative_data_rejection_of_negative_data(
    ctx: CheckContext, response: Response, case: schemathesis.Case
) -> bool | None:
    """``negative_data_rejection``, which fails a 2xx to a request generated to be invalid.

    Named exception: schemathesis (4.32) now and then labels a request negative whose only
    "invalid component" it reports as "positive test case", the request being valid in every
    part (an example body, a reference matching its pattern). Accepting a valid request is
    right, so that one report is not a failure; any other accepted negative case is."""
    try:
        return negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData as failure:
        if failure.message.rstrip().endswith("Invalid component: positive test case"):
            return None
        raise


# Every check schemathesis has, the two data checks taken as above; none left out.
CHECKS = [
    check
    for check in CHECKS_REGISTRY.get_all()
    if check not in (positive_data_acceptance, negative_data_rejection)
] + [positive_data_acceptance_or_a_declared_rule, negative_data_rejection_of_negative_data]
# CLDR minor units 2, 0 and 3: the amounts' decimal rules differ
CURRENCIES = ("CNY", "USD", "JPY", "KWD")
# a path parameter or a body's field -> values that exist once the fixture has run
SEEDED: dict[str, list[str]] = {}
# the same, for one operation ("METHOD /path") only
SEEDED_FOR: dict[str, dict[str, list[str]]] = {}

# the ends of the contract's date range (schemas.common.Date: 1900..2199), and days at the end
# of a month there; dates outside it are the schema's to refuse, so only a negative case has one
EDGE_DATES = tuple(
    date.fromisoformat(day)
    for day in (
        *("1900-01-01", "1900-01-31", "1900-02-28", "2000-02-29"),
        *("2199-01-31", "2199-11-30", "2199-12-01", "2199-12-31"),
    )
)
EDGES = st.sampled_from(EDGE_DATES).map(date.isoformat)
DATES = st.one_of(
    st.dates(min_value=EARLIEST_DATE, max_value=LATEST_DATE),
    st.sampled_from(EDGE_DATES),
    st.dates(min_value=date(2025, 11, 25), max_value=date(2027, 11, 25)),
    st.just(date.today()),  # a payment can only be dated today: from acceptance to today
).map(date.isoformat)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

schemathesis.openapi.format("date", DATES)  # process-wide; no other module uses schemathesis
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


def _replaced(body: Any, change: Callable[[str, str], str]) -> Any:
    """``body`` with every string value ``v`` under a key ``k`` replaced by ``change(k, v)``."""
    if isinstance(body, dict):
        return {
            name: change(name, value) if isinstance(value, str) else _replaced(value, change)
            for name, value in body.items()
        }
    if isinstance(body, list):
        return [_replaced(item, change) for item in body]
    return body


def _dates(body: Any, key: str | None = None) -> Iterator[tuple[str | None, date]]:
    """Every date string in ``body`` with the key it is under."""
    if isinstance(body, str) and _is_date(body):
        yield key, date.fromisoformat(body)
    elif isinstance(body, dict):
        for name, value in body.items():
            yield from _dates(value, name)
    elif isinstance(body, list):
        for item in body:
            yield from _dates(item, key)


def _is_date(value: str) -> bool:
    if not ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _shifted(value: str, days: int) -> str:
    # kept within the contract's range: a positive case keeps its dates valid
    try:
        moved = date.fromisoformat(value) + timedelta(days=days)
    except OverflowError:
        moved = date.max if days > 0 else date.min
    return min(max(moved, EARLIEST_DATE), LATEST_DATE).isoformat()


@st.composite
def _steered(draw: st.DrawFn, body: Any) -> Any:
    # Request examples fill most generated bodies, so the engine would only ever see their
    # currency and their dates. Swap in a real currency; move all dates together (the as-of
    # date to an edge of the calendar, or to any day, the others keeping their distance from
    # it), or each on its own; or leave the body as it is.
    if draw(st.booleans()):
        currency = draw(st.sampled_from(CURRENCIES))
        body = _replaced(
            body, lambda k, v: currency if k == "currency" and re.fullmatch("[A-Z]{3}", v) else v
        )
    dates = sorted(_dates(body), key=lambda found: found[0] != "as_of")  # the as-of date first
    how = draw(st.sampled_from(["keep", "to an edge", "move", "each"]))
    if how in ("to an edge", "move") and dates:
        target = draw(EDGES if how == "to an edge" else DATES)
        days = (date.fromisoformat(target) - dates[0][1]).days
        body = _replaced(body, lambda k, v: _shifted(v, days) if _is_date(v) else v)
    elif how == "each":
        body = _replaced(body, lambda k, v: draw(DATES) if _is_date(v) else v)
    return body


def _seeded(values: dict[str, Any], seeds: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    known = {name: seeds[name][0] for name in values if seeds.get(name)}
    return st.one_of(st.just({**values, **known}), _mixed(values, seeds))


def _mixed(values: dict[str, Any], seeds: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    choices = {
        # mostly a value that exists, now and then the generated one
        name: st.sampled_from([value, *seeds[name] * 3])
        for name, value in values.items()
        if seeds.get(name)  # empty while examples are collected, before the fixture runs
    }
    if not choices:
        return st.just(values)
    return st.fixed_dictionaries(choices).map(lambda drawn: {**values, **drawn})


@st.composite
def _steered_case(draw: st.DrawFn, case: schemathesis.Case) -> schemathesis.Case:
    seeds = {**SEEDED, **SEEDED_FOR.get(f"{case.method} {case.path}", {})}
    if isinstance(case.body, (dict, list)):
        case.body = draw(_steered(case.body))
    if isinstance(case.body, dict):
        case.body = draw(_seeded(case.body, seeds))
    if case.path_parameters:
        case.path_parameters = draw(_seeded(dict(case.path_parameters), seeds))
    if case.query and "p" in case.query and draw(st.booleans()):
        # the example's party marker is no party's: without it, the page reads as the debtor's
        case.query = {name: value for name, value in case.query.items() if name != "p"}
    return case


@schema.hook
def flatmap_case(context: Any, case: schemathesis.Case) -> st.SearchStrategy[schemathesis.Case]:
    # Steer only a request meant to be valid: a negative one stays as generated (moved dates or
    # a seeded id could make it valid, and its acceptance would then look like a defect).
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return st.just(case)
    return _steered_case(case)


def _seed(headers: dict[str, str]) -> None:
    with get_sessionmaker()() as session:
        # policy 1 is the default policy, in three versions (the examples name version 3)
        body = PolicyBody().model_dump(mode="json")
        first = create_policy(session, DEFAULT_POLICY_NAME, body, None)
        for months in (36, 24):
            add_policy_version(session, first.policy_id, {**body, "max_term_months": months}, None)
        session.commit()
    offers, tokens, plans = [], [], []
    own: dict[str, Any] = {}
    with TestClient(create_app()) as client:
        # a debtor on file for the accepted plan: its page has someone to read for and change
        # the preferences of (the open offer's debt has nobody: a 409 there)
        party = client.post(
            "/v1/debts/SEED-ACCEPTED/parties",
            json={
                "role": "debtor",
                "name": "Seed",
                "channels": {
                    "email": "seed@example.cn",
                    "sms": "+8613800138000",
                    "phone": "+8613800138000",
                },
                "time_zone": "Asia/Shanghai",
            },
            headers=headers,
        )
        assert party.status_code == 201, party.text
        for ref in ("SEED-OPEN", "SEED-ACCEPTED"):
            saved = client.post(
                "/v1/offers",
                json={
                    "debt_ref": ref,
                    "debtor": {"name": "Seed"},
                    "negotiate": {"debt": DEBT_EXAMPLE, "capacity": CAPACITY_EXAMPLE},
                },
                headers=headers,
            )
            assert saved.status_code == 201, saved.text
            offers.append(saved.json()["id"])
            tokens.append(saved.json()["link"].rsplit("/", 1)[-1])
        accepted = client.post(f"/s/{tokens[1]}/accept")
        assert accepted.status_code == 201, accepted.text
        plans.append(accepted.json()["plan_id"])
        # the debtor of the accepted plan asks for a change (12 months at 875.00)
        asked = client.post(
            f"/s/{tokens[1]}/change/requests", json={"payment": "875.00", "choice": "as_proposed"}
        )
        assert asked.status_code == 201, asked.text
        # a payment on the accepted plan: its confirmation is a message to claim, acknowledge
        # and reply to (claimed for an hour: the operations below find it still theirs)
        paid = client.post(
            f"/v1/plans/{plans[0]}/payments",
            json={"amount": "100.00", "date": date.today().isoformat(), "reference": "SEED-1"},
            headers={**headers, "Idempotency-Key": "seed-payment-1"},
        )
        assert paid.status_code == 201, paid.text
        with claimable_now():  # at night in Shanghai the confirmation is due in the morning
            claimed = client.get("/v1/outbox", params={"lease": 3600}, headers=headers)
        assert claimed.status_code == 200 and claimed.json()["messages"], claimed.text
        message = claimed.json()["messages"][0]
        # a settlement paid in full: a completed plan, whose page has a certificate
        settled = client.post(
            "/v1/offers",
            json={
                "debt_ref": "SEED-PAID",
                "debtor": {"name": "Seed"},
                "plan": {
                    "kind": "settlement",
                    "debt": DEBT_EXAMPLE,
                    "capacity": {**CAPACITY_EXAMPLE, "lump_sum": "10500.00"},
                },
            },
            headers=headers,
        )
        assert settled.status_code == 201, settled.text
        tokens.append(settled.json()["token"])
        plan = client.post(f"/s/{tokens[-1]}/accept").json()["plan_id"]
        total = settled.json()["offer"]["schedule"]["totals"]["payment"]
        done = client.post(
            f"/v1/plans/{plan}/payments",
            json={"amount": total, "date": date.today().isoformat(), "reference": "SEED-2"},
            headers={**headers, "Idempotency-Key": "seed-payment-2"},
        )
        assert done.status_code == 201, done.text
        # an offer to revoke and a plan to close, apart from those the other operations read
        for ref in ("SEED-REVOKE", "SEED-DECIDE", "SEED-PAY"):
            extra = client.post(
                "/v1/offers",
                json={
                    "debt_ref": ref,
                    "debtor": {"name": "Seed"},
                    "negotiate": {"debt": DEBT_EXAMPLE, "capacity": CAPACITY_EXAMPLE},
                },
                headers=headers,
            )
            assert extra.status_code == 201, extra.text
            own[ref] = extra.json()
        decided = client.post(f"/s/{own['SEED-DECIDE']['token']}/accept")
        assert decided.status_code == 201, decided.text
        # payments of any amount may complete this one (the others must stay open)
        to_pay = client.post(f"/s/{own['SEED-PAY']['token']}/accept")
        assert to_pay.status_code == 201, to_pay.text
        # the offer a collector made on the debtor's request, to decide it with: it replaces
        # the plan, from what the plan still asks today
        owed = client.get(f"/v1/plans/{plans[0]}", headers=headers).json()["still_owed"]
        debt = {
            **DEBT_EXAMPLE,
            **{part: owed[part] for part in ("principal", "interest", "fees")},
            "as_of": date.today().isoformat(),
        }
        answer = client.post(
            "/v1/offers",
            json={
                "debt_ref": "SEED-ACCEPTED",
                "debtor": {"name": "Seed"},
                "plan": {"kind": "instalment", "debt": debt, "term": 12},
            },
            headers=headers,
        )
        assert answer.status_code == 201, answer.text
        # a consolidated offer of two debts (the contract's example), accepted: its plan
        together = client.post("/v1/offers", json=SAVE_CONSOLIDATED, headers=headers)
        assert together.status_code == 201, together.text
        joined = client.post(f"/s/{together.json()['token']}/accept")
        assert joined.status_code == 201, joined.text
        revocable = client.post(
            "/v1/keys", json={"role": "collector", "name": "spare"}, headers=headers
        )
        assert revocable.status_code == 201, revocable.text
        # a party to delete, apart from the one every other operation reads
        spare = client.post(
            "/v1/debts/SEED-OPEN/parties",
            json={
                "role": "guarantor",
                "name": "Spare",
                "channels": {"email": "spare@example.cn"},
                "time_zone": "Asia/Shanghai",
            },
            headers=headers,
        )
        assert spare.status_code == 201, spare.text
        # parties of their own for the operations that change what others read: one to call
        # (its caps fill up), one to change (a change may stop all contact)
        for ref in ("SEED-REVOKE", "SEED-DECIDE"):
            made = client.post(
                f"/v1/debts/{ref}/parties",
                json={
                    "role": "debtor",
                    "name": "Own",
                    "channels": {"phone": "+8613900139000"},
                    "time_zone": "Asia/Shanghai",
                },
                headers=headers,
            )
            assert made.status_code == 201, made.text
            own[f"party {ref}"] = made.json()["id"]
    SEEDED.update(
        policy_id=["1"],
        version=["3"],
        offer_id=offers,
        token=tokens,
        plan_id=[*plans, plan],
        request_id=[asked.json()["id"]],
        ref=["SEED-ACCEPTED"],
        party_id=[party.json()["id"]],
        message_id=[message["id"]],
        claim_token=[message["claim_token"]],
        sender=[message["to"]],
        consolidated_plan_id=[joined.json()["consolidated"]["consolidated_plan_id"]],
    )
    SEEDED_FOR.update(
        {
            "DELETE /v1/debts/{ref}/parties/{party_id}": {
                "ref": ["SEED-OPEN"],
                "party_id": [spare.json()["id"]],
            },
            "POST /v1/offers/{offer_id}/revoke": {"offer_id": [own["SEED-REVOKE"]["id"]]},
            "POST /v1/plans/{plan_id}/decisions": {"plan_id": [decided.json()["plan_id"]]},
            # money received today, of an amount the plan's currency can hold (the generator
            # reaches one only by chance: a payment may be dated today or tomorrow alone)
            "POST /v1/plans/{plan_id}/payments": {
                "plan_id": [to_pay.json()["plan_id"]],
                "date": [date.today().isoformat()],
                "amount": ["100.00"],
            },
            "POST /v1/consolidated-plans/{consolidated_plan_id}/payments": {
                "date": [date.today().isoformat()],
                "amount": ["100.00"],
            },
            "POST /v1/change-requests/{request_id}/decision": {"offer_id": [answer.json()["id"]]},
            "POST /v1/keys/{prefix}/revoke": {"prefix": [revocable.json()["prefix"]]},
            # a call at an hour the rules allow, on a channel the party gave
            "POST /v1/contact-attempts": {
                "at": ["2026-11-26T10:00:00+08:00"],
                "channel": ["phone"],
                "debt_ref": ["SEED-REVOKE"],
                "party_id": [own["party SEED-REVOKE"]],
            },
            "POST /v1/contact-checks": {
                "debt_ref": ["SEED-REVOKE"],
                "party_id": [own["party SEED-REVOKE"]],
            },
            "PATCH /v1/debts/{ref}/parties/{party_id}": {
                "ref": ["SEED-DECIDE"],
                "party_id": [own["party SEED-DECIDE"]],
            },
            "GET /s/{token}/certificate": {"token": [tokens[2]]},
            # the debtor of the accepted plan asks for the plan the engine answered with
            "POST /s/{token}/change/requests": {
                "token": [tokens[1]],
                "payment": ["1312.50"],
                "choice": ["as_proposed"],
            },
            # the debtor of the accepted plan: their preferences, their request's page
            "POST /s/{token}/preferences": {"token": [tokens[1]]},
            "GET /s/{token}/change/requests/{request_id}": {"token": [tokens[1]]},
        }
    )


# ``make test-pg`` runs this module against PostgreSQL; ``make test`` on SQLite.
DATABASE = os.environ.get("REPAY_SCHEMATHESIS_DATABASE", "sqlite")


@contextmanager
def _database(request: pytest.FixtureRequest, tmp: pytest.TempPathFactory) -> Iterator[str]:
    if DATABASE == "sqlite":
        yield f"sqlite:///{tmp.mktemp('schemathesis') / 'repay.db'}"
        return
    assert DATABASE == "postgresql", f"REPAY_SCHEMATHESIS_DATABASE={DATABASE!r}"
    url: str = request.getfixturevalue("postgres_database")
    with postgres_in_use():
        _empty_postgres(url)
        yield url


IN_USE: list[str] = []  # the module's database URL, while it is in use


class Snapshot:
    """The database as it is, to put back before each stateful scenario: a scenario replayed
    must meet the same data, or hypothesis draws other steps (FlakyStrategyDefinition).
    SQLite: sqlite3's backup API (the WAL included); PostgreSQL: a template database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = url.rsplit("/", 1)[-1]

    def _copy(self, source: str, target: str) -> None:
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)

    def take(self) -> None:
        reset_engine()
        if self.url.startswith("sqlite:///"):
            self._copy(self.url.removeprefix("sqlite:///"), self._sqlite_copy())
            return
        admin, _ = _connect("test")
        with admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(self._pg_copy()))
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    self._pg_copy(), sql.Identifier(self.name)
                )
            )

    def restore(self) -> None:
        reset_engine()
        clear_cache()
        forget_key()
        if self.url.startswith("sqlite:///"):
            self._copy(self._sqlite_copy(), self.url.removeprefix("sqlite:///"))
            return
        admin, _ = _connect("test")
        with admin:
            admin.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.name), self._pg_copy()
                )
            )

    def _sqlite_copy(self) -> str:
        return self.url.removeprefix("sqlite:///") + ".snapshot"

    def _pg_copy(self) -> sql.Identifier:
        return sql.Identifier(f"{self.name}_snapshot")


@pytest.fixture(scope="module")
def admin_headers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """An admin's Authorization header, on a migrated database with seeded data."""
    with _database(request, tmp_path_factory) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        reset_engine()
        clear_cache()
        forget_key()
        upgrade(url)
        with get_sessionmaker()() as session:
            key, _ = create_key(session, "admin", "schemathesis")
            session.commit()
        headers = {"Authorization": f"Bearer {key}"}
        _seed(headers)
        IN_USE.append(url)
        yield headers
        IN_USE.clear()
        SEEDED.clear()
        reset_engine()
        clear_cache()
        forget_key()
    get_settings.cache_clear()


# The same requests every run (derandomize): CI checks the contract, it does not gamble on it.
# REPAY_SCHEMATHESIS_EXPLORE=1 draws new ones (run it by hand to look for new failures).
EXPLORE = bool(os.environ.get("REPAY_SCHEMATHESIS_EXPLORE"))
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@SETTINGS
def test_every_operation_conforms(case: schemathesis.Case, admin_headers: dict[str, str]) -> None:
    response = case.call(headers=admin_headers)
    ANSWERED[f"{case.method} {case.path}"].add(response.status_code)
    RAN["stateless"].add(f"{case.method} {case.path}")
    case.validate_response(response, checks=CHECKS)


class Stateful(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls following the document's links (app/core/contract.py): a saved
    offer's token to its pages, an accepted plan's id to its payments, a new party's id to
    its contact checks; every response checked as above."""

    headers: ClassVar[dict[str, str]] = {}
    snapshot: ClassVar[Snapshot | None] = None

    def setup(self) -> None:
        if self.snapshot is not None:
            self.snapshot.restore()

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"headers": self.headers}

    def after_call(self, response: Response, case: schemathesis.Case) -> None:
        ANSWERED[f"{case.method} {case.path}"].add(response.status_code)

    def validate_response(
        self, response: Response, case: schemathesis.Case, *args: Any, **kwargs: Any
    ) -> None:
        # Collected, not raised: hypothesis would replay the sequence to confirm a failure,
        # against a database the sequence already changed, and report its own flakiness
        # instead of the failure. The test asserts on what was collected.
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as failure:
            STATEFUL_FAILURES.append(f"{case.method} {case.path}: {failure}")


STATEFUL_FAILURES: list[str] = []


def test_linked_sequences_conform(admin_headers: dict[str, str]) -> None:
    Stateful.headers = admin_headers
    Stateful.snapshot = Snapshot(IN_USE[0])
    Stateful.snapshot.take()
    Stateful.run(
        settings=settings(
            max_examples=60,
            stateful_step_count=8,
            deadline=None,
            derandomize=not EXPLORE,
            database=None,
            # no shrinking: a sequence replayed against a database it already changed would
            # not draw the same steps (hypothesis' FlakyStrategyDefinition); a failure is
            # reported as found
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    RAN["stateful"].add("ran")
    assert not STATEFUL_FAILURES, "\n\n".join(dict.fromkeys(STATEFUL_FAILURES))


def _operations() -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


# Operations no generated request can make answer 2xx, each with the reason.
NEVER_2XX: dict[str, str] = {}


def _succeeded(status: int) -> bool:
    # a browser's form posted to a page is answered, when it succeeds, 303 See Other (to the
    # page that shows the result): for those operations the 303 is their success
    return 200 <= status < 300 or status == 303


@pytest.fixture(scope="module", autouse=True)
def every_operation_answered_a_success_once(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module's tests, in whatever order they ran: every operation was tested and
    answered at least one success. Not judged when ``-k`` or ``-m`` chose some tests."""
    yield
    if request.config.getoption("keyword") or request.config.getoption("markexpr"):
        return
    operations = {f"{op.method.upper()} {op.path}" for op in _operations()}
    untested = sorted(operations - RAN["stateless"])
    assert not untested, (
        f"{len(untested)} operations untested (under xdist schemathesis runs them as"
        f" subtests and skips most: run this module in one process): {untested}"
    )
    assert RAN["stateful"], "the stateful run did not run"
    silent = {
        label: sorted(ANSWERED.get(label, ()))
        for label in sorted(operations)
        if not any(_succeeded(status) for status in ANSWERED.get(label, ()))
        and label not in NEVER_2XX
    }
    assert not silent, f"never a success: {silent}"


# ---- defects found at these edges, pinned --------------------------------------------------
# Each request below once got a 500, an undocumented 400 or an error naming no field (found by
# the test above, or by probing the same edges by hand); the answer is now the documented 422
# naming the field and the rule.

APR_OVERFLOW = {
    # a 999,999,999,999,999-fold return in a day: an effective annual rate of ~10^6205
    "currency": "USD",
    "advances": [{"date": "2026-01-01", "amount": "1"}],
    "payments": [{"date": "2026-01-02", "amount": "999999999999999"}],
}
LATE_START = {"payment": "1250.00", "earliest_start": "2028-11-25"}  # two years after as_of


@pytest.mark.parametrize(
    ("path", "body", "field", "rule"),
    [
        # year 10000 while laying out the schedule (ValueError in plans.calendar.add_months)
        (
            "/v1/plans/instalment",
            {"debt": {**DEBT_EXAMPLE, "as_of": "9999-12-31"}, "term": 8},
            "debt.as_of",
            "less_than_equal",
        ),
        # OverflowError in as_of + timedelta (plans.counter, plans.settlement)
        (
            "/v1/offers/counter",
            {"debt": {**DEBT_EXAMPLE, "as_of": "9999-12-31"}, "proposal": {"term": 12}},
            "debt.as_of",
            "less_than_equal",
        ),
        # a start centuries away: quadratic in plans.instalment.whole_periods_after, then
        # year 10000
        (
            "/v1/offers/negotiate",
            {"debt": DEBT_EXAMPLE, "capacity": LATE_START},
            "capacity.earliest_start",
            "max_start_delay",
        ),
        (
            "/v1/plans/instalment",
            {"debt": DEBT_EXAMPLE, "term": 8, "first_due": "2028-11-25"},
            "first_due",
            "max_start_delay",
        ),
        # the same rule, checked inside another document, names the path through it
        (
            "/v1/offers",
            {
                "debt_ref": "LATE-1",
                "debtor": {"name": "Late"},
                "negotiate": {"debt": DEBT_EXAMPLE, "capacity": LATE_START},
            },
            "negotiate.capacity.earliest_start",
            "max_start_delay",
        ),
        # decimal.InvalidOperation quantizing the effective annual rate (plans.rates)
        ("/v1/rates/apr", APR_OVERFLOW, "apr", "too_large"),
    ],
)
def test_found_defects_are_documented_422s(
    admin_headers: dict[str, str], path: str, body: dict[str, Any], field: str, rule: str
) -> None:
    with TestClient(create_app()) as client:
        response = client.post(path, json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
    ]


@pytest.mark.parametrize(
    "content",
    [
        b'{"debt": "\xff"}',  # not UTF-8: FastAPI's undocumented 400
        b"\xff\xfe{",  # a UTF-16 byte order mark, then not JSON: the error's field was "0"
    ],
)
def test_a_body_that_is_not_json_is_a_422_naming_the_body(
    admin_headers: dict[str, str], content: bytes
) -> None:
    with TestClient(create_app()) as client:
        response = client.post(
            "/v1/offers/counter",
            content=content,
            headers={**admin_headers, "content-type": "application/json"},
        )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body"
    assert response.json()["errors"][0]["rule"] == "json_invalid"
