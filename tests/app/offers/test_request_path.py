"""The calculations' request path (``app/offers/routes``, ``app.core.deps.SessionOnDemand``,
``app.finance.policies.resolve_async``): once this process knows the key and the policy
version, a calculation makes no database session and checks out no connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app.core import deps
from app.core.db import get_engine, get_sessionmaker
from app.finance import policies

Headers = dict[str, dict[str, str]]
TODAY = date.today()
DEBT = {
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "as_of": TODAY.isoformat(),
    "days_past_due": 95,
}
SOON = (TODAY + timedelta(days=7)).isoformat()
LATER = (TODAY + timedelta(days=50)).isoformat()
FLOWS = {
    "currency": "USD",
    "advances": [{"date": "2026-01-15", "amount": "1000.00"}],
    "payments": [
        {"date": "2026-02-15", "amount": "510.00"},
        {"date": "2026-03-15", "amount": "510.00"},
    ],
}
CALCULATIONS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/offers/negotiate", {"debt": DEBT, "capacity": {"payment": "1250.00"}}),
    ("/v1/offers/counter", {"debt": DEBT, "proposal": {"payment": "900.00"}}),
    ("/v1/plans/instalment", {"debt": DEBT, "term": 8}),
    ("/v1/plans/deferral", {"debt": DEBT, "term": 8}),
    ("/v1/plans/settlement", {"debt": DEBT, "kind": "settlement", "settle_by": SOON}),
    ("/v1/plans/compare", {"debt": DEBT, "offers": [{"kind": "instalment"}]}),
    ("/v1/rates/apr", FLOWS),
    ("/v1/rates/annual", {**FLOWS, "method": "eu_ccd"}),
]


class Counts:
    """Sessions made through the request dependency and connections checked out of the pool."""

    def __init__(self) -> None:
        self.sessions = 0
        self.connections = 0

    def __repr__(self) -> str:
        return f"{self.sessions} sessions, {self.connections} connections"


@pytest.fixture
def counts(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counts]:
    seen = Counts()
    real: Callable[[], sessionmaker[Session]] = get_sessionmaker

    def counting() -> sessionmaker[Session]:
        seen.sessions += 1
        return real()

    def checked_out(*_: object) -> None:
        seen.connections += 1

    monkeypatch.setattr(deps, "get_sessionmaker", counting)
    # The caches kept for the whole test, however slow a loaded CI machine makes its requests:
    # at the default 2 s a key or policy could expire between two of them and be read again.
    for cache in (deps._verified, policies._latest):
        monkeypatch.setattr(cache, "_seconds", lambda: 600.0)
    engine = get_engine()
    event.listen(engine, "checkout", checked_out)
    yield seen
    event.remove(engine, "checkout", checked_out)


@pytest.mark.parametrize(("path", "body"), CALCULATIONS, ids=[p for p, _ in CALCULATIONS])
def test_a_calculation_on_a_warm_cache_makes_no_session(
    client: TestClient, auth: Headers, counts: Counts, path: str, body: dict[str, Any]
) -> None:
    first = client.post(path, json=body, headers=auth["collector"])
    assert first.status_code == 200, first.text
    assert counts.sessions == 1  # a cold cache: the key, the default policy and its latest
    before = counts.connections
    for _ in range(3):
        again = client.post(path, json=body, headers=auth["collector"])
        assert again.status_code == 200, again.text
        assert again.content == first.content
    assert (counts.sessions, counts.connections) == (1, before), counts


def test_a_policy_named_by_version_is_cached_too(
    client: TestClient, auth: Headers, counts: Counts
) -> None:
    made = client.post(
        "/v1/policies", json={"name": "cards", "body": {}}, headers=auth["finance"]
    ).json()
    body = {"debt": DEBT, "term": 8, "policy": {"id": made["id"], "version": made["version"]}}
    assert client.post("/v1/plans/instalment", json=body, headers=auth["collector"]).is_success
    sessions, connections = counts.sessions, counts.connections
    for _ in range(3):
        response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
        assert response.json()["policy"] == {"id": made["id"], "name": "cards", "version": 1}
    assert (counts.sessions, counts.connections) == (sessions, connections), counts


def test_a_request_that_writes_still_has_its_one_session(
    client: TestClient, auth: Headers, counts: Counts
) -> None:
    # the key check and the handler share the session the handler asked for (DbSession)
    saved = {
        "debt_ref": "CARD-1",
        "debtor": {"name": "John Smith"},
        "negotiate": {"debt": DEBT, "capacity": {"payment": "1250.00", "earliest_start": LATER}},
    }
    response = client.post("/v1/offers", json=saved, headers=auth["collector"])
    assert response.status_code == 201, response.text
    assert counts.sessions == 1
