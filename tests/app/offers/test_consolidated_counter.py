"""A counter-proposal for several debts over HTTP (``POST /v1/offers/counter`` with ``debts``):
one consolidated plan, each line allocated to the debts, checked by hand to the cent.

The debts: 4,000.00 and 6,000.00 CNY dated today; the default policy freezes interest
(``plan_rate`` 0) and allows 36 months, so every figure is a division, worked out beside it.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from schemas.offer_answers import ConsolidatedCounterResult, CounterAnswer, CounterResult
from tests.app.offers.test_consolidated import PROBLEM, Headers, check_sums, debt, policy, shares

TWO = [debt("a", "4000.00", nominal_annual_rate="0.1"), debt("b", "6000.00")]


def counter(client: TestClient, auth: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/offers/counter", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    TypeAdapter(CounterAnswer).validate_python(result)
    return result


def test_500_a_month_pro_rata_is_accepted_as_200_and_300(client: TestClient, auth: Headers) -> None:
    # 500.00 x 4,000 / 10,000 = 200.00 and 500.00 x 6,000 / 10,000 = 300.00: 4,000.00 / 200.00
    # = 6,000.00 / 300.00 = 20 payments of 500.00
    result = counter(client, auth, {"debts": TWO, "proposal": {"payment": "500.00"}})
    assert isinstance(TypeAdapter(CounterAnswer).validate_python(result), ConsolidatedCounterResult)
    assert (result["accepted"], result["allocation_rule"]) == (True, "pro_rata")
    assert result["rejections"] == [] and result["alternatives"] == []
    offer = result["offer"]
    assert [line["payment"] for line in offer["schedule"]["lines"]] == ["500.00"] * 20
    assert shares(offer) == [[("a", "200.00"), ("b", "300.00")]] * 20
    assert [(d["debt_ref"], d["paid"]) for d in offer["debts"]] == [
        ("a", "4000.00"),
        ("b", "6000.00"),
    ]
    assert offer["summary"].startswith("2 debts in one plan: 20 payments of at most CN¥500.00")
    check_sums(offer)


def test_a_payment_is_never_re_levelled(client: TestClient, auth: Headers) -> None:
    # 450.00 pro rata is 180.00 and 270.00: 22 x 180.00 = 3,960.00 and 22 x 270.00 = 5,940.00
    # leave 40.00 and 60.00, paid in a 23rd payment of 100.00
    result = counter(client, auth, {"debts": TWO, "proposal": {"payment": "450.00"}})
    offer = result["offer"]
    assert [line["payment"] for line in offer["schedule"]["lines"]] == ["450.00"] * 22 + ["100.00"]
    assert shares(offer)[-1] == [("a", "40.00"), ("b", "60.00")]
    check_sums(offer)


def test_a_payment_beyond_the_max_term_gets_the_longest_term(
    client: TestClient, auth: Headers
) -> None:
    # 200.00 pro rata is 80.00 and 120.00: 50 months, more than 36. Over 36: 4,000.00 / 36 =
    # 111.11 (the last 4,000.00 - 35 x 111.11 = 111.15), 6,000.00 / 36 = 166.67 (the last
    # 6,000.00 - 35 x 166.67 = 166.55): 277.78 a month, the last 277.70
    result = counter(client, auth, {"debts": TWO, "proposal": {"payment": "200.00"}})
    assert (result["accepted"], result["offer"]) == (False, None)
    assert [(r["field"], r["rule"]) for r in result["rejections"]] == [("payment", "max_term")]
    (longer,) = result["alternatives"]
    assert longer["change"] == "longer_term"
    lines = longer["offer"]["schedule"]["lines"]
    assert [line["payment"] for line in lines] == ["277.78"] * 35 + ["277.70"]
    check_sums(longer["offer"])


def test_a_payment_and_a_term_that_disagree(client: TestClient, auth: Headers) -> None:
    # 500.00 repays in 20 months, not 10; 10 payments need 400.00 + 600.00 = 1,000.00
    body = {"debts": TWO, "proposal": {"payment": "500.00", "term": 10}}
    result = counter(client, auth, body)
    assert [(r["field"], r["rule"]) for r in result["rejections"]] == [("payment", "capacity")]
    higher, longer = result["alternatives"]
    assert (higher["change"], longer["change"]) == ("higher_payment", "longer_term")
    assert shares(higher["offer"]) == [[("a", "400.00"), ("b", "600.00")]] * 10
    assert len(longer["offer"]["schedule"]["lines"]) == 20


def test_highest_rate_first_pays_the_whole_payment_to_each_debt_in_turn(
    client: TestClient, auth: Headers
) -> None:
    # b (18 %, the helper's rate) before a (10 %): 6,000.00 / 450.00 = 13 payments and
    # 150.00 left, then a: 4,000.00 / 450.00 = 8 payments and 400.00 left
    ref = policy(client, auth, "counter-avalanche", allocation_rule="highest_rate_first")
    body = {"debts": TWO, "proposal": {"payment": "450.00"}, "policy": ref}
    result = counter(client, auth, body)
    assert result["allocation_rule"] == "highest_rate_first"
    offer = result["offer"]
    assert shares(offer) == (
        [[("b", "450.00")]] * 13
        + [[("b", "150.00")]]
        + [[("a", "450.00")]] * 8
        + [[("a", "400.00")]]
    )
    check_sums(offer)


def test_one_debt_is_answered_in_the_one_debt_shape(client: TestClient, auth: Headers) -> None:
    body = {"debt": {k: v for k, v in TWO[0].items() if k != "ref"}, "proposal": {"term": 10}}
    result = counter(client, auth, body)
    assert "allocation_rule" not in result
    assert isinstance(TypeAdapter(CounterAnswer).validate_python(result), CounterResult)
    assert result["offer"]["terms"]["instalment"] == "400.00"


def test_debts_in_two_currencies_are_a_422(client: TestClient, auth: Headers) -> None:
    body = {
        "debts": [TWO[0], debt("b", "6000.00", currency="GBP")],
        "proposal": {"payment": "500.00"},
    }
    response = client.post("/v1/offers/counter", json=body, headers=auth["collector"])
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("debts.1.currency", "one_currency")


def test_a_ref_given_twice_is_a_422(client: TestClient, auth: Headers) -> None:
    body = {"debts": [TWO[0], {**TWO[1], "ref": "a"}], "proposal": {"payment": "500.00"}}
    response = client.post("/v1/offers/counter", json=body, headers=auth["collector"])
    error = response.json()["errors"][0]
    assert (response.status_code, error["field"], error["rule"]) == (
        422,
        "debts.1.ref",
        "unique_ref",
    )
