"""The debtor's change requests and the collectors' decisions
(``app/changes/change_requests.py`` and its two routers), on SQLite and on PostgreSQL.

Debts are dated today, as in ``tests/app/links/test_sharing.py`` (whose fixtures these reuse), and
the default policy freezes interest, so amounts do not depend on the date.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.changes.models import ChangeRequest
from app.core.db import get_sessionmaker, utcnow
from app.core.keys import create_key
from app.links.models import SavedOffer
from app.links.sharing import party_marker
from app.links.web import HideTokens
from tests.app.links.test_sharing import (
    SMALL,
    accepted_plan,
    count,
    debt,
    kinds,
    pay,
    saved,
    token_of,
)

Headers = dict[str, dict[str, str]]
FORM = {"content-type": "application/x-www-form-urlencoded"}


def paid_small_plan(client: TestClient, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The SMALL plan (3,000.00 in 3 x 1,000.00) accepted, with 1,000.00 paid today."""
    offer = saved(client, headers)
    plan_id = accepted_plan(client, offer)
    assert pay(client, headers, plan_id, "1000.00", "pay-1").status_code == 201
    return offer, plan_id


def propose(client: TestClient, token: str, **body: Any) -> Any:
    return client.post(f"/s/{token}/change", json=body)


def ask(client: TestClient, token: str, choice: str = "as_proposed", **body: Any) -> Any:
    return client.post(f"/s/{token}/change/requests", json={**body, "choice": choice})


# ---- the engine's answer on what is owed now -----------------------------------------------


def test_hand_checked_counter_offer_on_a_part_paid_plan(client: TestClient, auth: Headers) -> None:
    """3,000.00 in three monthly instalments of 1,000.00 under the default policy's interest
    freeze (plan rate 0). 1,000.00 paid today, a month before line 1, settles line 1 (the next
    instalment, paid ahead, not an over-payment), so the plan still asks for 2,000.00, all
    principal: no interest is scheduled or accrues at 0 %, and no fees were owed.

    The debtor proposes 500.00 a month. ``plans.counter.counter_offer`` tries
    ``instalment_plan`` with a capacity of 500.00: the shortest term whose payment fits is
    ceil(2,000.00 / 500.00) = 4 months, and 2,000.00 / 4 = 500.00 exactly, so every payment
    is 500.00 (no residue for the last). 500.00 is above the policy's minimum instalment
    (100.00 CNY) and 4 months within its 36: the proposal fits as it stands. Total paid
    2,000.00 = the amount owed, so the finance charge and the APR are 0.
    """
    offer, _ = paid_small_plan(client, auth["collector"])
    answer = propose(client, token_of(offer), payment="500.00")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    today = date.today()
    assert body["owed"] == {
        "currency": "CNY",
        "as_of": today.isoformat(),
        "principal": "2000.00",
        "interest": "0.00",
        "fees": "0.00",
        "total": "2000.00",
    }
    assert body["proposal"] == {
        "payment": "500.00",
        "start": None,
        "lump_sum": "0.00",
        "frequency": "monthly",
    }
    result = body["result"]
    assert (result["accepted"], result["rejections"], result["alternatives"]) == (True, [], [])
    plan = result["offer"]
    lines = plan["schedule"]["lines"]
    assert [(x["payment"], x["principal"], x["interest"], x["fees"]) for x in lines] == [
        ("500.00", "500.00", "0.00", "0.00")
    ] * 4
    assert [x["closing_balance"] for x in lines] == ["1500.00", "1000.00", "500.00", "0.00"]
    assert plan["terms"]["instalments"] == 4 and plan["terms"]["instalment"] == "500.00"
    assert plan["metrics"]["total_paid"] == "2000.00"
    assert Decimal(plan["metrics"]["apr"]) == 0
    assert plan["policy"] == {"id": 1, "name": "default", "version": 1}
    # the first payment one month after today (the as-of date), at the earliest
    assert date.fromisoformat(lines[0]["due_date"]) > today + timedelta(days=27)
    assert body["requests_left_today"] == 5


def test_an_offer_not_yet_accepted_is_judged_on_its_own_debt(
    client: TestClient, auth: Headers
) -> None:
    # 10,500.00 (10,000.00 + 350.00 interest + 150.00 fees) at 250.00 a month: 42 months,
    # beyond the policy's 36, so no plan as proposed; the nearest is the longest allowed,
    # 36 payments: 10,500.00 / 36 = 291.666... -> 291.67, the last 10,500.00 - 35 x 291.67
    offer = saved(client, auth["collector"], plan={**SMALL, "debt": debt(), "term": 12})
    body = propose(client, token_of(offer), payment="250.00").json()
    assert body["owed"]["total"] == "10500.00" and body["owed"]["as_of"] == date.today().isoformat()
    result = body["result"]
    assert result["accepted"] is False
    # the payment is what falls short of the policy's term (it is paid as proposed, never
    # re-levelled)
    assert [(r["field"], r["rule"]) for r in result["rejections"]] == [("payment", "max_term")]
    [longer] = [a for a in result["alternatives"] if a["change"] == "longer_term"]
    payments = [x["payment"] for x in longer["offer"]["schedule"]["lines"]]
    assert payments == ["291.67"] * 35 + ["291.55"]


def test_a_lump_sum_and_a_later_start(client: TestClient, auth: Headers) -> None:
    # 2,000.00 owed; 1,000.00 now, then 500.00 a month: 2 payments after the down payment
    offer, _ = paid_small_plan(client, auth["collector"])
    start = date.today() + timedelta(days=40)
    body = propose(
        client, token_of(offer), payment="500.00", lump_sum="1000.00", start=start.isoformat()
    ).json()
    plan = body["result"]["offer"]
    assert [(x["kind"], x["payment"]) for x in plan["schedule"]["lines"]] == [
        ("down_payment", "1000.00"),
        ("instalment", "500.00"),
        ("instalment", "500.00"),
    ]
    assert plan["terms"]["first_due"] == start.isoformat()
    assert body["proposal"]["start"] == start.isoformat()


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"payment": "abc"}, "payment", "number"),
        ({"payment": "5.001"}, "payment", "max_decimals"),
        ({"payment": "-5"}, "payment", "non_negative"),
        ({"payment": "0"}, "payment", "positive"),
        ({"payment": ""}, "payment", "required"),
        ({"payment": "500", "lump_sum": "1.5e3"}, "lump_sum", "number"),
        ({"payment": "500", "start": "next month"}, "start", "date"),
        ({"payment": "500", "start": "2020-01-01"}, "start", "not_in_past"),
        ({"payment": "500", "start": 46}, "start", "max_start_delay"),  # days from today
        ({"payment": "500", "frequency": "weekly"}, "frequency", "extra_forbidden"),
        ({}, "payment", "missing"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_rule(
    client: TestClient, auth: Headers, fields: dict[str, Any], field: str, rule: str
) -> None:
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    if isinstance(fields.get("start"), int):
        fields = {**fields, "start": (date.today() + timedelta(days=fields["start"])).isoformat()}
    answer = propose(client, token, **fields)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in answer.json()["errors"]
    ]
    assert token not in answer.text  # no `instance` echoing the capability
    # a browser gets the form again, with the message by its field and what was typed
    if rule not in ("extra_forbidden", "missing"):
        page = client.post(f"/s/{token}/change?lang=en", data=fields)
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
        assert 'id="errors"' in page.text and f'id="{field}-error"' in page.text


def test_no_problem_document_echoes_the_token(client: TestClient, auth: Headers) -> None:
    token = token_of(saved(client, auth["collector"]))
    for answer in (
        client.get(f"/s/{token}/change?lang=fr"),  # FastAPI's own validation
        client.get(f"/s/{token}?lang=fr"),  # the offer page's, likewise
        client.post(f"/s/{token}/change", content=b"{"),
    ):
        assert (
            answer.status_code == 422
            and answer.headers["content-type"] == "application/problem+json"
        )
        assert "instance" not in answer.json() and token not in answer.text


def test_every_broken_rule_of_a_form_is_shown_at_once(client: TestClient, auth: Headers) -> None:
    token = token_of(saved(client, auth["collector"]))
    latest = date.today() + timedelta(days=46)
    page = client.post(
        f"/s/{token}/change?lang=zh-CN",
        data={"payment": "1.234", "start": latest.isoformat(), "lump_sum": "-1"},
    )
    assert page.status_code == 422
    assert "CNY金额最多保留2位小数。" in page.text
    assert "首次还款日期最晚为" in page.text and "金额不能为负数。" in page.text
    assert 'value="1.234"' in page.text


# ---- the pages -------------------------------------------------------------------------------


def test_the_form_posts_to_the_answer_page(client: TestClient, auth: Headers) -> None:
    offer, _ = paid_small_plan(client, auth["collector"])
    token = token_of(offer)
    form = client.get(f"/s/{token}/change", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert form.status_code == 200 and '<html lang="en">' in form.text
    assert 'data-column="owed_total" data-minor="200000"' in form.text
    assert f'action="/s/{token}/change?lang=en"' in form.text
    moved = client.post(
        f"/s/{token}/change?lang=en",
        data={"payment": "500.00", "start": "", "lump_sum": ""},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    where = urlsplit(moved.headers["location"])
    assert where.path == f"/s/{token}/change"
    assert parse_qs(where.query) == {"payment": ["500.00"], "lang": ["en"]}
    page = client.get(moved.headers["location"])
    assert page.status_code == 200
    for name, value in {
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex",
    }.items():
        assert page.headers[name] == value
    assert "Content-Security-Policy" in page.text and "default-src 'none'" in page.text
    assert "<script" not in page.text
    assert "Your proposal fits our rules." in page.text
    assert page.text.count('data-column="payment" data-minor="50000"') == 4
    # Chinese by default (the offer's locale is en here, so ask for it)
    zh = client.get(f"/s/{token}/change?payment=500.00&lang=zh-CN")
    assert "您提出的方案符合我们的规则。" in zh.text and "申请此方案" in zh.text


def test_unknown_revoked_and_expired_links_get_the_one_404(
    client: TestClient, auth: Headers
) -> None:
    revoked = saved(client, auth["collector"])
    expired = saved(client, auth["collector"], debt_ref="CARD-2")
    assert client.post(f"/v1/offers/{revoked['id']}/revoke", headers=auth["collector"]).is_success
    with get_sessionmaker()() as session:
        session.execute(
            update(SavedOffer)
            .where(SavedOffer.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    unknown = token_of(revoked)[:-4] + "AAAA"
    reference = client.get(f"/s/{unknown}")  # the links' own 404 page
    assert reference.status_code == 404
    for token in (token_of(revoked), token_of(expired), unknown):
        page = client.get(f"/s/{token}/change")
        assert (page.status_code, page.content) == (404, reference.content)
        posted = client.post(f"/s/{token}/change", data={"payment": "500"})
        assert (posted.status_code, posted.content) == (404, reference.content)
        json = propose(client, token, payment="500")
        assert (
            json.status_code == 404 and json.headers["content-type"] == "application/problem+json"
        )
        assert token not in json.text
        asked = ask(client, token, payment="500")
        assert asked.status_code == 404
        sent = client.get(f"/s/{token}/change/requests/{'0' * 32}")
        assert (sent.status_code, sent.content) == (404, reference.content)


def test_a_partys_own_link_keeps_its_marker(client: TestClient, auth: Headers) -> None:
    debtor = client.post(
        "/v1/debts/CARD-1/parties",
        json={
            "role": "debtor",
            "name": "张小明",
            "channels": {"sms": "+8613800138000"},
            "locale": "zh-CN",
            "time_zone": "Asia/Shanghai",
        },
        headers=auth["collector"],
    )
    assert debtor.status_code == 201, debtor.text
    offer, _ = paid_small_plan(client, auth["collector"])
    token = token_of(offer)
    marker = party_marker(token, debtor.json()["id"])
    # the party's own link opens in the language of their messages, and keeps who they are
    page = client.get(f"/s/{token}/change?p={marker}")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert f'href="/s/{token}?p={marker}&amp;lang=zh-CN"' in page.text
    assert f'action="/s/{token}/change?p={marker}&amp;lang=zh-CN"' in page.text
    moved = client.post(
        f"/s/{token}/change?p={marker}", data={"payment": "500.00"}, follow_redirects=False
    )
    assert parse_qs(urlsplit(moved.headers["location"]).query) == {
        "p": [marker],
        "payment": ["500.00"],
        "lang": ["zh-CN"],
    }
    # a marker of nobody is the links' one 404
    reference = client.get(f"/s/{'A' * 32}")
    wrong = client.get(f"/s/{token}/change?p={'x' * 22}&lang=zh-CN")
    assert wrong.status_code == 404
    assert propose(client, token, payment="500.00").status_code == 200
    refused = client.post(f"/s/{token}/change?p={'x' * 22}", json={"payment": "500.00"})
    assert refused.status_code == 404 and token not in refused.text
    assert reference.status_code == 404


def test_the_access_log_hides_the_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s"', ("1.2.3.4", "GET", ""), None
    )
    record.args = ("1.2.3.4", "POST", "/s/hK9Dhdjm7RrPgA2XSc3JC2llVY4l5Tfy/change?lang=en")
    HideTokens().filter(record)
    assert record.getMessage() == '1.2.3.4 - "POST /s/…/change?lang=en"'


# ---- asking for a plan: recorded once, audited, rate-limited ----------------------------------


def test_asking_records_one_request_audited_without_personal_data(
    client: TestClient, auth: Headers
) -> None:
    offer, plan_id = paid_small_plan(client, auth["collector"])
    token = token_of(offer)
    first = ask(client, token, payment="500.00")
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert (receipt["status"], receipt["choice"]) == ("open", "as_proposed")
    assert [x["payment"] for x in receipt["offer"]["schedule"]["lines"]] == ["500.00"] * 4
    # a double submit (the same proposal and choice the same day) is the same request
    again = ask(client, token, payment="500.00", lump_sum="0")
    assert again.status_code == 201 and again.json()["id"] == receipt["id"]
    assert count(ChangeRequest) == 1
    events = client.get(
        "/v1/audit", params={"offer_id": offer["id"]}, headers=auth["finance"]
    ).json()["events"]
    [event] = [e for e in events if e["kind"] == "change_requested"]
    assert event["actor"] == "debtor" and event["plan_id"] == plan_id
    assert event["payload"]["request_id"] == receipt["id"]
    assert event["payload"]["instalments"] == 4 and event["payload"]["total"] == "2000.00"
    assert "John" not in str(event) and "Smith" not in str(event)
    assert client.get("/v1/audit/verify", headers=auth["finance"]).json()["ok"] is True
    # a choice the answer does not have is refused, naming it
    refused = ask(client, token, "longer_term", payment="500.00")
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {
        "field": "choice",
        "rule": "not_offered",
        "detail": "the answer to this proposal has no 'longer_term'",
    }


def test_a_browser_asks_and_sees_its_request(client: TestClient, auth: Headers) -> None:
    offer, _ = paid_small_plan(client, auth["collector"])
    token = token_of(offer)
    fields = {"payment": "500.00", "start": "", "lump_sum": "0.00", "choice": "as_proposed"}
    moved = client.post(f"/s/{token}/change/requests?lang=en", data=fields, follow_redirects=False)
    assert moved.status_code == 303
    [row_id] = [
        r["id"]
        for r in client.get("/v1/change-requests", headers=auth["finance"]).json()["requests"]
    ]
    assert moved.headers["location"] == f"/s/{token}/change/requests/{row_id}?lang=en"
    page = client.get(moved.headers["location"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "We have your request and will reply to you." in page.text
    assert page.text.count('data-column="payment" data-minor="50000"') == 4
    # the same form posted twice: one request
    twice = client.post(f"/s/{token}/change/requests", data=fields, follow_redirects=False)
    assert twice.headers["location"].startswith(f"/s/{token}/change/requests/{row_id}")
    # another link's request id is not found through this link
    other = saved(client, auth["collector"], debt_ref="CARD-2")
    assert client.get(f"/s/{token_of(other)}/change/requests/{row_id}").status_code == 404


def test_a_link_may_ask_five_times_a_day(client: TestClient, auth: Headers) -> None:
    offer, _ = paid_small_plan(client, auth["collector"])
    token = token_of(offer)
    for payment in ("500.00", "600.00", "700.00", "800.00", "900.00"):
        assert ask(client, token, payment=payment).status_code == 201
    assert propose(client, token, payment="400.00").json()["requests_left_today"] == 0
    sixth = ask(client, token, payment="400.00")
    assert sixth.status_code == 429
    assert sixth.headers["content-type"] == "application/problem+json"
    assert sixth.json()["type"].endswith("/too-many-requests")
    assert 0 < int(sixth.headers["Retry-After"]) <= 86_400
    assert token not in sixth.text
    # a repeat of one already made is still that request, not a sixth
    assert ask(client, token, payment="700.00").status_code == 201
    # a browser is told on the page, and offered no button to ask again
    page = client.post(
        f"/s/{token}/change/requests?lang=en",
        data={"payment": "400.00", "choice": "as_proposed"},
    )
    assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
    assert "as many requests as one link may send in a day" in page.text
    assert "Ask for this plan" not in page.text
    assert count(ChangeRequest) == 5
    # the window is 24 hours: a day later the link may ask again
    with get_sessionmaker()() as session:
        session.execute(
            update(ChangeRequest).values(created_at=utcnow() - timedelta(hours=24, seconds=1))
        )
        session.commit()
    assert ask(client, token, payment="400.00").status_code == 201


def test_nothing_owed_is_nothing_to_change(client: TestClient, auth: Headers) -> None:
    offer = saved(client, auth["collector"])
    plan_id = accepted_plan(client, offer)
    assert pay(client, auth["collector"], plan_id, "3000.00", "all").status_code == 201
    token = token_of(offer)
    page = client.get(f"/s/{token}/change?lang=en")
    assert page.status_code == 200 and "there is nothing to change" in page.text
    assert 'data-column="owed_total" data-minor="0"' in page.text and "<form" not in page.text
    answer = propose(client, token, payment="500.00")
    assert answer.status_code == 409 and answer.json()["type"].endswith("/nothing-owed")
    assert ask(client, token, payment="500.00").status_code == 409


def test_a_replaced_offer_takes_no_proposal(client: TestClient, auth: Headers) -> None:
    first = saved(client, auth["collector"])
    saved(client, auth["collector"], plan={**SMALL, "term": 2})  # supersedes it
    token = token_of(first)
    page = client.get(f"/s/{token}/change?lang=en&payment=500.00")
    assert page.status_code == 200 and "A newer offer has replaced this one" in page.text
    assert "<form" not in page.text and 'id="result"' not in page.text
    for answer in (propose(client, token, payment="500.00"), ask(client, token, payment="500.00")):
        assert answer.status_code == 409 and answer.json()["type"].endswith("/superseded")
    posted = client.post(f"/s/{token}/change", data={"payment": "500.00"})
    assert posted.status_code == 409 and "A newer offer has replaced this one" in posted.text
    assert count(ChangeRequest) == 0


# ---- the collectors' side --------------------------------------------------------------------


def other_collector(client: TestClient) -> dict[str, str]:
    """A collector of another team: the default team's debts are out of their reach."""
    with get_sessionmaker()() as session:
        key, _ = create_key(session, "collector", "another collector", team="elsewhere")
        session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_collectors_see_the_requests_on_their_teams_debts(
    client: TestClient, auth: Headers
) -> None:
    offer, plan_id = paid_small_plan(client, auth["collector"])
    request_id = ask(client, token_of(offer), payment="500.00").json()["id"]
    mine = client.get("/v1/change-requests", headers=auth["collector"])
    assert mine.status_code == 200
    [listed] = mine.json()["requests"]
    assert listed["id"] == request_id and listed["plan_id"] == plan_id
    assert (listed["debt_ref"], listed["status"], listed["decision"]) == ("CARD-1", "open", None)
    assert listed["owed"]["total"] == "2000.00" and listed["proposal"]["payment"] == "500.00"
    one = client.get(f"/v1/change-requests/{request_id}", headers=auth["collector"])
    assert one.json() == listed
    # filters
    assert client.get(
        "/v1/change-requests", params={"status": "declined"}, headers=auth["collector"]
    ).json() == {"requests": []}
    assert client.get(
        "/v1/change-requests", params={"debt_ref": "CARD-9"}, headers=auth["collector"]
    ).json() == {"requests": []}
    assert (
        len(
            client.get(
                "/v1/change-requests",
                params={"debt_ref": "CARD-1", "status": "open"},
                headers=auth["collector"],
            ).json()["requests"]
        )
        == 1
    )
    # another team's collector sees nothing of it; finance sees all
    other = other_collector(client)
    assert client.get("/v1/change-requests", headers=other).json() == {"requests": []}
    assert client.get(f"/v1/change-requests/{request_id}", headers=other).status_code == 404
    decided = client.post(
        f"/v1/change-requests/{request_id}/decision", json={"decision": "declined"}, headers=other
    )
    assert decided.status_code == 404
    assert (
        client.get(f"/v1/change-requests/{request_id}", headers=auth["finance"]).status_code == 200
    )
    assert client.get("/v1/change-requests").status_code == 401


def test_a_decision_names_a_new_offer_for_the_same_debt(client: TestClient, auth: Headers) -> None:
    offer, _ = paid_small_plan(client, auth["collector"])
    token = token_of(offer)
    request_id = ask(client, token, payment="500.00").json()["id"]
    url = f"/v1/change-requests/{request_id}/decision"
    elsewhere = saved(client, auth["collector"], debt_ref="CARD-2")
    theirs = saved(client, other_collector(client), debt_ref="CARD-OTHER")

    def refused(body: dict[str, Any]) -> tuple[str, str]:
        answer = client.post(url, json=body, headers=auth["collector"])
        assert answer.status_code == 422, answer.text
        error = answer.json()["errors"][0]
        return error["field"], error["rule"]

    assert refused({"decision": "offered"}) == ("offer_id", "required")
    assert refused({"decision": "offered", "offer_id": "f" * 32}) == ("offer_id", "exists")
    assert refused({"decision": "offered", "offer_id": theirs["id"]}) == ("offer_id", "exists")
    assert refused({"decision": "offered", "offer_id": elsewhere["id"]}) == (
        "offer_id",
        "same_debt",
    )
    assert refused({"decision": "offered", "offer_id": offer["id"]}) == ("offer_id", "new_offer")
    assert refused({"decision": "declined", "offer_id": elsewhere["id"]}) == (
        "offer_id",
        "not_with_declined",
    )
    assert refused({"decision": "maybe"}) == ("decision", "literal_error")
    # the new plan: 4 x 500.00 for the same debt, saved as an offer
    new = saved(
        client,
        auth["collector"],
        plan={**SMALL, "debt": debt(principal="2000.00", interest="0", fees="0"), "term": 4},
    )
    body = {"decision": "offered", "offer_id": new["id"], "reason": "as asked"}
    decided = client.post(url, json=body, headers=auth["collector"])
    assert decided.status_code == 200, decided.text
    decision = decided.json()["decision"]
    assert decided.json()["status"] == "offered"
    assert (decision["decision"], decision["offer_id"], decision["reason"]) == (
        "offered",
        new["id"],
        "as asked",
    )
    assert decision["decided_by"].startswith("collector:")
    # the same decision again is a no-op; another one is a conflict
    again = client.post(url, json=body, headers=auth["collector"])
    assert again.status_code == 200 and again.json() == decided.json()
    other = client.post(url, json={"decision": "declined"}, headers=auth["collector"])
    assert other.status_code == 409 and other.json()["type"].endswith("/already-decided")
    assert kinds(client, auth["finance"], offer_id=offer["id"]).count("change_decided") == 1
    events = client.get("/v1/audit", params={"offer_id": offer["id"]}, headers=auth["finance"])
    [event] = [e for e in events.json()["events"] if e["kind"] == "change_decided"]
    assert event["payload"] == {
        "request_id": request_id,
        "decision": "offered",
        "new_offer_id": new["id"],
    }
    # the debtor's page of the request says so
    page = client.get(f"/s/{token}/change/requests/{request_id}?lang=en")
    assert "We have made you a new offer for this request" in page.text
    listed = client.get(
        "/v1/change-requests", params={"status": "offered"}, headers=auth["collector"]
    )
    assert [r["id"] for r in listed.json()["requests"]] == [request_id]
