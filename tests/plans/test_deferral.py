"""Deferral plans: the pause lines, what becomes of their interest, and the instalments after.

The hand-worked example throughout: 12,000.00 owed at 12 % nominal on 15 Jan 2026, paused for
two months from a regular first period (due 15 Feb and 15 Mar, 1 % a month each), instalments
from 15 Apr. Expected instalments come from numpy-financial (``pmt``, ``pv``, ``irr``).
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError, ExceedsCapacity, NotAllowed, TermBeyondMax
from plans.policy import ArrearsTreatment, Component, DeferralInterest, Policy
from plans.schedule import LineKind
from tests.plans.conftest import capacities, debts

AS_OF = date(2026, 1, 15)
# 12 % a year, weekends only as non-business days: 15 Feb and 15 Mar 2026 are Sundays.
TWELVE = Policy(plan_rate=Decimal("0.12"), holiday_country=None)


def debt_of(principal: int = 1_200_000, interest: int = 0, fees: int = 0) -> Debt:
    return Debt("CNY", principal, interest, fees, Decimal("0.12"), AS_OF, 45)


def test_pause_lines_are_shown_with_their_interest() -> None:
    offer = deferral_plan(debt_of(), policy=TWELVE, periods=2, term=10)
    pause, first = offer.schedule.lines[:2], offer.schedule.lines[2]
    assert [x.kind for x in pause] == [LineKind.DEFERRAL, LineKind.DEFERRAL]
    assert [x.due_date for x in pause] == [date(2026, 2, 15), date(2026, 3, 15)]
    assert [x.payment_date for x in pause] == [date(2026, 2, 16), date(2026, 3, 16)]
    # 1 % of 12,000.00 each month, nothing paid
    assert [x.interest_accrued_minor for x in pause] == [12_000, 12_000]
    assert [x.payment_minor for x in pause] == [0, 0]
    assert (first.kind, first.due_date) == (LineKind.INSTALMENT, date(2026, 4, 15))
    assert (offer.terms.deferral_periods, offer.terms.instalments) == (2, 10)
    assert len(offer.schedule.lines) == 12


def test_capitalised_interest_joins_the_principal_when_the_pause_ends() -> None:
    offer = deferral_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=DeferralInterest.CAPITALISE
    )
    one, two, three = offer.schedule.lines[:3]
    # month 1: 12,000.00 + 120.00 of interest, kept as interest until the pause ends
    assert (one.closing_principal_minor, one.closing_interest_minor) == (1_200_000, 12_000)
    # month 2: 120.00 more (on principal only, not on the 120.00), then both capitalised
    assert (two.closing_principal_minor, two.closing_interest_minor) == (1_224_000, 0)
    assert two.closing_balance_minor == 1_224_000
    # instalments repay 12,240.00 at 1 %: 122.40 of interest in the first,
    # npf.pmt(0.01, 10, -12_240) = 1,292.3246 -> 1,292.32
    assert three.interest_accrued_minor == 12_240
    assert offer.terms.instalment_minor == round(npf.pmt(0.01, 10, -1_224_000)) == 129_232
    assert offer.waiver.total_minor == 0


def test_accrued_interest_is_kept_as_arrears_and_paid_first() -> None:
    offer = deferral_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=DeferralInterest.ACCRUE
    )
    two, three = offer.schedule.lines[1:3]
    assert (two.closing_principal_minor, two.closing_interest_minor) == (1_200_000, 24_000)
    # the first instalment pays the 240.00 of arrears and its own 120.00 before principal
    assert (three.interest_accrued_minor, three.interest_minor) == (12_000, 36_000)
    # Level X with 240.00 of non-interest-bearing arrears cleared by the first payment: after
    # it, 12,000 × 1.01 + 240 − X of principal is left, a 9-payment annuity of X, so
    # X = (12,000 × 1.01 + 240) / (1 + npf.pv(0.01, 9, -1)) = 1,292.0737 -> 1,292.07
    level = (1_200_000 * 1.01 + 24_000) / (1 + npf.pv(0.01, 9, -1))
    assert offer.terms.instalment_minor == round(level) == 129_207


def test_waived_interest_shows_in_the_waived_column_and_the_waiver() -> None:
    offer = deferral_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=DeferralInterest.WAIVE
    )
    pause = offer.schedule.lines[:2]
    assert [x.interest_accrued_minor for x in pause] == [12_000, 12_000]
    assert [x.waived_minor for x in pause] == [12_000, 12_000]
    assert [x.closing_balance_minor for x in pause] == [1_200_000, 1_200_000]
    assert offer.waiver.interest_minor == 24_000 and offer.waiver.total_minor == 24_000
    assert offer.metrics.total_waived_minor == 24_000
    # npf.pmt(0.01, 10, -12_000) = 1,266.9849 -> 1,266.98
    assert offer.terms.instalment_minor == round(npf.pmt(0.01, 10, -1_200_000)) == 126_698


def test_waived_deferral_interest_is_not_a_finance_charge() -> None:
    offer = deferral_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=DeferralInterest.WAIVE
    )
    metrics = offer.metrics
    # Only the instalments' interest is charged; 12,000.00 is financed on 15 Jan.
    paid_interest = sum(x.interest_minor for x in offer.schedule.lines)
    assert metrics.finance_charge_minor == paid_interest
    assert metrics.amount_financed_minor == 1_200_000
    # APR: the monthly IRR of the flows on their contractual dates (all on the 15th, so whole
    # months; Reg Z App J with a monthly unit period), times 12. Were the 240.00 waived counted
    # as a charge, the amount financed would be 11,760.00 and the rate far higher.
    flows = [-1_200_000, 0, 0] + [x.payment_minor for x in offer.schedule.lines[2:]]
    assert abs(float(metrics.apr) - 12 * npf.irr(flows)) < 1e-6
    assert Decimal("0.087") < metrics.apr < Decimal("0.088")


def test_waived_deferral_of_a_zero_rate_debt_with_arrears_has_zero_apr() -> None:
    # An interest freeze (the default policy's 0 % plan rate) on a debt with arrears: the pause
    # accrues nothing, and the arrears paid as interest and fees were owed already, so they
    # are no finance charge. (One plan rate covers pause and instalments: with a rate above 0
    # the instalments' interest is a finance charge, as the test above measures.)
    debt = Debt("CNY", 1_200_000, 30_000, 5_000, Decimal("0.18"), AS_OF, 45)
    offer = deferral_plan(
        debt, policy=Policy(), periods=2, term=10, interest=DeferralInterest.WAIVE
    )
    assert offer.metrics.total_interest_minor == 30_000
    assert offer.metrics.finance_charge_minor == 0
    assert offer.metrics.apr == 0 and offer.metrics.effective_annual_rate == 0
    assert offer.metrics.total_paid_minor == 1_235_000


def test_token_payments_settle_arrears_and_only_the_pause_interest_is_capitalised() -> None:
    # 12,000.00 with 300.00 of interest and 50.00 of fee arrears; 100.00 paid each month.
    offer = deferral_plan(
        debt_of(interest=30_000, fees=5_000),
        policy=TWELVE,
        periods=2,
        term=10,
        deferral_payment_minor=10_000,
        interest=DeferralInterest.CAPITALISE,
    )
    one, two, three = offer.schedule.lines[:3]
    # month 1: fees first (50.00), then the oldest interest (50.00 of the 300.00 arrears);
    # owed: 12,000.00 + 250.00 arrears + 120.00 of pause interest = 12,370.00
    assert (one.payment_minor, one.fees_minor, one.interest_minor, one.principal_minor) == (
        10_000,
        5_000,
        5_000,
        0,
    )
    assert (one.closing_principal_minor, one.closing_interest_minor) == (1_200_000, 37_000)
    assert (one.closing_fees_minor, one.closing_balance_minor) == (0, 1_237_000)
    # month 2: 120.00 more; 100.00 of the arrears paid, 150.00 of them left as interest;
    # the pause's own 240.00 is capitalised: 12,240.00 + 150.00 = 12,390.00
    assert (two.interest_minor, two.interest_accrued_minor) == (10_000, 12_000)
    assert (two.closing_principal_minor, two.closing_interest_minor) == (1_224_000, 15_000)
    assert two.closing_balance_minor == 1_239_000
    # the remaining arrears are paid first once instalments start
    assert three.interest_minor == 15_000 + 12_240


def test_token_payments_follow_a_reversed_waterfall() -> None:
    policy = Policy(
        plan_rate=Decimal("0.12"),
        holiday_country=None,
        waterfall=(Component.PRINCIPAL, Component.INTEREST, Component.FEES),
    )
    offer = deferral_plan(
        debt_of(),
        policy=policy,
        periods=2,
        term=10,
        deferral_payment_minor=10_000,
        interest=DeferralInterest.ACCRUE,
    )
    one, two = offer.schedule.lines[:2]
    # principal first: 12,000.00 - 100.00; interest then accrues on less
    assert (one.principal_minor, one.interest_minor) == (10_000, 0)
    assert (one.closing_principal_minor, one.closing_interest_minor) == (1_190_000, 12_000)
    # 1 % of 11,900.00 = 119.00
    assert two.interest_accrued_minor == 11_900
    assert (two.closing_principal_minor, two.closing_interest_minor) == (1_180_000, 23_900)


def test_token_payments_under_capitalisation_shrink_what_is_capitalised() -> None:
    offer = deferral_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, deferral_payment_minor=10_000
    )
    # 120.00 - 100.00 + 120.00 - 100.00 = 40.00 capitalised: principal 12,040.00, and
    # npf.pmt(0.01, 10, -12_040) = 1,271.2082 -> 1,271.21
    assert offer.schedule.lines[1].closing_principal_minor == 1_204_000
    assert offer.terms.instalment_minor == round(npf.pmt(0.01, 10, -1_204_000)) == 127_121


def test_token_payment_above_the_capacity_is_refused() -> None:
    with pytest.raises(ExceedsCapacity) as info:
        deferral_plan(
            debt_of(), policy=TWELVE, capacity=Capacity(5_000), deferral_payment_minor=10_000
        )
    assert (info.value.field, info.value.rule) == ("deferral_payment", "capacity")


@pytest.mark.parametrize(("periods", "rule"), [(4, "max_deferral"), (0, "min_deferral")])
def test_deferral_periods_are_bounded_by_the_policy(periods: int, rule: str) -> None:
    # the default policy pauses at most 3 periods
    with pytest.raises(NotAllowed) as info:
        deferral_plan(debt_of(), policy=Policy(), periods=periods, term=10)
    assert (info.value.field, info.value.rule) == ("deferral_periods", rule)


def test_the_policys_default_pause_and_its_maximum() -> None:
    assert deferral_plan(debt_of(), policy=Policy(), term=10).terms.deferral_periods == 2
    offer = deferral_plan(debt_of(), policy=Policy(), periods=3, term=10)
    assert offer.terms.deferral_periods == 3


def test_pause_and_instalments_stay_within_the_maximum_term() -> None:
    # 36 months at most: a 2-month pause leaves room for 34 instalments, not 35
    offer = deferral_plan(debt_of(), policy=Policy(), periods=2, term=34)
    assert len(offer.schedule.lines) == 36
    assert offer.schedule.lines[-1].due_date == date(2029, 1, 15)  # 15 Feb 2026 + 35 months
    with pytest.raises(TermBeyondMax) as info:
        deferral_plan(debt_of(), policy=Policy(), periods=2, term=35)
    assert (info.value.field, info.value.rule) == ("term", "max_term")


def test_solved_term_counts_the_pause_against_the_maximum() -> None:
    # Interest frozen: 12,000.00 at 353.00 takes ceil(33.99) = 34 instalments, which fit after
    # a 2-month pause; at 350.00 it takes ceil(34.29) = 35, which do not.
    offer = deferral_plan(debt_of(), policy=Policy(), periods=2, capacity=Capacity(35_300))
    assert offer.terms.instalments == 34
    with pytest.raises(TermBeyondMax) as info:
        deferral_plan(debt_of(), policy=Policy(), periods=2, capacity=Capacity(35_000))
    assert (info.value.field, info.value.rule) == ("term", "max_term")


@pytest.mark.parametrize(
    ("capacity", "instalments"),
    [
        # npf.pmt(0.01, n, -12_240): n = 9 -> 1,428.90, 10 -> 1,292.32, 11 -> 1,180.60
        (130_000, 10),
        # 1,292.32 does not fit 1,292.00 by 32 fen: one instalment more
        (129_200, 11),
    ],
)
def test_shortest_term_after_a_pause_fits_the_capacity(capacity: int, instalments: int) -> None:
    offer = deferral_plan(debt_of(), policy=TWELVE, periods=2, capacity=Capacity(capacity))
    assert offer.terms.instalments == instalments
    assert offer.schedule.lines[1].closing_principal_minor == 1_224_000
    payments = [x.payment_minor for x in offer.schedule.lines[2:]]
    assert max(payments) <= capacity
    assert round(npf.pmt(0.01, instalments - 1, -1_224_000)) > capacity
    assert offer.schedule.lines[-1].closing_balance_minor == 0


def test_a_capacity_of_exactly_the_rounded_level_needs_one_more_instalment() -> None:
    # The level 1,292.3246 is rounded down to 1,292.32 and the last line absorbs the residue:
    # ten payments of 1,292.32 leave npf.fv(0.01, 10, 1_292.32, -12_240) = 0.048 owed, so the
    # tenth is 1,292.37, above a capacity of 1,292.32; eleven instalments fit.
    last = 1_292.32 + npf.fv(0.01, 10, 1_292.32, -12_240)
    assert round(last * 100) == 129_237
    offer = deferral_plan(debt_of(), policy=TWELVE, periods=2, capacity=Capacity(129_232))
    assert offer.terms.instalments == 11
    ten = deferral_plan(debt_of(), policy=TWELVE, periods=2, term=10)
    assert [x.payment_minor for x in ten.schedule.lines[-2:]] == [129_232, 129_237]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_deferral_invariants(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    treatment = data.draw(st.sampled_from(list(DeferralInterest)))
    policy = Policy(
        plan_rate=None,
        rate_cap=Decimal("0.3"),
        arrears=data.draw(st.sampled_from(list(ArrearsTreatment))),
        waterfall=tuple(data.draw(st.permutations(list(Component)))),
    )
    periods = data.draw(st.integers(1, policy.deferral_max_periods))
    token = data.draw(st.integers(0, capacity.payment_minor // 4))
    try:
        offer = deferral_plan(
            debt,
            policy=policy,
            capacity=capacity,
            periods=periods,
            deferral_payment_minor=token,
            interest=treatment,
        )
    except DomainError:
        return
    lines = offer.schedule.lines
    pause = lines[:periods]
    totals = offer.schedule.totals
    assert [x.kind for x in pause] == [LineKind.DEFERRAL] * periods
    assert all(x.kind is LineKind.INSTALMENT for x in lines[periods:])
    assert lines[-1].closing_balance_minor == 0
    assert all(x.closing_balance_minor >= 0 for x in lines)
    assert all(x.payment_minor <= capacity.payment_minor for x in lines)
    assert all(a.payment_date < b.payment_date for a, b in itertools.pairwise(lines))
    assert (
        debt.total_minor + totals.interest_accrued_minor
        == totals.payment_minor + totals.waived_minor
    )
    assert offer.waiver.total_minor == totals.waived_minor
    pause_interest = sum(x.interest_accrued_minor for x in pause)
    waived = pause_interest if treatment is DeferralInterest.WAIVE else 0
    assert offer.metrics.finance_charge_minor == totals.interest_accrued_minor - waived
    if treatment is DeferralInterest.CAPITALISE:
        # what interest is left when the pause ends is arrears from before it, never its own
        assert pause[-1].closing_interest_minor <= debt.interest_minor
