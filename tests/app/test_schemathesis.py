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
  their currency and dates: ``flatmap_body`` may swap in a real currency (a generated one is
  almost never ISO 4217), and may move all dates together (the as-of date to an edge, the others
  keeping their distance from it) or each on its own;
- ids of saved offers, plans and change requests are random hex, so
  ``flatmap_path_parameters`` may swap in the seeded ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.db import get_sessionmaker, reset_engine
from app.core.deps import forget_key
from app.core.keys import create_key
from app.core.migrate import upgrade
from app.core.settings import get_settings
from app.finance.policies import DEFAULT_POLICY_NAME, clear_cache
from app.finance.store import add_policy_version, create_policy
from app.main import create_app
from schemas.offers import CAPACITY_EXAMPLE, DEBT_EXAMPLE
from schemas.policies import PolicyBody

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# CLDR minor units 2, 0 and 3: the amounts' decimal rules differ
CURRENCIES = ("CNY", "USD", "JPY", "KWD")
# path parameter -> values that exist once the fixture has run
SEEDED: dict[str, list[str]] = {}

# the ends of `datetime.date` (arithmetic overflows there) and of the contract's date range
EDGE_DATES = tuple(
    date.fromisoformat(day)
    for day in (
        *("0001-01-01", "0001-01-31", "1899-12-31", "1900-01-01"),
        *("2199-12-31", "2200-01-01", "9998-12-31", "9999-06-30", "9999-12-01", "9999-12-31"),
    )
)
EDGES = st.sampled_from(EDGE_DATES).map(date.isoformat)
DATES = st.one_of(
    st.dates(),
    st.sampled_from(EDGE_DATES),
    st.dates(min_value=date(2025, 11, 25), max_value=date(2027, 11, 25)),
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
    try:
        return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
    except OverflowError:
        return (date.max if days > 0 else date.min).isoformat()


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


@schema.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _steered(body)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    choices = {
        name: st.sampled_from([value, *SEEDED[name]])
        for name, value in (path_parameters or {}).items()
        if SEEDED.get(name)  # empty while examples are collected, before the fixture runs
    }
    if not choices:
        return st.just(path_parameters)
    return st.fixed_dictionaries(choices).map(lambda drawn: {**path_parameters, **drawn})


def _seed(headers: dict[str, str]) -> None:
    with get_sessionmaker()() as session:
        # policy 1 is the default policy, in three versions (the examples name version 3)
        body = PolicyBody().model_dump(mode="json")
        first = create_policy(session, DEFAULT_POLICY_NAME, body, None)
        for months in (36, 24):
            add_policy_version(session, first.policy_id, {**body, "max_term_months": months}, None)
        session.commit()
    offers, tokens, plans = [], [], []
    with TestClient(create_app()) as client:
        # a debtor on file for the accepted plan: its page has someone to read for and change
        # the preferences of (the open offer's debt has nobody: a 409 there)
        party = client.post(
            "/v1/debts/SEED-ACCEPTED/parties",
            json={
                "role": "debtor",
                "name": "Seed",
                "channels": {"email": "seed@example.cn", "sms": "+8613800138000"},
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
    SEEDED.update(
        policy_id=["1"],
        version=["3"],
        offer_id=offers,
        token=tokens,
        plan_id=plans,
        request_id=[asked.json()["id"]],
    )


@pytest.fixture(scope="module")
def admin_headers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An admin's Authorization header, on a migrated SQLite database with seeded data."""
    url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'repay.db'}"
    with pytest.MonkeyPatch.context() as patch:
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
        yield headers
        SEEDED.clear()
        reset_engine()
        clear_cache()
        forget_key()
    get_settings.cache_clear()


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms(case: schemathesis.Case, admin_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=admin_headers, checks=CHECKS)


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
