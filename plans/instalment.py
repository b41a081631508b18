"""Instalment plans: equal instalments (annuity) or equal principal, term given or solved.

Conventions, all named in the policy:

- interest accrues on principal only, never on arrears of interest or fees (no compounding of
  charges); the first line runs from the as-of date to its due date under the policy's day
  count, later lines a nominal period each (or actual days, if the policy says so);
- each payment settles the policy's waterfall in order (fees, interest, principal by default),
  so folded arrears are paid first;
- the level payment is rounded once by the policy's rounding; the last line absorbs the residue
  and closes the balance at exactly zero.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from plans.annual_rates import check_rate_cap, rate_jurisdiction
from plans.calendar import Frequency, add_periods, due_dates, payment_dates
from plans.daycount import year_fraction
from plans.debt import Capacity, Debt, check_amount
from plans.errors import (
    BelowMinInstalment,
    DomainError,
    ExceedsCapacity,
    InvalidDate,
    LumpSumNotAvailable,
    NotAllowed,
    TermBeyondMax,
)
from plans.money import (
    Rounding,
    at_least_percent,
    label,
    round_div,
    round_fraction,
    split_level,
)
from plans.offer import Metrics, Offer, Owed, Terms, measure
from plans.policy import ArrearsTreatment, Component, InterestBasis, OfferKind, Policy, per_period
from plans.schedule import Line, LineKind, Schedule, Waiver


class Amortisation(enum.StrEnum):
    """How an instalment plan repays principal."""

    EQUAL_INSTALMENT = "equal_instalment"  # level payments (annuity)
    EQUAL_PRINCIPAL = "equal_principal"  # level principal, falling payments


@dataclass(slots=True)
class Balance:
    """What is owed while a schedule is being built: mutable, by component."""

    principal: int
    interest: int
    fees: int

    @property
    def total(self) -> int:
        """All three components."""
        return self.principal + self.interest + self.fees

    def owed(self) -> Owed:
        """A frozen copy."""
        return Owed(self.principal, self.interest, self.fees)

    def settle(self, amount: int, waterfall: Sequence[Component]) -> tuple[int, int, int]:
        """Pay ``amount`` down the waterfall; return (interest, fees, principal) paid.

        Examples
        --------
        >>> b = Balance(principal=100, interest=10, fees=5)
        >>> b.settle(12, (Component.FEES, Component.INTEREST, Component.PRINCIPAL))
        (7, 5, 0)
        >>> b.total
        103
        """
        left = amount
        interest = fees = principal = 0
        for component in waterfall:
            if component is Component.FEES:
                fees = min(left, self.fees)
                self.fees -= fees
                left -= fees
            elif component is Component.INTEREST:
                interest = min(left, self.interest)
                self.interest -= interest
                left -= interest
            else:
                principal = min(left, self.principal)
                self.principal -= principal
                left -= principal
        if left:
            raise ValueError("payment exceeds the balance")
        return interest, fees, principal


def line(
    number: int,
    kind: LineKind,
    due: date,
    paid_on: date,
    *,
    opening: int,
    payment: int,
    parts: tuple[int, int, int],
    waived: int,
    accrued: int,
    balance: Balance,
) -> Line:
    """A schedule line from the running balance after the line's events."""
    interest, fees, principal = parts
    return Line(
        number=number,
        kind=kind,
        due_date=due,
        payment_date=paid_on,
        opening_balance_minor=opening,
        payment_minor=payment,
        interest_minor=interest,
        fees_minor=fees,
        principal_minor=principal,
        waived_minor=waived,
        interest_accrued_minor=accrued,
        closing_balance_minor=balance.total,
        closing_principal_minor=balance.principal,
        closing_interest_minor=balance.interest,
        closing_fees_minor=balance.fees,
    )


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


def first_due_date(debt: Debt, capacity: Capacity | None, frequency: Frequency) -> date:
    """The first instalment's due date: the debtor's earliest start if after the as-of date,
    else one period after it.

    Examples
    --------
    >>> debt = Debt("CNY", 100_000, 0, 0, Decimal("0.1"), date(2026, 11, 25), 30)
    >>> first_due_date(debt, Capacity(10_000, earliest_start=date(2026, 12, 15)), Frequency.MONTHLY)
    datetime.date(2026, 12, 15)
    >>> first_due_date(debt, None, Frequency.MONTHLY)
    datetime.date(2026, 12, 25)
    """
    start = capacity.start(debt) if capacity is not None else debt.as_of
    return start if start > debt.as_of else add_periods(debt.as_of, 1, frequency)


def whole_periods_after(start: date, end: date, frequency: Frequency) -> tuple[int, date]:
    """Whole periods from ``start`` on its own grid that end by ``end``, and the date the last
    of them ends (the odd days run from there to ``end``).

    Examples
    --------
    >>> whole_periods_after(date(2026, 11, 25), date(2027, 1, 15), Frequency.MONTHLY)
    (1, datetime.date(2026, 12, 25))
    >>> whole_periods_after(date(2026, 1, 31), date(2026, 2, 28), Frequency.MONTHLY)
    (1, datetime.date(2026, 2, 28))
    """
    whole = 0
    reached = start
    while True:
        following = add_periods(start, whole + 1, frequency)
        if following > end:
            return whole, reached
        whole, reached = whole + 1, following


def line_rates(
    annual: Decimal,
    *,
    as_of: date,
    due: Sequence[date],
    paid_on: Sequence[date],
    frequency: Frequency,
    policy: Policy,
) -> list[Fraction]:
    """Interest rate of each line's period, as exact fractions.

    With the ``nominal`` basis every whole period counts as rate / periods per year; the first
    line's period, from ``as_of`` to its due date, is its whole periods (counted on from the
    as-of date) plus the odd days after them under the policy's day count. With ``actual_days``
    every line counts the days from the previous payment date (the as-of date for the first).

    Examples
    --------
    >>> due = [date(2026, 2, 15), date(2026, 3, 15)]
    >>> line_rates(Decimal("0.12"), as_of=date(2026, 1, 15), due=due, paid_on=due,
    ...            frequency=Frequency.MONTHLY, policy=Policy())
    [Fraction(1, 100), Fraction(1, 100)]
    """
    if not due:
        return []
    yearly = Fraction(annual)
    if policy.interest_basis is InterestBasis.NOMINAL:
        nominal = yearly / frequency.periods_per_year
        whole, odd_start = whole_periods_after(as_of, due[0], frequency)
        first = nominal * whole + yearly * year_fraction(odd_start, due[0], policy.day_count)
        return [first] + [nominal] * (len(due) - 1)
    starts = [as_of, *paid_on[:-1]]
    return [
        yearly * year_fraction(begin, end, policy.day_count)
        for begin, end in zip(starts, paid_on, strict=True)
    ]


def level_payment(
    principal: int, arrears: int, *, first_rate: float, rate: float, periods: int
) -> float:
    """The level payment that repays ``principal`` and non-interest-bearing ``arrears`` paid
    first, over ``periods`` payments, the first period at ``first_rate``, the rest at ``rate``.

    While arrears are being cleared (the first m payments) principal stays whole and its
    interest joins the arrears; afterwards the remaining balance is an ordinary annuity. So
    X = (P + A + (r₁ + (m−1)r)P) · aₙ₋ₘ / (1 + m·aₙ₋ₘ), with aₖ = r / (1 − (1+r)^−k), and m the
    first payment that clears the arrears: a fixed point found in a few steps.

    Examples
    --------
    >>> round(level_payment(1_000_000, 0, first_rate=0.01, rate=0.01, periods=12), 4)
    88848.7887
    >>> level_payment(900, 300, first_rate=0.0, rate=0.0, periods=4)
    300.0
    """
    if periods <= 0:
        raise ValueError("periods must be positive")

    def annuity_factor(k: int) -> float:
        if k == 0:
            return math.inf
        if rate == 0.0:
            return 1.0 / k
        # 1 - (1 + r)^-k without cancellation when r is tiny
        return rate / -math.expm1(-k * math.log1p(rate))

    def payment_for(m: int) -> float:
        owed = principal + arrears + (first_rate + (m - 1) * rate) * principal
        factor = annuity_factor(periods - m)
        return owed / m if math.isinf(factor) else owed * factor / (1.0 + m * factor)

    m = 1
    seen: set[int] = set()
    while m not in seen:
        seen.add(m)
        x = payment_for(m)
        # the first k with A + (r₁ + (k−1)r)P − kX <= 0
        excess = x - rate * principal
        if arrears + first_rate * principal <= x:
            m_next = 1
        elif excess <= 0:
            m_next = periods
        else:
            need = (arrears + (first_rate - rate) * principal) / excess
            m_next = min(periods, max(1, math.ceil(need - 1e-12)))
        if m_next == m:
            return x
        m = m_next
    # m cycles between neighbours only at a boundary; the larger payment closes the balance
    return max(payment_for(k) for k in seen)


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """Everything needed to lay out lines of an instalment phase."""

    frequency: Frequency
    annual: Decimal
    amortisation: Amortisation
    rounding: Rounding


def amortise(
    balance: Balance,
    *,
    spec: PlanSpec,
    due: Sequence[date],
    paid_on: Sequence[date],
    rates: Sequence[Fraction],
    first_number: int,
    policy: Policy,
    waive_on_first: Waiver | None = None,
    level_minor: int | None = None,
) -> tuple[list[Line], int]:
    """Lay out instalment lines that repay ``balance`` exactly; return them and the level payment.

    ``balance`` is consumed (it ends at zero). ``waive_on_first`` is taken off before the first
    line's payment and shown in its waived column. ``level_minor`` fixes the payment instead of
    solving for it (a debtor's counter-proposal).
    """
    periods = len(due)
    opening = balance.total
    if opening == 0:  # repaid already (token payments during a pause): no instalments
        return [], 0
    waived = 0
    if waive_on_first is not None:
        balance.fees -= waive_on_first.fees_minor
        balance.interest -= waive_on_first.interest_minor
        balance.principal -= waive_on_first.principal_minor
        waived = waive_on_first.total_minor
    if spec.amortisation is Amortisation.EQUAL_INSTALMENT:
        if level_minor is None:
            x = level_payment(
                balance.principal,
                balance.interest + balance.fees,
                first_rate=float(rates[0]),
                rate=float(per_period(spec.annual, spec.frequency.periods_per_year)),
                periods=periods,
            )
            level_minor = round_fraction(Fraction(x), spec.rounding)
        targets = [level_minor] * periods
    else:
        principal_parts = split_level(balance.principal, periods)
        arrears_parts = split_level(balance.interest + balance.fees, periods)
        targets = [p + a for p, a in zip(principal_parts, arrears_parts, strict=True)]
    lines: list[Line] = []
    rounding, waterfall = spec.rounding, policy.waterfall
    equal_principal = spec.amortisation is Amortisation.EQUAL_PRINCIPAL
    last = periods - 1
    for k in range(periods):
        rate = rates[k]
        accrued = round_div(balance.principal * rate.numerator, rate.denominator, rounding)
        balance.interest += accrued
        total = balance.principal + balance.interest + balance.fees
        target = targets[k] + accrued if equal_principal else targets[k]
        payment = total if k == last or target > total else target
        interest, fees, principal = balance.settle(payment, waterfall)
        closing = total - payment
        lines.append(
            Line(
                first_number + k,
                LineKind.INSTALMENT,
                due[k],
                paid_on[k],
                opening,
                payment,
                interest,
                fees,
                principal,
                waived,
                accrued,
                closing,
                balance.principal,
                balance.interest,
                balance.fees,
            )
        )
        opening = closing
        waived = 0
        if closing == 0:
            break
    first_payment = lines[0].payment_minor if lines else 0
    return lines, level_minor if level_minor is not None else first_payment


def arrears_waiver(balance: Balance, policy: Policy) -> Waiver | None:
    """The waiver of interest and fee arrears a policy grants when a plan is made."""
    if policy.arrears is ArrearsTreatment.WAIVE and (balance.interest or balance.fees):
        return Waiver(fees_minor=balance.fees, interest_minor=balance.interest)
    return None


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


def down_payment_line(
    number: int, day: date, amount: int, balance: Balance, policy: Policy, waiver: Waiver | None
) -> Line:
    """The down payment as line ``number`` on ``day``, waiving arrears if the policy does."""
    opening = balance.total
    waived = 0
    if waiver is not None:
        balance.fees -= waiver.fees_minor
        balance.interest -= waiver.interest_minor
        waived = waiver.total_minor
    amount = min(amount, balance.total)
    parts = balance.settle(amount, policy.waterfall)
    return line(
        number,
        LineKind.DOWN_PAYMENT,
        day,
        day,
        opening=opening,
        payment=amount,
        parts=parts,
        waived=waived,
        accrued=0,
        balance=balance,
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
) -> tuple[Schedule, Terms, Waiver]:
    """Lay out one instalment plan with fixed parameters (no feasibility checks)."""
    balance = Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor)
    waiver = arrears_waiver(balance, policy)
    lines: list[Line] = []
    if down_minor:
        lines.append(down_payment_line(1, debt.as_of, down_minor, balance, policy, waiver))
    due = due_dates(first_due, term, frequency)
    paid_on = payment_dates(due, policy.holiday_country, after=debt.as_of if down_minor else None)
    rates = line_rates(
        annual, as_of=debt.as_of, due=due, paid_on=paid_on, frequency=frequency, policy=policy
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


def shortest_term(
    fits: int,
    *,
    principal: int,
    arrears: int,
    first_rate: float,
    rate: float,
    limit: int,
) -> int:
    """Fewest payments whose level payment is at most ``fits`` minor units (``limit`` + 1 if
    none within ``limit``): a binary search, the level payment falling as the term grows."""
    if fits <= 0:
        return limit + 1
    lo, hi = 1, limit + 1
    while lo < hi:
        mid = (lo + hi) // 2
        x = level_payment(principal, arrears, first_rate=first_rate, rate=rate, periods=mid)
        if x <= fits + 0.5:
            hi = mid
        else:
            lo = mid + 1
    return lo


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
) -> Offer:
    """An instalment plan: the given ``term``, or the shortest term whose payments fit.

    Without ``term`` the payment is bounded by ``payment_minor`` or else the capacity's payment
    per period, and the engine finds the fewest instalments within the policy's maximum term
    whose every payment fits and is at least the policy's minimum. A down payment comes from
    the lump sum when the policy takes one.

    Examples
    --------
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    >>> offer = instalment_plan(
    ...     debt, policy=Policy(), capacity=Capacity(125_000, earliest_start=date(2026, 12, 15))
    ... )
    >>> offer.terms.instalments, offer.terms.instalment_minor, offer.schedule.lines[-1].due_date
    (8, 125000, datetime.date(2027, 7, 15))
    """
    frequency = frequency or (capacity.frequency if capacity else Frequency.MONTHLY)
    annual = plan_rate(debt, policy, nominal_annual_rate)
    if first_due is None:
        first_due = first_due_date(debt, capacity, frequency)
    elif first_due < debt.as_of:
        raise InvalidDate("first_due", "not_before_as_of", "must not be before the as-of date")
    down = down_payment(debt, capacity, policy, down_payment_minor)
    limit = policy.max_periods(frequency.periods_per_year)
    level_fixed = None
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
        payment_minor, capacity.lump_sum_minor, capacity.earliest_start, capacity.frequency
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
