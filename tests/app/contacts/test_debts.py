"""app/contacts/routes/debts.py: a debt's recorded terms and jurisdiction, its parties, offers.

Runs on SQLite and PostgreSQL. The terms are the README's worked debt (CNY 10,000.00 principal,
350.00 interest, 150.00 fees at 18 %).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.core.db import get_engine
from tests.app.contacts.test_parties import DEBTOR, NEW_YORKER, add, assert_chain_ok, audit_events
from tests.app.links.test_sharing import accepted_plan, saved

Headers = dict[str, dict[str, str]]
REF = "CARD-2024-0012345"
URL = f"/v1/debts/{REF}"
TERMS = {
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "as_of": "2026-11-25",
    "days_past_due": 95,
}


def put(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.put(URL, json={"jurisdiction": "US", "terms": TERMS, **body}, headers=headers)


def test_a_debt_is_recorded_then_replaced_and_both_are_audited(
    client: TestClient, auth: Headers
) -> None:
    made = put(client, auth["collector"])
    assert made.status_code == 201, made.text
    document = made.json()
    assert (document["ref"], document["jurisdiction"]) == (REF, "US")
    assert document["terms"] == {**TERMS, "jurisdiction": None}  # the top level's rules
    assert (document["parties"], document["offers"]) == ([], [])
    again = put(client, auth["collector"], jurisdiction="GB", terms={**TERMS, "fees": "0"})
    assert again.status_code == 200, again.text
    assert again.json()["jurisdiction"] == "GB"
    assert again.json()["terms"]["fees"] == "0"
    assert client.get(URL, headers=auth["collector"]).json() == again.json()
    recorded = [e for e in audit_events(client, auth) if e["kind"] == "debt_recorded"]
    assert [e["payload"]["jurisdiction"] for e in recorded] == ["US", "GB"]
    assert recorded[1]["payload"]["replaced"] == {
        "jurisdiction": "US",
        "terms": {**TERMS, "jurisdiction": None},
    }
    assert_chain_ok(client, auth)


def test_parties_default_to_the_recorded_jurisdiction(client: TestClient, auth: Headers) -> None:
    assert put(client, auth["collector"]).status_code == 201
    debtor = add(client, auth, DEBTOR)  # no jurisdiction given: the debt's, not CN
    assert debtor["jurisdiction"] == "US"
    listed = client.get(URL, headers=auth["collector"]).json()
    assert [p["id"] for p in listed["parties"]] == [debtor["id"]]
    assert listed["parties"][0]["masked_name"] == "张*明"


def test_a_debt_known_only_by_its_parties_and_offers(client: TestClient, auth: Headers) -> None:
    assert client.get(URL, headers=auth["collector"]).status_code == 404
    add(client, auth, NEW_YORKER)
    offer = saved(client, auth["collector"], debt_ref=REF)
    plan_id = accepted_plan(client, offer)
    shown = client.get(URL, headers=auth["collector"]).json()
    assert (shown["terms"], shown["jurisdiction"], shown["created_at"]) == (None, "US", None)
    [listed] = shown["offers"]
    assert (listed["id"], listed["status"], listed["plan_id"]) == (offer["id"], "accepted", plan_id)


def test_collectors_see_and_replace_only_their_teams(client: TestClient, auth: Headers) -> None:
    assert put(client, auth["collector"]).status_code == 201
    other_key = client.post(
        "/v1/keys",
        json={"role": "collector", "name": "other", "team": "elsewhere"},
        headers=auth["admin"],
    )
    assert other_key.status_code == 201, other_key.text
    other = {"Authorization": f"Bearer {other_key.json()['key']}"}
    assert client.get(URL, headers=other).status_code == 404
    # not 403: that would tell the caller the debt exists
    assert put(client, other).status_code == 404
    assert client.get(URL, headers=auth["finance"]).json()["jurisdiction"] == "US"
    assert put(client, auth["finance"], jurisdiction="CN").status_code == 200


def test_bad_terms_are_refused_naming_the_field(client: TestClient, auth: Headers) -> None:
    too_precise = put(client, auth["collector"], terms={**TERMS, "principal": "10000.001"})
    assert too_precise.status_code == 422
    assert too_precise.headers["content-type"] == "application/problem+json"
    assert "debt.principal" in too_precise.text
    unknown = put(client, auth["collector"], jurisdiction="FR")
    assert unknown.status_code == 422 and "jurisdiction" in unknown.text
    # a reference of the wrong shape names no route's path (app.core.routing)
    bad_ref = client.get("/v1/debts/%20bad", headers=auth["collector"])
    assert bad_ref.status_code == 404
    with get_engine().connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM debts").scalar_one() == 0
