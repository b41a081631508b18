"""Payments against an accepted plan (``plans/payments.py``): allocation, statuses, breaking.

Every expected figure is worked by hand in the comments next to it, from the plan's lines and
the policy's documented defaults (waterfall fees -> interest -> principal, missed after 15
days, broken at 2 missed or 30 days late, half the accrued interest waived on a payoff).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plans.debt import Debt
from plans.errors import DomainError, InvalidDate
from plans.instalment import instalment_plan
from plans.offer import Offer, Owed
from plans.payments import (
    Allocation,
    InstalmentStatus,
    Overpayment,
    Payment,
    PlanState,
    PlanStatus,
    ScheduledLine,
    check_payment,
    plan_payoff,
    plan_state,
)
from plans.payoff import payoff_quote
from plans.policy import ArrearsTreatment, Component, Policy
from plans.schedule import Waiver
from plans.settlement import settlement_plan
from tests.plans.conftest import debts

POLICY = Policy(holiday_country=None)
REFUND = Policy(holiday_country=None, overpayment=Overpayment.REFUND.value)
NO_WAIVER = Waiver()


def level(amount: int, *dates: date) -> list[ScheduledLine]:
    """Lines of ``amount`` principal each (an interest freeze, no fees)."""
    return [ScheduledLine(k, d, amount, 0, 0, amount) for k, d in enumerate(dates, start=1)]


MONTHLY = (date(2027, 1, 15), date(2027, 2, 15), date(2027, 3, 15))
THREE = level(50_000, *MONTHLY)  # 3 x 500.00

# 3,000.00 at 12 % over three months from 15 Jan 2027: pmt(1 %, 3, 3,000) = 1,020.0664 ->
# 1,020.07; line 1: 30.00 interest, 990.07 principal, closing 2,009.93; line 2: 2,009.93 x 1 %
# = 20.0993 -> 20.10 interest, 999.97 principal, closing 1,009.96; line 3 pays what is left:
# 1,009.96 + 10.0996 -> 10.10 = 1,020.06.
INTEREST_LINES = [
    ScheduledLine(1, date(2027, 2, 15), 102_007, 3_000, 0, 99_007),
    ScheduledLine(2, date(2027, 3, 15), 102_007, 2_010, 0, 99_997),
    ScheduledLine(3, date(2027, 4, 15), 102_006, 1_010, 0, 100_996),
]
INTEREST_AS_OF = date(2027, 1, 15)


def state(
    lines: list[ScheduledLine],
    payments: list[Payment],
    on: date,
    *,
    policy: Policy = POLICY,
    owed: Owed | None = None,
    waiver: Waiver = NO_WAIVER,
) -> PlanState:
    total = sum(x.payment_minor for x in lines)
    return plan_state(
        lines,
        payments,
        on=on,
        policy=policy,
        owed=owed or Owed(total, 0, 0),
        waiver=waiver,
    )


def lines_of(offer: Offer) -> list[ScheduledLine]:
    """An engine offer's lines as an accepted plan sees them (as ``app.links.plans`` does)."""
    return [
        ScheduledLine(
            x.number,
            x.payment_date,
            x.payment_minor,
            x.interest_minor,
            x.fees_minor,
            x.principal_minor,
        )
        for x in offer.schedule.lines
        if x.payment_minor > 0
    ]


# ---- allocation --------------------------------------------------------------------------

# line 1: 50.00 fees + 30.00 interest + 420.00 principal; line 2: 20.00 + 25.00 + 455.00
MIXED = [
    ScheduledLine(1, date(2027, 1, 15), 50_000, 3_000, 5_000, 42_000),
    ScheduledLine(2, date(2027, 2, 15), 50_000, 2_500, 2_000, 45_500),
    ScheduledLine(3, date(2027, 3, 15), 50_000, 0, 0, 50_000),
]


def test_oldest_instalment_first_then_the_waterfall_within_it() -> None:
    # 560.00 on 20 Feb, lines 1 and 2 both due: line 1 whole (50 fees, 30 interest, 420
    # principal = 500.00), then the 60.00 left down line 2's waterfall: 20.00 fees,
    # 25.00 interest, 15.00 principal. Nothing is over-paid (line 3 is still to come).
    result = state(MIXED, [Payment(date(2027, 2, 20), 56_000)], date(2027, 2, 20)).payments[0]
    assert result.allocations == (
        Allocation(1, interest_minor=3_000, fees_minor=5_000, principal_minor=42_000),
        Allocation(2, interest_minor=2_500, fees_minor=2_000, principal_minor=1_500),
    )
    assert (result.overpaid_minor, result.refunded_minor) == (0, 0)
    assert result.balance_after_minor == 150_000 - 56_000  # 940.00


def test_a_partial_payment_settles_fees_then_interest_then_principal() -> None:
    # 65.00 on line 1's date: its 50.00 fees, then 15.00 of its 30.00 interest
    on = date(2027, 1, 15)
    paid = state(MIXED, [Payment(on, 6_500)], on)
    assert paid.payments[0].allocations == (Allocation(1, 1_500, 5_000, 0),)
    assert paid.instalments[0].status is InstalmentStatus.PARTLY_PAID
    assert paid.instalments[0].remaining_minor == 50_000 - 6_500  # 435.00
    # the policy's order, not a fixed one: principal first takes all 65.00 as principal
    principal_first = Policy(
        holiday_country=None,
        waterfall=(Component.PRINCIPAL, Component.INTEREST, Component.FEES),
    )
    other = state(MIXED, [Payment(on, 6_500)], on, policy=principal_first)
    assert other.payments[0].allocations == (Allocation(1, 0, 0, 6_500),)


@pytest.mark.parametrize("policy", [POLICY, REFUND], ids=["reduce_last", "refund"])
def test_paying_the_next_instalment_early_is_not_an_overpayment(policy: Policy) -> None:
    # 500.00 on 10 Jan, five days before line 1: it pays line 1, under either rule
    early = state(THREE, [Payment(date(2027, 1, 10), 50_000)], date(2027, 1, 10), policy=policy)
    result = early.payments[0]
    assert result.allocations == (Allocation(1, 0, 0, 50_000),)
    assert (result.overpaid_minor, result.refunded_minor) == (0, 0)
    # 1,000.00 on line 1's date: line 1 (due) and line 2 (the next), still nothing over
    both = state(THREE, [Payment(date(2027, 1, 15), 100_000)], date(2027, 1, 15), policy=policy)
    assert [a.number for a in both.payments[0].allocations] == [1, 2]
    assert both.payments[0].overpaid_minor == 0


def test_overpayment_reduce_last_pays_the_last_lines_first() -> None:
    # four lines of 500.00; 1,600.00 on line 1's date: 500.00 line 1 (due) + 500.00 line 2
    # (next); the 600.00 over goes from the end: 500.00 to line 4, then 100.00 to line 3
    four = level(50_000, *MONTHLY, date(2027, 4, 15))
    on = date(2027, 1, 15)
    result = state(four, [Payment(on, 160_000)], on).payments[0]
    assert [(a.number, a.principal_minor) for a in result.allocations] == [
        (1, 50_000),
        (2, 50_000),
        (4, 50_000),
        (3, 10_000),
    ]
    assert (result.overpaid_minor, result.refunded_minor) == (60_000, 0)
    assert result.balance_after_minor == 200_000 - 160_000  # 400.00, all on line 3


def test_overpayment_refund_hands_the_excess_back_and_leaves_the_balance() -> None:
    # the same 1,600.00 under the refund rule: lines 1 and 2 paid, 600.00 refunded
    four = level(50_000, *MONTHLY, date(2027, 4, 15))
    on = date(2027, 1, 15)
    refunded = state(four, [Payment(on, 160_000)], on, policy=REFUND)
    result = refunded.payments[0]
    assert [a.number for a in result.allocations] == [1, 2]
    assert (result.overpaid_minor, result.refunded_minor) == (60_000, 60_000)
    assert result.balance_after_minor == 100_000  # lines 3 and 4 untouched
    assert (refunded.paid_minor, refunded.refunded_minor) == (100_000, 60_000)
    assert [s.status for s in refunded.instalments[2:]] == [InstalmentStatus.DUE] * 2


def test_money_after_the_last_line_is_refunded_even_under_reduce_last() -> None:
    # 1,600.00 on a plan of 1,500.00: nothing is left to reduce, 100.00 comes back
    on = date(2027, 1, 15)
    done = state(THREE, [Payment(on, 160_000)], on)
    assert done.payments[0].refunded_minor == 10_000
    assert done.status is PlanStatus.COMPLETED
    assert (done.paid_minor, done.outstanding_minor) == (150_000, 0)


# ---- statuses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "line_2", "days_late"),
    [
        # line 1 paid on its date; 200.00 paid early on line 2 (due 15 Feb)
        (date(2027, 2, 10), InstalmentStatus.PARTLY_PAID, 0),
        (date(2027, 2, 15), InstalmentStatus.PARTLY_PAID, 0),  # its day: not late yet
        (date(2027, 2, 16), InstalmentStatus.LATE, 1),
        (date(2027, 3, 1), InstalmentStatus.LATE, 14),  # 14 days: one short of missed
        (date(2027, 3, 2), InstalmentStatus.MISSED, 15),  # 15 Feb + 15 days
    ],
)
def test_instalment_status_on_a_day(on: date, line_2: InstalmentStatus, days_late: int) -> None:
    payments = [Payment(date(2027, 1, 15), 50_000), Payment(date(2027, 2, 10), 20_000)]
    plan = state(THREE, payments, on)
    first, second, third = plan.instalments
    assert (first.status, first.days_late) == (InstalmentStatus.PAID, 0)
    assert (second.status, second.days_late, second.paid_minor) == (line_2, days_late, 20_000)
    assert third.status is InstalmentStatus.DUE
    # one missed instalment, 15 days late at most: the plan stands
    assert plan.status is PlanStatus.ACTIVE and plan.revocation is None
    assert plan.outstanding_minor == 150_000 - 70_000  # 800.00
    assert plan.next_due is second


def test_an_unpaid_line_is_due_until_its_date() -> None:
    plan = state(THREE, [], date(2027, 1, 15))
    assert [s.status for s in plan.instalments] == [InstalmentStatus.DUE] * 3
    assert plan.next_due is not None and plan.next_due.number == 1


WEEKLY = level(25_000, *(date(2027, 1, 1) + timedelta(weeks=k) for k in range(4)))


@pytest.mark.parametrize(
    ("on", "status", "reason"),
    [
        # 22 Jan: line 1 (1 Jan) 21 days late, missed; line 2 (8 Jan) 14 days, late: one missed
        (date(2027, 1, 22), PlanStatus.ACTIVE, None),
        # 23 Jan: line 2 reaches 15 days: two missed (line 1 is 22 days late, under 30)
        (date(2027, 1, 23), PlanStatus.BROKEN, "2 instalments missed"),
    ],
)
def test_a_plan_breaks_at_two_missed_instalments(
    on: date, status: PlanStatus, reason: str | None
) -> None:
    plan = state(WEEKLY, [], on)
    assert (plan.status, plan.broken_reason) == (status, reason)


@pytest.mark.parametrize(
    ("on", "status", "reason"),
    [
        (date(2027, 2, 13), PlanStatus.ACTIVE, None),  # line 1 (15 Jan) 29 days late
        (date(2027, 2, 14), PlanStatus.BROKEN, "an instalment 30 days late"),
    ],
)
def test_a_plan_breaks_at_one_instalment_thirty_days_late(
    on: date, status: PlanStatus, reason: str | None
) -> None:
    plan = state(THREE, [], on)
    assert (plan.status, plan.broken_reason) == (status, reason)
    assert sum(s.status is InstalmentStatus.MISSED for s in plan.instalments) == 1


def test_a_plan_paid_in_full_is_completed() -> None:
    payments = [
        Payment(date(2027, 1, 15), 50_000),
        Payment(date(2027, 2, 20), 50_000),  # five days late, then paid: no longer late
        Payment(date(2027, 3, 1), 50_000),  # line 3 early
    ]
    plan = state(THREE, payments, date(2027, 12, 31))
    assert plan.status is PlanStatus.COMPLETED
    assert [s.status for s in plan.instalments] == [InstalmentStatus.PAID] * 3
    assert (plan.outstanding_minor, plan.paid_minor, plan.next_due) == (0, 150_000, None)


# ---- a broken plan loses its discount ------------------------------------------------------

# 10,000.00 principal, 350.00 interest and 150.00 fees in arrears, 95 days past due
DEBT = Debt("CNY", 1_000_000, 35_000, 15_000, Decimal("0.18"), date(2027, 1, 4), 95)


def test_a_broken_settlement_plan_owes_the_debt_less_each_payment_down_the_waterfall() -> None:
    # Default bands: 10 % from 90 days past due; a plan earns half: 5 % of 10,500.00 = 525.00,
    # taken fees (150.00), interest (350.00), principal (25.00). 9,975.00 in three lines of
    # 3,325.00 from 4 Feb 2027 (4 Apr 2027 is a Sunday: the last line is paid on 5 Apr).
    offer = settlement_plan(DEBT, policy=POLICY, instalments=3)
    lines = lines_of(offer)
    assert [(x.payment_date, x.payment_minor) for x in lines] == [
        (date(2027, 2, 4), 332_500),
        (date(2027, 3, 4), 332_500),
        (date(2027, 4, 5), 332_500),
    ]
    assert offer.waiver == Waiver(fees_minor=15_000, interest_minor=35_000, principal_minor=2_500)
    # line 1 paid in two parts (100.00, then 3,225.00 three days late); line 2 never
    payments = [Payment(date(2027, 2, 4), 10_000), Payment(date(2027, 2, 7), 322_500)]
    active = state(lines, payments, date(2027, 4, 2), owed=offer.owed, waiver=offer.waiver)
    assert active.status is PlanStatus.ACTIVE  # line 2 is 29 days late on 2 Apr
    assert active.outstanding_minor == 997_500 - 332_500  # 6,650.00 of the discounted total
    broken = state(lines, payments, date(2027, 4, 3), owed=offer.owed, waiver=offer.waiver)
    assert (broken.status, broken.broken_reason) == (
        PlanStatus.BROKEN,
        "an instalment 30 days late",
    )
    revocation = broken.revocation
    assert revocation is not None
    assert revocation.owed_before == Owed(1_000_000, 35_000, 15_000)
    assert revocation.waiver_revoked == offer.waiver
    # credited line by line, from the original debt: payment 1 (100.00) all to fees;
    # payment 2 (3,225.00): the last 50.00 of fees, 350.00 interest, 2,825.00 principal
    assert revocation.credited == (
        Allocation(1, interest_minor=0, fees_minor=10_000, principal_minor=0),
        Allocation(2, interest_minor=35_000, fees_minor=5_000, principal_minor=282_500),
    )
    # 10,500.00 - 3,325.00 = 7,175.00, all principal: the 525.00 discount is owed again
    assert revocation.owed_after == Owed(717_500, 0, 0)
    assert broken.outstanding_minor == 717_500 == active.outstanding_minor + 52_500


def test_a_broken_plan_that_waived_arrears_owes_them_again() -> None:
    # arrears waived: 350.00 interest + 150.00 fees forgiven, 10,000.00 in four lines of
    # 2,500.00 (4 Feb, 4 Mar, 5 Apr, 4 May 2027). One line paid, then nothing.
    policy = Policy(holiday_country=None, arrears=ArrearsTreatment.WAIVE)
    offer = instalment_plan(DEBT, policy=policy, term=4)
    lines = lines_of(offer)
    assert [x.payment_minor for x in lines] == [250_000] * 4
    assert offer.waiver == Waiver(fees_minor=15_000, interest_minor=35_000)
    payments = [Payment(date(2027, 2, 4), 250_000)]
    # 4 Mar + 30 days = 3 Apr: line 2 thirty days late
    broken = state(
        lines, payments, date(2027, 4, 3), policy=policy, owed=offer.owed, waiver=offer.waiver
    )
    assert broken.status is PlanStatus.BROKEN
    assert broken.revocation is not None
    # 2,500.00 credited to fees 150.00, interest 350.00, principal 2,000.00
    assert broken.revocation.credited == (Allocation(1, 35_000, 15_000, 200_000),)
    assert broken.revocation.owed_after == Owed(800_000, 0, 0)
    assert broken.outstanding_minor == 800_000  # 7,500.00 on the plan + 500.00 waived


def test_a_broken_plan_without_a_discount_keeps_its_own_balance() -> None:
    # the 12 % plan: line 1 paid on its date, line 2 never: 30 days late on 14 Apr
    broken = state(
        INTEREST_LINES,
        [Payment(date(2027, 2, 15), 102_007)],
        date(2027, 4, 14),
        owed=Owed(300_000, 0, 0),
    )
    assert broken.status is PlanStatus.BROKEN
    # Nothing was waived, so nothing is revoked: what is owed is the plan's own 2,040.13.
    # (Recomputing from the 3,000.00 debt would credit line 1's 30.00 of interest as
    # principal: 1,979.93, less than the 2,009.93 of principal still unpaid.)
    assert broken.revocation is None
    assert broken.outstanding_minor == 102_007 + 102_006


# ---- payoff ------------------------------------------------------------------------------


def quote_on(payments: list[Payment], on: date, *, settlement: bool = False) -> int:
    plan = state(INTEREST_LINES, payments, on, owed=Owed(300_000, 0, 0))
    quote = plan_payoff(
        INTEREST_LINES,
        plan,
        settlement=settlement,
        nominal_annual_rate=Decimal("0.12"),
        as_of=INTEREST_AS_OF,
        on=on,
        policy=POLICY,
    )
    assert quote.amount_minor == (
        quote.principal_minor + quote.interest_minor + quote.fees_minor - quote.waived_minor
    )
    return quote.amount_minor


def parts_on(payments: list[Payment], on: date) -> tuple[int, int, int, int, int]:
    """Principal, interest, accrued interest, fees and waived of ``quote_on``'s quote."""
    plan = state(INTEREST_LINES, payments, on, owed=Owed(300_000, 0, 0))
    q = plan_payoff(
        INTEREST_LINES,
        plan,
        settlement=False,
        nominal_annual_rate=Decimal("0.12"),
        as_of=INTEREST_AS_OF,
        on=on,
        policy=POLICY,
    )
    return (
        q.principal_minor,
        q.interest_minor,
        q.accrued_interest_minor,
        q.fees_minor,
        q.waived_minor,
    )


def engine_payoff(offer: Offer, policy: Policy, payments: list[Payment], on: date) -> int:
    lines = lines_of(offer)
    plan = plan_state(lines, payments, on=on, policy=policy, owed=offer.owed, waiver=offer.waiver)
    return plan_payoff(
        lines,
        plan,
        settlement=False,
        nominal_annual_rate=offer.terms.nominal_annual_rate,
        as_of=offer.as_of,
        on=on,
        policy=policy,
        interest_arrears_minor=offer.owed.interest_minor - offer.waiver.interest_minor,
    ).amount_minor


def test_payoff_before_any_payment() -> None:
    # day 0: the debt itself
    assert quote_on([], INTEREST_AS_OF) == 300_000
    # 5 Feb, 21 days: 3,000.00 x 12 % x 21/365 = 20.7123 -> 20.71 accrued, half (10.355 ->
    # 10.36) waived: 3,000.00 + 20.71 - 10.36 = 3,010.35
    assert quote_on([], date(2027, 2, 5)) == 301_035


def test_payoff_owes_unpaid_interest_of_a_past_line_and_accrual_since() -> None:
    # 25 Feb, line 1 unpaid: 3,000.00 principal, line 1's 30.00 interest, then 10 days since
    # 15 Feb: 3,000.00 x 12 % x 10/365 = 9.8630 -> 9.86, half waived 4.93:
    # 3,000.00 + 30.00 + 9.86 - 4.93 = 3,034.93
    assert quote_on([], date(2027, 2, 25)) == 303_493


def test_payoff_on_a_due_date_after_paying_it_is_the_closing_balance() -> None:
    # line 1 paid on 15 Feb; a quote that day: line 1's closing balance, 2,009.93
    assert quote_on([Payment(date(2027, 2, 15), 102_007)], date(2027, 2, 15)) == 200_993


def test_payoff_credits_interest_paid_ahead_of_its_date() -> None:
    # Line 1 (due 15 Feb, 30.00 of it interest for 15 Jan - 15 Feb) paid early on 1 Feb;
    # a quote on 5 Feb: principal 2,009.93; accrued since 15 Jan on it: 2,009.93 x 12 % x
    # 21/365 = 13.8768 -> 13.88, half (6.94) waived; the 30.00 already paid for the period
    # is credited: 2,009.93 + 13.88 - 30.00 - 6.94 = 1,986.87. Charging the 13.88 on top of
    # the 30.00 would take the period's interest twice (2,016.87).
    paid_early = [Payment(date(2027, 2, 1), 102_007)]
    assert quote_on(paid_early, date(2027, 2, 5)) == 198_687
    # the 30.00 comes off the principal: the interest shown is the 13.88 accrued, never -16.12
    assert parts_on(paid_early, date(2027, 2, 5)) == (200_993 - 3_000, 1_388, 1_388, 0, 694)
    # on day 0, whatever was paid that day comes off the debt exactly
    assert quote_on([Payment(INTEREST_AS_OF, 102_007)], INTEREST_AS_OF) == 300_000 - 102_007


def test_payoff_after_an_overpayment_credits_interest_paid_ahead_against_principal() -> None:
    # 2,540.14 on 20 Feb: line 1 (due 15 Feb) 1,020.07, line 2 paid ahead 1,020.07, and the
    # 500.00 over-payment pays the last line first (reduce_last): its 10.10 of interest, then
    # 489.90 of principal. Interest paid for days not yet run: 20.10 + 10.10 = 30.20.
    # A quote on 25 Feb: principal unpaid 1,009.96 - 489.90 = 520.06; 10 days accrued since
    # 15 Feb: 520.06 x 12 % x 10/365 = 1.7098 -> 1.71, half waived 0.855 -> 0.86 (half up).
    # The 30.20 comes off the principal (520.06 - 30.20 = 489.86), not the interest (which
    # showed 1.71 - 30.20 = -28.49): 489.86 + 1.71 - 0.86 = 490.71, the same amount as before.
    paid = [Payment(date(2027, 2, 20), 254_014)]
    on = date(2027, 2, 25)
    assert state(INTEREST_LINES, paid, on).payments[0].overpaid_minor == 50_000
    assert parts_on(paid, on) == (48_986, 171, 171, 0, 86)
    assert quote_on(paid, on) == 48_986 + 171 - 86 == 49_071


def test_a_broken_plan_gets_no_early_payoff_waiver() -> None:
    # Nothing paid on INTEREST_LINES (nothing waived, so nothing to revoke). Line 1 (15 Feb)
    # is 30 days late on 17 Mar: the plan breaks (break_after_days_late = 30).
    # 16 Mar, still active: 3,000.00 principal; lines 1 and 2's interest 30.00 + 20.10 = 50.10;
    # 1 day since 15 Mar: 3,000.00 x 12 % / 365 = 0.9863 -> 0.99, half waived 0.495 -> 0.50:
    # 3,000.00 + 50.10 + 0.99 - 0.50 = 3,050.59.
    assert quote_on([], date(2027, 3, 16)) == 305_059
    # 17 Mar, broken: 2 days accrued, 3,000.00 x 12 % x 2/365 = 1.9726 -> 1.97, none waived:
    # 3,000.00 + 50.10 + 1.97 = 3,052.07.
    broken = state(INTEREST_LINES, [], date(2027, 3, 17))
    assert broken.status is PlanStatus.BROKEN and broken.revocation is None
    assert parts_on([], date(2027, 3, 17)) == (300_000, 5_010 + 197, 197, 0, 0)
    assert quote_on([], date(2027, 3, 17)) == 305_207


def test_a_broken_plan_loses_the_fee_waiver_too() -> None:
    # MIXED at no interest, a policy waiving all fees on an early payoff. Nothing paid; on
    # 10 Feb line 1 (15 Jan) is 26 days late (missed, not yet broken): principal 420.00 +
    # 455.00 + 500.00 = 1,375.00, line 1's interest 30.00, fees 50.00 + 20.00 = 70.00, all
    # waived: 1,405.00. On 14 Feb it is 30 days late: broken, the 70.00 is owed: 1,475.00.
    policy = Policy(holiday_country=None, payoff_fee_waiver_bps=10_000)

    def quote(on: date) -> tuple[PlanStatus, int, int]:
        plan = state(MIXED, [], on, policy=policy)
        q = plan_payoff(
            MIXED,
            plan,
            settlement=False,
            nominal_annual_rate=Decimal(0),
            as_of=date(2026, 12, 15),
            on=on,
            policy=policy,
        )
        return plan.status, q.waived_minor, q.amount_minor

    assert quote(date(2027, 2, 10)) == (PlanStatus.ACTIVE, 7_000, 140_500)
    assert quote(date(2027, 2, 14)) == (PlanStatus.BROKEN, 0, 147_500)


def test_payoff_before_the_first_line_owes_the_arrears_it_folds_in() -> None:
    # The default policy folds the 350.00 of interest and 150.00 of fees in arrears into the
    # plan, paid first: four lines of 2,625.00, the first 150.00 fees + 350.00 interest +
    # 2,125.00 principal. Before that line is due, the arrears are owed all the same: the
    # whole 10,500.00 (not 10,150.00), as the offer's own payoff quote says.
    offer = instalment_plan(DEBT, policy=POLICY, term=4)
    assert lines_of(offer)[0] == ScheduledLine(
        1, date(2027, 2, 4), 262_500, 35_000, 15_000, 212_500
    )
    for on in (DEBT.as_of, date(2027, 1, 20)):  # an interest freeze: nothing accrues
        assert engine_payoff(offer, POLICY, [], on) == 1_050_000
        assert payoff_quote(offer, on, policy=POLICY).amount_minor == 1_050_000
    # line 1 paid early: 10,500.00 - 2,625.00
    assert (
        engine_payoff(offer, POLICY, [Payment(date(2027, 1, 10), 262_500)], date(2027, 1, 20))
        == 787_500
    )


def test_payoff_of_a_settlement_is_what_remains_of_its_discounted_total() -> None:
    offer = settlement_plan(DEBT, policy=POLICY, instalments=3)
    lines = lines_of(offer)
    plan = state(
        lines,
        [Payment(date(2027, 2, 4), 332_500)],
        date(2027, 2, 10),
        owed=offer.owed,
        waiver=offer.waiver,
    )
    quote = plan_payoff(
        lines,
        plan,
        settlement=True,
        nominal_annual_rate=Decimal("0.18"),
        as_of=DEBT.as_of,
        on=date(2027, 2, 10),
        policy=POLICY,
    )
    assert quote.amount_minor == 665_000  # 9,975.00 - 3,325.00


def test_payoff_of_a_broken_plan_is_its_recomputed_balance() -> None:
    offer = settlement_plan(DEBT, policy=POLICY, instalments=3)
    lines = lines_of(offer)
    on = date(2027, 4, 3)
    plan = state(
        lines, [Payment(date(2027, 2, 4), 332_500)], on, owed=offer.owed, waiver=offer.waiver
    )
    quote = plan_payoff(
        lines,
        plan,
        settlement=True,
        nominal_annual_rate=Decimal("0.18"),
        as_of=DEBT.as_of,
        on=on,
        policy=POLICY,
    )
    assert quote.amount_minor == 717_500  # 10,500.00 - 3,325.00
    # a discount revoked: nothing accrues and the early-payoff waiver is gone with it
    assert (quote.accrued_interest_minor, quote.waived_minor) == (0, 0)


def test_a_payoff_before_the_as_of_date_is_refused() -> None:
    with pytest.raises(InvalidDate):
        quote_on([], date(2027, 1, 14))


def test_payments_must_be_positive_and_not_before_acceptance() -> None:
    with pytest.raises(DomainError, match="more than zero"):
        state(THREE, [Payment(date(2027, 1, 15), 0)], date(2027, 1, 15))
    with pytest.raises(InvalidDate):
        check_payment(Payment(date(2027, 1, 1), 100), accepted_on=date(2027, 1, 2))
    assert check_payment(Payment(date(2027, 1, 2), 100), accepted_on=date(2027, 1, 2))


def test_lines_whose_parts_do_not_add_up_are_refused() -> None:
    with pytest.raises(DomainError, match="do not add up"):
        state([ScheduledLine(1, date(2027, 1, 15), 100, 0, 0, 99)], [], date(2027, 1, 15))


# ---- relations that always hold -------------------------------------------------------------

START = date(2027, 1, 1)


@st.composite
def plans_and_payments(draw: st.DrawFn) -> tuple[list[ScheduledLine], list[Payment], date]:
    count = draw(st.integers(1, 8))
    lines = []
    for k in range(1, count + 1):
        fees, interest, principal = (draw(st.integers(0, 20_000)) for _ in range(3))
        if fees + interest + principal == 0:
            principal = 1
        due = START + timedelta(days=30 * k)
        lines.append(ScheduledLine(k, due, fees + interest + principal, interest, fees, principal))
    days = draw(st.lists(st.integers(0, 30 * count + 60), max_size=10, unique=True))
    payments = [Payment(START + timedelta(days=d), draw(st.integers(1, 40_000))) for d in days]
    on = START + timedelta(days=draw(st.integers(0, 30 * count + 90)))
    return lines, payments, on


@settings(max_examples=300, deadline=None)
@given(case=plans_and_payments(), rule=st.sampled_from(list(Overpayment)), seed=st.integers())
def test_every_minor_unit_paid_is_allocated_or_refunded(
    case: tuple[list[ScheduledLine], list[Payment], date], rule: Overpayment, seed: int
) -> None:
    lines, payments, on = case
    policy = Policy(holiday_country=None, overpayment=rule.value)
    plan = state(lines, payments, on, policy=policy)
    for result in plan.payments:
        allocated = sum(a.total_minor for a in result.allocations)
        assert allocated + result.refunded_minor == result.payment.amount_minor
        assert 0 <= result.refunded_minor <= result.overpaid_minor
        assert all(
            min(a.interest_minor, a.fees_minor, a.principal_minor) >= 0 for a in result.allocations
        )
        assert result.balance_after_minor >= 0
        if rule is Overpayment.REDUCE_LAST and result.refunded_minor:
            assert result.balance_after_minor == 0  # only money beyond the whole plan
    for s in plan.instalments:
        assert 0 <= s.paid_minor <= s.due_minor and s.remaining_minor >= 0
    total_due = sum(x.payment_minor for x in lines)
    paid = sum(p.amount_minor for p in payments)
    assert plan.paid_minor + plan.refunded_minor == paid
    if plan.revocation is None:
        assert plan.outstanding_minor == total_due - plan.paid_minor >= 0
    # the engine applies payments in date order, whatever order they are given in
    shuffled = payments[:]
    random.Random(seed).shuffle(shuffled)
    assert state(lines, shuffled, on, policy=policy) == plan


@settings(max_examples=200, deadline=None)
@given(case=plans_and_payments())
def test_a_frozen_plans_payoff_is_what_is_left_on_any_day(
    case: tuple[list[ScheduledLine], list[Payment], date],
) -> None:
    lines, payments, on = case
    # an interest freeze (no interest on the lines): nothing accrues, nothing is waived, and
    # the payoff is what is left to pay, never below nothing
    frozen = [
        ScheduledLine(
            x.number,
            x.payment_date,
            x.fees_minor + x.principal_minor,
            0,
            x.fees_minor,
            x.principal_minor,
        )
        for x in lines
    ]
    frozen = [x for x in frozen if x.payment_minor]
    if not frozen:
        return
    total = sum(x.payment_minor for x in frozen)
    plan = plan_state(
        frozen,
        payments,
        on=on,
        policy=POLICY,
        owed=Owed(sum(x.principal_minor for x in frozen), 0, sum(x.fees_minor for x in frozen)),
        waiver=NO_WAIVER,
    )
    quote = plan_payoff(
        frozen,
        plan,
        settlement=False,
        nominal_annual_rate=Decimal(0),
        as_of=START,
        on=on,
        policy=POLICY,
    )
    assert quote.amount_minor == plan.outstanding_minor == total - plan.paid_minor >= 0


@st.composite
def accepted_plans(draw: st.DrawFn) -> tuple[Offer, Policy]:
    debt = draw(debts(currency="CNY"))
    policy = Policy(
        holiday_country=None,
        plan_rate=draw(st.sampled_from([Decimal(0), None])),
        arrears=draw(st.sampled_from(list(ArrearsTreatment))),
    )
    try:
        offer = instalment_plan(debt, policy=policy, term=draw(st.integers(1, 24)))
    except DomainError:
        assume(False)
        raise
    return offer, policy


@settings(max_examples=150, deadline=None)
@given(case=accepted_plans(), share=st.fractions(0, 1))
def test_a_day_zero_payoff_is_the_debt_and_every_payment_comes_off_it(
    case: tuple[Offer, Policy], share: Fraction
) -> None:
    offer, policy = case
    owed = offer.owed.total_minor - offer.waiver.total_minor  # arrears forgiven, if waived
    assert engine_payoff(offer, policy, [], offer.as_of) == owed
    # the offer's own quote (plans.payoff.payoff_quote) says the same
    assert payoff_quote(offer, offer.as_of, policy=policy).amount_minor == owed
    paid = max(1, int(share * owed))
    after = engine_payoff(offer, policy, [Payment(offer.as_of, paid)], offer.as_of)
    assert after == owed - paid
