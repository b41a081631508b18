"""Instalment plans: equal instalments (annuity) or equal principal, term given or solved.

This chapter decides a plan's parameters (its rate under the cap, first date, down payment and
term) and checks the result against the policy; :mod:`plans.amortisation` lays out the lines and
:mod:`plans.annuity` solves the level payment.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from plans.amortisation import (
    Amortisation,
    Balance,
    PlanDates,
    PlanSpec,
    amortise,
    arrears_waiver,
    down_payment_line,
    line,
    line_rates,
)
from plans.annual_rates import check_rate_cap, rate_jurisdiction
from plans.annuity import level_payment, shortest_term
from plans.calendar import Frequency, add_periods, next_pay_day, pay_days
from plans.debt import Capacity, Debt, check_amount, check_semi_monthly
from plans.errors import (
    BelowMinInstalment,
    DomainError,
    ExceedsCapacity,
    InvalidDate,
    LumpSumNotAvailable,
    NotAllowed,
    TermBeyondMax,
)
from plans.money import at_least_percent, label
from plans.offer import Metrics, Offer, Terms, measure
from plans.policy import ArrearsTreatment, OfferKind, Policy, per_period
from plans.schedule import Line, LineKind, Schedule, Waiver

# Names that moved to plans.amortisation and plans.annuity, still importable from here.
__all__ = [
    "Amortisation",
    "Balance",
    "PlanSpec",
    "Until",
    "amortise",
    "arrears_waiver",
    "build_instalment",
    "check_fit",
    "check_min_down_payment",
    "check_term",
    "down_payment",
    "down_payment_line",
    "finish",
    "first_due_date",
    "instalment_plan",
    "level_payment",
    "line",
    "line_rates",
    "plan_days",
    "plan_rate",
    "raised_level",
    "shortest_term",
    "until_repaid",
]


class Until(enum.StrEnum):
    """How long a payment the debtor names is paid."""

    # exactly the payment every period and a smaller last one, never re-levelled: "I can pay
    # 300 a month until it is paid"
    REPAID = "repaid"


def plan_rate(debt: Debt, policy: Policy, override: Decimal | None = None) -> Decimal:
    """The nominal annual rate a plan charges: ``override``, else the policy's, else the debt's.

    The policy's cap is not tested here but on the annual rate the debt's jurisdiction requires,
    with every charge of the finished plan (:func:`plans.annual_rates.check_rate_cap`): a
    nominal rate says nothing of fees, nor of what the plan charges it on.

    Examples
    --------
    >>> debt = Debt("CNY", 100_000, 0, 0, Decimal("0.36"), date(2026, 11, 25), 30)
    >>> plan_rate(debt, Policy())  # the default policy freezes interest
    Decimal('0')
    >>> plan_rate(debt, Policy(plan_rate=None))
    Decimal('0.36')
    """
    if override is not None:
        return override
    if policy.plan_rate is not None:
        return policy.plan_rate
    return debt.nominal_annual_rate


def plan_days(
    capacity: Capacity | None, frequency: Frequency, days: tuple[int, int] | None = None
) -> tuple[int, int] | None:
    """The pay days of a semi-monthly plan: those asked for (checked), else the capacity's.

    Examples
    --------
    >>> plan_days(Capacity(10_000, frequency=Frequency.SEMI_MONTHLY, days=(15, 31)),
    ...           Frequency.SEMI_MONTHLY)
    (15, 31)
    >>> plan_days(None, Frequency.MONTHLY) is None
    True
    """
    if days is not None:
        check_semi_monthly(frequency, field="days")
        return pay_days(days, field="days")
    if capacity is not None and capacity.days is not None and frequency is capacity.frequency:
        return capacity.days
    return None


def first_due_date(
    debt: Debt,
    capacity: Capacity | None,
    frequency: Frequency,
    *,
    days: tuple[int, int] | None = None,
) -> date:
    """The first instalment's due date: the debtor's earliest start if after the as-of date,
    else one period after it; with pay ``days``, the first of them on or after that.

    Examples
    --------
    >>> debt = Debt("CNY", 100_000, 0, 0, Decimal("0.1"), date(2026, 11, 25), 30)
    >>> first_due_date(debt, Capacity(10_000, earliest_start=date(2026, 12, 15)), Frequency.MONTHLY)
    datetime.date(2026, 12, 15)
    >>> first_due_date(debt, None, Frequency.MONTHLY)
    datetime.date(2026, 12, 25)
    >>> first_due_date(debt, None, Frequency.SEMI_MONTHLY, days=(15, 31))
    datetime.date(2026, 12, 15)
    """
    start = capacity.start(debt) if capacity is not None else debt.as_of
    first = start if start > debt.as_of else add_periods(debt.as_of, 1, frequency)
    return first if days is None else next_pay_day(first, days)


def down_payment(
    debt: Debt, capacity: Capacity | None, policy: Policy, requested: int | None
) -> int:
    """The down payment: the requested amount, else the lump sum if the policy takes one.

    It must be available (no more than the stated lump sum) and leave something to repay.
    """
    available = capacity.lump_sum_minor if capacity is not None else 0
    if requested is None:
        amount = available if policy.allow_down_payment else 0
    else:
        amount = check_amount(requested, field="down_payment")
        if capacity is not None and amount > available:
            raise LumpSumNotAvailable(
                "down_payment", "lump_sum", "is more than the lump sum the debtor has"
            )
    # A down payment that would repay everything is a payoff, not a plan: leave at least one
    # unit of what the plan repays (arrears the policy waives are not repaid).
    repaid = debt.principal_minor if policy.arrears is ArrearsTreatment.WAIVE else debt.total_minor
    down = min(amount, max(repaid - 1, 0))
    from_lump_sum = requested is None and capacity is not None
    check_min_down_payment(
        debt, down, policy, field="capacity.lump_sum" if from_lump_sum else "down_payment"
    )
    return down


def check_min_down_payment(debt: Debt, down_minor: int, policy: Policy, *, field: str) -> None:
    """Refuse a down payment below the policy's ``min_down_payment_pct`` of the balance owed.

    Examples
    --------
    >>> debt = Debt("CNY", 1_000_000, 35_000, 15_000, Decimal("0.18"), date(2026, 11, 25), 95)
    >>> check_min_down_payment(debt, 105_000, Policy(min_down_payment_pct=Decimal(10)), field="x")
    >>> check_min_down_payment(debt, 104_999, Policy(min_down_payment_pct=Decimal(10)), field="x")
    Traceback (most recent call last):
    ...
    plans.errors.NotAllowed: x: ... 1050.00 CNY; this one is 1049.99 CNY [min_down_payment_pct]
    """
    least = at_least_percent(debt.total_minor, policy.min_down_payment_pct)
    if down_minor < least:
        raise NotAllowed(
            field,
            "min_down_payment_pct",
            f"the policy asks a down payment of at least {policy.min_down_payment_pct} % of the"
            f" {label(debt.total_minor, debt.currency)} owed, {label(least, debt.currency)};"
            f" this one is {label(down_minor, debt.currency)}",
        )


def check_term(term: int, frequency: Frequency, policy: Policy, *, field: str = "term") -> int:
    """Return ``term`` if it is between 1 and the policy's maximum in periods of ``frequency``."""
    limit = policy.max_periods(frequency.periods_per_year)
    if term < 1:
        raise TermBeyondMax(field, "min_term", "must be at least 1 payment")
    if term > limit:
        raise TermBeyondMax(
            field,
            "max_term",
            f"{term} {frequency} payments exceed the policy's {policy.max_term_months} months"
            f" ({limit} payments)",
        )
    return term


def build_instalment(
    debt: Debt,
    *,
    policy: Policy,
    capacity: Capacity | None,
    term: int,
    frequency: Frequency,
    first_due: date,
    annual: Decimal,
    amortisation: Amortisation,
    down_minor: int,
    level_minor: int | None = None,
    days: tuple[int, int] | None = None,
    dates: PlanDates | None = None,
) -> tuple[Schedule, Terms, Waiver]:
    """Lay out one instalment plan with fixed parameters (no feasibility checks); its dates
    and rates from ``dates`` when a negotiation shares them."""
    balance = Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor)
    waiver = arrears_waiver(balance, policy)
    lines: list[Line] = []
    if down_minor:
        lines.append(down_payment_line(1, debt.as_of, down_minor, balance, policy, waiver))
    due, paid_on, rates = (dates or PlanDates()).lines(
        term,
        first_due=first_due,
        frequency=frequency,
        days=days,
        annual=annual,
        as_of=debt.as_of,
        policy=policy,
        after=debt.as_of if down_minor else None,
    )
    spec = PlanSpec(frequency, annual, amortisation, policy.rounding)
    instalments, level = amortise(
        balance,
        spec=spec,
        due=due,
        paid_on=paid_on,
        rates=rates,
        first_number=len(lines) + 1,
        policy=policy,
        waive_on_first=None if down_minor else waiver,
        level_minor=level_minor,
    )
    lines.extend(instalments)
    terms = Terms(
        frequency=frequency,
        first_due=first_due,
        instalments=len(instalments),
        instalment_minor=level,
        nominal_annual_rate=annual,
        down_payment_minor=down_minor,
        amortisation=amortisation.value,
    )
    return Schedule.of(debt.currency, lines), terms, waiver or Waiver()


def check_fit(
    schedule: Schedule,
    *,
    capacity: Capacity | None,
    policy: Policy,
    currency: str,
    kinds: tuple[LineKind, ...] = (LineKind.INSTALMENT,),
) -> None:
    """Refuse a schedule whose instalments exceed capacity or fall below the minimum.

    The last instalment may be smaller than the minimum: it only closes the balance.
    """
    payments = [x.payment_minor for x in schedule.lines if x.kind in kinds]
    if not payments:
        return
    if capacity is not None and capacity.payment_minor and max(payments) > capacity.payment_minor:
        raise ExceedsCapacity(
            "capacity.payment",
            "capacity",
            f"an instalment of {label(max(payments), currency)} exceeds the stated capacity of"
            f" {label(capacity.payment_minor, currency)}",
        )
    minimum = policy.min_instalment_minor(currency)
    if len(payments) > 1 and min(payments[:-1]) < minimum:
        raise BelowMinInstalment(
            "term",
            "min_instalment",
            f"an instalment of {label(min(payments[:-1]), currency)} is below the policy's minimum"
            f" of {label(minimum, currency)}",
        )


def instalment_plan(
    debt: Debt,
    *,
    policy: Policy,
    capacity: Capacity | None = None,
    term: int | None = None,
    payment_minor: int | None = None,
    amortisation: Amortisation = Amortisation.EQUAL_INSTALMENT,
    down_payment_minor: int | None = None,
    frequency: Frequency | None = None,
    first_due: date | None = None,
    nominal_annual_rate: Decimal | None = None,
    until: Until | None = None,
    days: tuple[int, int] | None = None,
    dates: PlanDates | None = None,
) -> Offer:
    """An instalment plan: the given ``term``, or the shortest term whose payments fit.

    Without ``term`` the payment is bounded by ``payment_minor`` or else the capacity's payment
    per period, and the engine finds the fewest instalments within the policy's maximum term
    whose every payment fits and is at least the policy's minimum. A down payment comes from
    the lump sum when the policy takes one. With ``until=Until.REPAID`` that payment (or the
    capacity's) is paid exactly every period and the last line is whatever is left, never more
    (:func:`until_repaid`). A semi-monthly plan is paid on ``days`` (else the capacity's), from
    the first of them on or after its start (``first_due`` included).

    Examples
    --------
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    >>> offer = instalment_plan(
    ...     debt, policy=Policy(), capacity=Capacity(125_000, earliest_start=date(2026, 12, 15))
    ... )
    >>> offer.terms.instalments, offer.terms.instalment_minor, offer.schedule.lines[-1].due_date
    (8, 125000, datetime.date(2027, 7, 15))
    >>> offer = instalment_plan(debt, policy=Policy(), payment_minor=125_000, until=Until.REPAID)
    >>> [x.payment_minor for x in offer.schedule.lines][-2:]
    [125000, 125000]
    """
    frequency = frequency or (capacity.frequency if capacity else Frequency.MONTHLY)
    days = plan_days(capacity, frequency, days)
    annual = plan_rate(debt, policy, nominal_annual_rate)
    if first_due is None:
        first_due = first_due_date(debt, capacity, frequency, days=days)
    elif first_due < debt.as_of:
        raise InvalidDate("first_due", "not_before_as_of", "must not be before the as-of date")
    elif days is not None:
        first_due = next_pay_day(first_due, days)
    down = down_payment(debt, capacity, policy, down_payment_minor)
    if until is Until.REPAID:
        if term is not None:
            raise DomainError(
                "term", "until_without_term", "until: repaid pays until the debt is repaid: no term"
            )
        if amortisation is not Amortisation.EQUAL_INSTALMENT:
            raise DomainError(
                "amortisation",
                "until_equal_instalment",
                "until: repaid pays the same amount every period (equal_instalment)",
            )
        if payment_minor is None and (capacity is None or not capacity.payment_minor):
            raise DomainError(
                "until", "requires_payment", "until: repaid needs the payment it repeats"
            )
        return until_repaid(
            debt,
            policy=policy,
            capacity=capacity,
            payment_minor=payment_minor,
            frequency=frequency,
            first_due=first_due,
            annual=annual,
            down_minor=down,
            days=days,
            dates=dates,
        )
    limit = policy.max_periods(frequency.periods_per_year)
    level_fixed: int | None = None
    if term is not None:
        check_term(term, frequency, policy)
        terms_to_try = [term]
    else:
        bound = (
            payment_minor
            if payment_minor is not None
            else (capacity.payment_minor if capacity is not None else None)
        )
        if bound is None:
            raise DomainError("term", "required", "give a term, a payment or a capacity")
        check_amount(bound, field="payment" if payment_minor is not None else "capacity.payment")
        minimum = policy.min_instalment_minor(debt.currency)
        if bound < minimum and bound < debt.total_minor - down:
            raise BelowMinInstalment(
                "capacity.payment" if payment_minor is None else "payment",
                "min_instalment",
                f"{label(bound, debt.currency)} a period is below the policy's minimum instalment"
                f" of {label(minimum, debt.currency)}",
            )
        balance = Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor)
        waiver = arrears_waiver(balance, policy)
        arrears = 0 if waiver else balance.interest + balance.fees
        if down:
            balance.principal -= max(0, down - arrears)
            arrears = max(0, arrears - down)
        # the first period's rate exactly as the schedule will charge it
        first_rate = float(
            line_rates(
                annual,
                as_of=debt.as_of,
                due=[first_due],
                paid_on=[first_due],
                frequency=frequency,
                policy=policy,
            )[0]
        )
        n = shortest_term(
            bound,
            principal=balance.principal,
            arrears=arrears,
            first_rate=first_rate,
            rate=float(per_period(annual, frequency.periods_per_year)),
            limit=limit,
        )
        if n > limit:
            raise TermBeyondMax(
                "term",
                "max_term",
                f"repaying {label(bound, debt.currency)} a period needs more than the policy's"
                f" {policy.max_term_months} months",
            )
        terms_to_try = [n, n + 1] if n < limit else [n]
    error: DomainError | None = None
    bounded = _bounded(capacity, payment_minor)
    for n in terms_to_try:
        level = level_fixed
        while True:
            schedule, terms, waiver_made = build_instalment(
                debt,
                policy=policy,
                capacity=capacity,
                term=n,
                frequency=frequency,
                first_due=first_due,
                annual=annual,
                amortisation=amortisation,
                down_minor=down,
                level_minor=level,
                days=days,
                dates=dates,
            )
            try:
                check_fit(schedule, capacity=bounded, policy=policy, currency=debt.currency)
            except DomainError as exc:
                error = exc
                level = raised_level(schedule, terms, bounded, exc, tried=level)
                if level is not None:
                    continue
                break
            return finish(
                OfferKind.INSTALMENT,
                debt,
                schedule=schedule,
                terms=terms,
                waiver=waiver_made,
                capacity=capacity,
                policy=policy,
            )
    assert error is not None
    raise error


def until_repaid(
    debt: Debt,
    *,
    policy: Policy,
    capacity: Capacity | None,
    payment_minor: int | None,
    frequency: Frequency,
    first_due: date,
    annual: Decimal,
    down_minor: int,
    days: tuple[int, int] | None = None,
    dates: PlanDates | None = None,
) -> Offer:
    """The debtor's own figure: ``payment_minor`` (else the capacity's payment) every period
    until the debt is repaid, the last payment whatever is left (at most the figure).

    The figure is never re-levelled: 1,000.00 at 300.00 a month is 300, 300, 300 and 100. If it
    does not repay the debt within the policy's maximum term (or does not cover the interest),
    the plan is refused (``max_term``), naming the field the figure came from.

    Examples
    --------
    >>> debt = Debt("CNY", 100_000, 0, 0, Decimal("0"), date(2026, 11, 25), 60)
    >>> offer = until_repaid(debt, policy=Policy(), capacity=None, payment_minor=30_000,
    ...     frequency=Frequency.MONTHLY, first_due=date(2026, 12, 25), annual=Decimal(0),
    ...     down_minor=0)
    >>> [x.payment_minor for x in offer.schedule.lines]
    [30000, 30000, 30000, 10000]
    """
    field = "payment" if payment_minor is not None else "capacity.payment"
    figure = payment_minor if payment_minor is not None else (capacity or Capacity(0)).payment_minor
    check_amount(figure, field=field, positive=True)
    minimum = policy.min_instalment_minor(debt.currency)
    if figure < minimum and figure < debt.total_minor - down_minor:
        raise BelowMinInstalment(
            field,
            "min_instalment",
            f"{label(figure, debt.currency)} a period is below the policy's minimum instalment"
            f" of {label(minimum, debt.currency)}",
        )
    limit = policy.max_periods(frequency.periods_per_year)
    # laid out over the longest term allowed; the lines stop where the balance reaches zero
    schedule, terms, waiver = build_instalment(
        debt,
        policy=policy,
        capacity=capacity,
        term=limit,
        frequency=frequency,
        first_due=first_due,
        annual=annual,
        amortisation=Amortisation.EQUAL_INSTALMENT,
        down_minor=down_minor,
        level_minor=figure,
        days=days,
        dates=dates,
    )
    instalments = [x for x in schedule.lines if x.kind is LineKind.INSTALMENT]
    if instalments and instalments[-1].payment_minor > figure:
        raise TermBeyondMax(
            field,
            "max_term",
            f"{label(figure, debt.currency)} a period does not repay the debt within the"
            f" policy's {policy.max_term_months} months ({limit} {frequency} payments)",
        )
    check_fit(
        schedule, capacity=_bounded(capacity, payment_minor), policy=policy, currency=debt.currency
    )
    return finish(
        OfferKind.INSTALMENT,
        debt,
        schedule=schedule,
        terms=terms,
        waiver=waiver,
        capacity=capacity,
        policy=policy,
    )


def raised_level(
    schedule: Schedule,
    terms: Terms,
    capacity: Capacity | None,
    error: DomainError,
    *,
    tried: int | None,
) -> int | None:
    """The level payment one unit up, when only the last instalment broke the capacity.

    The level payment is rounded to the nearest unit; rounded down, its shortfall accumulates
    into the last line, which can then exceed a capacity the level itself fits exactly. One
    unit more moves that residue off the last line. ``None``: nothing to retry.
    """
    if tried is not None or not isinstance(error, ExceedsCapacity) or capacity is None:
        return None
    if terms.amortisation != Amortisation.EQUAL_INSTALMENT.value:
        return None
    bound = capacity.payment_minor
    payments = [x.payment_minor for x in schedule.lines if x.kind is LineKind.INSTALMENT]
    if len(payments) < 2 or max(payments[:-1]) > bound or terms.instalment_minor + 1 > bound:
        return None
    return terms.instalment_minor + 1


def _bounded(capacity: Capacity | None, payment_minor: int | None) -> Capacity | None:
    if payment_minor is None:
        return capacity
    if capacity is None:
        return Capacity(payment_minor)
    return Capacity(
        payment_minor,
        capacity.lump_sum_minor,
        capacity.earliest_start,
        capacity.frequency,
        capacity.days,
    )


def finish(
    kind: OfferKind,
    debt: Debt,
    *,
    schedule: Schedule,
    terms: Terms,
    waiver: Waiver,
    capacity: Capacity | None,
    policy: Policy,
    waived_interest_accrued_minor: int = 0,
) -> Offer:
    """Measure a laid-out schedule, check the annual rate its jurisdiction requires against
    the policy's cap (:func:`plans.annual_rates.check_rate_cap`), and make it an offer."""
    jurisdiction = rate_jurisdiction(debt.jurisdiction, policy.holiday_country)
    metrics: Metrics = measure(
        kind,
        schedule,
        as_of=debt.as_of,
        frequency=terms.frequency,
        capacity_minor=capacity.payment_minor if capacity is not None else None,
        policy=policy,
        waived_interest_accrued_minor=waived_interest_accrued_minor,
        jurisdiction=jurisdiction,
    )
    check_rate_cap(metrics.annual_rate, cap=policy.rate_cap, jurisdiction=jurisdiction)
    return Offer(
        kind=kind,
        currency=debt.currency,
        as_of=debt.as_of,
        owed=Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor).owed(),
        terms=terms,
        schedule=schedule,
        waiver=waiver,
        metrics=metrics,
    )
