"""Every endpoint, every role, every class of error, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from schemas.offer_answers import CounterResult, OfferOut, OfferSet

# Dated from today: an offer's first payment may not be before today (the rule's own tests are
# tests/app/offers/test_guardrails.py); under the interest freeze amounts do not depend on it.
TODAY = date.today()
START = TODAY + timedelta(days=20)
SETTLE_BY = (TODAY + timedelta(days=10)).isoformat()
DEBT = {
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "as_of": TODAY.isoformat(),
    "days_past_due": 95,
}
CAPACITY = {
    "payment": "1250.00",
    "lump_sum": "2000.00",
    "earliest_start": START.isoformat(),
    "frequency": "monthly",
}
APR_BODY = {
    # Reg Z App J (c)(1)(i): $5,000 advanced, 24 monthly payments of $230: APR 9.69 %
    "currency": "USD",
    "advances": [{"date": "2026-01-10", "amount": "5000.00"}],
    "payments": [
        {"date": f"{2026 + (m + 1) // 12}-{(m + 1) % 12 + 1:02d}-10", "amount": "230.00"}
        for m in range(24)
    ],
}

# (method, path, body, least role)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("post", "/v1/offers/negotiate", {"debt": DEBT, "capacity": CAPACITY}, "collector"),
    ("post", "/v1/offers/counter", {"debt": DEBT, "proposal": {"payment": "900.00"}}, "collector"),
    ("post", "/v1/plans/instalment", {"debt": DEBT, "term": 8}, "collector"),
    ("post", "/v1/plans/deferral", {"debt": DEBT, "periods": 2, "term": 10}, "collector"),
    ("post", "/v1/plans/settlement", {"debt": DEBT, "kind": "settlement_plan"}, "collector"),
    (
        "post",
        "/v1/plans/compare",
        {"debt": DEBT, "offers": [{"kind": "instalment", "term": 8}]},
        "collector",
    ),
    ("post", "/v1/rates/apr", APR_BODY, "collector"),
    ("get", "/v1/policies", None, "finance"),
    ("post", "/v1/policies", {"name": "cards-2027", "body": {"max_term_months": 24}}, "finance"),
    ("get", "/v1/policies/1", None, "finance"),
    ("post", "/v1/policies/1/versions", {"body": {"max_term_months": 12}}, "finance"),
    ("get", "/v1/policies/1/versions/1", None, "finance"),
    ("get", "/v1/keys", None, "admin"),
    ("post", "/v1/keys", {"role": "collector", "name": "agent 9"}, "admin"),
]
RANK = {"collector": 0, "finance": 1, "admin": 2}


def call(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if method == "get":
        return client.get(path, headers=headers)
    return client.post(path, json=body, headers=headers)


def ensure_default_policy(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    # the default policy (id 1) is created on first use
    assert client.get("/v1/policies", headers=auth["finance"]).status_code == 200
    client.post("/v1/plans/instalment", json={"debt": DEBT, "term": 8}, headers=auth["collector"])


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_every_role_against_every_endpoint(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    method: str,
    path: str,
    body: Any,
    least: str,
) -> None:
    ensure_default_policy(client, auth)
    anonymous = call(client, method, path, body, {})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    bogus = call(client, method, path, body, {"Authorization": "Bearer rk_00000000_nope"})
    assert bogus.status_code == 401
    before = len(client.get("/v1/policies", headers=auth["finance"]).json()["policies"])
    for role, headers in auth.items():
        if path == "/v1/policies" and method == "post":
            body = {**body, "name": f"{body['name']}-{role}"}  # names are unique
        response = call(client, method, path, body, headers)
        if RANK[role] >= RANK[least]:
            assert response.status_code in (200, 201), (role, response.json())
            assert response.headers["content-type"] == "application/json"
        else:
            assert response.status_code == 403, role
            problem = response.json()
            assert problem["status"] == 403 and least in problem["detail"]
            assert response.headers["content-type"] == "application/problem+json"
    if path == "/v1/policies" and method == "post":
        # only the permitted roles created one
        after = len(client.get("/v1/policies", headers=auth["finance"]).json()["policies"])
        assert after == before + 2


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_negotiate_returns_ranked_offers_with_everything(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    body = {"debt": DEBT, "capacity": CAPACITY, "locale": "zh-CN"}
    result = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"]).json()
    TypeAdapter(OfferSet).validate_python(result)
    kinds = {o["kind"] for o in result["offers"]} | {r["kind"] for r in result["rejected"]}
    assert kinds == {"instalment", "deferral", "settlement", "settlement_plan"}
    recoveries = [int(o["metrics"]["expected_recovery"].replace(".", "")) for o in result["offers"]]
    assert recoveries == sorted(recoveries, reverse=True)
    for offer in result["offers"]:
        assert offer["policy"] == {"id": 1, "name": "default", "version": 1}
        lines = offer["schedule"]["lines"]
        assert lines[-1]["closing_balance"] == "0.00"
        total = sum(int(x["payment"].replace(".", "")) for x in lines)
        assert f"{total // 100}.{total % 100:02d}" == offer["schedule"]["totals"]["payment"]
        assert "¥" in offer["summary"] and offer["summary"].endswith("。")
    # 10,500.00 owed, 2,000.00 now, then at most 1,250.00 a month: 7 instalments (8,500 / 7)
    instalment = next(o for o in result["offers"] if o["kind"] == "instalment")
    assert instalment["terms"]["down_payment"] == "2000.00"
    assert instalment["terms"]["instalments"] == 7
    assert instalment["terms"]["instalment"] == "1214.29"
    lump = next(r for r in result["rejected"] if r["kind"] == "settlement")
    assert (lump["field"], lump["rule"]) == ("capacity.lump_sum", "lump_sum")


def test_english_summary_reads_like_the_brief(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    debt = {**DEBT, "interest": "0", "fees": "0"}
    capacity = {**CAPACITY, "lump_sum": "0"}
    result = client.post(
        "/v1/offers/negotiate", json={"debt": debt, "capacity": capacity}, headers=auth["collector"]
    ).json()
    instalment = next(o for o in result["offers"] if o["kind"] == "instalment")
    assert instalment["summary"] == (
        f"Pay CN¥1,250.00 a month for 8 months from {START.day} {START:%b %Y}; no interest;"
        " total CN¥10,000.00."
    )


def test_more_decimals_than_the_currency_is_a_422_naming_the_field(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    body = {"debt": {**DEBT, "principal": "10000.005"}, "capacity": CAPACITY}
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [
        {
            "field": "debt.principal",
            "rule": "max_decimals",
            "detail": "CNY allows at most 2 decimal places",
        }
    ]
    jpy = {
        "debt": {**DEBT, "currency": "JPY", "principal": "10000.5"},
        "capacity": {"payment": "100"},
    }
    response = client.post("/v1/offers/negotiate", json=jpy, headers=auth["collector"])
    assert response.json()["errors"][0]["field"] == "debt.principal"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"debt": {**DEBT, "principal": 10000}}, "debt.principal", "string_type"),
        ({"debt": {**DEBT, "principal": "-5.00"}}, "debt.principal", "string_pattern_mismatch"),
        ({"debt": {**DEBT, "currency": "XYZ"}}, "debt.currency", "iso4217"),
        ({"debt": {**DEBT, "days_past_due": -1}}, "debt.days_past_due", "greater_than_equal"),
        ({"debt": DEBT, "surprise": 1}, "surprise", "extra_forbidden"),
        ({"debt": DEBT, "term": 99}, "term", "max_term"),
        ({"debt": DEBT, "term": 8, "nominal_annual_rate": "0.30"}, "annual_rate", "rate_cap"),
        ({"debt": DEBT, "capacity": {**CAPACITY, "earliest_start": "2020-01-01"}, "term": 8},
         "capacity.earliest_start", "not_before_as_of"),
        ({"debt": DEBT, "capacity": {"payment": "10.00"}}, "capacity.payment", "min_instalment"),
    ],
)  # fmt: skip
def test_bad_input_is_a_problem_naming_field_and_rule(
    client: TestClient, auth: dict[str, dict[str, str]], body: dict[str, Any], field: str, rule: str
) -> None:
    response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
    assert response.status_code == 422, response.json()
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in errors
    ]


def test_malformed_json_is_a_problem(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    response = client.post(
        "/v1/offers/negotiate",
        content=b"{not json",
        headers={**auth["collector"], "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.put("/v1/offers/negotiate")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


def test_explicit_plans_and_compare(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    headers = auth["collector"]
    offer = client.post(
        "/v1/plans/instalment", json={"debt": DEBT, "term": 8}, headers=headers
    ).json()
    TypeAdapter(OfferOut).validate_python(offer)
    # 10,500.00 over 8 months at the default policy's 0 %: 1,312.50 a month
    assert offer["terms"]["instalment"] == "1312.50" and offer["metrics"]["apr"] == "0.000000"
    deferral = client.post(
        "/v1/plans/deferral",
        json={"debt": DEBT, "periods": 2, "term": 10, "deferral_payment": "100.00"},
        headers=headers,
    ).json()
    assert [x["kind"] for x in deferral["schedule"]["lines"][:3]] == [
        "deferral",
        "deferral",
        "instalment",
    ]
    settled = client.post(
        "/v1/plans/settlement", json={"debt": DEBT, "settle_by": SETTLE_BY}, headers=headers
    ).json()
    # 95 days past due: the default policy's 10 % band; 10 % of 10,500.00 waived, fees first
    assert settled["waiver"] == {
        "fees": "150.00",
        "interest": "350.00",
        "principal": "550.00",
        "total": "1050.00",
    }
    assert settled["metrics"]["total_paid"] == "9450.00"
    compared = client.post(
        "/v1/plans/compare",
        json={
            "debt": DEBT,
            "offers": [
                {"kind": "instalment", "term": 8},
                {"kind": "instalment", "term": 99},
                {"kind": "settlement", "discount_bps": 5000},
            ],
        },
        headers=headers,
    ).json()
    TypeAdapter(OfferSet).validate_python(compared)
    assert [o["kind"] for o in compared["offers"]] == ["instalment"]
    assert [(r["field"], r["rule"]) for r in compared["rejected"]] == [
        ("term", "max_term"),
        ("discount_bps", "max_discount"),
    ]


def test_counter_offer(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    headers = auth["collector"]
    accepted = client.post(
        "/v1/offers/counter",
        json={"debt": DEBT, "proposal": {"payment": "1500.00"}},
        headers=headers,
    ).json()
    TypeAdapter(CounterResult).validate_python(accepted)
    assert accepted["accepted"] is True and accepted["offer"]["terms"]["instalments"] == 7
    refused = client.post(
        "/v1/offers/counter",
        json={"debt": DEBT, "proposal": {"payment": "600.00", "term": 12}},
        headers=headers,
    ).json()
    assert refused["accepted"] is False and refused["offer"] is None
    changes = {a["change"]: a["offer"]["terms"] for a in refused["alternatives"]}
    # same 12 months: 10,500.00 / 12 = 875.00; same 600.00: 18 months (17 x 600 = 10,200)
    assert changes["higher_payment"]["instalment"] == "875.00"
    assert changes["longer_term"]["instalments"] == 18


def test_apr_of_a_published_example(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    result = client.post("/v1/rates/apr", json=APR_BODY, headers=auth["collector"]).json()
    assert result["apr_percent"] == "9.69"
    assert result["unit_period"] == "monthly"


def test_policies_are_versioned_and_offers_name_their_version(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    finance = auth["finance"]
    created = client.post(
        "/v1/policies", json={"name": "cards", "body": {"max_term_months": 12}}, headers=finance
    )
    assert created.status_code == 201
    policy = created.json()
    assert policy["version"] == 1 and policy["body"]["max_term_months"] == 12
    assert policy["body"]["rate_cap"] == "0.24"  # defaults are stored spelled out
    duplicate = client.post("/v1/policies", json={"name": "cards"}, headers=finance)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    second = client.post(
        f"/v1/policies/{policy['id']}/versions",
        json={"body": {"max_term_months": 6}},
        headers=finance,
    ).json()
    assert second["version"] == 2
    first = client.get(f"/v1/policies/{policy['id']}/versions/1", headers=finance).json()
    assert first["body"]["max_term_months"] == 12  # immutable
    assert client.get(f"/v1/policies/{policy['id']}", headers=finance).json()["version"] == 2
    assert client.get(f"/v1/policies/{policy['id']}/versions/9", headers=finance).status_code == 404
    assert client.get("/v1/policies/999", headers=finance).status_code == 404
    # an offer made under version 1 names it, and obeys its 12-month limit (a version that is
    # not the latest is finance's to ask for: tests/app/offers/test_guardrails.py)
    pinned = {"debt": DEBT, "term": 12, "policy": {"id": policy["id"], "version": 1}}
    offer = client.post("/v1/plans/instalment", json=pinned, headers=finance).json()
    assert offer["policy"] == {"id": policy["id"], "name": "cards", "version": 1}
    latest = {"debt": DEBT, "term": 12, "policy": {"id": policy["id"]}}
    refused = client.post("/v1/plans/instalment", json=latest, headers=auth["collector"])
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "max_term"


def test_a_policy_the_engine_refuses_is_not_stored(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    body = {"name": "bad", "body": {"deferral_periods": 5, "deferral_max_periods": 2}}
    response = client.post("/v1/policies", json=body, headers=auth["finance"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "policy.deferral_periods"
    names = [
        p["name"] for p in client.get("/v1/policies", headers=auth["finance"]).json()["policies"]
    ]
    assert "bad" not in names


def test_admins_manage_keys(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    admin = auth["admin"]
    made = client.post(
        "/v1/keys", json={"role": "finance", "name": "analyst"}, headers=admin
    ).json()
    new = {"Authorization": f"Bearer {made['key']}"}
    assert client.get("/v1/policies", headers=new).status_code == 200
    listed = client.get("/v1/keys", headers=admin).json()["keys"]
    assert made["prefix"] in [k["prefix"] for k in listed]
    assert all("key" not in k for k in listed)
    assert client.post(f"/v1/keys/{made['prefix']}/revoke", headers=admin).status_code == 200
    assert client.get("/v1/policies", headers=new).status_code == 401
    assert client.post("/v1/keys/00000000/revoke", headers=admin).status_code == 404
