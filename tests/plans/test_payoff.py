"""Early payoff quotes: accrued interest by day count, the policy's waiver, quotes on a plan."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.daycount import DayCount
from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError, InvalidDate
from plans.instalment import instalment_plan
from plans.offer import Offer, Owed
from plans.payoff import payoff, payoff_quote
from plans.policy import ArrearsTreatment, Policy
from plans.settlement import settlement_plan
from tests.plans.conftest import capacities, debts

AS_OF = date(2026, 1, 15)
TWELVE = Policy(plan_rate=None, holiday_country=None)


def twelve_month_plan() -> Offer:
    # 12,000.00 at 12 % over 12 months: npf.pmt(0.01, 12, -12_000) = 1,066.1855 -> 1,066.19
    debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0.12"), AS_OF, 40)
    return instalment_plan(debt, policy=TWELVE, term=12)


@pytest.mark.parametrize(
    ("convention", "days", "accrued", "waived"),
    [
        # 10,000.00 at 7.3 % from 31 Jan to 31 Mar 2026 (59 actual days, 60 by 30/360):
        # ACT/365F: 10,000 × 0.073 × 59 / 365 = 118.00
        (DayCount.ACT_365F, 59, 11_800, 5_900),
        # ACT/360: 10,000 × 0.073 × 59 / 360 = 119.6389 -> 119.64; half is 59.82
        (DayCount.ACT_360, 59, 11_964, 5_982),
        # 30/360: the 31st counts as the 30th, 60 days; 10,000 × 0.073 × 60 / 360 = 121.6667
        # -> 121.67, half of it 60.835 -> 60.84 (half up)
        (DayCount.THIRTY_360, 60, 12_167, 6_084),
    ],
)
def test_accrued_interest_by_day_count(
    convention: DayCount, days: int, accrued: int, waived: int
) -> None:
    quote = payoff(
        Owed(1_000_000, 3_000, 5_000),
        nominal_annual_rate=Decimal("0.073"),
        accrued_from=date(2026, 1, 31),
        on=date(2026, 3, 31),
        policy=Policy(day_count=convention),
    )
    assert (quote.days, quote.day_count) == (days, convention)
    assert quote.accrued_interest_minor == accrued
    # the 30.00 of interest arrears stays owed; only this period's accrual earns the waiver
    assert quote.interest_minor == 3_000 + accrued
    assert quote.waived_minor == waived
    assert quote.amount_minor == 1_000_000 + 3_000 + accrued + 5_000 - waived


@pytest.mark.parametrize(
    ("interest_bps", "fee_bps", "waived"),
    [
        # accrued: 10,000.00 × 36.5 % × 10 / 365 = 100.00; fees 50.00
        (5000, 0, 5_000),
        (0, 10_000, 5_000),
        (2500, 2000, 2_500 + 1_000),
        (10_000, 10_000, 10_000 + 5_000),
        (0, 0, 0),
    ],
)
def test_waiver_is_the_policys_share_of_accrued_interest_and_fees(
    interest_bps: int, fee_bps: int, waived: int
) -> None:
    policy = Policy(payoff_interest_waiver_bps=interest_bps, payoff_fee_waiver_bps=fee_bps)
    quote = payoff(
        Owed(1_000_000, 2_000, 5_000),
        nominal_annual_rate=Decimal("0.365"),
        accrued_from=date(2026, 1, 1),
        on=date(2026, 1, 11),
        policy=policy,
    )
    assert quote.accrued_interest_minor == 10_000
    assert quote.waived_minor == waived
    assert quote.amount_minor == 1_000_000 + 2_000 + 10_000 + 5_000 - waived


def test_quote_mid_plan_uses_the_last_paid_lines_closing_components() -> None:
    offer = twelve_month_plan()
    third = offer.schedule.lines[2]
    assert third.payment_date == date(2026, 4, 15)
    # three payments of 1,066.19 leave npf.fv(0.01, 3, 1_066.19, -12_000) = 9,132.95
    assert third.closing_principal_minor == round(100 * npf.fv(0.01, 3, 1_066.19, -12_000))
    quote = payoff_quote(offer, date(2026, 4, 25), policy=Policy())
    assert quote.principal_minor == third.closing_principal_minor == 913_295
    # 10 days since it: 9,132.95 × 12 % × 10 / 365 = 30.0261 -> 30.03; half waived,
    # 15.015 -> 15.02 (half up); the next instalment's 91.33 of interest is never owed
    assert quote.days == 10
    assert quote.accrued_interest_minor == 3_003
    assert quote.waived_minor == 1_502
    assert quote.amount_minor == 913_295 + 3_003 - 1_502


def test_quote_mid_pause_includes_the_pause_interest_not_yet_capitalised() -> None:
    debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0.12"), AS_OF, 40)
    offer = deferral_plan(debt, policy=TWELVE, periods=2, term=10)
    # first pause line (due Sun 15 Feb, rolled to Mon 16 Feb): 120.00 of interest accrued
    assert offer.schedule.lines[0].payment_date == date(2026, 2, 16)
    quote = payoff_quote(offer, date(2026, 3, 2), policy=Policy())
    # 14 days later: 12,000 × 12 % × 14 / 365 = 55.2329 -> 55.23, half waived: 27.615 -> 27.62
    assert (quote.principal_minor, quote.interest_minor) == (1_200_000, 12_000 + 5_523)
    assert quote.waived_minor == 2_762
    assert quote.amount_minor == 1_200_000 + 12_000 + 5_523 - 2_762


def test_quote_after_the_last_payment_is_zero() -> None:
    offer = twelve_month_plan()
    last = offer.schedule.lines[-1].payment_date
    for on in (last, last + timedelta(days=400)):
        quote = payoff_quote(offer, on, policy=Policy())
        assert (quote.amount_minor, quote.accrued_interest_minor, quote.waived_minor) == (0, 0, 0)


def test_settlement_plan_quote_is_what_remains_of_the_discounted_amount() -> None:
    # 11,000.00 at 200 days past due, 10 % off, 9,900.00 in 4 payments of 2,475.00
    debt = Debt("CNY", 1_000_000, 80_000, 20_000, Decimal("0.18"), date(2026, 11, 25), 200)
    offer = settlement_plan(debt, policy=Policy(), capacity=Capacity(300_000))
    second = offer.schedule.lines[1].payment_date
    quote = payoff_quote(offer, second, policy=Policy())
    assert quote.amount_minor == 2 * 247_500 and quote.accrued_interest_minor == 0
    last = offer.schedule.lines[-1].payment_date
    assert payoff_quote(offer, last, policy=Policy()).amount_minor == 0


def test_quote_before_the_as_of_date_is_refused() -> None:
    with pytest.raises(InvalidDate) as info:
        payoff_quote(twelve_month_plan(), AS_OF - timedelta(days=1), policy=Policy())
    assert (info.value.field, info.value.rule) == ("on", "not_before_as_of")
    with pytest.raises(InvalidDate) as early:
        payoff(
            Owed(100_000, 0, 0),
            nominal_annual_rate=Decimal("0.1"),
            accrued_from=AS_OF,
            on=AS_OF - timedelta(days=1),
            policy=Policy(),
        )
    assert (early.value.field, early.value.rule) == ("on", "not_before_last_payment")


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_quote_on_day_zero_is_the_outstanding_balance(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    policy = data.draw(
        st.sampled_from(
            [
                Policy(payoff_fee_waiver_bps=0),
                Policy(plan_rate=None, rate_cap=Decimal("0.3"), payoff_interest_waiver_bps=10_000),
                Policy(arrears=ArrearsTreatment.WAIVE, holiday_country="US"),
            ]
        )
    )
    make = data.draw(st.sampled_from([instalment_plan, deferral_plan]))
    try:
        offer = make(debt, policy=policy, capacity=capacity)
    except DomainError:
        return
    quote = payoff_quote(offer, debt.as_of, policy=policy)
    # what is owed once the day's own events (a down payment, a waiver on it) have happened
    settled_today = sum(
        x.payment_minor + x.waived_minor
        for x in offer.schedule.lines
        if x.payment_date <= debt.as_of
    )
    # arrears a plan forgives are forgiven from the day it is made
    forgiven = 0
    if policy.arrears is ArrearsTreatment.WAIVE and settled_today == 0:
        forgiven = debt.interest_minor + debt.fees_minor
    assert quote.amount_minor == debt.total_minor - settled_today - forgiven
    assert (quote.accrued_interest_minor, quote.waived_minor, quote.days) == (0, 0, 0)
