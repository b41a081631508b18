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
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction

from plans.calendar import Frequency
from plans.errors import DomainError, InvalidAmount, InvalidDate, InvalidRate
from plans.money import Rounding, round_float
from plans.unit_periods import (
    YEAR,
    Regularity,
    UnitPeriod,
    choose,
    is_month_end,
    month_end_days,
    place,
    regularity,
    shift_months,
)

CashFlow = tuple[date, int]
"""A dated amount in minor units: ``(date, amount)``."""

RATE_QUANTUM = Decimal("0.000001")
_NO_RATE = Decimal("0.000000")

# Thirty-four digits (IEEE decimal128) leave the six-place quantization far from any noise, and a
# private context keeps the results independent of whatever the caller did to the global one.
DECIMAL_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
_LOWEST_RATE = -0.99
_HIGHEST_RATE = 1e9
_MAX_ITERATIONS = 200

_Flow = tuple[float, int, float]  # signed amount, whole unit-periods t, fraction f


def _check(flows: Sequence[CashFlow], field: str, what: str) -> None:
    if not flows:
        raise DomainError(field, f"no_{field}", f"needs at least one {what}")
    for index, (_, amount) in enumerate(flows):
        if amount < 0:
            raise InvalidAmount(field, "non_negative", f"{what} {index} is negative ({amount})")


def no_solution(detail: str) -> DomainError:
    """The engine's error for flows no rate above -99 % balances (rule ``no_solution``)."""
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


def solve_general_equation(flows: Sequence[_Flow]) -> float:
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
    raise no_solution("no rate above -99 % per unit-period balances payments and advances")


def _single_payment_unit(start: date, end: date) -> UnitPeriod:
    # (b)(4)(ii): one advance and one payment have the term itself as the unit period, at most a
    # year; (b)(5)(vi): a term of whole months has 12 / months unit periods a year, (b)(5)(vii):
    # any other term under a year 365 / days.
    if end >= shift_months(start, 12, start.day):
        return YEAR
    span = (end.year - start.year) * 12 + end.month - start.month
    whole_months = span > 0 and (
        shift_months(start, span, start.day) == end or (is_month_end(start) and is_month_end(end))
    )
    if whole_months:
        return UnitPeriod("month", span, term=True)
    return UnitPeriod("day", (end - start).days, term=True)


def checked_start(advances: Sequence[CashFlow], payments: Sequence[CashFlow]) -> date:
    """The first advance's date, once both sides are non-empty and non-negative and no
    payment precedes it (else the DomainError :func:`irr_per_period` documents)."""
    _check(advances, "advances", "advance")
    _check(payments, "payments", "payment")
    start = min(day for day, _ in advances)
    if min(day for day, _ in payments) < start:
        raise InvalidDate("payments", "date_order", "a payment is dated before the first advance")
    return start


def _unit(
    advances: Sequence[CashFlow], payments: Sequence[CashFlow], frequency: Frequency | None
) -> UnitPeriod:
    if frequency is not None:
        return UnitPeriod.of(frequency)
    if len(advances) == 1 and len(payments) == 1:
        (start, lent), (end, repaid) = advances[0], payments[0]
        if lent == 0 or end == start or 100 * repaid <= lent:
            # No time, nothing lent, or a rate of -99 % or less: the general equation's bounds.
            raise no_solution("no rate above -99 % balances a single payment against its advance")
        return _single_payment_unit(start, end)
    return choose([day for day, _ in advances], [day for day, _ in payments])


def placed_flows(
    advances: Sequence[CashFlow], payments: Sequence[CashFlow], unit: UnitPeriod
) -> list[tuple[float, int, float]]:
    """Advances (negative) and payments as ``(amount, t, f)`` in ``unit`` from the first advance.

    (b)(8): ``t`` whole unit periods and the fraction ``f`` from the beginning of the term, the
    first advance ((b)(2)), to each advance and payment, counted per (b)(5)
    (:func:`plans.unit_periods.place`).

    Examples
    --------
    >>> placed_flows([(date(2026, 1, 1), 100)], [(date(2026, 2, 15), 101)], UnitPeriod("month", 1))
    [(-100.0, 0, 0.0), (101.0, 1, 0.4666666666666667)]
    """
    start = min(day for day, _ in advances)
    # Month-end days only matter to months; weeks skip the count.
    dates = [day for day, _ in (*advances, *payments)]
    paid = [day for day, _ in payments]
    month_end = {} if unit.unit in ("week", "day") else month_end_days(paid, start=start)
    signs = [-1.0] * len(advances) + [1.0] * len(payments)
    amounts = [amount for _, amount in (*advances, *payments)]
    return [
        (sign * amount, whole, fraction)
        for sign, amount, (whole, fraction) in zip(
            signs, amounts, place(start, dates, unit, month_end), strict=True
        )
    ]


def _unit_rate(
    advances: Sequence[CashFlow], payments: Sequence[CashFlow], frequency: Frequency | None
) -> tuple[float | Fraction, UnitPeriod]:
    """The unit-period rate and the unit period."""
    checked_start(advances, payments)
    unit = _unit(advances, payments, frequency)
    if sum(amount for _, amount in payments) == sum(amount for _, amount in advances):
        return 0.0, unit
    if unit.term:
        # Under a year the term is one unit period, so the rate is exact: i = P / A - 1.
        return Fraction(payments[0][1], advances[0][1]) - 1, unit
    return solve_general_equation(placed_flows(advances, payments, unit)), unit


def transaction_unit_period(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> UnitPeriod:
    """The unit period Appendix J measures a transaction in.

    ``frequency`` if given; else one advance repaid by one payment is measured in its own term,
    at most a year ((b)(4)(ii)), and anything else in its most common period ((b)(4)(i),
    :func:`plans.unit_periods.choose`).

    Raises
    ------
    DomainError
        As :func:`irr_per_period`, and ``unit_period`` when the schedule has no unit period
        in whole weeks, semimonths or whole months.

    Examples
    --------
    >>> start = date(2026, 1, 1)
    >>> transaction_unit_period([(start, 100)], [(date(2026, 7, 1), 110)])
    UnitPeriod(unit='month', length=6, term=True)
    >>> pays = [(date(2026, 1, 29), 40), (date(2026, 2, 26), 40), (date(2026, 3, 26), 40)]
    >>> transaction_unit_period([(start, 100)], pays).name
    '4_weeks'
    """
    checked_start(advances, payments)
    return _unit(advances, payments, frequency)


def transaction_regularity(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> Regularity:
    """§1026.22(a)(2) regular or (a)(3) irregular, and the tolerance of the disclosed APR.

    See :func:`plans.unit_periods.regularity`.

    Examples
    --------
    >>> start = date(2026, 1, 1)
    >>> transaction_regularity([(start, 50), (date(2026, 2, 1), 50)], [(date(2026, 3, 1), 101)])
    Regularity(regular=False, tolerance=Decimal('0.25'), reasons=('multiple_advances',))
    """
    unit = transaction_unit_period(advances, payments, frequency=frequency)
    return regularity(advances, payments, unit)


def unit_period(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> tuple[str, Fraction]:
    """The unit period's name and how many of them make a year.

    The name is :attr:`plans.unit_periods.UnitPeriod.name`: ``weekly``, ``biweekly``,
    ``semi_monthly``, ``monthly`` and ``term`` as before, and now ``N_weeks`` and ``N_months``
    (``4_weeks``, ``2_months``, ``3_months``, ``12_months``) for the other unit periods.

    Examples
    --------
    >>> start = date(2026, 1, 1)
    >>> unit_period([(start, 100)], [(date(2026, 2, 1), 60), (date(2026, 3, 1), 60)])
    ('monthly', Fraction(12, 1))
    >>> unit_period([(start, 100)], [(date(2026, 7, 1), 110)])
    ('term', Fraction(2, 1))
    >>> unit_period([(start, 100)], [(date(2026, 7, 2), 110)])
    ('term', Fraction(365, 182))
    """
    unit = transaction_unit_period(advances, payments, frequency=frequency)
    return unit.name, unit.per_year


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
    rate, unit = _unit_rate(advances, payments, frequency)
    with localcontext(DECIMAL_CONTEXT):
        return annualised(rate, unit.per_year).quantize(RATE_QUANTUM)


def annualised(rate: float | Fraction, per_year: Fraction) -> Decimal:
    """``rate × per_year`` to 34 significant digits, before any rounding to show it.

    Examples
    --------
    >>> annualised(Fraction(8, 100), Fraction(365, 255))
    Decimal('0.1145098039215686274509803921568627')
    """
    with localcontext(DECIMAL_CONTEXT):
        if isinstance(rate, Fraction):
            exact = rate * per_year
            return Decimal(exact.numerator) / Decimal(exact.denominator)
        return Decimal(rate) * Decimal(per_year.numerator) / Decimal(per_year.denominator)


def unit_rate(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> tuple[float | Fraction, UnitPeriod]:
    """The unit-period rate of (b)(8), exact (a ``Fraction``) for a single payment within a
    year, and the unit period it is a rate of.

    Examples
    --------
    >>> unit_rate([(date(1978, 1, 3), 100_000)], [(date(1978, 7, 3), 104_400)])
    (Fraction(11, 250), UnitPeriod(unit='month', length=6, term=True))
    """
    return _unit_rate(advances, payments, frequency)


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
    if not apr:  # (1 + 0) ** m - 1, to six places, whatever zero's sign or exponent
        return _NO_RATE
    with localcontext(DECIMAL_CONTEXT):
        growth = (1 + apr / periods_per_year) ** periods_per_year
        if (
            growth.adjusted() > DECIMAL_CONTEXT.prec - 7
        ):  # six places would need more digits than 34
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
    total = math.fsum(present_values(payments, annual_rate=annual_rate, as_of=as_of))
    return round_float(total, rounding)


def present_values(
    payments: Sequence[CashFlow], *, annual_rate: Decimal, as_of: date
) -> list[float]:
    """Each payment's present value at ``as_of`` (:func:`npv_minor` sums and rounds them), in
    double precision: a valuation, not an amount owed (~1e-16 relative is far finer than the
    minor unit it is rounded to, and keeps a quote's metrics within the latency budget).

    Examples
    --------
    >>> present_values([(date(2027, 1, 1), 110_000)], annual_rate=Decimal("0.10"),
    ...                as_of=date(2026, 1, 1))
    [100000.0]
    """
    if annual_rate <= -1:
        raise InvalidRate("annual_rate", "above_minus_one", "must be above -100 %")
    growth = 1.0 + float(annual_rate)
    return [amount * growth ** (-(day - as_of).days / 365.0) for day, amount in payments]
