"""app/finance/policies.py: how soon a calculation sees a policy version published through
another process (another worker, the CLI), and finance's guardrail (``check_current``) with
the latest version cached. Through this process a new version applies at once
(tests/app/offers/test_guardrails.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from app.core.db import get_sessionmaker
from app.finance.store import add_policy_version
from tests.app.conftest import Clock

Headers = dict[str, dict[str, str]]
CACHE_SECONDS = 2.0  # Settings.cache_seconds' default
DEBT = {
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "as_of": date.today().isoformat(),
    "days_past_due": 95,
}


def _plan(client: TestClient, headers: dict[str, str], ref: dict[str, int]) -> Any:
    return client.post(
        "/v1/plans/instalment", json={"debt": DEBT, "term": 8, "policy": ref}, headers=headers
    )


def _publish_elsewhere(policy_id: int) -> None:
    # as another process would: this one is not told
    with get_sessionmaker().begin() as session:
        add_policy_version(session, policy_id, {"max_term_months": 24}, None)


def _cards(client: TestClient, auth: Headers) -> int:
    made = client.post("/v1/policies", json={"name": "cards", "body": {}}, headers=auth["finance"])
    return int(made.json()["id"])


def test_a_version_published_elsewhere_is_the_latest_once_the_cache_expires(
    client: TestClient, auth: Headers, clock: Clock
) -> None:
    policy_id = _cards(client, auth)
    latest = {"id": policy_id}
    assert _plan(client, auth["collector"], latest).json()["policy"]["version"] == 1
    _publish_elsewhere(policy_id)
    clock.advance(CACHE_SECONDS - 0.01)
    assert _plan(client, auth["collector"], latest).json()["policy"]["version"] == 1
    clock.advance(0.02)
    assert _plan(client, auth["collector"], latest).json()["policy"]["version"] == 2
    # and from then on a collector naming the earlier version is refused
    refused = _plan(client, auth["collector"], {"id": policy_id, "version": 1})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "current_policy_version"
    assert _plan(client, auth["finance"], {"id": policy_id, "version": 1}).status_code == 200


def test_naming_a_version_newer_than_the_cached_latest_makes_it_the_latest(
    client: TestClient, auth: Headers, clock: Clock
) -> None:
    policy_id = _cards(client, auth)
    assert _plan(client, auth["collector"], {"id": policy_id}).status_code == 200
    _publish_elsewhere(policy_id)
    # within the cache time: the new version, named, is offered (never refused as stale) ...
    named = _plan(client, auth["collector"], {"id": policy_id, "version": 2})
    assert named.status_code == 200, named.text
    assert named.json()["policy"]["version"] == 2
    # ... and once this process knows it, the earlier version is refused to a collector
    refused = _plan(client, auth["collector"], {"id": policy_id, "version": 1})
    assert refused.json()["errors"][0]["rule"] == "current_policy_version"
    assert _plan(client, auth["collector"], {"id": policy_id}).json()["policy"]["version"] == 2
