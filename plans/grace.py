"""Grace periods: a few periods before the instalments in which no principal is repaid.

Two shapes, both laid out like a deferral's pause (:mod:`plans.deferral`: lines of kind
``deferral``, each showing the interest its period generates) and both ending with the
principal the plan started with, so the instalments that follow are an ordinary plan:

``interest_only`` (grace on principal)
    Each period's interest accrues as in a deferral that keeps it as interest
    (``DeferralInterest.ACCRUE``) and falls due at once: the line's payment is that interest,
    settled down the policy's waterfall like a deferral's token payment. Nothing is
    capitalised, nothing is waived, the principal stays whole.
``interest_free``
    Nothing accrues: the period's rate is zero, so the line shows no interest accrued and
    nothing waived. (A deferral that waives interest, ``DeferralInterest.WAIVE``, is a
    concession on a rate that keeps running: there the interest is shown accrued and waived.)
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from fractions import Fraction

from plans.calendar import Frequency, due_dates, payment_dates
from plans.debt import Capacity, Debt
from plans.errors import InvalidDate, NotAllowed
from plans.instalment import (
    Amortisation,
    Balance,
    PlanSpec,
    amortise,
    arrears_waiver,
    check_fit,
    check_term,
    down_payment,
    down_payment_line,
    finish,
    first_due_date,
    line,
    line_rates,
    plan_rate,
)
from plans.money import apply_rate
from plans.offer import Offer, Terms
from plans.policy import OfferKind, Policy
from plans.schedule import Line, LineKind, Schedule, Waiver


class GraceInterest(enum.StrEnum):
    """What a grace period does with interest."""

    INTEREST_ONLY = "interest_only"  # the period's interest is paid, the principal is not
    INTEREST_FREE = "interest_free"  # nothing accrues


def grace_lines(
    balance: Balance,
    *,
    due: list[date],
    paid_on: list[date],
    rates: list[Fraction],
    interest: GraceInterest,
    first_number: int,
    policy: Policy,
    waiver: Waiver | None,
) -> list[Line]:
    """The grace period's lines; ``balance`` keeps its principal.

    ``waiver`` (arrears the policy waives) is taken off on the first line.

    Examples
    --------
    >>> from plans.policy import Policy
    >>> day = date(2026, 2, 15)
    >>> [x.payment_minor for x in grace_lines(
    ...     Balance(1_200_000, 0, 0), due=[day], paid_on=[day], rates=[Fraction(1, 100)],
    ...     interest=GraceInterest.INTEREST_ONLY, first_number=1, policy=Policy(), waiver=None)]
    [12000]
    """
    lines: list[Line] = []
    for k, (due_on, paid, rate) in enumerate(zip(due, paid_on, rates, strict=True)):
        opening = balance.total
        waived = 0
        if k == 0 and waiver is not None:
            balance.fees -= waiver.fees_minor
            balance.interest -= waiver.interest_minor
            waived = waiver.total_minor
        accrued = 0
        if interest is GraceInterest.INTEREST_ONLY:
            accrued = apply_rate(balance.principal, rate, policy.rounding)
            balance.interest += accrued
        payment = min(accrued, balance.total)
        parts = balance.settle(payment, policy.waterfall)
        lines.append(
            line(
                first_number + k,
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
    return lines


def grace_plan(
    debt: Debt,
    *,
    policy: Policy,
    periods: int,
    interest: GraceInterest,
    term: int | None,
    capacity: Capacity | None = None,
    amortisation: Amortisation = Amortisation.EQUAL_INSTALMENT,
    down_payment_minor: int | None = None,
    frequency: Frequency | None = None,
    first_due: date | None = None,
    nominal_annual_rate: Decimal | None = None,
) -> Offer:
    """``periods`` grace periods from ``first_due``, then ``term`` instalments.

    The grace periods count towards the policy's maximum term and are at most its maximum
    deferral (``deferral_max_periods``); the instalments are laid out exactly as in
    :func:`plans.instalment.instalment_plan`, their first period a whole one.

    Examples
    --------
    >>> debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 0)
    >>> offer = grace_plan(debt, policy=Policy(plan_rate=None), periods=2, term=10,
    ...                    interest=GraceInterest.INTEREST_ONLY)
    >>> # two months' interest at 1 %, then npf.pmt(0.01, 10, -12000) = 1266.98
    >>> [(x.kind.value, x.payment_minor, x.closing_principal_minor)
    ...  for x in offer.schedule.lines[:3]]
    [('deferral', 12000, 1200000), ('deferral', 12000, 1200000), ('instalment', 126698, 1085302)]
    """
    if term is None:
        raise NotAllowed("term", "required", "a plan with a grace period needs a term")
    if periods < 1:
        raise NotAllowed("grace.periods", "min_grace", "a grace period lasts at least 1 period")
    if periods > policy.deferral_max_periods:
        raise NotAllowed(
            "grace.periods",
            "max_grace",
            f"{periods} periods exceed the policy's maximum deferral of"
            f" {policy.deferral_max_periods}",
        )
    frequency = frequency or (capacity.frequency if capacity else Frequency.MONTHLY)
    check_term(term + periods, frequency, policy)
    annual = plan_rate(debt, policy, nominal_annual_rate)
    if first_due is None:
        first_due = first_due_date(debt, capacity, frequency)
    elif first_due < debt.as_of:
        raise InvalidDate("first_due", "not_before_as_of", "must not be before the as-of date")
    down = down_payment(debt, capacity, policy, down_payment_minor)
    balance = Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor)
    waiver = arrears_waiver(balance, policy)
    lines: list[Line] = []
    if down:
        lines.append(down_payment_line(1, debt.as_of, down, balance, policy, waiver))
    due = due_dates(first_due, periods + term, frequency)
    paid_on = payment_dates(due, policy.holiday_country, after=debt.as_of if down else None)
    rates = line_rates(
        annual, as_of=debt.as_of, due=due, paid_on=paid_on, frequency=frequency, policy=policy
    )
    lines.extend(
        grace_lines(
            balance,
            due=due[:periods],
            paid_on=paid_on[:periods],
            rates=rates[:periods],
            interest=interest,
            first_number=len(lines) + 1,
            policy=policy,
            waiver=None if down else waiver,
        )
    )
    instalments, level = amortise(
        balance,
        spec=PlanSpec(frequency, annual, amortisation, policy.rounding),
        due=due[periods:],
        paid_on=paid_on[periods:],
        rates=rates[periods:],
        first_number=len(lines) + 1,
        policy=policy,
    )
    lines.extend(instalments)
    schedule = Schedule.of(debt.currency, lines)
    check_fit(schedule, capacity=capacity, policy=policy, currency=debt.currency)
    terms = Terms(
        frequency=frequency,
        first_due=first_due,
        instalments=len(instalments),
        instalment_minor=level,
        nominal_annual_rate=annual,
        down_payment_minor=down,
        amortisation=amortisation.value,
        deferral_periods=periods,
        grace_interest=interest.value,
    )
    return finish(
        OfferKind.INSTALMENT,
        debt,
        schedule=schedule,
        terms=terms,
        waiver=waiver or Waiver(),
        capacity=capacity,
        policy=policy,
    )
