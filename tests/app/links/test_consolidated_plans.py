"""A consolidated offer saved behind one link, accepted as one plan per debt, and the money
received against it shared between the debts' plans (issue 19: "Payments against a
consolidated plan are allocated the same way. Each debt's status, payoff quote and break rule
follow from its share."; "The audit trail records the allocation of every payment").

By hand, under the default policy (interest frozen during a plan): 4,000.00 and 6,000.00 CNY
owed, 500.00 a month, pro rata by balance: 200.00 and 300.00 a month, 20 payments each, both
cleared on the 20th. A payment of 500.00 pays each debt's part of the first line exactly; then
250.00 is shared 100.00 / 150.00 (by what each is due on the line, 200 : 300).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.db import get_sessionmaker
from app.messaging.models import OutboxMessage
from app.messaging.outbox import content_of

Headers = dict[str, dict[str, str]]


def debts(today: date) -> list[dict[str, Any]]:
    base = {"currency": "CNY", "interest": "0", "fees": "0", "as_of": today.isoformat()}
    return [
        {
            **base,
            "ref": "CARD-4000",
            "principal": "4000.00",
            "nominal_annual_rate": "0.18",
            "days_past_due": 120,
        },
        {
            **base,
            "ref": "LOAN-6000",
            "principal": "6000.00",
            "nominal_annual_rate": "0.24",
            "days_past_due": 60,
        },
    ]


def save(client: TestClient, auth: Headers, **extra: Any) -> dict[str, Any]:
    body = {
        "debtor": {"name": "John Smith"},
        "locale": "en",
        "negotiate": {"debts": debts(date.today()), "capacity": {"payment": "500.00"}},
        "kind": "instalment",
        **extra,
    }
    response = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert response.status_code == 201, response.text
    saved: dict[str, Any] = response.json()
    return saved


def pay(client: TestClient, auth: Headers, group: str, amount: str, key: str) -> Any:
    body = {"amount": amount, "date": date.today().isoformat(), "reference": key}
    return client.post(
        f"/v1/consolidated-plans/{group}/payments",
        json=body,
        headers={**auth["collector"], "Idempotency-Key": key},
    )


def test_saving_keeps_one_offer_per_debt_behind_one_link(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    group = saved["consolidated"]
    assert [d["debt_ref"] for d in group["debts"]] == ["CARD-4000", "LOAN-6000"]
    lines = group["offer"]["schedule"]["lines"]
    assert [x["payment"] for x in lines] == ["500.00"] * 20
    assert {(a["debt_ref"], a["payment"]) for x in lines for a in x["allocations"]} == {
        ("CARD-4000", "200.00"),
        ("LOAN-6000", "300.00"),
    }
    assert saved["debt_ref"] == "CARD-4000"
    assert [x["payment"] for x in saved["offer"]["schedule"]["lines"]] == ["200.00"] * 20
    second = client.get(f"/v1/offers/{group['debts'][1]['offer_id']}", headers=auth["collector"])
    assert second.status_code == 200
    assert second.json()["link"] == saved["link"]
    assert [x["payment"] for x in second.json()["offer"]["schedule"]["lines"]] == ["300.00"] * 20


def test_payments_are_shared_between_the_debts_plans(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    accepted = client.post(f"/s/{saved['token']}/accept")
    assert accepted.status_code == 201, accepted.text
    group = client.get(f"/v1/offers/{saved['id']}", headers=auth["collector"]).json()
    plans = [d["plan_id"] for d in group["consolidated"]["debts"]]
    assert all(plans)
    gid = group["consolidated"]["id"]
    first = pay(client, auth, gid, "500.00", "p1")
    assert first.status_code == 201, first.text
    assert [(a["debt_ref"], a["amount"]) for a in first.json()["allocations"]] == [
        ("CARD-4000", "200.00"),
        ("LOAN-6000", "300.00"),
    ]
    second = pay(client, auth, gid, "250.00", "p2")
    assert [(a["debt_ref"], a["amount"]) for a in second.json()["allocations"]] == [
        ("CARD-4000", "100.00"),
        ("LOAN-6000", "150.00"),
    ]
    again = pay(client, auth, gid, "250.00", "p2")
    assert again.status_code == 200
    assert again.json() == second.json()
    whole = client.get(f"/v1/consolidated-plans/{gid}", headers=auth["collector"])
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert (body["paid"], body["outstanding"]) == ("750.00", "9250.00")
    assert [(d["debt_ref"], d["paid"]) for d in body["debts"]] == [
        ("CARD-4000", "300.00"),
        ("LOAN-6000", "450.00"),
    ]
    own = client.get(f"/v1/plans/{plans[0]}", headers=auth["collector"]).json()
    assert [p["amount"] for p in own["payments"]] == ["200.00", "100.00"]
    direct = client.post(
        f"/v1/plans/{plans[0]}/payments",
        json={"amount": "1.00", "date": date.today().isoformat(), "reference": "x"},
        headers={**auth["collector"], "Idempotency-Key": "direct"},
    )
    assert direct.status_code == 409
    assert direct.json()["consolidated_plan_id"] == gid


def test_accepting_makes_every_debts_plan_at_once(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    accepted = client.post(f"/s/{saved['token']}/accept")
    assert accepted.status_code == 201, accepted.text
    answer = accepted.json()
    group = answer["consolidated"]
    assert group["consolidated_plan_id"] == saved["consolidated"]["id"]
    assert [p["debt_ref"] for p in group["plans"]] == ["CARD-4000", "LOAN-6000"]
    assert answer["plan_id"] == group["plans"][0]["plan_id"]
    for part, own in zip(group["plans"], (["200.00"] * 20, ["300.00"] * 20), strict=True):
        plan = client.get(f"/v1/plans/{part['plan_id']}", headers=auth["collector"]).json()
        assert (plan["debt_ref"], plan["status"]) == (part["debt_ref"], "active")
        assert [x["due"] for x in plan["instalments"]] == own
    again = client.post(f"/s/{saved['token']}/accept")
    assert again.status_code == 409
    revoked = client.post(f"/v1/offers/{saved['id']}/revoke", headers=auth["collector"])
    assert revoked.status_code == 409


def test_a_newer_offer_for_one_debt_supersedes_the_whole(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    alone = {
        "debt_ref": "LOAN-6000",
        "debtor": {"name": "John Smith"},
        "negotiate": {
            "debt": {k: v for k, v in debts(date.today())[1].items() if k != "ref"},
            "capacity": {"payment": "300.00"},
        },
    }
    newer = client.post("/v1/offers", json=alone, headers=auth["collector"])
    assert newer.status_code == 201, newer.text
    accepted = client.post(f"/s/{saved['token']}/accept")
    assert accepted.status_code == 409
    assert accepted.json()["type"].endswith("superseded")
    lead = client.get(f"/v1/offers/{saved['id']}", headers=auth["collector"]).json()
    assert lead["status"] == "offered"  # the card's own offer stands; the group cannot
    page = client.get(f"/s/{saved['token']}", params={"lang": "en"}).text
    assert "badge-superseded" in page and 'action="/s/' not in page


def test_revoking_one_debts_offer_revokes_the_link(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    second = saved["consolidated"]["debts"][1]["offer_id"]
    revoked = client.post(f"/v1/offers/{second}/revoke", headers=auth["collector"])
    assert revoked.status_code == 200
    assert client.get(f"/s/{saved['token']}").status_code == 404
    lead = client.get(f"/v1/offers/{saved['id']}", headers=auth["collector"]).json()
    assert lead["status"] == "revoked"


def test_every_sharing_is_audited(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    client.post(f"/s/{saved['token']}/accept")
    gid = saved["consolidated"]["id"]
    shared = pay(client, auth, gid, "250.00", "audit-1").json()
    lead_plan = shared["allocations"][0]["plan_id"]
    trail = client.get("/v1/audit", params={"plan_id": lead_plan}, headers=auth["admin"])
    assert trail.status_code == 200, trail.text
    allocated = [e for e in trail.json()["events"] if e["kind"] == "payment_allocated"]
    assert len(allocated) == 1
    payload = allocated[0]["payload"]
    assert (payload["consolidated_plan_id"], payload["amount"]) == (gid, "250.00")
    assert payload["allocation_rule"] == "pro_rata"
    assert [(a["debt_ref"], a["amount"]) for a in payload["allocations"]] == [
        ("CARD-4000", "100.00"),
        ("LOAN-6000", "150.00"),
    ]
    # each part is its debt's own payment, audited on its plan
    for part in shared["allocations"]:
        events = client.get(
            "/v1/audit", params={"plan_id": part["plan_id"]}, headers=auth["admin"]
        ).json()["events"]
        recorded = [e for e in events if e["kind"] == "payment_recorded"]
        assert [e["payload"]["amount"] for e in recorded] == [part["amount"]]
        assert recorded[0]["payload"]["group_payment_id"] == shared["id"]


def _ordered_policy(client: TestClient, auth: Headers) -> dict[str, Any]:
    body = {"allocation_rule": "highest_rate_first"}
    made = client.post(
        "/v1/policies", json={"name": "ordered", "body": body}, headers=auth["finance"]
    )
    assert made.status_code == 201, made.text
    return {"id": made.json()["id"]}


def test_highest_rate_first_pays_the_dearest_debt_until_it_is_repaid(
    client: TestClient, auth: Headers
) -> None:
    # LOAN-6000 (24 %) first: 12 x 500.00, then CARD-4000 (18 %): 8 x 500.00. 700.00 paid
    # before the first date pays the next line (500.00, the loan's); the 200.00 beyond it is an
    # over-payment, which under the default policy (reduce_last) pays the last line first: the
    # card's 20th. 400.00 more, still before any date, goes to the next line still open: line
    # 2, the loan's.
    asked = {
        "debts": debts(date.today()),
        "capacity": {"payment": "500.00"},
        "policy": _ordered_policy(client, auth),
    }
    saved = save(client, auth, negotiate=asked)
    lines = saved["consolidated"]["offer"]["schedule"]["lines"]
    owners = [[a["debt_ref"] for a in x["allocations"]] for x in lines]
    assert owners == [["LOAN-6000"]] * 12 + [["CARD-4000"]] * 8
    client.post(f"/s/{saved['token']}/accept")
    shared = pay(client, auth, saved["consolidated"]["id"], "700.00", "ordered-1").json()
    assert shared["allocation_rule"] == "highest_rate_first"
    assert [(a["debt_ref"], a["amount"]) for a in shared["allocations"]] == [
        ("CARD-4000", "200.00"),
        ("LOAN-6000", "500.00"),
    ]
    more = pay(client, auth, saved["consolidated"]["id"], "400.00", "ordered-2").json()
    assert [(a["debt_ref"], a["amount"]) for a in more["allocations"]] == [
        ("LOAN-6000", "400.00"),
    ]


def test_the_page_of_a_consolidated_plan(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    client.post(f"/s/{saved['token']}/accept")
    pay(client, auth, saved["consolidated"]["id"], "500.00", "page-1")
    pay(client, auth, saved["consolidated"]["id"], "250.00", "page-2")
    page = client.get(f"/s/{saved['token']}", params={"lang": "en"})
    assert page.status_code == 200, page.text
    html = page.text
    debts_section = re.search(r'<section id="debts">.*?</section>', html, re.S)
    assert debts_section is not None
    paid = dict(
        re.findall(
            r'data-debt-ref="([A-Z0-9-]+)">.*?data-column="paid_so_far" data-minor="(\d+)"',
            debts_section.group(0),
            re.S,
        )
    )
    assert paid == {"CARD-4000": "30000", "LOAN-6000": "45000"}
    first = re.search(r'<tr data-number="1".*?</tr>', html, re.S)
    assert first is not None and 'data-status="paid"' in first.group(0)
    second = re.search(r'<tr data-number="2".*?</tr>', html, re.S)
    assert second is not None and 'data-status="partly_paid"' in second.group(0)
    as_json = client.get(f"/s/{saved['token']}.json").json()
    assert as_json == saved["consolidated"]["offer"]
    csv = client.get(f"/s/{saved['token']}.csv").text.splitlines()
    assert len(csv) == 1 + 20 + 1  # header, a row per combined line, totals
    assert client.get(f"/s/{saved['token']}.ics").status_code == 200


def test_each_debts_messages_link_to_that_debt_alone(client: TestClient, auth: Headers) -> None:
    # A co-debtor of the loan alone must learn nothing of the card: each plan's messages carry
    # the link of its own debt's page, never the consolidated one (which shows every debt).
    for ref, role in (("CARD-4000", "debtor"), ("LOAN-6000", "co_debtor")):
        party = client.post(
            f"/v1/debts/{ref}/parties",
            json={
                "role": role,
                "name": f"{role} of {ref}",
                "channels": {"email": f"{role}@example.cn"},
                "time_zone": "Asia/Shanghai",
            },
            headers=auth["collector"],
        )
        assert party.status_code == 201, party.text
    saved = save(client, auth)
    accepted = client.post(f"/s/{saved['token']}/accept").json()
    plans = {p["plan_id"]: p["debt_ref"] for p in accepted["consolidated"]["plans"]}
    with get_sessionmaker()() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.plan_id.in_(list(plans)))
        ).all()
        bodies = [(plans[row.plan_id], content_of(row)["body"]) for row in rows]
    assert {ref for ref, _ in bodies} == {"CARD-4000", "LOAN-6000"}
    for ref, body in bodies:
        found = re.search(r"/s/([A-Za-z0-9_-]+)\?p=([A-Za-z0-9_-]+)", body)
        assert found is not None, body
        token, marker = found.groups()
        assert token != saved["token"]
        page = client.get(f"/s/{token}", params={"p": marker, "lang": "en"})
        assert page.status_code == 200
        assert 'id="debts"' not in page.text
        owed = re.search(r'data-column="owed_total" data-minor="(\d+)"', page.text)
        assert owed is not None
        assert owed.group(1) == {"CARD-4000": "400000", "LOAN-6000": "600000"}[ref]


def test_a_repaid_debts_certificate_is_linked_from_the_consolidated_page(
    client: TestClient, auth: Headers
) -> None:
    # 300.00 + 600.00 within 900.00 a month: one payment each, both repaid by one of 900.00
    small = [
        {**d, "principal": amount}
        for d, amount in zip(debts(date.today()), ("300.00", "600.00"), strict=True)
    ]
    saved = save(client, auth, negotiate={"debts": small, "capacity": {"payment": "900.00"}})
    assert [x["payment"] for x in saved["consolidated"]["offer"]["schedule"]["lines"]] == ["900.00"]
    client.post(f"/s/{saved['token']}/accept")
    paid = pay(client, auth, saved["consolidated"]["id"], "900.00", "all")
    assert [a["amount"] for a in paid.json()["allocations"]] == ["300.00", "600.00"]
    whole = client.get(
        f"/v1/consolidated-plans/{saved['consolidated']['id']}", headers=auth["collector"]
    ).json()
    assert whole["status"] == "completed"
    page = client.get(f"/s/{saved['token']}", params={"lang": "en"}).text
    links = re.findall(r'href="(/s/[A-Za-z0-9_-]+/certificate\?lang=en)"', page)
    assert len(links) == 2
    for link in links:
        assert saved["token"] not in link  # each debt's own link
        certificate = client.get(link)
        assert certificate.status_code == 200
    assert client.get(f"/s/{saved['token']}/certificate").status_code == 404


def test_saving_debts_in_two_currencies_is_a_422_naming_the_rule(
    client: TestClient, auth: Headers
) -> None:
    two = debts(date.today())
    two[1]["currency"] = "GBP"
    body = {"debtor": {"name": "x"}, "negotiate": {"debts": two, "capacity": {"payment": "500"}}}
    response = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
        ("negotiate.debts.1.currency", "one_currency")
    ]
