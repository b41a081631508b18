"""Relations of an accepted plan's payoff quote (``plans.payments.plan_payoff``); the
hand-checked quotes are in test_payments.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from plans.offer import Owed
from plans.payments import (
    Overpayment,
    Payment,
    ScheduledLine,
    plan_payoff,
    plan_state,
)
from plans.payoff import PayoffQuote
from plans.policy import Policy
from plans.schedule import Waiver
from tests.plans.test_payments import START, plans_and_payments

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
) -> PayoffQuote:
    lines, payments, on = case
    owed = Owed(sum(x.principal_minor for x in lines), arrears, sum(x.fees_minor for x in lines))
    plan = plan_state(lines, payments, on=on, policy=policy, owed=owed, waiver=waiver)
    return plan_payoff(
        lines,
        plan,
        settlement=settlement,
        nominal_annual_rate=rate,
        as_of=START,
        on=on,
        policy=policy,
        interest_arrears_minor=arrears,
    )


@settings(max_examples=300, deadline=None)
@given(case=quoted_plans())
def test_no_part_of_a_quote_is_negative_and_the_parts_add_up(
    case: tuple[Case, Policy, Decimal, int, Waiver, bool],
) -> None:
    quote = quote_of(*case)
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
    quote = quote_of((lines, [], START), policy, rate, arrears, waiver, False)
    # principal, fees and the arrears folded in: no day has run, nothing accrued or waived
    owed = sum(x.principal_minor + x.fees_minor for x in lines) + arrears
    assert (quote.amount_minor, quote.accrued_interest_minor) == (owed, 0)
