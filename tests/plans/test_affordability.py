"""Disposable income from an income and expenditure statement (``plans/affordability.py``).

The figures are worked by hand next to each assertion. The groups are the Standard Financial
Statement's (Money and Pensions Service); affordability as CONC 7.3 (FCA Handbook) asks of a
repayment arrangement.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.affordability import (
    Group,
    Guideline,
    PriorityDebt,
    Statement,
    affordability,
)
from plans.calendar import Frequency
from plans.errors import DomainError

# A household of two adults and one child: 2,850.00 a month in, 1,650.00 of essential costs,
# 100.00 to priority debts.
HOUSEHOLD = Statement(
    income=(("salary", 250_000), ("child_benefit", 35_000)),
    expenditure=(
        (Group.HOME_AND_CONTENTS, 80_000),
        (Group.TRAVEL, 15_000),
        (Group.FOOD_AND_HOUSEKEEPING, 45_000),
        (Group.PERSONAL_COSTS, 10_000),
        (Group.COMMUNICATIONS_AND_LEISURE, 10_000),
        (Group.OTHER_ESSENTIAL_COSTS, 5_000),
    ),
    priority=((PriorityDebt.COUNCIL_TAX, 10_000),),
    adults=2,
    children=1,
)


def test_disposable_income_by_hand() -> None:
    a = affordability(HOUSEHOLD)
    # 2,850.00 - 1,650.00 - 100.00 = 1,100.00; all of it may be asked (100 %)
    assert (a.income_minor, a.expenditure_minor, a.priority_minor) == (285_000, 165_000, 10_000)
    assert (a.disposable_minor, a.available_minor) == (110_000, 110_000)
    # a month's 1,100.00 is 1,100.00 x 12 / 52 = 253.846... -> 253.84 a week (down), x 12 / 26
    # = 507.692... -> 507.69 a fortnight, / 2 = 550.00 twice a month
    assert a.per_period_minor(Frequency.MONTHLY) == 110_000
    assert a.per_period_minor(Frequency.WEEKLY) == 25_384
    assert a.per_period_minor(Frequency.BIWEEKLY) == 50_769
    assert a.per_period_minor(Frequency.SEMI_MONTHLY) == 55_000


def test_a_policy_share_rounds_down() -> None:
    # 83.33 % of 1,100.00 = 916.63 (916.63 exactly: 110,000 x 8,333 / 10,000 = 91,663)
    assert affordability(HOUSEHOLD, share_bps=8_333).available_minor == 91_663
    # 1/3 of 1,100.00 = 366.666... -> 366.66, never 366.67
    assert affordability(HOUSEHOLD, share_bps=3_333).available_minor == 36_663


def test_how_an_offer_fits() -> None:
    a = affordability(HOUSEHOLD)
    # 916.67 a month of 1,100.00 disposable: 83.33... %
    assert a.share_of_disposable(91_667, Frequency.MONTHLY) == Fraction(91_667, 110_000)
    # 200.00 a week is 200.00 x 52 / 12 = 866.67 a month: 78.8 %
    assert a.share_of_disposable(20_000, Frequency.WEEKLY) == Fraction(20_000 * 52, 12 * 110_000)


def test_an_amount_above_its_guideline_is_flagged_never_changed() -> None:
    guidelines = (
        Guideline(Group.FOOD_AND_HOUSEKEEPING, 1, 30_000),
        Guideline(Group.FOOD_AND_HOUSEKEEPING, 3, 40_000),
        Guideline(Group.FOOD_AND_HOUSEKEEPING, 4, 50_000),
        Guideline(Group.TRAVEL, 1, 20_000),
    )
    a = affordability(HOUSEHOLD, guidelines=guidelines)
    # a household of 3: the food guideline for 3 (400.00) is below 450.00; travel's for 1
    # (the largest smaller household listed) is 200.00, above 150.00
    assert [(f.group, f.amount_minor, f.guideline_minor) for f in a.flags] == [
        (Group.FOOD_AND_HOUSEKEEPING, 45_000, 40_000)
    ]
    assert a.disposable_minor == 110_000  # unchanged by the flag


def test_a_statement_that_leaves_nothing_is_refused_saying_why() -> None:
    short = Statement(
        income=(("salary", 100_000),),
        expenditure=((Group.HOME_AND_CONTENTS, 90_000),),
        priority=((PriorityDebt.UTILITIES, 10_000),),
    )
    with pytest.raises(DomainError) as caught:
        affordability(short)
    assert (caught.value.field, caught.value.rule) == (
        "capacity.statement",
        "no_disposable_income",
    )
    assert "leaves 0" in caught.value.detail


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"income": ()}, "capacity.statement.income", "required"),
        ({"income": (("a", 1), ("a", 2))}, "capacity.statement.income", "unique"),
        ({"adults": 0}, "capacity.statement.adults", "range"),
        ({"children": -1}, "capacity.statement.children", "range"),
    ],
)
def test_a_malformed_statement_names_its_field(
    changes: dict[str, object], field: str, rule: str
) -> None:
    base: dict[str, object] = {"income": (("salary", 100_000),)}
    with pytest.raises(DomainError) as caught:
        Statement(**(base | changes))  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == (field, rule)


AMOUNT = st.integers(min_value=0, max_value=10**9)


@given(
    st.lists(AMOUNT, min_size=1, max_size=4),
    st.lists(AMOUNT, max_size=6),
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from(list(Frequency)),
)
def test_an_offer_at_the_most_never_asks_more_than_the_share(
    income: list[int], costs: list[int], share: int, frequency: Frequency
) -> None:
    statement = Statement(
        income=tuple((f"s{i}", x) for i, x in enumerate(income)),
        expenditure=tuple(zip(list(Group), costs, strict=False)),
    )
    if statement.income_minor - statement.expenditure_minor <= 0:
        with pytest.raises(DomainError):
            affordability(statement, share_bps=share)
        return
    a = affordability(statement, share_bps=share)
    most = a.per_period_minor(frequency)
    # the most per period, a year of it, is within the share of a year's disposable income,
    # and one minor unit more would not be
    assert a.share_of_disposable(most, frequency) <= Fraction(share, 10_000)
    assert Fraction((most + 1) * frequency.periods_per_year, 12) > a.available_minor
    assert a.available_minor <= a.disposable_minor
