"""What the page promises holds: the payoff quote paid on its day finishes the plan.

Before, a plan with interest paid its quote ("To finish today: X") stayed active, still owing
the interest its later lines had scheduled for days that would never run, and could go late
and break; a consolidated plan paid the sum of its debts' quotes shared it line by line, so no
debt got what finishes it. Now a payment that reaches the day's quote pays the plan off
(``plans.payments.PayoffTerms``), and a payment against a consolidated plan that reaches every
debt's quote pays each its own (``plans.consolidated_payments.pays_off``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.app.links.test_consolidated_plans import debts

Headers = dict[str, dict[str, str]]


def _contractual(client: TestClient, auth: Headers) -> dict[str, Any]:
    made = client.post(
        "/v1/policies",
        json={"name": "contractual", "body": {"plan_rate": None}},
        headers=auth["finance"],
    )
    assert made.status_code == 201, made.text
    return {"id": made.json()["id"]}


def _pay(client: TestClient, auth: Headers, path: str, amount: str, key: str) -> Any:
    body = {"amount": amount, "date": date.today().isoformat(), "reference": key}
    response = client.post(path, json=body, headers={**auth["collector"], "Idempotency-Key": key})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_plan_paid_its_quote_is_completed(client: TestClient, auth: Headers) -> None:
    policy = _contractual(client, auth)
    debt = {k: v for k, v in debts(date.today())[0].items() if k != "ref"}
    body = {
        "debt_ref": "PAYOFF-1",
        "debtor": {"name": "John Smith"},
        "plan": {"kind": "instalment", "debt": debt, "term": 12, "policy": policy},
    }
    saved = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert saved.status_code == 201, saved.text
    plan_id = client.post(f"/s/{saved.json()['token']}/accept").json()["plan_id"]
    plan = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    quote = client.get(f"/v1/plans/{plan_id}/payoff", headers=auth["collector"]).json()
    # 4,000.00 at 18 % over 12 months schedules interest; paid off today none has run yet
    assert quote["amount"] == "4000.00"
    assert plan["outstanding"] != quote["amount"]
    paid = _pay(client, auth, f"/v1/plans/{plan_id}/payments", "4000.00", "payoff-1")
    assert (paid["balance_after"], paid["refunded"]) == ("0.00", "0.00")
    after = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    assert (after["status"], after["outstanding"], after["paid"]) == (
        "completed",
        "0.00",
        "4000.00",
    )
    assert after["transitions"][-1]["cause"] == "payment"
    assert client.get(f"/s/{saved.json()['token']}/certificate").status_code == 200


def test_a_consolidated_plan_paid_every_quote_is_completed(
    client: TestClient, auth: Headers
) -> None:
    policy = _contractual(client, auth)
    body = {
        "debtor": {"name": "John Smith"},
        "negotiate": {
            "debts": debts(date.today()),
            "capacity": {"payment": "500.00"},
            "policy": policy,
        },
        "kind": "instalment",
    }
    saved = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert saved.status_code == 201, saved.text
    accepted = client.post(f"/s/{saved.json()['token']}/accept").json()
    plans = [p["plan_id"] for p in accepted["consolidated"]["plans"]]
    quotes = [
        client.get(f"/v1/plans/{p}/payoff", headers=auth["collector"]).json()["amount"]
        for p in plans
    ]
    assert quotes == ["4000.00", "6000.00"]  # today: nothing has accrued yet
    group = accepted["consolidated"]["consolidated_plan_id"]
    shared = _pay(client, auth, f"/v1/consolidated-plans/{group}/payments", "10000.50", "all")
    assert [(a["amount"], a["refunded"]) for a in shared["allocations"]] == [
        ("4000.00", "0.00"),
        ("6000.50", "0.50"),
    ]
    whole = client.get(f"/v1/consolidated-plans/{group}", headers=auth["collector"]).json()
    assert whole["status"] == "completed"
    assert [d["status"] for d in whole["debts"]] == ["completed", "completed"]
