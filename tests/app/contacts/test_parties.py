"""app/contacts/routes/parties.py: a debt's parties, the contact check and recorded attempts.

Runs on SQLite and PostgreSQL. Expected rule ids, windows and limits are those of the shipped
rules (plans/contact_rules.json): CN-HOURS is GB/T 45251-2025's 22:00-08:00 quiet period;
US-7IN7 is 12 CFR 1006.14(b)(2)(i)'s seven calls in seven days.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.core.db import get_sessionmaker

Headers = dict[str, dict[str, str]]
REF = "CARD-2024-0012345"
PARTIES = f"/v1/debts/{REF}/parties"
PHONE, EMAIL, NAME = "+8613800138000", "zhang.xiaoming@example.cn", "张小明"
DEBTOR = {
    "role": "debtor",
    "name": NAME,
    "channels": {"phone": PHONE, "email": EMAIL, "sms": PHONE},
    "locale": "zh-CN",
    "time_zone": "Asia/Shanghai",
}
NEW_YORKER = {
    "role": "debtor",
    "name": "John Smith",
    "channels": {"phone": "+12125550123"},
    "locale": "en",
    "time_zone": "America/New_York",
    "jurisdiction": "US",
}


def add(client: TestClient, auth: Headers, body: dict[str, Any], ref: str = REF) -> Any:
    made = client.post(f"/v1/debts/{ref}/parties", json=body, headers=auth["collector"])
    assert made.status_code == 201, made.text
    return made.json()


def attempt(client: TestClient, auth: Headers, party: dict[str, Any], at: str, **more: Any) -> Any:
    body = {
        "debt_ref": party["debt_ref"],
        "party_id": party["id"],
        "channel": "phone",
        "at": at,
        "outcome": "no_answer",
        **more,
    }
    return client.post("/v1/contact-attempts", json=body, headers=auth["collector"])


def no_clear_details(document: Any) -> None:
    dumped = json.dumps(document, ensure_ascii=False)
    for secret in (PHONE, "13800138000", EMAIL, "zhang.xiaoming", NAME):
        assert secret not in dumped


def stored_attempts() -> int:
    with get_sessionmaker()() as session:
        return int(session.execute(text("SELECT count(*) FROM contact_attempts")).scalar_one())


def audit_events(client: TestClient, auth: Headers) -> list[dict[str, Any]]:
    listed = client.get("/v1/audit", headers=auth["finance"])
    assert listed.status_code == 200
    events: list[dict[str, Any]] = listed.json()["events"]
    return events


def assert_chain_ok(client: TestClient, auth: Headers) -> None:
    verified = client.get("/v1/audit/verify", headers=auth["finance"]).json()
    assert verified["ok"] is True, verified


# ---- parties -----------------------------------------------------------------------------


def test_parties_crud_shows_only_masked_details(client: TestClient, auth: Headers) -> None:
    made = add(client, auth, DEBTOR)
    assert made["masked_name"] == "张*明"
    assert made["masked_channels"] == {
        "phone": "+86 *********00",
        "email": "z***@example.cn",
        "sms": "+86 *********00",
    }
    assert made["jurisdiction"] == "CN"  # the first party of a debt: CN by default
    url = f"{PARTIES}/{made['id']}"
    one = client.get(url, headers=auth["collector"])
    listed = client.get(PARTIES, headers=auth["collector"])
    changed = client.patch(
        url,
        json={"name": "李四", "channels": {"phone": "+447911123456"}, "locale": "en"},
        headers=auth["collector"],
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["masked_name"] == "李*"
    assert changed.json()["masked_channels"] == {
        "phone": "+44 ********56",
        "email": None,
        "sms": None,
    }
    for response in (one, listed, changed):
        assert response.status_code == 200
        no_clear_details(response.json())
        assert "+447911123456" not in response.text
    assert [p["id"] for p in listed.json()["parties"]] == [made["id"]]
    # a second party defaults to the jurisdiction of the debt's first
    us_name = {**NEW_YORKER, "jurisdiction": None}
    assert add(client, auth, {k: v for k, v in us_name.items() if v})["jurisdiction"] == "CN"

    assert client.delete(url, headers=auth["collector"]).status_code == 204
    assert client.get(url, headers=auth["collector"]).status_code == 404
    assert len(client.get(PARTIES, headers=auth["collector"]).json()["parties"]) == 1
    for event in audit_events(client, auth):
        no_clear_details(event)
        assert "+447911123456" not in json.dumps(event)
    assert_chain_ok(client, auth)


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"channels": {"phone": "13800138000"}}, "channels.phone", "string_pattern_mismatch"),
        ({"channels": {"phone": "+0123456789"}}, "channels.phone", "string_pattern_mismatch"),
        ({"channels": {"email": "zhang@@example.cn"}}, "channels.email", "string_pattern_mismatch"),
        ({"channels": {"email": "zhang@localhost"}}, "channels.email", "string_pattern_mismatch"),
        ({"channels": {}}, "channels", "one_channel"),
        ({"time_zone": "Asia/Beijing"}, "time_zone", "iana_zone"),
        ({"locale": "fr"}, "locale", "enum"),
        ({"jurisdiction": "FR"}, "jurisdiction", "literal_error"),
        ({"role": "friend"}, "role", "enum"),
        ({"guaranteed": {"amount": "1.00", "currency": "CNY"}}, "guaranteed", "guarantor_only"),
        (
            {"role": "guarantor", "guaranteed": {"amount": "1.001", "currency": "CNY"}},
            "guaranteed.amount",
            "max_decimals",
        ),
    ],
)
def test_invalid_parties_name_the_field_and_the_rule(
    client: TestClient, auth: Headers, change: dict[str, Any], field: str, rule: str
) -> None:
    refused = client.post(PARTIES, json={**DEBTOR, **change}, headers=auth["collector"])
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in refused.json()["errors"]
    ]


def test_a_guarantor_keeps_the_guaranteed_amount(client: TestClient, auth: Headers) -> None:
    guarantor = {
        **DEBTOR,
        "role": "guarantor",
        "guaranteed": {"amount": "5000.00", "currency": "CNY"},
    }
    assert add(client, auth, guarantor)["guaranteed"] == {"amount": "5000.00", "currency": "CNY"}


def test_the_fourth_party_is_refused_by_the_policy(client: TestClient, auth: Headers) -> None:
    for _ in range(3):
        add(client, auth, DEBTOR)
    fourth = client.post(PARTIES, json=DEBTOR, headers=auth["collector"])
    assert fourth.status_code == 422
    assert fourth.json()["errors"][0]["field"] == "max_parties"
    assert fourth.json()["errors"][0]["rule"] == "max_parties"
    # another debt is not affected
    add(client, auth, DEBTOR, ref="CARD-OTHER")


def test_contact_details_are_encrypted_at_rest(client: TestClient, auth: Headers) -> None:
    made = add(client, auth, DEBTOR)
    with get_sessionmaker()() as session:
        row = session.execute(text("SELECT * FROM parties")).mappings().one()
    raw = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
    assert row["id"] == made["id"]
    for secret in (PHONE, "13800138000", EMAIL, "zhang", "example.cn", NAME, "张"):
        assert secret not in raw
    assert row["name_sealed"].startswith("v1.") and row["channels_sealed"].startswith("v1.")


def test_reveal_returns_clear_details_and_is_audited(client: TestClient, auth: Headers) -> None:
    made = add(client, auth, DEBTOR)
    revealed = client.post(f"{PARTIES}/{made['id']}/reveal", headers=auth["collector"])
    assert revealed.status_code == 200
    assert revealed.json() == {
        "id": made["id"],
        "debt_ref": REF,
        "name": NAME,
        "channels": {"phone": PHONE, "email": EMAIL, "sms": PHONE},
    }
    events = [e for e in audit_events(client, auth) if e["kind"] == "contact_details_revealed"]
    assert len(events) == 1
    assert events[0]["payload"]["party_id"] == made["id"]
    assert events[0]["actor"].startswith("collector:")
    no_clear_details(events[0])
    assert_chain_ok(client, auth)


def test_collectors_see_the_parties_of_their_teams_debts_only(
    client: TestClient, auth: Headers
) -> None:
    made = client.post(PARTIES, json=DEBTOR, headers=auth["finance"]).json()
    url = f"{PARTIES}/{made['id']}"
    # finance opened the debt: it is the default team's, and so its collector's to work
    assert client.get(url, headers=auth["collector"]).status_code == 200
    created = client.post(
        "/v1/keys",
        json={"role": "collector", "name": "elsewhere", "team": "elsewhere"},
        headers=auth["admin"],
    )
    assert created.status_code == 201, created.text
    other = {"Authorization": f"Bearer {created.json()['key']}"}
    assert client.get(url, headers=other).status_code == 404
    assert client.post(f"{url}/reveal", headers=other).status_code == 404
    assert client.get(PARTIES, headers=other).status_code == 404
    assert client.get(url, headers=auth["admin"]).status_code == 200
    assert (
        client.get(f"/v1/debts/OTHER/parties/{made['id']}", headers=auth["admin"]).status_code
        == 404
    )


# ---- opt-out and stop --------------------------------------------------------------------


def test_opt_out_and_stop_are_honoured_and_not_lifted_by_a_collector(
    client: TestClient, auth: Headers
) -> None:
    made = add(client, auth, DEBTOR)
    url = f"{PARTIES}/{made['id']}"
    body = {"debt_ref": REF, "party_id": made["id"], "at": "2026-11-26T10:00:00+08:00"}

    def check(channel: str) -> Any:
        return client.post(
            "/v1/contact-checks", json={**body, "channel": channel}, headers=auth["collector"]
        ).json()

    opted = client.patch(url, json={"opted_out": ["sms"]}, headers=auth["collector"]).json()
    assert opted["opted_out"] == ["sms"] and set(opted["opted_out_at"]) == {"sms"}
    assert check("sms")["allowed"] is False
    assert check("sms")["rule"]["id"] == "CN-OPT-OUT"
    assert check("sms")["next_permitted"] is None
    assert check("phone")["allowed"] is True

    lifted = client.patch(url, json={"opted_out": []}, headers=auth["collector"])
    assert lifted.status_code == 409
    assert lifted.json()["errors"][0]["rule"] == "opt_out_reversible_only_by_party"

    stopped = client.patch(url, json={"stopped": True}, headers=auth["collector"]).json()
    assert stopped["stopped"] is True and stopped["stopped_at"] is not None
    refused = check("phone")
    assert refused["allowed"] is False and refused["rule"]["id"] == "CN-STOP"
    resumed = client.patch(url, json={"stopped": False}, headers=auth["collector"])
    assert resumed.status_code == 409
    assert resumed.json()["errors"][0] == {
        "field": "stopped",
        "rule": "stop_reversible_only_by_party",
        "detail": "The party asked not to be contacted.",
    }
    assert client.get(url, headers=auth["collector"]).json()["stopped"] is True
    assert attempt(client, auth, made, "2026-11-26T10:00:00+08:00").status_code == 409
    assert stored_attempts() == 0


# ---- the contact check and attempts ------------------------------------------------------


def test_a_call_at_23_00_beijing_time_is_refused_until_08_00(
    client: TestClient, auth: Headers
) -> None:
    made = add(client, auth, DEBTOR)
    checked = client.post(
        "/v1/contact-checks",
        json={
            "debt_ref": REF,
            "party_id": made["id"],
            "channel": "phone",
            "at": "2026-11-25T23:00:00+08:00",
            "purpose": "collection",
        },
        headers=auth["collector"],
    )
    assert checked.status_code == 200
    assert checked.json() == {
        "allowed": False,
        "policy_version": "default@1",
        "requires": [],
        "rule": {
            "id": "CN-HOURS",
            "text": "No contact between 22:00 and 08:00 in the party's local time.",
            "source": (
                "GB/T 45251-2025 互联网金融 个人网络消费信贷 贷后催收风控指引"
                " (催收作业不应在每日22:00至次日8:00进行); 中国银行业协会"
                "《金融机构个人消费类贷款催收工作指引（试行）》(2026-01-30)"
            ),
            "policy_version": "default@1",
        },
        "next_permitted": "2026-11-26T08:00:00+08:00",
    }


def test_the_eighth_call_in_seven_days_is_refused_in_the_us(
    client: TestClient, auth: Headers
) -> None:
    made = add(client, auth, NEW_YORKER, ref="US-LOAN-1")
    for day in range(1, 8):  # 1-7 December 2026, 10:00 in New York
        recorded = attempt(client, auth, made, f"2026-12-0{day}T10:00:00-05:00")
        assert recorded.status_code == 201, recorded.text
    checked = client.post(
        "/v1/contact-checks",
        json={
            "debt_ref": "US-LOAN-1",
            "party_id": made["id"],
            "channel": "phone",
            "at": "2026-12-07T15:00:00-05:00",
        },
        headers=auth["collector"],
    ).json()
    assert checked["allowed"] is False
    assert checked["rule"]["id"] == "US-7IN7"
    # the first call (1 Dec 10:00) leaves the 7-day window 168 hours later
    assert checked["next_permitted"] == "2026-12-08T10:00:00-05:00"
    eighth = attempt(client, auth, made, "2026-12-07T15:00:00-05:00")
    assert eighth.status_code == 409
    assert eighth.json()["rule"]["id"] == "US-7IN7"
    assert stored_attempts() == 7


def test_an_attempt_that_breaks_a_rule_is_a_409_and_nothing_is_stored(
    client: TestClient, auth: Headers
) -> None:
    made = add(client, auth, DEBTOR)
    before = len(audit_events(client, auth))
    refused = attempt(client, auth, made, "2026-11-25T23:00:00+08:00")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["errors"][0]["field"] == "at"
    assert problem["errors"][0]["rule"] == "CN-HOURS"
    assert problem["rule"]["id"] == "CN-HOURS"
    assert problem["rule"]["policy_version"] == "default@1"
    assert problem["next_permitted"] == "2026-11-26T08:00:00+08:00"
    assert stored_attempts() == 0
    assert len(audit_events(client, auth)) == before


def test_every_accepted_attempt_is_an_audit_event(client: TestClient, auth: Headers) -> None:
    made = add(client, auth, DEBTOR)
    times = ["2026-11-26T09:00:00+08:00", "2026-11-26T11:00:00+08:00"]
    for at in times:
        recorded = attempt(client, auth, made, at)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["policy_version"] == "default@1"
    sms = attempt(client, auth, made, "2026-11-26T12:00:00+08:00", channel="sms")
    assert sms.status_code == 201
    events = [e for e in audit_events(client, auth) if e["kind"] == "contact_attempt"]
    assert len(events) == stored_attempts() == 3
    assert [e["payload"]["to"] for e in events] == ["+86 *********00"] * 3
    assert events[0]["payload"]["at"] == "2026-11-26T01:00:00+00:00"
    for event in events:
        no_clear_details(event)
    # a second text the same local day breaks CN-SMS-DAY: the whole debt's history counts
    again = attempt(client, auth, made, "2026-11-26T18:00:00+08:00", channel="sms")
    assert again.status_code == 409
    assert again.json()["rule"]["id"] == "CN-SMS-DAY"
    assert again.json()["next_permitted"] == "2026-11-27T08:00:00+08:00"
    assert_chain_ok(client, auth)


def test_a_check_names_what_a_message_must_meet(client: TestClient, auth: Headers) -> None:
    third = add(client, auth, {**DEBTOR, "role": "third_party"})
    body = {"debt_ref": REF, "party_id": third["id"], "channel": "phone"}
    body["at"] = "2026-11-26T10:00:00+08:00"
    collection = client.post("/v1/contact-checks", json=body, headers=auth["collector"]).json()
    assert collection["allowed"] is False
    assert collection["rule"]["id"] == "CN-OBLIGORS-ONLY"
    call_back = client.post(
        "/v1/contact-checks", json={**body, "purpose": "call_back"}, headers=auth["collector"]
    ).json()
    assert call_back["allowed"] is True
    assert [r["id"] for r in call_back["requires"]] == ["CN-NO-DISCLOSURE"]
    assert call_back["rule"] is None and call_back["next_permitted"] is None


def test_contact_checks_refuse_naive_times_and_unknown_parties(
    client: TestClient, auth: Headers
) -> None:
    made = add(client, auth, DEBTOR)
    body = {"debt_ref": REF, "party_id": made["id"], "channel": "phone"}
    naive = client.post(
        "/v1/contact-checks", json={**body, "at": "2026-11-26T10:00:00"}, headers=auth["collector"]
    )
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "at"
    other = client.post(
        "/v1/contact-checks", json={**body, "debt_ref": "OTHER"}, headers=auth["collector"]
    )
    assert other.status_code == 404
    now = client.post("/v1/contact-checks", json=body, headers=auth["collector"])
    assert now.status_code == 200


# ---- the contact rules are a section of the versioned policy --------------------------------


def _default_policy(client: TestClient, auth: Headers) -> dict[str, Any]:
    listed = client.get("/v1/policies", headers=auth["finance"]).json()["policies"]
    [default] = [p for p in listed if p["name"] == "default"]
    return dict(default)


def _with_cn(body: dict[str, Any], change: Any) -> dict[str, Any]:
    contact = body["contact"]
    jurisdictions = [change(dict(j)) if j["code"] == "CN" else j for j in contact["jurisdictions"]]
    return {**body, "contact": {**contact, "jurisdictions": jurisdictions}}


def test_finance_changes_the_contact_rules_in_a_new_policy_version(
    client: TestClient, auth: Headers
) -> None:
    party = add(client, auth, DEBTOR)  # the default policy, version 1, now exists
    default = _default_policy(client, auth)
    assert default["body"]["contact"]["edition"] == "contact-2026-11-25"

    def stricter(cn: dict[str, Any]) -> dict[str, Any]:
        hours = [{**h, "start": "09:00"} for h in cn["hours"]]
        days = {**cn["no_contact_days"], "extra_dates": ["2026-12-02"]}
        return {**cn, "hours": hours, "no_contact_days": days}

    changed = client.post(
        f"/v1/policies/{default['id']}/versions",
        json={"body": _with_cn(default["body"], stricter)},
        headers=auth["finance"],
    )
    assert changed.status_code == 201, changed.text
    check = {"debt_ref": REF, "party_id": party["id"], "channel": "phone"}

    def verdict(at: str) -> Any:
        answer = client.post(
            "/v1/contact-checks", json={**check, "at": at}, headers=auth["collector"]
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    # 08:30 on a Thursday was open under version 1 (08:00-22:00); version 2 opens at 09:00
    early = verdict("2026-12-03T08:30:00+08:00")
    assert (early["allowed"], early["rule"]["id"]) == (False, "CN-HOURS")
    assert early["rule"]["policy_version"] == "default@2"
    assert early["next_permitted"] == "2026-12-03T09:00:00+08:00"
    # a date the policy adds: closed all day, open again the next morning at 09:00
    added = verdict("2026-12-02T10:00:00+08:00")
    assert (added["allowed"], added["rule"]["id"]) == (False, "CN-NO-CONTACT-DAYS")
    assert added["next_permitted"] == "2026-12-03T09:00:00+08:00"
    assert verdict("2026-12-03T09:00:00+08:00")["allowed"] is True


def test_a_policy_with_broken_contact_rules_is_refused_naming_the_field(
    client: TestClient, auth: Headers
) -> None:
    add(client, auth, DEBTOR)
    default = _default_policy(client, auth)
    url = f"/v1/policies/{default['id']}/versions"

    def backwards(cn: dict[str, Any]) -> dict[str, Any]:
        return {**cn, "hours": [{**h, "start": "22:00", "end": "08:00"} for h in cn["hours"]]}

    refused = client.post(
        url, json={"body": _with_cn(default["body"], backwards)}, headers=auth["finance"]
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    [error] = refused.json()["errors"]
    assert (error["field"], error["rule"]) == ("body.contact.CN-HOURS.hours", "order")

    body = default["body"]
    cn, us, _ = body["contact"]["jurisdictions"]
    no_gb = {**body["contact"], "jurisdictions": [cn, us, us]}
    missing = client.post(url, json={"body": {**body, "contact": no_gb}}, headers=auth["finance"])
    assert missing.status_code == 422
    assert "policy.contact.jurisdictions" in missing.text and "every_jurisdiction" in missing.text
    assert (
        client.get(f"/v1/policies/{default['id']}", headers=auth["finance"]).json()["version"] == 1
    )
