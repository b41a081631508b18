"""The policy's guardrails over HTTP: each refusal is a 422 problem document naming the field and
the rule (``app/offers``, ``app/links/sharing.py``, ``app/finance/policies.py``).

Debts are dated relative to today (the service's today is the debt's zone's, which may be a day
ahead of this machine's: dates two days away are on the same side of it in every zone).
Amounts do not depend on the date under an interest freeze (``plan_rate`` 0).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.core.db import get_sessionmaker
from app.core.keys import create_key

Headers = dict[str, dict[str, str]]
TODAY = date.today()


def debt(as_of: date = TODAY, **changes: str) -> dict[str, Any]:
    """10,000.00 principal, 350.00 interest, 150.00 fees: 10,500.00 owed, 95 days past due."""
    return {
        "currency": "CNY",
        "principal": "10000.00",
        "interest": "350.00",
        "fees": "150.00",
        "nominal_annual_rate": "0.18",
        "as_of": as_of.isoformat(),
        "days_past_due": 95,
        **changes,
    }


def policy(client: TestClient, auth: Headers, name: str, **body: Any) -> dict[str, Any]:
    made = client.post("/v1/policies", json={"name": name, "body": body}, headers=auth["finance"])
    assert made.status_code == 201, made.text
    return {"id": made.json()["id"]}


def refusal(response: Any) -> tuple[int, str, str, str]:
    error = response.json()["errors"][0]
    return response.status_code, response.headers["content-type"], error["field"], error["rule"]


PROBLEM = "application/problem+json"


# ---- min_down_payment_pct -----------------------------------------------------------------


def test_an_instalment_plan_below_the_least_down_payment_is_a_422(
    client: TestClient, auth: Headers
) -> None:
    ref = policy(client, auth, "ten-down", min_down_payment_pct="10")
    # 10 % of 10,500.00 = 1,050.00: 1,049.99 is refused, 1,050.00 makes the plan
    short = {"debt": debt(), "term": 8, "down_payment": "1049.99", "policy": ref}
    response = client.post("/v1/plans/instalment", json=short, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "down_payment", "min_down_payment_pct")
    enough = {**short, "down_payment": "1050.00"}
    made = client.post("/v1/plans/instalment", json=enough, headers=auth["collector"])
    assert made.status_code == 200, made.text
    # 9,450.00 left over 8 payments: 1,181.25 each
    assert made.json()["terms"]["down_payment"] == "1050.00"
    assert made.json()["terms"]["instalment"] == "1181.25"


def test_negotiate_reports_plans_the_lump_sum_cannot_start(
    client: TestClient, auth: Headers
) -> None:
    ref = policy(client, auth, "ten-down", min_down_payment_pct="10")
    body = {
        "debt": debt(),
        "capacity": {"payment": "1250.00", "lump_sum": "1000.00"},
        "policy": ref,
    }
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    rejected = {r["kind"]: (r["field"], r["rule"]) for r in response.json()["rejected"]}
    assert rejected["instalment"] == ("capacity.lump_sum", "min_down_payment_pct")
    assert [o["kind"] for o in response.json()["offers"]] == ["deferral"]


# ---- min_settlement_pct -------------------------------------------------------------------


def test_a_settlement_below_the_least_settlement_is_a_422(
    client: TestClient, auth: Headers
) -> None:
    ref = policy(client, auth, "ninety-two", min_settlement_pct="92")
    # the policy's 10 % off at 95 days leaves 9,450.00 = 90 % < 92 %: refused
    body = {"kind": "settlement", "debt": debt(), "policy": ref}
    response = client.post("/v1/plans/settlement", json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "discount_bps", "min_settlement_pct")
    # 8 % off asks 9,660.00, exactly 92 %
    at_least = client.post(
        "/v1/plans/settlement", json={**body, "discount_bps": 800}, headers=auth["collector"]
    )
    assert at_least.status_code == 200, at_least.text
    assert at_least.json()["metrics"]["total_paid"] == "9660.00"


def test_negotiate_makes_no_settlement_below_the_minimum(client: TestClient, auth: Headers) -> None:
    ref = policy(client, auth, "ninety-two", min_settlement_pct="92")
    body = {"debt": debt(), "capacity": {"payment": "5000.00"}, "policy": ref}
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    rejected = {r["kind"]: (r["field"], r["rule"]) for r in response.json()["rejected"]}
    assert rejected["settlement"] == ("discount_bps", "min_settlement_pct")


# ---- first_payment_not_in_past ------------------------------------------------------------


def test_a_first_payment_before_today_is_a_422_naming_the_date(
    client: TestClient, auth: Headers
) -> None:
    past = (TODAY - timedelta(days=2)).isoformat()
    old = debt(TODAY - timedelta(days=40))
    body = {"debt": old, "term": 3, "first_due": past}
    response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "first_due", "first_payment_not_in_past")
    # the same as-of date, 40 days ago, with a first payment in two days: fine
    soon = {**body, "first_due": (TODAY + timedelta(days=2)).isoformat()}
    assert client.post("/v1/plans/instalment", json=soon, headers=auth["collector"]).is_success
    settle = {"kind": "settlement", "debt": debt(TODAY - timedelta(days=5)), "settle_by": past}
    response = client.post("/v1/plans/settlement", json=settle, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "settle_by", "first_payment_not_in_past")


def test_a_counter_proposal_starting_before_today_is_a_422(
    client: TestClient, auth: Headers
) -> None:
    body = {
        "debt": debt(TODAY - timedelta(days=40)),
        "proposal": {"payment": "1250.00", "start": (TODAY - timedelta(days=2)).isoformat()},
    }
    response = client.post("/v1/offers/counter", json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "start", "first_payment_not_in_past")


def test_negotiate_rejects_offers_dated_before_today(client: TestClient, auth: Headers) -> None:
    # as of 20 days ago: the lump sum's deadline (14 days later) is past, the plans' first
    # payments (a month later) are not
    body = {
        "debt": debt(TODAY - timedelta(days=20)),
        "capacity": {"payment": "1250.00", "lump_sum": "20000.00"},
    }
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    rejected = {r["kind"]: (r["field"], r["rule"]) for r in response.json()["rejected"]}
    assert rejected["settlement"] == ("debt.as_of", "first_payment_not_in_past")
    assert "instalment" in [o["kind"] for o in response.json()["offers"]]


def test_saving_an_offer_dated_before_today_is_a_422(client: TestClient, auth: Headers) -> None:
    plan = {
        "kind": "instalment",
        "debt": debt(TODAY - timedelta(days=40)),
        "term": 3,
        "first_due": (TODAY - timedelta(days=2)).isoformat(),
    }
    body = {"debt_ref": "CARD-PAST", "debtor": {"name": "John Smith"}, "plan": plan}
    response = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "plan.first_due", "first_payment_not_in_past")
    settle = {
        "debt": debt(TODAY - timedelta(days=20)),
        "capacity": {"payment": "0", "lump_sum": "20000.00"},
    }
    body = {**body, "plan": None, "negotiate": settle, "kind": "settlement"}
    response = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "negotiate.debt.as_of", "first_payment_not_in_past")


# ---- current_policy_version ---------------------------------------------------------------


def _two_versions(client: TestClient, auth: Headers) -> int:
    ref = policy(client, auth, "cards", max_term_months=12)
    again = client.post(
        f"/v1/policies/{ref['id']}/versions",
        json={"body": {"max_term_months": 24}},
        headers=auth["finance"],
    )
    assert again.json()["version"] == 2
    return int(ref["id"])


def test_only_finance_and_admin_keys_offer_from_an_earlier_version(
    client: TestClient, auth: Headers
) -> None:
    policy_id = _two_versions(client, auth)
    with get_sessionmaker()() as session:
        supervisor, _ = create_key(session, "supervisor", "lead")
        session.commit()
    lead = {"Authorization": f"Bearer {supervisor}"}
    pinned = {"debt": debt(), "term": 8, "policy": {"id": policy_id, "version": 1}}
    for headers in (auth["collector"], lead):
        response = client.post("/v1/plans/instalment", json=pinned, headers=headers)
        assert refusal(response) == (422, PROBLEM, "policy.version", "current_policy_version")
    for headers in (auth["finance"], auth["admin"]):
        response = client.post("/v1/plans/instalment", json=pinned, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["policy"]["version"] == 1
    # the latest version, named or not, is anyone's
    latest = {**pinned, "policy": {"id": policy_id, "version": 2}}
    named = client.post("/v1/plans/instalment", json=latest, headers=auth["collector"])
    assert named.json()["policy"]["version"] == 2
    unnamed = {**pinned, "policy": {"id": policy_id}}
    assert client.post("/v1/plans/instalment", json=unnamed, headers=lead).status_code == 200


def test_every_offering_route_checks_the_version(client: TestClient, auth: Headers) -> None:
    policy_id = _two_versions(client, auth)
    ref = {"id": policy_id, "version": 1}
    capacity = {"payment": "1250.00"}
    calls = [
        ("/v1/offers/negotiate", {"debt": debt(), "capacity": capacity, "policy": ref}),
        ("/v1/offers/counter", {"debt": debt(), "proposal": {"payment": "900.00"}, "policy": ref}),
        ("/v1/plans/deferral", {"debt": debt(), "policy": ref}),
        ("/v1/plans/compare", {"debt": debt(), "offers": [{"kind": "instalment"}], "policy": ref}),
    ]
    for path, body in calls:
        response = client.post(path, json=body, headers=auth["collector"])
        assert refusal(response) == (422, PROBLEM, "policy.version", "current_policy_version")
    saved = {
        "debt_ref": "CARD-V1",
        "debtor": {"name": "John Smith"},
        "negotiate": {"debt": debt(), "capacity": capacity, "policy": ref},
    }
    response = client.post("/v1/offers", json=saved, headers=auth["collector"])
    assert refusal(response) == (
        422,
        PROBLEM,
        "negotiate.policy.version",
        "current_policy_version",
    )
    assert client.post("/v1/offers", json=saved, headers=auth["finance"]).status_code == 201
