"""Relations of an accepted plan's payoff quote (``plans.payments.plan_payoff``) and of how long
it holds (``standing_payoff``); the hand-checked quotes are in test_payments.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from plans.offer import Owed
from plans.payments import (
    Overpayment,
    Payment,
    PayoffTerms,
    PlanStatus,
    ScheduledLine,
    breaks_on,
    plan_state,
    standing_payoff,
)
from plans.payoff import PayoffQuote
from plans.policy import Policy
from plans.schedule import Waiver
from tests.plans.test_payments import INTEREST_AS_OF, INTEREST_LINES, START, plans_and_payments

RATES = [Decimal(0), Decimal("0.12"), Decimal("0.365")]
Case = tuple[list[ScheduledLine], list[Payment], date]


def money(q: PayoffQuote) -> tuple[int, ...]:
    """Every amount of a quote (not its date nor its day count)."""
    return (
        q.principal_minor,
        q.interest_minor,
        q.accrued_interest_minor,
        q.fees_minor,
        q.waived_minor,
        q.amount_minor,
    )


@st.composite
def quoted_plans(draw: st.DrawFn) -> tuple[Case, Policy, Decimal, int, Waiver, bool]:
    case = draw(plans_and_payments())
    lines, payments, on = case
    policy = Policy(
        holiday_country=None,
        overpayment=draw(st.sampled_from(list(Overpayment))).value,
        payoff_interest_waiver_bps=draw(st.sampled_from([0, 5_000, 10_000])),
        payoff_fee_waiver_bps=draw(st.sampled_from([0, 2_500, 10_000])),
    )
    # arrears are the first interest the lines schedule, so no more than all of it
    arrears = draw(st.integers(0, sum(x.interest_minor for x in lines)))
    # a discount makes a broken plan owe its recomputed balance
    waiver = draw(st.sampled_from([Waiver(), Waiver(0, 0, 1_000)]))
    rate = draw(st.sampled_from(RATES))
    # only what was paid by the day of the quote
    known = [p for p in payments if p.paid_on <= on]
    return (lines, known, on), policy, rate, arrears, waiver, draw(st.booleans())


def quote_of(
    case: Case, policy: Policy, rate: Decimal, arrears: int, waiver: Waiver, settlement: bool
) -> tuple[PayoffQuote, date | None]:
    lines, payments, on = case
    owed = Owed(sum(x.principal_minor for x in lines), arrears, sum(x.fees_minor for x in lines))
    plan = plan_state(lines, payments, on=on, policy=policy, owed=owed, waiver=waiver)
    held = standing_payoff(
        lines,
        plan,
        settlement=settlement,
        nominal_annual_rate=rate,
        as_of=START,
        on=on,
        policy=policy,
        interest_arrears_minor=arrears,
    )
    return held.quote, held.valid_until


@settings(max_examples=300, deadline=None)
@given(case=quoted_plans())
def test_no_part_of_a_quote_is_negative_and_the_parts_add_up(
    case: tuple[Case, Policy, Decimal, int, Waiver, bool],
) -> None:
    quote, _ = quote_of(*case)
    assert min(money(quote)) >= 0
    assert quote.amount_minor == (
        quote.principal_minor + quote.interest_minor + quote.fees_minor - quote.waived_minor
    )
    assert quote.accrued_interest_minor <= quote.interest_minor


@settings(max_examples=150, deadline=None)
@given(case=quoted_plans())
def test_the_quote_on_the_as_of_day_with_nothing_paid_is_the_debt(
    case: tuple[Case, Policy, Decimal, int, Waiver, bool],
) -> None:
    (lines, _, _), policy, rate, arrears, waiver, _ = case
    # (a policy that waives fees on a payoff waives them on day 0 too: tests/plans/test_payoff)
    policy = replace(policy, payoff_fee_waiver_bps=0)
    quote, _ = quote_of((lines, [], START), policy, rate, arrears, waiver, False)
    # principal, fees and the arrears folded in: no day has run, nothing accrued or waived
    owed = sum(x.principal_minor + x.fees_minor for x in lines) + arrears
    assert (quote.amount_minor, quote.accrued_interest_minor) == (owed, 0)


@settings(max_examples=200, deadline=None)
@given(case=quoted_plans())
def test_a_quote_holds_on_every_day_up_to_valid_until(
    case: tuple[Case, Policy, Decimal, int, Waiver, bool],
) -> None:
    (lines, payments, on), policy, rate, arrears, waiver, settlement = case
    quote, valid_until = quote_of(*case)
    if valid_until is None:  # only a payment changes it: try a long while
        last = on + timedelta(days=400)
    else:
        assert valid_until >= on
        last = valid_until
    day = on + timedelta(days=1)
    while day <= last:
        later, _ = quote_of((lines, payments, day), policy, rate, arrears, waiver, settlement)
        assert money(later) == money(quote), day
        day += timedelta(days=1)
    if valid_until is not None and rate == 0 and not settlement:
        # it says the last day: the next one is a payment date or the break
        after = valid_until + timedelta(days=1)
        assert after in {x.payment_date for x in lines} or after == breaks_on(
            plan_state(
                lines,
                payments,
                on=on,
                policy=policy,
                owed=Owed(0, 0, 0),
                waiver=Waiver(),
            ),
            policy,
        )


def test_valid_until_by_hand() -> None:
    policy = Policy(holiday_country=None)

    def until(on: date, payments: list[Payment], rate: str) -> date | None:
        plan = plan_state(
            INTEREST_LINES,
            payments,
            on=on,
            policy=policy,
            owed=Owed(300_000, 0, 0),
            waiver=Waiver(),
        )
        return standing_payoff(
            INTEREST_LINES,
            plan,
            settlement=False,
            nominal_annual_rate=Decimal(rate),
            as_of=INTEREST_AS_OF,
            on=on,
            policy=policy,
        ).valid_until

    paid = [Payment(date(2027, 2, 15), 102_007)]
    # interest at 12 % accrues daily: the quote of 20 Feb holds on 20 Feb only
    assert until(date(2027, 2, 20), paid, "0.12") == date(2027, 2, 20)
    # at a rate of 0 it changes when line 2 falls due (15 Mar): valid until 14 Mar
    assert until(date(2027, 2, 20), paid, "0") == date(2027, 3, 14)
    # nothing paid: line 1 (15 Feb) 30 days late breaks the plan on 17 Mar, before line 3's
    # 15 Apr; on 16 Mar the quote is valid that day only
    assert until(date(2027, 3, 16), [], "0") == date(2027, 3, 16)
    # broken and nothing accruing: only a payment changes it
    assert until(date(2027, 4, 20), [], "0") is None
    assert (
        plan_state(
            INTEREST_LINES,
            [],
            on=date(2027, 4, 20),
            policy=policy,
            owed=Owed(1, 0, 0),
            waiver=Waiver(),
        ).status
        is PlanStatus.BROKEN
    )


@settings(max_examples=300, deadline=None)
@given(case=quoted_plans(), extra=st.integers(0, 500))
def test_paying_the_quote_on_its_day_pays_the_plan_off(
    case: tuple[Case, Policy, Decimal, int, Waiver, bool], extra: int
) -> None:
    # What the page promises ("To finish today: X") holds: X paid that day completes the plan,
    # whatever the lines would have asked later; anything beyond X is handed back. One unit
    # less leaves it open, with something still owed.
    (lines, payments, on), policy, rate, arrears, waiver, settlement = case
    owed = Owed(sum(x.principal_minor for x in lines), arrears, sum(x.fees_minor for x in lines))
    terms = PayoffTerms(settlement, rate, START, arrears)
    before = plan_state(
        lines, payments, on=on, policy=policy, owed=owed, waiver=waiver, payoff=terms
    )
    if before.status is not PlanStatus.ACTIVE or before.outstanding_minor == 0:
        return  # broken (its recomputed balance) or paid up: no early payoff to make
    quote = standing_payoff(
        lines,
        before,
        settlement=settlement,
        nominal_annual_rate=rate,
        as_of=START,
        on=on,
        policy=policy,
        interest_arrears_minor=arrears,
    ).quote
    if quote.amount_minor + extra == 0:
        return  # nothing to pay (interest paid ahead covers the rest): no payment to make
    paid = [*payments, Payment(on, quote.amount_minor + extra)]
    after = plan_state(lines, paid, on=on, policy=policy, owed=owed, waiver=waiver, payoff=terms)
    assert after.status is PlanStatus.COMPLETED
    assert after.outstanding_minor == 0
    last = after.payments[-1]
    assert last.refunded_minor >= extra
    # every unit received is either credited to a line or handed back
    credited = sum(a.total_minor for r in after.payments for a in r.allocations)
    assert credited + after.refunded_minor == sum(p.amount_minor for p in paid)
    assert sum(s.paid_minor for s in after.instalments) == after.paid_minor == credited
    assert all(s.status.value == "paid" for s in after.instalments)
    if 1 < quote.amount_minor <= before.outstanding_minor:
        short = [*payments, Payment(on, quote.amount_minor - 1)]
        open_ = plan_state(
            lines, short, on=on, policy=policy, owed=owed, waiver=waiver, payoff=terms
        )
        assert open_.outstanding_minor > 0


def test_a_payoff_by_hand() -> None:
    # 3 x 505.00 (500.00 principal + 5.00 interest), 12 % a year, as of 15 Dec 2026; nothing
    # paid, the quote on 15 Dec 2026 (the as-of day: no interest accrued yet) is the principal:
    # 1,500.00. Paid that day it closes the plan; the 15.00 of interest the lines scheduled for
    # later is not owed.
    lines = [ScheduledLine(k, date(2027, k, 15), 50_500, 500, 0, 50_000) for k in (1, 2, 3)]
    terms = PayoffTerms(False, Decimal("0.12"), date(2026, 12, 15))
    state = plan_state(
        lines,
        [Payment(date(2026, 12, 15), 150_000)],
        on=date(2026, 12, 16),
        policy=Policy(holiday_country=None),
        owed=Owed(150_000, 0, 0),
        waiver=Waiver(),
        payoff=terms,
    )
    assert (state.status, state.paid_minor, state.forgiven_minor) == (
        PlanStatus.COMPLETED,
        150_000,
        1_500,
    )
    assert state.paid_off_on == date(2026, 12, 15)
    assert [s.due_minor for s in state.instalments] == [50_000, 50_000, 50_000]
