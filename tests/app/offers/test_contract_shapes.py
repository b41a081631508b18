"""Flat contracts and grace periods over POST /v1/plans/instalment (``app/offers``): the shape
of the answer, and each refusal a 422 problem document naming the field and the rule.

The expected rates are the engine's published cases (tests/plans/test_flat.py): 12 期 at a
手续费 of 0.6 % a month is a 年化利率 of 13.03 % (PBOC 2021 No. 3, IRR method).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.offer_answers import InstalmentOffer

Headers = dict[str, dict[str, str]]
AS_OF = date.today() + timedelta(days=2)


def debt(**changes: str) -> dict[str, Any]:
    return {
        "currency": "CNY",
        "principal": "12000.00",
        "interest": "0",
        "fees": "0",
        "nominal_annual_rate": "0.12",
        "as_of": AS_OF.isoformat(),
        "days_past_due": 0,
        **changes,
    }


def post(client: TestClient, auth: Headers, **body: Any) -> Any:
    return client.post(
        "/v1/plans/instalment", json={"debt": debt(), **body}, headers=auth["collector"]
    )


def test_a_flat_contract_shows_its_charge_and_the_true_rates_beside_it(
    client: TestClient, auth: Headers
) -> None:
    response = post(client, auth, term=12, interest_method="flat", flat_rate_per_period="0.006")
    assert response.status_code == 200, response.text
    offer = response.json()
    InstalmentOffer.model_validate(offer)
    flat = offer["terms"]["flat"]
    assert flat["rate_per_period"] == "0.006"
    assert flat["charge_per_period"] == "72.00"
    assert flat["flat_annual_rate"] == "0.072000"
    disclosed = {r["method"]: r["rate_percent"] for r in flat["true_annual_rates"]}
    assert disclosed == {"us_reg_z": "13.03", "eu_ccd": "13.8", "cn_irr": "13.03"}
    assert {line["payment"] for line in offer["schedule"]["lines"]} == {"1072.00"}
    assert {line["interest_accrued"] for line in offer["schedule"]["lines"]} == {"72.00"}
    assert "a flat charge of CN¥72.00 a month (7.20% a year flat, APR 13.03%)" in offer["summary"]


def test_a_grace_plan_shows_its_interest_only_lines(client: TestClient, auth: Headers) -> None:
    response = post(
        client,
        auth,
        term=10,
        nominal_annual_rate="0.12",
        grace={"periods": 2, "interest": "interest_only"},
    )
    assert response.status_code == 200, response.text
    offer = response.json()
    InstalmentOffer.model_validate(offer)
    assert offer["terms"]["grace_interest"] == "interest_only"
    assert offer["terms"]["deferral_periods"] == 2
    lines = offer["schedule"]["lines"]
    assert [x["kind"] for x in lines[:3]] == ["deferral", "deferral", "instalment"]
    assert [x["principal"] for x in lines[:2]] == ["0.00", "0.00"]
    assert offer["terms"]["flat"] is None
    assert offer["summary"].startswith("Pay only the interest for 2 months; then pay")


def test_an_ordinary_plan_has_neither(client: TestClient, auth: Headers) -> None:
    offer = post(client, auth, term=8).json()
    assert offer["terms"]["flat"] is None and offer["terms"]["grace_interest"] is None


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"term": 12, "interest_method": "flat"}, "flat_rate_per_period", "flat_charge_required"),
        (
            {
                "term": 12,
                "interest_method": "flat",
                "flat_rate_per_period": "0.006",
                "flat_charge_per_period": "72.00",
            },
            "flat_charge_per_period",
            "one_flat_charge",
        ),
        ({"term": 12, "flat_rate_per_period": "0.006"}, "flat_rate_per_period", "flat_only"),
        (
            {"payment": "1100.00", "interest_method": "flat", "flat_rate_per_period": "0.006"},
            "payment",
            "term_only",
        ),
        (
            {"interest_method": "flat", "flat_charge_per_period": "72.00"},
            "term",
            "required",
        ),
        (
            {
                "term": 12,
                "interest_method": "flat",
                "flat_rate_per_period": "0.006",
                "nominal_annual_rate": "0.1",
            },
            "nominal_annual_rate",
            "flat_no_nominal_rate",
        ),
        (
            {
                "term": 12,
                "interest_method": "flat",
                "flat_rate_per_period": "0.006",
                "amortisation": "equal_principal",
            },
            "amortisation",
            "flat_equal_instalment",
        ),
        (
            {
                "term": 12,
                "interest_method": "flat",
                "flat_rate_per_period": "0.006",
                "grace": {"periods": 1, "interest": "interest_free"},
            },
            "grace",
            "grace_not_flat",
        ),
        (
            {"term": 10, "grace": {"periods": 4, "interest": "interest_free"}},
            "grace.periods",
            "max_grace",
        ),
        (
            {"payment": "1300.00", "grace": {"periods": 2, "interest": "interest_free"}},
            "payment",
            "term_only",
        ),
        (
            {"grace": {"periods": 2, "interest": "interest_free"}},
            "term",
            "required",
        ),
        (
            {"term": 12, "interest_method": "flat", "flat_rate_per_period": "0.02"},
            "annual_rate",
            "rate_cap",
        ),
    ],
)
def test_refusals_name_the_field_and_the_rule(
    client: TestClient, auth: Headers, body: dict[str, Any], field: str, rule: str
) -> None:
    response = post(client, auth, **body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == (field, rule)


@pytest.mark.parametrize(
    "shape",
    [
        {"interest_method": "flat", "flat_rate_per_period": "0.006"},
        {"grace": {"periods": 2, "interest": "interest_only"}, "nominal_annual_rate": "0.12"},
        {"grace": {"periods": 1, "interest": "interest_free"}},
    ],
)
def test_a_shaped_plan_is_saved_shown_accepted_and_quoted(
    client: TestClient, auth: Headers, shape: dict[str, Any]
) -> None:
    plan = {"kind": "instalment", "debt": debt(), "term": 6, **shape}
    body = {"debt_ref": "FLAT-1", "debtor": {"name": "张小明"}, "locale": "zh-CN", "plan": plan}
    made = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert made.status_code == 201, made.text
    saved = made.json()
    assert (
        saved["offer"]["terms"]["flat"]
        == post(client, auth, term=6, **shape).json()["terms"]["flat"]
    )
    token = str(saved["link"]).rsplit("/", 1)[1]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200, page.text
    accepted = client.post(f"/s/{token}/accept")
    assert accepted.status_code == 201, accepted.text
    plan_id = accepted.json()["plan_id"]
    state = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"])
    assert state.status_code == 200, state.text
    quote = client.get(
        f"/v1/plans/{plan_id}/payoff", params={"on": AS_OF.isoformat()}, headers=auth["collector"]
    )
    assert quote.status_code == 200, quote.text


def test_a_flat_contract_is_compared_beside_the_actuarial_plan_of_its_term(
    client: TestClient, auth: Headers
) -> None:
    # The comparison a debtor needs: 12 × 1,072.00 on a 0.6 % monthly flat charge (年化利率
    # 13.03 %) beside the actuarial 12 months at 12 % (the policy's rate: 12.00 %) and a plan
    # starting with 2 months of interest only.
    policy = client.post(
        "/v1/policies",
        json={"name": "contractual-rate", "body": {"plan_rate": None}},
        headers=auth["finance"],
    )
    assert policy.status_code == 201, policy.text
    body = {
        "debt": debt(),
        "policy": {"id": policy.json()["id"]},
        "offers": [
            {"kind": "instalment", "term": 12},
            {"kind": "instalment", "term": 12, "interest_method": "flat",
             "flat_rate_per_period": "0.006"},
            {"kind": "instalment", "term": 10, "grace": {"periods": 2,
                                                         "interest": "interest_only"}},
        ],
    }  # fmt: skip
    response = client.post("/v1/plans/compare", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    offers = response.json()["offers"]
    by_shape = {
        ("flat" if o["terms"]["flat"] else o["terms"]["grace_interest"] or "actuarial"): o
        for o in offers
    }
    assert set(by_shape) == {"actuarial", "flat", "interest_only"}
    flat = by_shape["flat"]
    assert {line["payment"] for line in flat["schedule"]["lines"]} == {"1072.00"}
    assert flat["metrics"]["annual_rate"]["rate_percent"] == "13.03"
    assert by_shape["actuarial"]["metrics"]["annual_rate"]["rate_percent"] == "12.00"
    assert [x["kind"] for x in by_shape["interest_only"]["schedule"]["lines"][:3]] == [
        "deferral",
        "deferral",
        "instalment",
    ]


@pytest.mark.parametrize(
    ("item", "field", "rule"),
    [
        ({"kind": "settlement", "interest_method": "flat", "flat_rate_per_period": "0.006"},
         "kind", "instalment_only"),
        ({"kind": "deferral", "grace": {"periods": 2, "interest": "interest_free"}},
         "kind", "instalment_only"),
        ({"kind": "instalment", "interest_method": "flat", "flat_rate_per_period": "0.006"},
         "term", "required"),
        ({"kind": "instalment", "term": 6, "flat_charge_per_period": "50.00"},
         "flat_charge_per_period", "flat_only"),
        ({"kind": "instalment", "term": 6, "payment": "500.00",
          "grace": {"periods": 1, "interest": "interest_free"}}, "payment", "term_only"),
    ],
)  # fmt: skip
def test_a_compared_shape_that_is_not_an_instalment_plan_is_refused(
    client: TestClient, auth: Headers, item: dict[str, Any], field: str, rule: str
) -> None:
    body = {"debt": debt(), "offers": [item]}
    response = client.post("/v1/plans/compare", json=body, headers=auth["collector"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = [(e["field"], e["rule"]) for e in response.json()["errors"]]
    assert any(f.endswith(field) and r == rule for f, r in fields), fields
