"""Saved offers, their links, acceptance, payments, plan statements and what they audit
(``app/links/sharing.py`` and its routers; a broken trail: tests/app/audit), on SQLite and on
PostgreSQL.

Debts are dated today: a payment may not be dated before the plan's acceptance nor after
tomorrow, so the schedules start a month from now. Under the default policy (an interest
freeze) amounts do not depend on the date; the days a status is judged on are taken from the
schedule's own payment dates.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.core.db import get_sessionmaker
from app.core.db import utcnow as db_now
from app.links.models import AcceptedPlan, PlanPayment, SavedOffer
from app.offers.summaries import day
from schemas.common import Locale

Headers = dict[str, dict[str, str]]


def debt(**changes: str | int) -> dict[str, Any]:
    """10,000.00 owed, 350.00 interest and 150.00 fees in arrears, 95 days past due, today."""
    return {
        "currency": "CNY",
        "principal": "10000.00",
        "interest": "350.00",
        "fees": "150.00",
        "nominal_annual_rate": "0.18",
        "as_of": date.today().isoformat(),
        "days_past_due": 95,
        **changes,
    }


CAPACITY = {"payment": "1250.00", "lump_sum": "0", "frequency": "monthly"}
# 3,000.00, nothing in arrears: three instalments of 1,000.00 under the interest freeze
SMALL = {"kind": "instalment", "debt": debt(principal="3000.00", interest="0", fees="0"), "term": 3}


def save(
    client: TestClient,
    headers: dict[str, str],
    *,
    debt_ref: str = "CARD-1",
    plan: dict[str, Any] | None = None,
    negotiate: dict[str, Any] | None = None,
    kind: str | None = None,
    name: str = "John Smith",
    idempotency_key: str | None = None,
) -> Any:
    body: dict[str, Any] = {"debt_ref": debt_ref, "debtor": {"name": name}, "locale": "en"}
    if negotiate is not None:
        body["negotiate"] = negotiate
        if kind is not None:
            body["kind"] = kind
    else:
        body["plan"] = plan or SMALL
    extra = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
    return client.post("/v1/offers", json=body, headers={**headers, **extra})


def saved(client: TestClient, headers: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    response = save(client, headers, **kwargs)
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def token_of(offer: dict[str, Any]) -> str:
    return str(offer["link"]).rsplit("/", 1)[1]


def accepted_plan(client: TestClient, offer: dict[str, Any]) -> str:
    response = client.post(f"/s/{token_of(offer)}/accept")
    assert response.status_code == 201, response.text
    return str(response.json()["plan_id"])


def pay(
    client: TestClient,
    headers: dict[str, str],
    plan_id: str,
    amount: str,
    key: str | None,
    *,
    reference: str = "WX-1",
) -> Any:
    body = {"amount": amount, "date": date.today().isoformat(), "reference": reference}
    extra = {} if key is None else {"Idempotency-Key": key}
    return client.post(f"/v1/plans/{plan_id}/payments", json=body, headers={**headers, **extra})


def count(model: Any, *where: Any) -> int:
    with get_sessionmaker()() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def kinds(client: TestClient, headers: dict[str, str], **query: str) -> list[str]:
    response = client.get("/v1/audit", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return [e["kind"] for e in response.json()["events"]]


def offer_status(client: TestClient, headers: dict[str, str], offer_id: str) -> str:
    return str(client.get(f"/v1/offers/{offer_id}", headers=headers).json()["status"])


def payment_dates(plan: dict[str, Any]) -> list[date]:
    return [date.fromisoformat(s["payment_date"]) for s in plan["instalments"]]


# ---- saving ------------------------------------------------------------------------------


def test_save_from_negotiate_keeps_the_debtors_own_figure(
    client: TestClient, auth: Headers
) -> None:
    # until: repaid makes the instalment offer 1,250.00 exactly, 8 times, and 500.00 last;
    # the saved offer is recomputed from the same request, so it is that plan, not 9 x 1,166.67
    negotiate = {"debt": debt(), "capacity": CAPACITY, "until": "repaid"}
    offers = client.post("/v1/offers/negotiate", json=negotiate, headers=auth["collector"]).json()
    [shown] = [o for o in offers["offers"] if o["kind"] == "instalment"]
    chosen = saved(client, auth["collector"], negotiate=negotiate, kind="instalment")
    assert chosen["offer"] == shown
    assert [x["payment"] for x in shown["schedule"]["lines"]] == ["1250.00"] * 8 + ["500.00"]


def test_save_from_negotiate_by_kind(client: TestClient, auth: Headers) -> None:
    negotiate = {"debt": debt(), "capacity": CAPACITY}
    offers = client.post("/v1/offers/negotiate", json=negotiate, headers=auth["collector"]).json()
    by_kind = {o["kind"]: o for o in offers["offers"]}
    chosen = saved(client, auth["collector"], negotiate=negotiate, kind="deferral")
    assert (chosen["kind"], chosen["status"], chosen["expired"]) == ("deferral", "offered", False)
    assert chosen["offer"] == by_kind["deferral"]  # exactly what negotiate showed
    # no kind: the best ranked. 10,500.00 at most 1,250.00 a month, interest frozen: 8.4
    # months, so 9 level payments of 10,500.00 / 9 = 1,166.666... -> 1,166.67, the last
    # absorbing the residue: 10,500.00 - 8 x 1,166.67 = 1,166.64
    best = saved(client, auth["collector"], negotiate=negotiate, debt_ref="CARD-2")
    assert best["offer"] == offers["offers"][0]
    instalment = by_kind["instalment"]["schedule"]["lines"]
    assert [x["payment"] for x in instalment] == ["1166.67"] * 8 + ["1166.64"]
    # a kind the policy did not offer (no lump sum to settle with) is refused, with the reason
    refused = save(client, auth["collector"], negotiate=negotiate, kind="settlement")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "kind"
    assert refused.json()["errors"][0]["rule"] == "not_offered"
    assert "9450.00" in refused.json()["errors"][0]["detail"]  # 10,500.00 less 10 %


def test_save_an_explicit_plan_and_read_it_back(client: TestClient, auth: Headers) -> None:
    offer = saved(client, auth["collector"])
    lines = offer["offer"]["schedule"]["lines"]
    assert [(x["payment"], x["principal"]) for x in lines] == [("1000.00", "1000.00")] * 3
    assert offer["policy"] == {"id": 1, "name": "default", "version": 1}
    assert offer["link"].startswith("http://") and "/s/" in offer["link"]
    # a week by default (link_expiry_days)
    created = offer["created_at"].replace("Z", "+00:00")
    expires = offer["expires_at"].replace("Z", "+00:00")
    assert date.fromisoformat(expires[:10]) - date.fromisoformat(created[:10]) == timedelta(7)
    again = client.get(f"/v1/offers/{offer['id']}", headers=auth["collector"])
    assert again.json() == offer
    # the debtor's view is the document exactly as saved
    assert client.get(f"/s/{token_of(offer)}.json").json() == offer["offer"]


def test_an_idempotent_retry_makes_nothing_new(client: TestClient, auth: Headers) -> None:
    first = save(client, auth["collector"], idempotency_key="save-1")
    retry = save(client, auth["collector"], idempotency_key="save-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()  # same id, same link
    assert count(SavedOffer) == 1
    assert kinds(client, auth["finance"]).count("offer_saved") == 1
    # the same key for another request is a conflict, and makes nothing either
    other = save(client, auth["collector"], idempotency_key="save-1", debt_ref="CARD-9")
    assert other.status_code == 409
    assert other.json()["type"].endswith("/idempotency-key")
    assert count(SavedOffer) == 1


def test_a_newer_offer_for_the_same_debt_replaces_the_open_one(
    client: TestClient, auth: Headers
) -> None:
    first = saved(client, auth["collector"])
    other_debt = saved(client, auth["collector"], debt_ref="CARD-2")
    second = saved(client, auth["collector"], plan={**SMALL, "term": 2})
    assert offer_status(client, auth["collector"], first["id"]) == "superseded"
    assert offer_status(client, auth["collector"], other_debt["id"]) == "offered"
    refused = client.post(f"/s/{token_of(first)}/accept")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/superseded")
    assert "replaced by a newer one" in refused.json()["detail"]
    assert client.post(f"/s/{token_of(second)}/accept").status_code == 201
    events = client.get("/v1/audit", params={"offer_id": second["id"]}, headers=auth["finance"])
    assert events.json()["events"][0]["payload"]["supersedes"] == [first["id"]]


def test_revoked_expired_and_unknown_links_are_one_and_the_same_404(
    client: TestClient, auth: Headers
) -> None:
    revoked = saved(client, auth["collector"])
    expired = saved(client, auth["collector"], debt_ref="CARD-2")
    revoke = client.post(f"/v1/offers/{revoked['id']}/revoke", headers=auth["collector"])
    assert revoke.status_code == 200 and revoke.json()["status"] == "revoked"
    with get_sessionmaker()() as session:
        session.execute(
            update(SavedOffer)
            .where(SavedOffer.id == expired["id"])
            .values(expires_at=db_now() - timedelta(seconds=1))
        )
        session.commit()
    assert client.get(f"/v1/offers/{expired['id']}", headers=auth["collector"]).json()["expired"]
    tokens = {
        "revoked": token_of(revoked),
        "expired": token_of(expired),
        "unknown": token_of(revoked)[:-4] + "AAAA",
    }
    for method, suffix in [("get", ".json"), ("post", "/accept"), ("get", ""), ("get", ".csv")]:
        answers = {
            name: client.request(method, f"/s/{token}{suffix}") for name, token in tokens.items()
        }
        statuses = {name: r.status_code for name, r in answers.items()}
        assert set(statuses.values()) == {404}, (suffix, statuses)
        bodies = {r.content for r in answers.values()}
        assert len(bodies) == 1, (suffix, [r.text for r in answers.values()])
        headers = {tuple(sorted(r.headers.items())) for r in answers.values()}
        assert len(headers) == 1, suffix
        # and the body does not echo the token (the capability) back
        assert not any(
            token.encode() in r.content
            for token, r in zip(tokens.values(), answers.values(), strict=True)
        )
    # revoking is idempotent and leaves one event
    again = client.post(f"/v1/offers/{revoked['id']}/revoke", headers=auth["collector"])
    assert again.json()["status"] == "revoked"
    assert kinds(client, auth["finance"], offer_id=revoked["id"]).count("link_revoked") == 1


def test_an_offer_is_accepted_exactly_once(client: TestClient, auth: Headers) -> None:
    offer = saved(client, auth["collector"])
    first = client.post(f"/s/{token_of(offer)}/accept")
    assert first.status_code == 201
    assert first.json()["status"] == "accepted" and first.json()["offer_id"] == offer["id"]
    second = client.post(f"/s/{token_of(offer)}/accept")
    assert second.status_code == 409
    assert second.json()["type"].endswith("/already-accepted")
    assert count(AcceptedPlan) == 1
    after = client.get(f"/v1/offers/{offer['id']}", headers=auth["collector"]).json()
    assert (after["status"], after["plan_id"]) == ("accepted", first.json()["plan_id"])
    # an accepted offer's link keeps working, and it can no longer be revoked
    assert client.get(f"/s/{token_of(offer)}.json").status_code == 200
    revoke = client.post(f"/v1/offers/{offer['id']}/revoke", headers=auth["collector"])
    assert revoke.status_code == 409


# ---- payments and plan statements ---------------------------------------------------------


def test_a_payment_is_allocated_and_recorded_once_per_key(
    client: TestClient, auth: Headers
) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    missing = pay(client, auth["collector"], plan_id, "1500.00", None)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "header.Idempotency-Key"
    # 1,500.00 today, a month before line 1: line 1's 1,000.00 (the next instalment, not an
    # over-payment), then 500.00 over, which the default rule takes off the last line
    first = pay(client, auth["collector"], plan_id, "1500.00", "pay-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["allocations"] == [
        {"number": 1, "interest": "0.00", "fees": "0.00", "principal": "1000.00"},
        {"number": 3, "interest": "0.00", "fees": "0.00", "principal": "500.00"},
    ]
    assert (body["overpaid"], body["overpayment"], body["refunded"]) == (
        "500.00",
        "reduce_last",
        "0.00",
    )
    assert body["balance_after"] == "1500.00"
    retry = pay(client, auth["collector"], plan_id, "1500.00", "pay-1")
    assert retry.status_code == 200
    assert retry.json() == body
    assert count(PlanPayment) == 1
    other = pay(client, auth["collector"], plan_id, "1499.00", "pay-1")
    assert other.status_code == 409
    assert other.json()["type"].endswith("/idempotency-key")
    assert count(PlanPayment) == 1
    assert kinds(client, auth["finance"], plan_id=plan_id) == ["offer_accepted", "payment_recorded"]
    # amounts are checked like any other: more decimals than CNY has is refused, not rounded
    assert pay(client, auth["collector"], plan_id, "1.005", "pay-2").status_code == 422


def test_plan_statuses_on_chosen_days(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    assert pay(client, auth["collector"], plan_id, "1500.00", "pay-1").status_code == 201
    # 300.00 more: line 1 is paid, so it goes to line 2, the next one
    assert pay(client, auth["collector"], plan_id, "300.00", "pay-2").status_code == 201

    def on(day: date) -> dict[str, Any]:
        response = client.get(
            f"/v1/plans/{plan_id}", params={"on": day.isoformat()}, headers=auth["collector"]
        )
        assert response.status_code == 200, response.text
        plan: dict[str, Any] = response.json()
        return plan

    today = on(date.today())
    assert [(s["status"], s["paid"]) for s in today["instalments"]] == [
        ("paid", "1000.00"),
        ("partly_paid", "300.00"),
        ("partly_paid", "500.00"),
    ]
    assert (today["status"], today["paid"], today["outstanding"]) == (
        "active",
        "1800.00",
        "1200.00",
    )
    assert today["next_due"]["number"] == 2 and today["next_due"]["remaining"] == "700.00"
    assert [p["amount"] for p in today["payments"]] == ["1500.00", "300.00"]
    line_2 = payment_dates(today)[1]
    cases = [
        (0, "partly_paid", 0, "active"),
        (1, "late", 1, "late"),  # the plan is late with its instalment (plans.lifecycle)
        (14, "late", 14, "late"),
        (15, "missed", 15, "missed"),  # missed_after_days = 15
        (29, "missed", 29, "missed"),
        (30, "missed", 30, "broken"),  # break_after_days_late = 30
    ]
    for days, status, days_late, plan_status in cases:
        plan = on(line_2 + timedelta(days))
        second = plan["instalments"][1]
        assert (second["status"], second["days_late"]) == (status, days_late), days
        assert plan["status"] == plan_status, days
    broken = on(line_2 + timedelta(30))
    assert broken["broken_reason"] == "an instalment 30 days late"
    # nothing was waived, so nothing is revoked: the plan's own 1,200.00 stands
    assert (broken["revocation"], broken["outstanding"]) == (None, "1200.00")


def test_a_plan_breaks_on_the_first_rule_met_and_stays_broken(
    client: TestClient, auth: Headers
) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    dates = payment_dates(client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json())
    plan = client.get(
        f"/v1/plans/{plan_id}",
        params={"on": (dates[1] + timedelta(15)).isoformat()},
        headers=auth["collector"],
    ).json()
    assert [s["status"] for s in plan["instalments"][:2]] == ["missed", "missed"]
    # Two missed instalments would break it on the second's 15th day late, but the first was
    # 30 days late (break_after_days_late) two weeks before: it broke then, and stays broken.
    assert (plan["status"], plan["broken_reason"]) == ("broken", "an instalment 30 days late")
    assert [(t["on"], t["to_status"], t["cause"]) for t in plan["transitions"]] == [
        ((dates[0] + timedelta(1)).isoformat(), "late", "date"),
        ((dates[0] + timedelta(15)).isoformat(), "missed", "date"),
        ((dates[0] + timedelta(30)).isoformat(), "broken", "date"),
    ]
    assert plan["since"] == (dates[0] + timedelta(30)).isoformat()


def test_a_completed_plan(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    assert pay(client, auth["finance"], plan_id, "3000.00", "all").status_code == 201
    plan = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    assert (plan["status"], plan["outstanding"], plan["next_due"]) == ("completed", "0.00", None)
    # a payment beyond the whole plan is handed back
    extra = pay(client, auth["finance"], plan_id, "10.00", "extra").json()
    assert (extra["allocations"], extra["refunded"]) == ([], "10.00")


def test_a_broken_settlement_plan_loses_its_discount(client: TestClient, auth: Headers) -> None:
    # 95 days past due: 10 % from 90 days, half of it for a plan: 5 % of 10,500.00 = 525.00,
    # waived fees 150.00, interest 350.00, principal 25.00. 9,975.00 in three of 3,325.00.
    plan_request = {"kind": "settlement_plan", "debt": debt(), "instalments": 3}
    offer = saved(client, auth["collector"], plan=plan_request)
    document = offer["offer"]
    assert [x["payment"] for x in document["schedule"]["lines"]] == ["3325.00"] * 3
    assert document["waiver"] == {
        "fees": "150.00",
        "interest": "350.00",
        "principal": "25.00",
        "total": "525.00",
    }
    plan_id = accepted_plan(client, offer)
    assert pay(client, auth["collector"], plan_id, "3325.00", "pay-1").status_code == 201
    line_2 = payment_dates(client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json())[1]

    def on(days: int) -> dict[str, Any]:
        day = (line_2 + timedelta(days)).isoformat()
        plan = client.get(f"/v1/plans/{plan_id}", params={"on": day}, headers=auth["collector"])
        payoff = client.get(
            f"/v1/plans/{plan_id}/payoff", params={"on": day}, headers=auth["collector"]
        )
        return {"plan": plan.json(), "payoff": payoff.json()}

    active = on(29)  # missed (15 days late), not yet broken: the discount stands
    assert (active["plan"]["status"], active["plan"]["outstanding"]) == ("missed", "6650.00")
    assert active["payoff"]["amount"] == "6650.00"  # what remains of the discounted 9,975.00
    # a settlement's remainder holds until the plan breaks: line 2 30 days late, tomorrow
    assert active["payoff"]["valid_until"] == (line_2 + timedelta(29)).isoformat()
    broken = on(30)
    assert broken["plan"]["status"] == "broken"
    # recomputed from the debt: 3,325.00 credited to fees 150.00, interest 350.00 and
    # principal 2,825.00; 10,500.00 - 3,325.00 = 7,175.00 is owed, the 525.00 included
    assert broken["plan"]["revocation"] == {
        "owed_before": {
            "principal": "10000.00",
            "interest": "350.00",
            "fees": "150.00",
            "total": "10500.00",
        },
        "waiver_revoked": {
            "fees": "150.00",
            "interest": "350.00",
            "principal": "25.00",
            "total": "525.00",
        },
        "credited": [
            {"payment": 1, "fees": "150.00", "interest": "350.00", "principal": "2825.00"}
        ],
        "owed_after": {
            "principal": "7175.00",
            "interest": "0.00",
            "fees": "0.00",
            "total": "7175.00",
        },
    }
    assert broken["plan"]["outstanding"] == broken["payoff"]["amount"] == "7175.00"
    assert broken["payoff"]["valid_until"] is None  # only a payment changes it


def test_payoff_credits_every_payment_and_owes_the_folded_arrears(
    client: TestClient, auth: Headers
) -> None:
    # Folded arrears: 10,500.00 in four of 2,625.00, the first carrying the 150.00 fees and
    # 350.00 interest in arrears. Paid off today, before any line is due: all 10,500.00.
    folded = accepted_plan(
        client, saved(client, auth["collector"], plan={**SMALL, "debt": debt(), "term": 4})
    )
    today = {"on": date.today().isoformat()}
    quote = client.get(f"/v1/plans/{folded}/payoff", params=today, headers=auth["collector"])
    assert quote.json()["amount"] == "10500.00"
    # no interest accrues: it holds until the day before line 1 falls due
    line_1 = payment_dates(client.get(f"/v1/plans/{folded}", headers=auth["collector"]).json())[0]
    assert quote.json()["valid_until"] == (line_1 - timedelta(1)).isoformat()
    # 12,000.00 at 12 % over 12 months: pmt(1 %, 12, 12,000) = 1,066.1855 -> 1,066.19, of
    # which 120.00 is line 1's interest. Pay that instalment today and ask for the payoff
    # today: no day has run, so 12,000.00 - 1,066.19 = 10,933.81 closes the plan (not
    # 11,053.81, which would take line 1's 120.00 of interest for nothing).
    interest_plan = {
        **SMALL,
        "debt": debt(principal="12000.00", interest="0", fees="0"),
        "term": 12,
        "nominal_annual_rate": "0.12",
    }
    offer = saved(client, auth["collector"], plan=interest_plan, debt_ref="CARD-2")
    assert offer["offer"]["schedule"]["lines"][0]["payment"] == "1066.19"
    plan_id = accepted_plan(client, offer)
    quote = client.get(f"/v1/plans/{plan_id}/payoff", params=today, headers=auth["collector"])
    assert quote.json()["amount"] == "12000.00"
    assert pay(client, auth["collector"], plan_id, "1066.19", "pay-1").status_code == 201
    quote = client.get(f"/v1/plans/{plan_id}/payoff", params=today, headers=auth["collector"])
    assert quote.json()["amount"] == "10933.81"
    # line 1's 120.00 of interest, paid for days not yet run, comes off the principal: none of
    # the quote is negative (principal 12,000.00 - 946.19 - 120.00 = 10,933.81), and interest
    # accrues at 12 % from tomorrow, so the quote holds for today only
    parts = {k: quote.json()[k] for k in ("principal", "interest", "waived", "valid_until")}
    assert parts == {
        "principal": "10933.81",
        "interest": "0.00",
        "waived": "0.00",
        "valid_until": today["on"],
    }


def test_the_page_of_a_live_plan_says_what_finishes_it_today(
    client: TestClient, auth: Headers
) -> None:
    # SMALL: 3,000.00 in three monthly payments of 1,000.00, no interest. Accepted today and
    # nothing paid: 3,000.00 finishes it, the same until the day before line 1 falls due.
    offer = saved(client, auth["collector"], plan=SMALL)
    plan_id = accepted_plan(client, offer)
    line_1 = payment_dates(client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json())[0]
    page = client.get(f"/s/{token_of(offer)}", params={"lang": "en"}).text
    assert 'id="payoff"' in page
    valid_until = line_1 - timedelta(1)
    sentence = f"To finish today: CN¥3,000.00, valid until {day(valid_until, Locale.EN)}."
    assert sentence in page
    assert f'data-valid-until="{valid_until.isoformat()}"' in page
    # paid in full: the plan is complete, there is nothing to finish
    assert pay(client, auth["collector"], plan_id, "3000.00", "pay-all").status_code == 201
    page = client.get(f"/s/{token_of(offer)}", params={"lang": "en"}).text
    assert "The plan is complete" in page and 'id="payoff"' not in page


# ---- the audit trail -----------------------------------------------------------------------


def audited_history(client: TestClient, auth: Headers) -> dict[str, Any]:
    """One of everything the trail records, in a known order."""
    policy = client.post(
        "/v1/policies", json={"name": "cards", "body": {}}, headers=auth["finance"]
    )
    assert policy.status_code == 201
    policy_id = policy.json()["id"]
    change = {"body": {"missed_after_days": 10}}
    version = client.post(
        f"/v1/policies/{policy_id}/versions", json=change, headers=auth["finance"]
    )
    assert version.status_code == 201
    offer = saved(client, auth["collector"])
    assert client.get(f"/s/{token_of(offer)}.json").status_code == 200
    other = saved(client, auth["collector"], debt_ref="CARD-2")
    assert client.post(f"/v1/offers/{other['id']}/revoke", headers=auth["collector"]).status_code
    plan_id = accepted_plan(client, offer)
    assert pay(client, auth["collector"], plan_id, "100.00", "pay-1").status_code == 201
    return {"offer": offer, "plan_id": plan_id}


HISTORY = [
    "policy_created",
    "policy_version_added",
    "offer_saved",
    "link_viewed",
    "offer_saved",
    "link_revoked",
    "offer_accepted",
    "payment_recorded",
]


def test_every_change_and_every_view_is_in_the_audit_trail(
    client: TestClient, auth: Headers
) -> None:
    made = audited_history(client, auth)
    response = client.get("/v1/audit", headers=auth["finance"])
    events = response.json()["events"]
    assert [e["kind"] for e in events] == HISTORY
    assert [e["seq"] for e in events] == list(range(1, 9))
    assert events[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert events[1]["payload"]["body"]["missed_after_days"] == 10
    assert events[3]["actor"] == "debtor" and events[3]["payload"]["what"] == "json"
    assert events[7]["payload"]["amount"] == "100.00"
    assert events[7]["actor"].startswith("collector:")
    # collectors see the events of their own offers and plans, and nothing else
    assert client.get("/v1/audit", headers=auth["collector"]).status_code == 403
    own = kinds(client, auth["collector"], offer_id=made["offer"]["id"])
    assert own == ["offer_saved", "link_viewed", "offer_accepted", "payment_recorded"]
    verified = client.get("/v1/audit/verify", headers=auth["finance"]).json()
    assert verified["ok"] is True and verified["events"] == 8
    assert client.get("/v1/audit/verify", headers=auth["collector"]).status_code == 403
