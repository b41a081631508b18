"""Several debts negotiated as one plan over HTTP (``app/offers/consolidated.py``): each rule's
allocations checked by hand to the cent, the one-currency rule, and capacity from an income and
expenditure statement.

Debts are dated today; amounts do not depend on the date under the default interest freeze
(``plan_rate`` 0). Every figure below is worked out in the comment beside it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.offers import STATEMENT_EXAMPLE

Headers = dict[str, dict[str, str]]
TODAY = date.today()
PROBLEM = "application/problem+json"


def debt(ref: str, principal: str, **changes: Any) -> dict[str, Any]:
    """A CNY debt of ``principal``, nothing else owed, 18 % a year, 95 days past due."""
    return {
        "ref": ref,
        "currency": "CNY",
        "principal": principal,
        "nominal_annual_rate": "0.18",
        "as_of": TODAY.isoformat(),
        "days_past_due": 95,
        **changes,
    }


def policy(client: TestClient, auth: Headers, name: str, **body: Any) -> dict[str, Any]:
    made = client.post("/v1/policies", json={"name": name, "body": body}, headers=auth["finance"])
    assert made.status_code == 201, made.text
    return {"id": made.json()["id"]}


def negotiate(client: TestClient, auth: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def instalment(result: dict[str, Any]) -> dict[str, Any]:
    (offer,) = [o for o in result["offers"] if o["kind"] == "instalment"]
    return offer


def shares(offer: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """Each line's allocations as (debt_ref, payment)."""
    return [
        [(a["debt_ref"], a["payment"]) for a in line["allocations"]]
        for line in offer["schedule"]["lines"]
    ]


def check_sums(offer: dict[str, Any]) -> None:
    """The allocations add up to each line, and per debt to its outcome, to the cent."""
    per_debt: dict[str, Decimal] = {}
    for line in offer["schedule"]["lines"]:
        for column in ("payment", "principal", "interest", "fees", "waived"):
            total = sum((Decimal(a[column]) for a in line["allocations"]), Decimal(0))
            assert total == Decimal(line[column]), (column, line)
        for a in line["allocations"]:
            assert Decimal(a["payment"]) == sum(
                Decimal(a[c]) for c in ("principal", "interest", "fees")
            )
            per_debt[a["debt_ref"]] = (
                per_debt.get(a["debt_ref"], Decimal(0))
                + Decimal(a["payment"])
                + Decimal(a["waived"])
            )
    for outcome in offer["debts"]:
        owed = Decimal(outcome["owed"]) + Decimal(outcome["interest_accrued"])
        assert per_debt[outcome["debt_ref"]] == owed, outcome


def test_pro_rata_shares_each_payment_by_balance(client: TestClient, auth: Headers) -> None:
    # 1,000.00 and 2,000.00 owed: a third and two thirds of 300.00 a month, 100.00 and 200.00,
    # both cleared by the tenth payment (1,000.00 / 100.00 = 2,000.00 / 200.00 = 10)
    body = {
        "debts": [debt("card", "1000.00"), debt("loan", "2000.00", nominal_annual_rate="0.24")],
        "capacity": {"payment": "300.00"},
    }
    result = negotiate(client, auth, body)
    assert result["allocation_rule"] == "pro_rata"
    offer = instalment(result)
    assert shares(offer) == [[("card", "100.00"), ("loan", "200.00")]] * 10
    assert [(d["debt_ref"], d["owed"], d["paid"]) for d in offer["debts"]] == [
        ("card", "1000.00", "1000.00"),
        ("loan", "2000.00", "2000.00"),
    ]
    assert offer["debts"][0]["cleared_on"] == offer["schedule"]["lines"][-1]["payment_date"]
    assert offer["allocation_text"].startswith("Each payment is shared between the debts")
    check_sums(offer)


def test_pro_rata_uneven_shares_by_the_largest_remainder(client: TestClient, auth: Headers) -> None:
    # 250.00 a month over 1,000.00 and 2,000.00: exact shares 83.333... and 166.666...; the
    # floors 83.33 + 166.66 leave a cent, which the larger remainder (0.666...) takes: 166.67
    body = {
        "debts": [debt("card", "1000.00"), debt("loan", "2000.00")],
        "capacity": {"payment": "250.00"},
    }
    offer = instalment(negotiate(client, auth, body))
    first = dict(shares(offer)[0])
    # each debt's own plan re-levels to the shortest term its share allows: the card in
    # 13 payments (12 x 83.33 = 999.96 < 1,000.00), 1,000.00 / 13 = 76.923..., 76.92 a month
    # half up (12 x 76.92 = 923.04, the last 76.96); the loan in 12 (2,000.00 / 166.67 = 11.99...),
    # 2,000.00 / 12 = 166.666..., 166.67 (11 x 166.67 = 1,833.37, the last 166.63)
    assert first == {"card": "76.92", "loan": "166.67"}
    assert dict(shares(offer)[-1]) == {"card": "76.96"}
    assert len(offer["schedule"]["lines"]) == 13
    check_sums(offer)


@pytest.mark.parametrize(
    ("rule", "first", "second"),
    [
        # the loan's 24 % beats the card's 18 %: the loan's 2,000.00 in four payments of
        # 500.00, then the card's 1,000.00 in two
        ("highest_rate_first", "loan", "card"),
        # the card is 400 days past due, the loan 95: the card first, then the loan
        ("oldest_first", "card", "loan"),
    ],
)
def test_ordered_rules_pay_one_debt_after_another(
    client: TestClient, auth: Headers, rule: str, first: str, second: str
) -> None:
    ref = policy(client, auth, f"alloc-{rule}", allocation_rule=rule)
    body = {
        "debts": [
            debt("card", "1000.00", days_past_due=400),
            debt("loan", "2000.00", nominal_annual_rate="0.24"),
        ],
        "capacity": {"payment": "500.00"},
        "policy": ref,
    }
    result = negotiate(client, auth, body)
    assert result["allocation_rule"] == rule
    offer = instalment(result)
    owed = {"card": 2, "loan": 4}  # payments of 500.00 each debt takes
    expected = [[(first, "500.00")]] * owed[first] + [[(second, "500.00")]] * owed[second]
    assert shares(offer) == expected
    check_sums(offer)


def test_fees_and_interest_follow_each_debts_waterfall(client: TestClient, auth: Headers) -> None:
    # The card owes 900.00 + 60.00 interest + 40.00 fees = 1,000.00; the loan 2,000.00. Pro
    # rata 100.00 and 200.00 a month; the card's first 100.00 pays its fees 40.00, then its
    # interest 60.00 (the policy's waterfall: fees, interest, principal), none of its principal
    body = {
        "debts": [
            debt("card", "900.00", interest="60.00", fees="40.00"),
            debt("loan", "2000.00"),
        ],
        "capacity": {"payment": "300.00"},
    }
    offer = instalment(negotiate(client, auth, body))
    card = offer["schedule"]["lines"][0]["allocations"][0]
    assert (card["debt_ref"], card["fees"], card["interest"], card["principal"]) == (
        "card",
        "40.00",
        "60.00",
        "0.00",
    )
    check_sums(offer)


def test_debts_in_two_currencies_are_a_422(client: TestClient, auth: Headers) -> None:
    body = {
        "debts": [debt("card", "1000.00"), debt("loan", "2000.00", currency="GBP")],
        "capacity": {"payment": "300.00"},
    }
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("debts.1.currency", "one_currency")


def test_a_ref_given_twice_is_a_422(client: TestClient, auth: Headers) -> None:
    body = {
        "debts": [debt("card", "1000.00"), debt("card", "2000.00")],
        "capacity": {"payment": "300.00"},
    }
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    error = response.json()["errors"][0]
    assert (response.status_code, error["field"], error["rule"]) == (
        422,
        "debts.1.ref",
        "unique_ref",
    )


# The contract's example statement: 6,000.00 + 500.00 income less 2,500.00 + 1,500.00 + 400.00
# expenditure less 200.00 utilities, 1,900.00 disposable a month.
STATEMENT = STATEMENT_EXAMPLE


def test_a_statement_gives_the_capacity_and_each_offer_says_how_it_fits(
    client: TestClient, auth: Headers
) -> None:
    # 80 % of 1,900.00 disposable = 1,520.00 a month available; 3,000.00 owed pro rata:
    # 506.67 and 1,013.33 a month (1,520.00 x 1/3 = 506.666..., 2/3 = 1,013.333...)
    ref = policy(client, auth, "afford-80", affordable_share_bps=8000)
    body = {
        "debts": [debt("card", "1000.00"), debt("loan", "2000.00")],
        "capacity": {"statement": STATEMENT},
        "policy": ref,
    }
    result = negotiate(client, auth, body)
    afford = result["affordability"]
    assert (afford["disposable"], afford["available"], afford["capacity_payment"]) == (
        "1900.00",
        "1520.00",
        "1520.00",
    )
    assert afford["bounded_by"] == "statement"
    offer = instalment(result)
    assert max(Decimal(x["payment"]) for x in offer["schedule"]["lines"]) <= Decimal("1520.00")
    (fit,) = [f for f in afford["fits"] if f["kind"] == "instalment"]
    largest = max(Decimal(x["payment"]) for x in offer["schedule"]["lines"])
    assert Decimal(fit["monthly"]) == largest
    assert fit["share"] == str((largest / Decimal("1900.00")).quantize(Decimal("0.0001")))
    assert fit["sentence"].endswith("a month of CN¥1,900.00 disposable (" + fit["sentence"][-4:])
    check_sums(offer)


def test_a_statement_bounds_a_single_debts_payment_and_flags_guidelines(
    client: TestClient, auth: Headers
) -> None:
    # 1,900.00 disposable; the stated 2,500.00 is more: the offers use 1,900.00 and say so.
    # Travel of 400.00 for a household of 2 is above the policy's 300.00 guideline: flagged,
    # the statement's figure kept.
    guideline = {"currency": "CNY", "group": "travel", "household_size": 2, "monthly": "300"}
    ref = policy(client, auth, "afford-guide", spending_guidelines=[guideline])
    body = {
        "debt": {k: v for k, v in debt("x", "10000.00").items() if k != "ref"},
        "capacity": {"payment": "2500.00", "statement": STATEMENT},
        "policy": ref,
    }
    result = negotiate(client, auth, body)
    afford = result["affordability"]
    assert (afford["stated_payment"], afford["capacity_payment"]) == ("2500.00", "1900.00")
    assert afford["flags"] == [{"group": "travel", "amount": "400.00", "guideline": "300.00"}]
    offer = instalment(result)
    # 10,000.00 at 1,900.00 a month: 6 payments (5 x 1,900.00 = 9,500.00 < 10,000.00),
    # re-levelled to 10,000.00 / 6 = 1,666.67 (the last 1,666.65)
    assert offer["terms"]["instalment"] == "1666.67"
    (fit,) = [f for f in afford["fits"] if f["kind"] == "instalment"]
    assert fit["sentence"] == "CN¥1,666.67 a month of CN¥1,900.00 disposable (88%)"


def test_a_statement_with_nothing_left_is_a_422(client: TestClient, auth: Headers) -> None:
    broke = {**STATEMENT, "income": {"salary": "4000.00"}}  # 4,000.00 - 4,600.00 < 0
    body = {
        "debts": [debt("card", "1000.00"), debt("loan", "2000.00")],
        "capacity": {"statement": broke},
    }
    response = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    error = response.json()["errors"][0]
    assert (response.status_code, error["field"], error["rule"]) == (
        422,
        "capacity.statement",
        "no_disposable_income",
    )


def test_the_sentences_are_the_locales(client: TestClient, auth: Headers) -> None:
    # 1,900.00 disposable; 3,000.00 owed pro rata from all of it, in 2 payments: 1,500.00 each
    body = {
        "debts": [debt("card", "1000.00"), debt("loan", "2000.00")],
        "capacity": {"statement": STATEMENT},
        "locale": "zh-CN",
    }
    result = negotiate(client, auth, body)
    offer = instalment(result)
    assert offer["allocation_text"].startswith("每笔还款按各笔债务的欠款金额按比例分配")
    assert offer["summary"].startswith("2笔债务合并为一个计划")
    (fit,) = [f for f in result["affordability"]["fits"] if f["kind"] == "instalment"]
    assert fit["sentence"] == "每月¥1,500.00，占可支配收入¥1,900.00的79%"


def test_a_guideline_too_precise_for_its_currency_is_refused_with_the_policy(
    client: TestClient, auth: Headers
) -> None:
    guideline = {"currency": "CNY", "group": "travel", "household_size": 2, "monthly": "1.001"}
    body = {"name": "bad-guide", "body": {"spending_guidelines": [guideline]}}
    response = client.post("/v1/policies", json=body, headers=auth["finance"])
    error = response.json()["errors"][0]
    assert (response.status_code, error["field"], error["rule"]) == (
        422,
        "policy.spending_guidelines.0.monthly",
        "max_decimals",
    )


def test_compare_several_debts_by_kind(client: TestClient, auth: Headers) -> None:
    # the kinds asked, as negotiate makes them: the instalment plan of the first test (100.00
    # and 200.00 a month); the lump-sum settlement (no lump sum at all) listed as rejected;
    # a kind listed twice is refused
    body = {
        "debts": [debt("card", "1000.00"), debt("loan", "2000.00", nominal_annual_rate="0.24")],
        "capacity": {"payment": "300.00"},
        "offers": [{"kind": "instalment"}, {"kind": "settlement"}],
    }
    response = client.post("/v1/plans/compare", json=body, headers=auth["collector"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert [o["kind"] for o in result["offers"]] == ["instalment"]
    assert [(r["kind"], r["rule"]) for r in result["rejected"]] == [("settlement", "lump_sum")]
    assert shares(result["offers"][0]) == [[("card", "100.00"), ("loan", "200.00")]] * 10
    twice = {**body, "offers": [{"kind": "deferral"}, {"kind": "deferral"}]}
    response = client.post("/v1/plans/compare", json=twice, headers=auth["collector"])
    assert response.status_code == 422
