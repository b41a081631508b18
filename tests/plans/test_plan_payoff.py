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
