"""Equal-principal shares (``plans/amortisation.py``): rounded by the policy, remainder last."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from plans.amortisation import Amortisation
from plans.calendar import LAST_DAY, Frequency
from plans.debt import Debt
from plans.errors import DomainError
from plans.instalment import Until, instalment_plan
from plans.money import Rounding
from plans.policy import Policy
from plans.schedule import Line
from tests.plans.conftest import debts

CONTRACTUAL = Policy(plan_rate=None, rate_cap=Decimal("10"), holiday_country=None)


def equal_principal(
    principal: int, rate: str, term: int, policy: Policy = CONTRACTUAL
) -> list[Line]:
    debt = Debt("CNY", principal, 0, 0, Decimal(rate), date(2026, 1, 15), 30)
    offer = instalment_plan(
        debt, policy=policy, term=term, amortisation=Amortisation.EQUAL_PRINCIPAL
    )
    return list(offer.schedule.lines)


def test_issue_17_five_thousand_over_eighteen_half_up() -> None:
    # Issue 17's published case: 5,000.00 over 18 payments, half-up rounding, repays 277.78
    # seventeen times and 277.74 last (5,000 / 18 = 277.777...). Floored, it was 277.77 x 17 and
    # 277.91.
    lines = equal_principal(500_000, "0", 18)
    assert [x.principal_minor for x in lines] == [27_778] * 17 + [27_774]


def test_half_even_rounds_a_share_by_the_same_rule() -> None:
    # 1,000.05 over 2: 500.025 -> 500.03 half up, 500.02 half even (the 2 is even).
    assert [x.principal_minor for x in equal_principal(100_005, "0", 2)] == [50_003, 50_002]
    half_even = Policy(
        plan_rate=None, rate_cap=Decimal("10"), holiday_country=None, rounding=Rounding.HALF_EVEN
    )
    lines = equal_principal(100_005, "0", 2, half_even)
    assert [x.principal_minor for x in lines] == [50_002, 50_003]


def test_mz51_published_equal_principal_table() -> None:
    # A published 等额本金 table (房贷计算器, mz51.vip, "Interest=0.1290&Number=11&Present=47.0":
    # http://mz51.vip/FangDaiJiSuanQi/Index?Interest=0.1290&Number=11&Present=47.0): 470,000.00
    # over 11 years (132 months) at 12.90 % a year. Its principal column is 3,560.61 every month
    # (470,000 / 132 = 3,560.606..., rounded: floored it would be 3,560.60), its interest
    # 5,052.50, 5,014.22, 4,975.95, its payments 8,613.11 and 8,574.83. (Its third payment,
    # 8,536.55, adds the unrounded share: the calculator carries 3,560.606... and shows 7,121.21
    # repaid after two months; a schedule paid in fen repays 3,560.61 and asks 8,536.56.)
    policy = Policy(
        plan_rate=None, rate_cap=Decimal("10"), holiday_country=None, max_term_months=132
    )
    lines = equal_principal(47_000_000, "0.129", 132, policy)
    assert [x.principal_minor for x in lines[:131]] == [356_061] * 131
    assert [x.interest_minor for x in lines[:3]] == [505_250, 501_422, 497_595]
    assert [x.payment_minor for x in lines[:2]] == [861_311, 857_483]
    assert lines[-1].principal_minor == 47_000_000 - 131 * 356_061
    assert lines[-1].closing_balance_minor == 0


@settings(max_examples=120, deadline=None)
@given(
    term=st.integers(1, 36),
    per_share=st.integers(10_000, 3_000_000),
    odd=st.integers(0, 35),
    rate=st.integers(0, 2400),
    rounding=st.sampled_from(list(Rounding)),
)
def test_equal_principal_shares_are_within_a_unit_of_the_exact_share(
    term: int, per_share: int, odd: int, rate: int, rounding: Rounding
) -> None:
    principal = term * per_share + odd  # at least the minimum instalment each period
    policy = Policy(plan_rate=None, rate_cap=Decimal("10"), holiday_country=None, rounding=rounding)
    lines = equal_principal(principal, str(Decimal(rate) / 10_000), term, policy)
    exact = Fraction(principal, term)
    shares = [x.principal_minor for x in lines]
    assert len(shares) == term
    assert all(abs(share - exact) < 1 for share in shares[:-1])
    assert sum(shares) == principal
    totals = sum(x.payment_minor for x in lines)
    assert totals == sum(x.interest_minor + x.fees_minor + x.principal_minor for x in lines)
    assert lines[-1].closing_balance_minor == 0


@pytest.mark.parametrize("term", [1, 2, 7])
def test_a_single_share_is_the_whole(term: int) -> None:
    lines = equal_principal(123_457, "0.1", term)
    assert sum(x.principal_minor for x in lines) == 123_457


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_every_schedule_shape_sums_to_its_totals(data: st.DataObject) -> None:
    # Level, equal principal, a fixed payment until repaid, and semi-monthly pay days, on debts
    # with arrears across currencies: each line's parts make its payment, each column sums to
    # its total exactly, and what is owed plus what accrues is paid or waived.
    debt = data.draw(debts())
    shape = data.draw(st.sampled_from(["level", "equal_principal", "until_repaid", "pay_days"]))
    policy = data.draw(st.sampled_from([Policy(), Policy(plan_rate=None)]))
    term = data.draw(st.integers(1, 36))
    payment = data.draw(st.integers(max(1, debt.total_minor // 40), debt.total_minor + 1))
    try:
        if shape == "until_repaid":
            offer = instalment_plan(debt, policy=policy, payment_minor=payment, until=Until.REPAID)
        elif shape == "pay_days":
            days = data.draw(st.sampled_from([(15, LAST_DAY), (1, 15), (5, 20)]))
            offer = instalment_plan(
                debt, policy=policy, term=term, frequency=Frequency.SEMI_MONTHLY, days=days
            )
        else:
            amortisation = (
                Amortisation.EQUAL_PRINCIPAL
                if shape == "equal_principal"
                else Amortisation.EQUAL_INSTALMENT
            )
            offer = instalment_plan(debt, policy=policy, term=term, amortisation=amortisation)
    except DomainError as refused:
        event(f"refused: {refused.rule}")
        return
    event(f"made: {shape}")
    lines = offer.schedule.lines
    totals = offer.schedule.totals
    for x in lines:
        assert x.payment_minor == x.interest_minor + x.fees_minor + x.principal_minor
    assert totals.payment_minor == sum(x.payment_minor for x in lines)
    assert totals.interest_minor == sum(x.interest_minor for x in lines)
    assert totals.fees_minor == sum(x.fees_minor for x in lines)
    assert totals.principal_minor == sum(x.principal_minor for x in lines)
    assert totals.waived_minor == sum(x.waived_minor for x in lines)
    assert totals.interest_accrued_minor == sum(x.interest_accrued_minor for x in lines)
    assert (
        debt.total_minor + totals.interest_accrued_minor
        == totals.payment_minor + totals.waived_minor
    )
    assert lines[-1].closing_balance_minor == 0
