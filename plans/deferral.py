"""Deferral plans: a pause of a few periods, with no or token payments, then instalments.

The pause lines are shown explicitly, each with the interest its period generates, and the
policy says what becomes of that interest: capitalised into principal when the pause ends,
accrued as interest arrears paid first once instalments start, or waived period by period.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from plans.amortisation import (
    Amortisation,
    Balance,
    PlanDates,
    PlanSpec,
    amortise,
    arrears_waiver,
    line,
)
from plans.annuity import shortest_term
from plans.calendar import Frequency
from plans.debt import Capacity, Debt, check_amount
from plans.errors import DomainError, ExceedsCapacity, NotAllowed, TermBeyondMax
from plans.instalment import (
    check_fit,
    check_term,
    finish,
    first_due_date,
    plan_days,
    plan_rate,
    raised_level,
)
from plans.money import apply_rate, label
from plans.offer import Offer, Terms
from plans.policy import DeferralInterest, OfferKind, Policy, per_period
from plans.schedule import Line, LineKind, Schedule, Waiver


def deferral_lines(
    balance: Balance,
    *,
    due: list[date],
    paid_on: list[date],
    rates: list[Fraction],
    payment_minor: int,
    treatment: DeferralInterest,
    policy: Policy,
    waive_arrears: tuple[int, int] | None,
) -> tuple[list[Line], int]:
    """Lines of a pause; return them and the deferral interest waived.

    ``waive_arrears`` (fees, interest) are waived on the first line when the policy waives
    arrears.
    """
    lines: list[Line] = []
    waived_accrued = 0
    old_interest = balance.interest
    for k, (due_on, paid, rate) in enumerate(zip(due, paid_on, rates, strict=True)):
        opening = balance.total
        waived = 0
        if k == 0 and waive_arrears is not None:
            balance.fees -= waive_arrears[0]
            balance.interest -= waive_arrears[1]
            old_interest -= waive_arrears[1]
            waived += sum(waive_arrears)
        accrued = apply_rate(balance.principal, rate, policy.rounding)
        if treatment is DeferralInterest.WAIVE:
            waived += accrued
            waived_accrued += accrued
        else:
            balance.interest += accrued
        payment = min(payment_minor, balance.total)
        parts = balance.settle(payment, policy.waterfall)
        # Token payments settle the oldest interest first; what is left of the pause's own
        # interest is what gets capitalised.
        old_interest = max(0, old_interest - parts[0])
        if treatment is DeferralInterest.CAPITALISE and k == len(due) - 1:
            deferred = balance.interest - old_interest
            balance.interest -= deferred
            balance.principal += deferred
        lines.append(
            line(
                k + 1,
                LineKind.DEFERRAL,
                due_on,
                paid,
                opening=opening,
                payment=payment,
                parts=parts,
                waived=waived,
                accrued=accrued,
                balance=balance,
            )
        )
    return lines, waived_accrued


def deferral_plan(
    debt: Debt,
    *,
    policy: Policy,
    capacity: Capacity | None = None,
    periods: int | None = None,
    deferral_payment_minor: int = 0,
    interest: DeferralInterest | None = None,
    term: int | None = None,
    payment_minor: int | None = None,
    amortisation: Amortisation = Amortisation.EQUAL_INSTALMENT,
    frequency: Frequency | None = None,
    nominal_annual_rate: Decimal | None = None,
    dates: PlanDates | None = None,
) -> Offer:
    """A pause of ``periods`` periods (the policy's default if not given), then instalments.

    During the pause the debtor pays ``deferral_payment_minor`` a period (0: nothing). The
    instalments then run for ``term`` periods, or the fewest that fit the capacity. Pause and
    instalments together stay within the policy's maximum term.

    Examples
    --------
    >>> debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0.12"), date(2026, 11, 25), 45)
    >>> offer = deferral_plan(debt, policy=Policy(plan_rate=None), periods=2, term=10)
    >>> [x.kind.value for x in offer.schedule.lines[:3]]
    ['deferral', 'deferral', 'instalment']
    >>> offer.schedule.lines[1].closing_principal_minor  # two months' interest capitalised
    1224000
    """
    frequency = frequency or (capacity.frequency if capacity else Frequency.MONTHLY)
    treatment = interest or policy.deferral_interest
    count = policy.deferral_periods if periods is None else periods
    if count < 1:
        raise NotAllowed("deferral_periods", "min_deferral", "a deferral pauses at least 1 period")
    if count > policy.deferral_max_periods:
        raise NotAllowed(
            "deferral_periods",
            "max_deferral",
            f"{count} periods exceed the policy's maximum deferral of"
            f" {policy.deferral_max_periods}",
        )
    check_amount(deferral_payment_minor, field="deferral_payment")
    if (
        capacity is not None
        and capacity.payment_minor
        and deferral_payment_minor > capacity.payment_minor
    ):
        raise ExceedsCapacity(
            "deferral_payment", "capacity", "the token payment exceeds the stated capacity"
        )
    annual = plan_rate(debt, policy, nominal_annual_rate)
    limit = policy.max_periods(frequency.periods_per_year)
    if count >= limit:
        raise TermBeyondMax("deferral_periods", "max_term", "the pause uses up the maximum term")
    days = plan_days(capacity, frequency)
    first_due = first_due_date(debt, capacity, frequency, days=days)
    balance = Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor)
    waiver = arrears_waiver(balance, policy)

    # Due dates, payment dates and line rates are each prefix-stable (the k-th depends only on
    # the ones before it), so one list as long as the longest plan tried serves every layout:
    # the pause, each candidate term and each raised level (and, in a negotiation, the other
    # plans that start on the same date).
    shared = dates or PlanDates()

    def calendar(total: int) -> tuple[list[date], list[date], list[Fraction]]:
        return shared.lines(
            total,
            first_due=first_due,
            frequency=frequency,
            days=days,
            annual=annual,
            as_of=debt.as_of,
            policy=policy,
        )

    # The pause is the same whatever follows it (its dates and rates are a prefix of every
    # layout's): laid out once, its lines shared by each term tried and the balance it leaves
    # copied into each.
    after_pause = Balance(balance.principal, balance.interest, balance.fees)
    pause_due, pause_paid_on, pause_rates = calendar(count)
    pause, waived_accrued = deferral_lines(
        after_pause,
        due=pause_due,
        paid_on=pause_paid_on,
        rates=pause_rates,
        payment_minor=deferral_payment_minor,
        treatment=treatment,
        policy=policy,
        waive_arrears=(waiver.fees_minor, waiver.interest_minor) if waiver else None,
    )

    spec = PlanSpec(frequency, annual, amortisation, policy.rounding)

    def layout(n: int, level: int | None = None) -> tuple[list[Line], int, Schedule]:
        state = Balance(after_pause.principal, after_pause.interest, after_pause.fees)
        due, paid_on, rates = calendar(count + n)
        instalments, level = amortise(
            state,
            spec=spec,
            due=due[count:],
            paid_on=paid_on[count:],
            rates=rates[count:],
            first_number=count + 1,
            policy=policy,
            level_minor=level,
        )
        lines = pause + instalments
        return lines, level, Schedule.of(debt.currency, lines)

    if term is not None:
        check_term(term + count, frequency, policy)
        candidates = [term]
    else:
        bound = (
            payment_minor
            if payment_minor is not None
            else (capacity.payment_minor if capacity is not None else None)
        )
        if bound is None:
            raise DomainError("term", "required", "give a term, a payment or a capacity")
        after = pause[-1]  # the balance the pause leaves
        n = shortest_term(
            bound,
            principal=after.closing_principal_minor,
            arrears=after.closing_interest_minor + after.closing_fees_minor,
            first_rate=float(per_period(annual, frequency.periods_per_year)),
            rate=float(per_period(annual, frequency.periods_per_year)),
            limit=limit - count,
        )
        if n > limit - count:
            raise TermBeyondMax(
                "term",
                "max_term",
                f"after a {count}-period pause, repaying {label(bound, debt.currency)} a period"
                f" needs more than the policy's {policy.max_term_months} months",
            )
        candidates = [n, n + 1] if n < limit - count else [n]
        calendar(count + candidates[-1])  # the longest, once
    error: DomainError | None = None
    bounded = capacity if payment_minor is None else Capacity(payment_minor)
    for n in candidates:
        level: int | None = None
        while True:
            lines, made_level, schedule = layout(n, level)
            terms = Terms(
                frequency=frequency,
                first_due=first_due,
                instalments=len(lines) - count,
                instalment_minor=made_level,
                nominal_annual_rate=annual,
                amortisation=amortisation.value,
                deferral_periods=count,
                deferral_payment_minor=deferral_payment_minor,
                deferral_interest=treatment.value,
            )
            try:
                check_fit(schedule, capacity=bounded, policy=policy, currency=debt.currency)
            except DomainError as exc:
                error = exc
                level = raised_level(schedule, terms, bounded, exc, tried=level)
                if level is not None:
                    continue
                break
            made = waiver or Waiver()
            if waived_accrued:
                made = Waiver(made.fees_minor, made.interest_minor + waived_accrued)
            return finish(
                OfferKind.DEFERRAL,
                debt,
                schedule=schedule,
                terms=terms,
                waiver=made,
                capacity=capacity,
                policy=policy,
                waived_interest_accrued_minor=waived_accrued,
            )
    assert error is not None
    raise error
