"""A change through a consolidated offer's link (``app/changes/group_changes.py``): one proposal
for all the group's debts, judged as one plan, asked for on the lead's offer and decided by a
collector as any change request; on SQLite and on PostgreSQL.

By hand, under the default policy (interest frozen during a plan, minimum instalment 100.00
CNY, at most 36 months): the two debts of ``tests/app/links/test_consolidated_plans.py`` owe
4,000.00 and 6,000.00 CNY (10,000.00 in all) on the day the offer is saved. The debtor proposes
400.00 a month. Pro rata by balance each debt's share is 400.00 x 4,000 / 10,000 = 160.00 and
400.00 x 6,000 / 10,000 = 240.00; 4,000.00 / 160.00 = 25 and 6,000.00 / 240.00 = 25, exactly,
so both are repaid by the 25th payment, every line 400.00, and the total paid 10,000.00. 25
months is within the policy's 36 and each share above its 100.00: the proposal fits as it
stands.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.db import get_sessionmaker
from app.core.i18n import Words
from app.links.models import SavedOffer
from app.links.sharing import unseal_token
from schemas.common import Locale
from schemas.offers import STATEMENT_EXAMPLE
from tests.app.links.test_consolidated_plans import debts, save

Headers = dict[str, dict[str, str]]
FORM = {"content-type": "application/x-www-form-urlencoded"}


def own_token(offer_id: str) -> str:
    """The own link of one debt's offer of the group (its single-debt page)."""
    with get_sessionmaker()() as db:
        row = db.scalar(select(SavedOffer).where(SavedOffer.id == offer_id))
        assert row is not None
        return unseal_token(row.token_sealed)


def check_hand_plan(plan: dict[str, Any]) -> None:
    lines = plan["schedule"]["lines"]
    assert [x["payment"] for x in lines] == ["400.00"] * 25
    shares = [[(a["debt_ref"], a["payment"]) for a in x["allocations"]] for x in lines]
    assert shares == [[("CARD-4000", "160.00"), ("LOAN-6000", "240.00")]] * 25
    assert [(d["debt_ref"], d["owed"], d["paid"]) for d in plan["debts"]] == [
        ("CARD-4000", "4000.00", "4000.00"),
        ("LOAN-6000", "6000.00", "6000.00"),
    ]
    assert lines[-1]["closing_balance"] == "0.00"
    assert plan["metrics"]["total_paid"] == "10000.00"
    assert plan["allocation_rule"] == "pro_rata"


def test_hand_checked_consolidated_change_through_the_group_link(
    client: TestClient, auth: Headers
) -> None:
    saved = save(client, auth)
    token = saved["token"]
    answer = client.post(f"/s/{token}/change", json={"payment": "400.00"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["owed"] == {
        "currency": "CNY",
        "as_of": date.today().isoformat(),
        "principal": "10000.00",
        "interest": "0.00",
        "fees": "0.00",
        "total": "10000.00",
    }
    result = body["result"]
    assert (result["accepted"], result["rejections"], result["alternatives"]) == (True, [], [])
    assert result["allocation_rule"] == "pro_rata"
    check_hand_plan(result["offer"])
    assert result["offer"]["policy"] == {"id": 1, "name": "default", "version": 1}
    assert body["requests_left_today"] == 5

    asked = client.post(
        f"/s/{token}/change/requests", json={"payment": "400.00", "choice": "as_proposed"}
    )
    assert asked.status_code == 201, asked.text
    receipt = asked.json()
    assert (receipt["status"], receipt["choice"]) == ("open", "as_proposed")
    check_hand_plan(receipt["offer"])
    again = client.post(
        f"/s/{token}/change/requests", json={"payment": "400.00", "choice": "as_proposed"}
    )
    assert again.status_code == 201 and again.json()["id"] == receipt["id"]

    # the collector's view: on the lead's offer and debt, the consolidated plan asked for
    seen = client.get(f"/v1/change-requests/{receipt['id']}", headers=auth["collector"])
    assert seen.status_code == 200, seen.text
    row = seen.json()
    assert (row["offer_id"], row["debt_ref"], row["plan_id"]) == (saved["id"], "CARD-4000", None)
    assert row["owed"]["total"] == "10000.00"
    assert row["proposal"]["payment"] == "400.00"
    check_hand_plan(row["offer"])
    listed = client.get(
        "/v1/change-requests", params={"debt_ref": "CARD-4000"}, headers=auth["collector"]
    ).json()
    assert [r["id"] for r in listed["requests"]] == [receipt["id"]]

    # answered with a new consolidated offer: its lead is an offer of the lead debt
    url = f"/v1/change-requests/{receipt['id']}/decision"
    other = saved["consolidated"]["debts"][1]["offer_id"]
    refused = client.post(
        url, json={"decision": "offered", "offer_id": other}, headers=auth["collector"]
    )
    assert refused.status_code == 422
    assert [e["rule"] for e in refused.json()["errors"]] == ["same_debt"]
    newer = save(
        client,
        auth,
        negotiate={"debts": saved_debts(), "capacity": {"payment": "400.00"}},
    )
    decided = client.post(
        url, json={"decision": "offered", "offer_id": newer["id"]}, headers=auth["collector"]
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["offer_id"] == newer["id"]
    assert decided.json()["status"] == "offered"


def saved_debts() -> list[dict[str, Any]]:
    return debts(date.today())


def test_the_group_change_pages_in_both_languages(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    token = saved["token"]
    page = client.get(f"/s/{token}?lang=en")
    assert page.status_code == 200
    assert f'href="/s/{token}/change?lang=en"' in page.text
    english = client.get(f"/s/{token}/change", params={"payment": "400.00", "lang": "en"})
    assert english.status_code == 200, english.text
    assert "Your proposal fits our rules." in english.text
    assert english.text.count('<tr data-number="') == 25
    assert english.text.count('data-debt-ref="CARD-4000" data-minor="16000"') == 25
    assert english.text.count('data-debt-ref="LOAN-6000" data-minor="24000"') == 25
    assert 'data-column="owed_total" data-minor="1000000"' in english.text
    assert 'data-debt-ref="CARD-4000" data-minor="400000"' in english.text
    assert 'data-debt-ref="LOAN-6000" data-minor="600000"' in english.text
    assert "2 debts in one plan: 25 payments of at most CN¥400.00" in english.text
    chinese = client.get(f"/s/{token}/change", params={"payment": "400.00", "lang": "zh-CN"})
    assert chinese.status_code == 200
    assert Words(Locale.ZH_CN).gettext("Your proposal fits our rules.") in chinese.text
    assert chinese.text.count('data-debt-ref="LOAN-6000" data-minor="24000"') == 25
    # a browser's form: the answer's page, then the request's page
    posted = client.post(
        f"/s/{token}/change?lang=en", data={"payment": "400.00"}, follow_redirects=False
    )
    assert posted.status_code == 303
    asked = client.post(
        f"/s/{token}/change/requests?lang=en",
        data={"payment": "400.00", "start": "", "lump_sum": "0.00", "choice": "as_proposed"},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    sent = client.get(asked.headers["location"])
    assert sent.status_code == 200
    assert "We have your request and will reply to you." in sent.text
    assert sent.text.count('data-debt-ref="CARD-4000"') == 25
    request_id = asked.headers["location"].split("/change/requests/")[1].split("?")[0]
    # never through one debt's own link (its page shows that debt alone)
    lead_own = own_token(saved["id"])
    assert client.get(f"/s/{lead_own}/change/requests/{request_id}").status_code == 404


def test_a_proposal_that_does_not_fit_gets_the_consolidated_alternatives(
    client: TestClient, auth: Headers
) -> None:
    # 10,000.00 at 200.00 a month: 50 months, beyond the policy's 36 (plans.consolidated_counter)
    token = save(client, auth)["token"]
    result = client.post(f"/s/{token}/change", json={"payment": "200.00"}).json()["result"]
    assert result["accepted"] is False
    assert [(r["field"], r["rule"]) for r in result["rejections"]] == [("payment", "max_term")]
    [longer] = result["alternatives"]
    assert longer["change"] == "longer_term"
    lines = longer["offer"]["schedule"]["lines"]
    assert len(lines) == 36
    assert all(
        sum(int(a["payment"].replace(".", "")) for a in x["allocations"])
        == int(x["payment"].replace(".", ""))
        for x in lines
    )
    page = client.get(f"/s/{token}/change", params={"payment": "200.00", "lang": "en"})
    assert 'data-choice="longer_term"' in page.text


def test_the_statement_is_shown_back_on_the_group_change_page(
    client: TestClient, auth: Headers
) -> None:
    saved = save(
        client,
        auth,
        negotiate={
            "debts": saved_debts(),
            "capacity": {"payment": "500.00", "statement": STATEMENT_EXAMPLE},
        },
    )
    page = client.get(f"/s/{saved['token']}/change?lang=en")
    assert page.status_code == 200
    assert '<p class="statement" data-minor="' in page.text


def test_an_accepted_group_is_judged_on_what_its_plans_still_ask(
    client: TestClient, auth: Headers
) -> None:
    saved = save(client, auth)
    token = saved["token"]
    assert client.post(f"/s/{token}/accept").status_code == 201
    body = client.post(f"/s/{token}/change", json={"payment": "400.00"}).json()
    assert body["owed"]["total"] == "10000.00"
    check_hand_plan(body["result"]["offer"])
    asked = client.post(
        f"/s/{token}/change/requests", json={"payment": "400.00", "choice": "as_proposed"}
    ).json()
    row = client.get(f"/v1/change-requests/{asked['id']}", headers=auth["collector"]).json()
    plan = client.get(f"/v1/offers/{saved['id']}", headers=auth["collector"]).json()
    assert row["plan_id"] == plan["consolidated"]["debts"][0]["plan_id"]


def test_one_debts_own_link_still_changes_that_debt_alone(
    client: TestClient, auth: Headers
) -> None:
    saved = save(client, auth)
    own = own_token(saved["consolidated"]["debts"][1]["offer_id"])
    body = client.post(f"/s/{own}/change", json={"payment": "300.00"}).json()
    assert body["owed"]["total"] == "6000.00"
    assert "allocation_rule" not in body["result"]
    assert [x["payment"] for x in body["result"]["offer"]["schedule"]["lines"]] == ["300.00"] * 20


def test_a_superseded_group_takes_no_proposal(client: TestClient, auth: Headers) -> None:
    saved = save(client, auth)
    save(client, auth)  # a newer consolidated offer for the same debts
    answer = client.post(f"/s/{saved['token']}/change", json={"payment": "400.00"})
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("superseded")
    page = client.get(f"/s/{saved['token']}/change?lang=en")
    assert page.status_code == 200 and "A newer offer has replaced this one." in page.text
