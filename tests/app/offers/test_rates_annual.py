"""POST /v1/rates/annual: the annual rate by jurisdiction; /v1/rates/apr in longer unit periods.

The published figures are Regulation Z Appendix J (c)'s, as tests/plans/test_rates.py
transcribes them; the engine's own tests pin the methods (tests/plans/test_rates_annual.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_app
from schemas.rates import (
    ANNUAL_RATE_REQUEST_EXAMPLE,
    ANNUAL_RATE_RESULT_EXAMPLE,
    AnnualRateRequest,
    AnnualRateResult,
)


def _flows(start: date, offsets: list[int], amount: str) -> list[dict[str, str]]:
    return [{"date": (start + timedelta(days=d)).isoformat(), "amount": amount} for d in offsets]


# (c)(2)(ii) Payments every 4 weeks: $400; $39.50 33 days later, then 11 × $38.31 every 28
# days: 28.50 %. [AppJ] [PY] [FS]; dates ours (they give the published t = 1, f = 5/28).
C2II_START = date(1978, 4, 3)
C2II: dict[str, Any] = {
    "currency": "USD",
    "advances": [{"date": C2II_START.isoformat(), "amount": "400.00"}],
    "payments": _flows(C2II_START, [33], "39.50")
    + _flows(C2II_START, [33 + 28 * k for k in range(1, 12)], "38.31"),
}


def test_the_documented_example_is_what_the_service_answers(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # The response example of the OpenAPI document is the answer to its request example (as
    # `make examples` checks for the operations it lists in tests/examples_writer.py).
    response = client.post(
        "/v1/rates/annual", json=ANNUAL_RATE_REQUEST_EXAMPLE, headers=auth["collector"]
    )
    assert response.status_code == 200, response.text
    assert response.json() == ANNUAL_RATE_RESULT_EXAMPLE
    AnnualRateResult.model_validate(response.json())
    AnnualRateRequest.model_validate(ANNUAL_RATE_REQUEST_EXAMPLE)


def test_three_methods_on_a_published_four_weekly_example(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    answers = {
        method: client.post(
            "/v1/rates/annual", json={**C2II, "method": method}, headers=auth["collector"]
        ).json()
        for method in ("us_reg_z", "eu_ccd", "cn_irr")
    }
    us, eu, cn = answers["us_reg_z"], answers["eu_ccd"], answers["cn_irr"]
    assert us["rate_percent"] == "28.50" and us["decimals"] == 2  # (c)(2)(ii)
    assert us["unit_period"]["name"] == "4_weeks" and us["unit_period"]["per_year"] == "13.000000"
    assert us["regular"] is True and us["tolerance_percentage_points"] == "0.125"
    assert us["irregular_features"] == []
    assert eu["decimals"] == 1 and eu["unit_period"] is None and eu["regular"] is None
    assert eu["time_basis"] == "days/365"  # 33 days is neither whole weeks nor whole months
    assert cn["unit_period"]["name"] == "4_weeks" and cn["time_basis"] == "unit_periods"
    for answer in answers.values():
        AnnualRateResult.model_validate(answer)
        assert answer["citation"]


def test_apr_measures_four_weekly_schedules_in_four_weeks(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # It used to answer "monthly" and 28.64 %, 0.14 points from the published 28.50 %.
    result = client.post("/v1/rates/apr", json=C2II, headers=auth["collector"]).json()
    assert result["apr_percent"] == "28.50"
    assert result["unit_period"] == "4_weeks"
    assert result["unit_periods_per_year"] == "13.000000"


def test_no_unit_period_is_a_422_naming_the_rule(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    start = date(2026, 1, 1)
    body = {
        "currency": "USD",
        "advances": [{"date": start.isoformat(), "amount": "1000.00"}],
        "payments": _flows(start, [10 * k for k in range(1, 13)], "90.00"),
        "method": "us_reg_z",
    }
    for path in ("/v1/rates/annual", "/v1/rates/apr"):
        response = client.post(
            path,
            json=body
            if path.endswith("annual")
            else {k: v for k, v in body.items() if k != "method"},
            headers=auth["collector"],
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        (error,) = response.json()["errors"]
        assert (error["field"], error["rule"]) == ("payments", "unit_period")
        assert "(b)(4)" in error["detail"]


def test_method_is_required(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    response = client.post("/v1/rates/annual", json=C2II, headers=auth["collector"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "method"


def test_the_route_is_documented() -> None:
    document = create_app().openapi()
    operation = document["paths"]["/v1/rates/annual"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "403", "422"}
