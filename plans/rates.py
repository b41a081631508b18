"""Annual percentage rates, effective annual rates and present values of dated payments.

The APR is the one of US Regulation Z, 12 CFR 1026 Appendix J (actuarial method): every cash
flow is placed at whole unit-periods ``t`` plus a fraction ``f`` from the first advance
((b)(5)), the general equation (b)(8) is solved for the unit-period rate ``i``, and the APR is
``i`` times the unit-periods in a year ((b)(1), (b)(9)). Only whole unit-periods compound: the
fraction earns simple interest, the factor ``(1 + f·i)``, never ``(1 + i)**f``.

Amounts are integer minor units; rates come back as ``Decimal`` fractions (``0.0969`` is
9.69 %) quantized to six places, half-even.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction

from plans.calendar import Frequency, days_in_month
from plans.errors import DomainError, InvalidAmount, InvalidDate, InvalidRate
from plans.money import Rounding, round_fraction

CashFlow = tuple[date, int]
"""A dated amount in minor units: ``(date, amount)``."""

RATE_QUANTUM = Decimal("0.000001")

# Thirty-four digits (IEEE decimal128) leave the six-place quantization far from any noise, and a
# private context keeps the results independent of whatever the caller did to the global one.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
_WEEKS = (Frequency.WEEKLY, Frequency.BIWEEKLY)
_LOWEST_RATE = -0.99
_HIGHEST_RATE = 1e9
_MAX_ITERATIONS = 200

_Flow = tuple[float, int, float]  # signed amount, whole unit-periods t, fraction f


def _is_month_end(day: date) -> bool:
    return day.day == days_in_month(day.year, day.month)


def _shift_months(day: date, months: int, day_of_month: int) -> date:
    # The date relativedelta(months=months, day=day_of_month) gives, at a fraction of its cost:
    # apr() places up to sixty dates per call and relativedelta takes microseconds each.
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day_of_month, days_in_month(year, month0 + 1)))


def _month_end_days(dates: Sequence[date]) -> dict[int, int]:
    # (b)(3)(iv): a series due on the last day of each month is measured month-end to month-end,
    # and one due on the 29th or 30th uses the last day of February. A month-end date is
    # ambiguous (Feb 28 may stand for the 28th to the 31st), so it stands for the series' most
    # common unambiguous day on or after it, else the 31st: in Jan 30, Feb 28, Mar 30 it is a
    # 30th; in Jan 15, Jan 31, Feb 15, Feb 28 it is a 31st.
    votes = Counter(day.day for day in dates if day.day < 28 or not _is_month_end(day))
    stands_for: dict[int, int] = {}
    for last in (28, 29, 30, 31):
        later = [day for day in votes if day >= last]
        stands_for[last] = max(later, key=lambda day: (votes[day], -day)) if later else 31
    return stands_for


def _places(
    start: date, dates: Sequence[date], unit: Frequency | None, month_end: dict[int, int]
) -> list[tuple[int, float]]:
    """Whole unit-periods and the fraction from ``start`` to each date; None is a year."""
    placed: list[tuple[int, float]] = []
    if unit is Frequency.WEEKLY or unit is Frequency.BIWEEKLY:
        # (b)(5)(iv): weeks are a fixed number of days, so plain division.
        size = 7 if unit is Frequency.WEEKLY else 14
        origin = start.toordinal()
        for when in dates:
            whole, odd = divmod(when.toordinal() - origin, size)
            placed.append((whole, odd / size))
        return placed
    # (b)(5)(ii): full months are counted back from the later date, keeping its day of month,
    # and the odd days are what is left before the last of them. Every date with the same day
    # of month lands on the same day near ``start``, so that is worked out once per day.
    landing: dict[int, tuple[int, int]] = {}
    for when in dates:
        day = when.day
        if day >= 28 and _is_month_end(when):
            day = month_end[day]
        if day not in landing:
            back = _shift_months(start, 0, day)
            if back < start:
                landing[day] = 1, (_shift_months(start, 1, day) - start).days
            else:
                landing[day] = 0, (back - start).days
        short, days = landing[day]
        months = (when.year - start.year) * 12 + when.month - start.month - short
        if unit is Frequency.MONTHLY:
            placed.append((months, days / 30))
        elif unit is Frequency.SEMI_MONTHLY:
            # (b)(5)(iii): thirty days a full month plus the odd days, in fifteen-day semimonths.
            whole, odd = divmod(30 * months + days, 15)
            placed.append((whole, odd / 15))
        else:
            # (b)(5)(v): whole years of twelve months; the rest is months / 12 when it is whole
            # months, otherwise the days left after the whole years / 365.
            years, rest = divmod(months, 12)
            if days == 0:
                placed.append((years, rest / 12))
            else:
                back = _shift_months(when, -12 * years, day)
                placed.append((years, (back - start).days / 365))
    return placed


_BY_LENGTH = (Frequency.WEEKLY, Frequency.BIWEEKLY, Frequency.SEMI_MONTHLY, Frequency.MONTHLY)


def _unit_period(start: date, payment_dates: Sequence[date]) -> Frequency:
    # (b)(4)(i): the period that occurs most often, counting the first advance to the first
    # payment as one; (b)(4)(i)(A): of equally common periods, the shorter. Each gap votes for
    # the nearest of 7, 14, 365/24 and 365/12 days; a 13-day gap is a fortnight, so a
    # semi-monthly plan's February gap votes biweekly and is outvoted by its 15- and 16-day ones.
    votes = [0, 0, 0, 0]
    previous = start.toordinal()
    for ordinal in sorted({day.toordinal() for day in payment_dates}):
        gap = ordinal - previous
        if gap > 0:
            votes[0 if gap <= 10 else 1 if gap <= 14 else 2 if gap <= 22 else 3] += 1
            previous = ordinal
    if not any(votes):
        return Frequency.MONTHLY
    return _BY_LENGTH[max(range(4), key=lambda k: (votes[k], -k))]


def _check(flows: Sequence[CashFlow], field: str, what: str) -> None:
    if not flows:
        raise DomainError(field, f"no_{field}", f"needs at least one {what}")
    for index, (_, amount) in enumerate(flows):
        if amount < 0:
            raise InvalidAmount(field, "non_negative", f"{what} {index} is negative ({amount})")


def _no_solution(detail: str) -> DomainError:
    return DomainError("payments", "no_solution", detail)


def _value(rate: float, flows: Sequence[_Flow], tail_sign: float) -> tuple[float, float]:
    """The (b)(8) equation as payments minus advances at ``rate``, and its derivative."""
    v = 1.0 / (1.0 + rate)
    total = slope = 0.0
    try:
        for amount, whole, fraction in flows:
            simple = 1.0 + fraction * rate
            present = amount * v**whole / simple
            total += present
            slope -= present * (whole * v + fraction / simple)
    except OverflowError:
        # Near i = -0.99 the latest flow grows like 100**t and swamps the rest.
        return math.copysign(math.inf, tail_sign), math.nan
    if not math.isfinite(total):
        return math.copysign(math.inf, tail_sign), math.nan
    return total, slope


def _solve(flows: Sequence[_Flow]) -> float:
    """The unit-period rate solving (b)(8): safeguarded Newton inside a sign-change bracket."""
    at_zero = sum(amount for amount, _, _ in flows)  # every discount factor is 1 at i = 0
    if at_zero == 0:
        return 0.0
    scale = sum(abs(amount) for amount, _, _ in flows)
    tail_sign = max(flows, key=lambda flow: (flow[1], flow[2]))[0] or 1.0
    # Newton's step from 0 needs no powers: g'(0) = -Σ a·(t + f). It is the simple-interest
    # rate, a close under-estimate for an ordinary loan, so few iterations follow.
    slope0 = -sum(amount * (whole + fraction) for amount, whole, fraction in flows)
    upward = at_zero > 0  # payments beyond the advances: a positive rate, else a discount
    limit = _HIGHEST_RATE if upward else _LOWEST_RATE
    near, far = 0.0, math.nan  # g has the sign of g(0) at ``near`` and the other at ``far``
    rate = -at_zero / slope0 if slope0 < 0 else (0.01 if upward else -0.01)
    if (rate > 0) != upward or abs(rate) >= abs(limit):
        rate = 0.01 if upward else -0.01
    for _ in range(_MAX_ITERATIONS):
        total, slope = _value(rate, flows, tail_sign)
        if total == 0:
            return rate
        if (total > 0) == (at_zero > 0):
            near = rate
        else:
            far = rate
        step = rate - total / slope if slope and math.isfinite(slope) else math.nan
        low, high = sorted((near, limit if math.isnan(far) else far))
        if not low < step < high:
            # Newton left the bracket: halve it, or widen it while the far end is unknown.
            if not math.isnan(far):
                step = (near + far) / 2
            elif upward:
                step = min(4 * near + 0.01, _HIGHEST_RATE)
            else:
                step = (near + _LOWEST_RATE) / 2
        if abs(step - rate) <= 1e-14 * max(1.0, abs(rate)):
            if not math.isnan(far) or abs(total) <= 1e-9 * scale:
                return step
            break
        rate = step
    if not math.isnan(far) and abs(total) <= 1e-9 * scale:
        return rate
    raise _no_solution("no rate above -99 % per unit-period balances payments and advances")


def _unit_rate(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    frequency: Frequency | None,
) -> tuple[float | Fraction, int | Fraction]:
    """The unit-period rate and the unit-periods per year."""
    _check(advances, "advances", "advance")
    _check(payments, "payments", "payment")
    start = min(day for day, _ in advances)
    if min(day for day, _ in payments) < start:
        raise InvalidDate("payments", "date_order", "a payment is dated before the first advance")
    if sum(amount for _, amount in payments) == sum(amount for _, amount in advances):
        return 0.0, 12 if frequency is None else frequency.periods_per_year
    if frequency is None and len(advances) == 1 and len(payments) == 1:
        return _single_payment_rate(advances[0], payments[0])
    payment_dates = [day for day, _ in payments]
    unit = frequency if frequency is not None else _unit_period(start, payment_dates)
    # Month-end days only matter to months; weeks skip the count.
    month_end = {} if unit in _WEEKS else _month_end_days(payment_dates)
    flows = [
        (-float(amount), whole, fraction)
        for (_, amount), (whole, fraction) in zip(
            advances, _places(start, [day for day, _ in advances], unit, month_end), strict=True
        )
    ]
    flows += [
        (float(amount), whole, fraction)
        for (_, amount), (whole, fraction) in zip(
            payments, _places(start, payment_dates, unit, month_end), strict=True
        )
    ]
    return _solve(flows), unit.periods_per_year


def _single_payment_rate(
    advance: CashFlow, payment: CashFlow
) -> tuple[float | Fraction, int | Fraction]:
    # (b)(4)(ii): one advance and one payment have the term itself as the unit-period, at most
    # a year. Under a year that is one unit-period, so the rate is exact, i = P / A - 1, with
    # 12 / months ((b)(5)(vi)) or 365 / days ((b)(5)(vii)) unit-periods per year.
    (start, lent), (end, repaid) = advance, payment
    if lent == 0 or end == start or 100 * repaid <= lent:
        # No time, nothing lent, or a rate of -99 % or less: the bounds _solve keeps too.
        raise _no_solution("no rate above -99 % balances a single payment against its advance")
    span = (end.year - start.year) * 12 + end.month - start.month
    whole_months = _shift_months(start, span, start.day) == end or (
        _is_month_end(start) and _is_month_end(end)
    )
    if end < _shift_months(start, 12, start.day):
        per_year = Fraction(12, span) if whole_months else Fraction(365, (end - start).days)
        return Fraction(repaid, lent) - 1, per_year
    # A year or more: the unit-period is a year, measured per (b)(5)(v).
    ((whole, fraction),) = _places(start, [end], None, _month_end_days([end]))
    return _solve([(-float(lent), 0, 0.0), (float(repaid), whole, fraction)]), 1


def unit_period(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> tuple[str, Fraction]:
    """The unit period an APR is measured in and how many of them make a year.

    ``frequency`` if given; else one advance repaid by one payment is measured in its own term
    (App J (b)(4)(ii)), anything else in the most common interval between payments.

    Examples
    --------
    >>> start = date(2026, 1, 1)
    >>> unit_period([(start, 100)], [(date(2026, 2, 1), 60), (date(2026, 3, 1), 60)])
    ('monthly', Fraction(12, 1))
    >>> unit_period([(start, 100)], [(date(2026, 7, 1), 110)])
    ('term', Fraction(365, 181))
    """
    _check(advances, "advances", "advance")
    _check(payments, "payments", "payment")
    if frequency is None and len(advances) == 1 and len(payments) == 1:
        days = (payments[0][0] - advances[0][0]).days
        if days > 0:
            return "term", Fraction(365, days)
    start = min(day for day, _ in advances)
    unit = frequency or _unit_period(start, [day for day, _ in payments])
    return unit.value, Fraction(unit.periods_per_year)


def irr_per_period(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> float:
    """The unrounded rate per unit-period that solves Appendix J's general equation (b)(8).

    Parameters
    ----------
    advances, payments
        ``(date, amount)`` pairs in minor units, in any order. The earliest advance starts
        the term; no payment may precede it.
    frequency
        The unit-period. None chooses it per (b)(4): the most common interval between payments
        (the first advance to the first payment included), as the nearest ``Frequency``; a
        single advance repaid by a single payment uses the term itself, at most a year.

    Returns
    -------
    float
        The unit-period rate ``i``; negative when the payments total less than the advances.

    Raises
    ------
    DomainError
        ``no_advances`` / ``no_payments`` when a side is empty, ``non_negative`` for a negative
        amount, ``date_order`` for a payment before the first advance, ``no_solution`` when no
        rate above -99 % per unit-period balances the equation.

    Examples
    --------
    >>> from plans.calendar import due_dates
    >>> pays = [(day, 23_000) for day in due_dates(date(1978, 2, 10), 24, Frequency.MONTHLY)]
    >>> round(irr_per_period([(date(1978, 1, 10), 500_000)], pays), 8)
    0.00807142
    """
    return float(_unit_rate(advances, payments, frequency)[0])


def apr(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> Decimal:
    """The annual percentage rate by the actuarial method of Regulation Z, Appendix J.

    Solves (b)(8) for the unit-period rate (see :func:`irr_per_period`) and multiplies it by the
    unit-periods per year ((b)(9)): 52, 26, 24 or 12 for the four frequencies, and
    ``12 / months`` or ``365 / days`` for a single payment due within a year.

    Parameters
    ----------
    advances, payments
        ``(date, amount)`` pairs in minor units.
    frequency
        The unit-period; None infers it as :func:`irr_per_period` does.

    Returns
    -------
    Decimal
        The APR as a fraction, six places, half-even. Exactly zero when the payments total the
        advances; negative when they total less (a discount).

    Raises
    ------
    DomainError
        As :func:`irr_per_period`.

    Examples
    --------
    Appendix J (c)(1)(i): $5,000 advanced, 24 monthly payments of $230.00, APR 9.69 %.

    >>> from plans.calendar import due_dates
    >>> pays = [(day, 23_000) for day in due_dates(date(1978, 2, 10), 24, Frequency.MONTHLY)]
    >>> apr([(date(1978, 1, 10), 500_000)], pays)
    Decimal('0.096857')
    >>> apr([(date(2026, 1, 1), 90_000)], [(date(2026, 2, 1), 30_000), (date(2026, 3, 1), 60_000)])
    Decimal('0.000000')
    """
    rate, per_year = _unit_rate(advances, payments, frequency)
    with localcontext(_CONTEXT):
        if isinstance(rate, Fraction):
            exact = rate * per_year
            value = Decimal(exact.numerator) / Decimal(exact.denominator)
        else:
            value = Decimal(rate) * Decimal(per_year.numerator) / Decimal(per_year.denominator)
        return value.quantize(RATE_QUANTUM)


def effective_annual_rate(apr: Decimal, periods_per_year: int) -> Decimal:
    """The effective annual rate of a nominal rate compounded ``periods_per_year`` times.

    ``(1 + apr / m) ** m - 1``, six places, half-even.

    Parameters
    ----------
    apr
        The nominal annual rate as a fraction.
    periods_per_year
        Compounding periods a year, ``m``; at least 1.

    Returns
    -------
    Decimal
        The effective annual rate as a fraction.

    Raises
    ------
    InvalidRate
        When ``periods_per_year`` is below 1.

    Examples
    --------
    >>> effective_annual_rate(Decimal("0.12"), 12)
    Decimal('0.126825')
    >>> effective_annual_rate(Decimal("0.0969"), Frequency.MONTHLY.periods_per_year)
    Decimal('0.101322')
    """
    if periods_per_year < 1:
        raise InvalidRate("periods_per_year", "positive", "must be at least 1")
    with localcontext(_CONTEXT):
        growth = (1 + apr / periods_per_year) ** periods_per_year
        if growth.adjusted() > _CONTEXT.prec - 7:  # six places would need more digits than 34
            raise InvalidRate("apr", "too_large", "too large to state an effective annual rate")
        return (growth - 1).quantize(RATE_QUANTUM)


def npv_minor(
    payments: Sequence[CashFlow],
    *,
    annual_rate: Decimal,
    as_of: date,
    rounding: Rounding = Rounding.HALF_UP,
) -> int:
    """Present value at ``as_of`` of dated payments at an effective annual rate, ACT/365F.

    ``Σ P / (1 + annual_rate) ** (days / 365)``, computed in double precision and rounded
    to minor units once, at the end. A payment before ``as_of`` has negative days and so is
    compounded forward by the same formula.

    Parameters
    ----------
    payments
        ``(date, amount)`` pairs in minor units.
    annual_rate
        The effective annual discount rate as a fraction, above -1.
    as_of
        The valuation date.
    rounding
        How the exact present value becomes whole minor units.

    Returns
    -------
    int
        The present value in minor units.

    Raises
    ------
    InvalidRate
        When ``annual_rate`` is -1 or below.

    Examples
    --------
    >>> start = date(2026, 1, 1)
    >>> npv_minor([(date(2027, 1, 1), 110_000)], annual_rate=Decimal("0.10"), as_of=start)
    100000
    >>> npv_minor([(date(2026, 7, 2), 100_000)], annual_rate=Decimal("0.05"), as_of=start)
    97597
    """
    if annual_rate <= -1:
        raise InvalidRate("annual_rate", "above_minus_one", "must be above -100 %")
    # A valuation, not an amount owed: double precision (~1e-16 relative) is far finer than
    # the minor unit it is rounded to, and keeps a quote's metrics within the latency budget.
    growth = 1.0 + float(annual_rate)
    total = math.fsum(amount * growth ** (-(day - as_of).days / 365.0) for day, amount in payments)
    return round_fraction(Fraction(total), rounding)
