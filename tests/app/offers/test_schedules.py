"""The schedules of issue 17 over HTTP (``app/offers``): a fixed payment until repaid in the
explicit plan, in negotiate and in the counter-offer, and the refusals naming field and rule.

Debts are dated from today; the default policy freezes interest, so every figure is a sum.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from schemas.offer_answers import CounterResult, OfferOut, OfferSet

Headers = dict[str, dict[str, str]]
TODAY = date.today()
PROBLEM = "application/problem+json"


def debt(principal: str = "1000.00") -> dict[str, Any]:
    return {
        "currency": "CNY",
        "principal": principal,
        "nominal_annual_rate": "0.18",
        "as_of": TODAY.isoformat(),
        "days_past_due": 60,
    }


def payments(offer: dict[str, Any]) -> list[str]:
    return [line["payment"] for line in offer["schedule"]["lines"]]


def refusal(response: Any) -> tuple[int, str, str, str]:
    error = response.json()["errors"][0]
    return response.status_code, response.headers["content-type"], error["field"], error["rule"]


# ---- a fixed payment until repaid ----------------------------------------------------------


def test_the_explicit_plan_pays_exactly_the_payment_until_repaid(
    client: TestClient, auth: Headers
) -> None:
    body = {"debt": debt(), "payment": "300.00", "until": "repaid"}
    response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    offer = TypeAdapter(OfferOut).validate_python(response.json()).model_dump()
    assert payments(offer) == ["300.00", "300.00", "300.00", "100.00"]
    assert offer["terms"]["instalment"] == "300.00" and offer["terms"]["instalments"] == 4


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"payment": "300.00", "term": 4}, "term", "until_without_term"),
        ({"payment": "300.00", "amortisation": "equal_principal"}, "amortisation",
         "until_equal_instalment"),
        ({}, "until", "requires_payment"),
        ({"until": "forever", "payment": "300.00"}, "until", "enum"),
        # 10.00 a month is below the CNY minimum instalment of 100.00
        ({"payment": "10.00"}, "payment", "min_instalment"),
    ],
)  # fmt: skip
def test_a_fixed_payment_that_cannot_be_is_a_422(
    client: TestClient, auth: Headers, changes: dict[str, Any], field: str, rule: str
) -> None:
    body = {"debt": debt(), "until": "repaid", **changes}
    response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, field, rule)


def test_a_fixed_payment_beyond_the_max_term_is_a_422(client: TestClient, auth: Headers) -> None:
    # 200.00 a month repays 10,000.00 in 50 months; the default policy allows 36
    body = {"debt": debt("10000.00"), "payment": "200.00", "until": "repaid"}
    response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, "payment", "max_term")


def test_negotiate_offers_the_debtors_own_figure(client: TestClient, auth: Headers) -> None:
    capacity = {"payment": "300.00", "frequency": "monthly"}
    body = {"debt": debt(), "capacity": capacity, "until": "repaid"}
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    result = TypeAdapter(OfferSet).validate_python(response.json()).model_dump()
    [instalment] = [o for o in result["offers"] if o["kind"] == "instalment"]
    assert payments(instalment) == ["300.00", "300.00", "300.00", "100.00"]
    # without until, the capacity is only a bound: four payments of 250.00
    del body["until"]
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    [instalment] = [o for o in response.json()["offers"] if o["kind"] == "instalment"]
    assert payments(instalment) == ["250.00"] * 4


def test_negotiate_rejects_a_figure_beyond_the_max_term(client: TestClient, auth: Headers) -> None:
    capacity = {"payment": "200.00", "frequency": "monthly"}
    body = {"debt": debt("10000.00"), "capacity": capacity, "until": "repaid"}
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    rejected = {r["kind"]: (r["field"], r["rule"]) for r in response.json()["rejected"]}
    assert rejected["instalment"] == ("capacity.payment", "max_term")


def test_the_counter_offer_answers_with_the_plan_proposed(
    client: TestClient, auth: Headers
) -> None:
    # Issue 17: 300 a month on 1,000.00 was "accepted" as a plan of 4 x 250
    body = {"debt": debt(), "proposal": {"payment": "300.00"}}
    response = client.post("/v1/offers/counter", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    result = TypeAdapter(CounterResult).validate_python(response.json()).model_dump()
    assert result["accepted"] is True
    assert payments(result["offer"]) == ["300.00", "300.00", "300.00", "100.00"]


def test_the_counter_offer_rejects_a_payment_beyond_the_max_term(
    client: TestClient, auth: Headers
) -> None:
    body = {"debt": debt("10000.00"), "proposal": {"payment": "200.00"}}
    response = client.post("/v1/offers/counter", json=body, headers=auth["collector"])
    result = response.json()
    assert result["accepted"] is False
    assert [(r["field"], r["rule"]) for r in result["rejections"]] == [("payment", "max_term")]
    assert {a["change"] for a in result["alternatives"]} >= {"longer_term"}


# ---- semi-monthly pay days -------------------------------------------------------------------


def test_a_plan_on_the_fifteenth_and_the_last_day(client: TestClient, auth: Headers) -> None:
    body = {
        "debt": debt("1200.00"),
        "term": 4,
        "frequency": "semi_monthly",
        "days": [15, "last"],
    }
    response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    dates = [date.fromisoformat(x["due_date"]) for x in response.json()["schedule"]["lines"]]
    month_ends = {31 if d.month in {1, 3, 5, 7, 8, 10, 12} else 30 for d in dates} | {28, 29}
    assert [d.day in month_ends for d in dates] == [d.day != 15 for d in dates]
    assert sorted({d.day == 15 for d in dates}) == [False, True]


def test_negotiate_pays_on_the_capacitys_days(client: TestClient, auth: Headers) -> None:
    capacity = {"payment": "300.00", "frequency": "semi_monthly", "days": [1, 15]}
    body = {"debt": debt("1200.00"), "capacity": capacity}
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    for offer in response.json()["offers"]:
        for line in offer["schedule"]["lines"]:
            if line["kind"] != "down_payment":
                assert date.fromisoformat(line["due_date"]).day in {1, 15}, offer["kind"]


@pytest.mark.parametrize(
    ("where", "days", "frequency", "field", "rule"),
    [
        ("plan", [15, 1], "semi_monthly", "days", "semi_monthly_days"),
        ("plan", [15, 15], "semi_monthly", "days", "semi_monthly_days"),
        ("plan", [28, "last"], "semi_monthly", "days", "semi_monthly_days"),
        ("plan", [1, 15], "monthly", "days", "semi_monthly_only"),
        ("capacity", [15, 1], "semi_monthly", "capacity.days", "semi_monthly_days"),
        ("capacity", [1, 15], "weekly", "capacity.days", "semi_monthly_only"),
    ],
)
def test_pay_days_that_cannot_be_are_a_422(
    client: TestClient,
    auth: Headers,
    where: str,
    days: list[object],
    frequency: str,
    field: str,
    rule: str,
) -> None:
    if where == "plan":
        body: dict[str, Any] = {"debt": debt(), "term": 4, "frequency": frequency, "days": days}
        path = "/v1/plans/instalment"
    else:
        capacity = {"payment": "300.00", "frequency": frequency, "days": days}
        body = {"debt": debt(), "capacity": capacity}
        path = "/v1/offers/negotiate"
    response = client.post(path, json=body, headers=auth["collector"])
    assert refusal(response) == (422, PROBLEM, field, rule)


@pytest.mark.parametrize("days", [[0, 15], [15, 29], [1, "first"], [1], [1, 15, 20]])
def test_pay_days_out_of_range_are_a_422_naming_the_field(
    client: TestClient, auth: Headers, days: list[object]
) -> None:
    body = {"debt": debt(), "term": 4, "frequency": "semi_monthly", "days": days}
    response = client.post("/v1/plans/instalment", json=body, headers=auth["collector"])
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert all(e["field"].startswith("days") for e in response.json()["errors"])
