"""Portfolios: the engine's rules applied to many debts at once, numpy across debts.

:func:`instalment_schedules` lays out equal-instalment plans for whole arrays of debts with
exactly the scalar engine's rules (interest on principal only, rounded per line by the named
rounding, the policy's waterfall, the last line closing the balance), so that a portfolio
figure is the sum of the offers a collector would see, to the minor unit. It covers regular
plans: the first instalment one period after the as-of date, interest on the nominal basis.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from plans.calendar import Frequency
from plans.errors import DomainError
from plans.money import Rounding
from plans.policy import RATE_PLACES, ArrearsTreatment, Component, Policy

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_RATE_SCALE = 10**RATE_PLACES
# Products of a balance and a scaled rate stay below this, so int64 never overflows.
_SAFE_PRODUCT = 2**62


@dataclass(frozen=True, slots=True)
class ScheduleArrays:
    """Schedules of many debts, one row per debt and one column per instalment.

    Columns past a debt's term are zero. All amounts are int64 minor units. Arrears waived by
    the policy are waived on the first line, one amount per debt.
    """

    level_minor: Int64Array
    payment_minor: Int64Array
    interest_minor: Int64Array
    fees_minor: Int64Array
    interest_accrued_minor: Int64Array
    closing_balance_minor: Int64Array
    waived_on_first_minor: Int64Array

    @property
    def principal_minor(self) -> Int64Array:
        """Principal repaid per line: the payment less the interest and fees it settles."""
        return self.payment_minor - self.interest_minor - self.fees_minor

    @property
    def total_paid_minor(self) -> Int64Array:
        """Total paid per debt."""
        total: Int64Array = self.payment_minor.sum(axis=1)
        return total


def rates_scaled(rates: npt.ArrayLike) -> Int64Array:
    """Nominal annual rates (Decimal or str) as integers in millionths, refusing finer ones.

    Examples
    --------
    >>> rates_scaled([Decimal("0.18"), "0.0824"]).tolist()
    [180000, 82400]
    """
    scaled = []
    for rate in np.asarray(rates, dtype=object).ravel():
        value = Decimal(str(rate)) * _RATE_SCALE
        if value != value.to_integral_value() or value < 0:
            raise DomainError(
                "nominal_annual_rate", "max_decimals", f"at most {RATE_PLACES} decimal places"
            )
        scaled.append(int(value))
    return np.asarray(scaled, dtype=np.int64)


def _round_div(
    numerator: Int64Array, denominator: int, rounding: Rounding, out: Int64Array | None = None
) -> Int64Array:
    # numerator >= 0 here; the same rule as plans.money.round_div; written to ``out`` if given
    if rounding is Rounding.HALF_UP and denominator % 2 == 0:
        # ties up in one division: floor((n + d/2) / d), exact for non-negative n and even d
        numerator += denominator // 2  # a temporary of the caller's
        halved: Int64Array = np.floor_divide(numerator, denominator, out=out)
        return halved
    # floor division by a scalar is the fast path in numpy (libdivide); the remainder follows
    quotient = numerator // denominator
    twice = 2 * (numerator - quotient * denominator)
    up = (
        twice >= denominator
        if rounding is Rounding.HALF_UP
        else ((twice > denominator) | ((twice == denominator) & (quotient % 2 == 1)))
    )
    rounded: Int64Array = np.add(quotient, up, out=out)
    return rounded


def _round_float(x: FloatArray, rounding: Rounding) -> Int64Array:
    # Exact rounding of floats to integers, ties by the named rule (x - floor(x) is exact).
    whole = np.floor(x)
    fraction = x - whole
    up = fraction > 0.5
    tie = fraction == 0.5
    if rounding is Rounding.HALF_UP:
        up |= tie
    else:
        up |= tie & (np.mod(whole, 2) == 1)
    return (whole + up).astype(np.int64)


def _annuity_factor(rate: FloatArray, log_growth: FloatArray, k: Int64Array) -> FloatArray:
    # r / (1 - (1 + r)^-k), written with expm1 as the scalar rule is; 1/k at r = 0; inf at k = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = rate / -np.expm1(-k * log_growth)
        zero = rate == 0.0
        if zero.any():
            factor[zero] = 1.0 / k[zero]
    return factor


def level_payments(
    principal: Int64Array, arrears: Int64Array, rate: FloatArray, periods: Int64Array
) -> FloatArray:
    """Vectorised :func:`plans.annuity.level_payment` for regular first periods.

    Examples
    --------
    >>> level_payments(np.array([1_000_000]), np.array([0]), np.array([0.01]), np.array([12]))
    array([88848.78867...])
    """
    p = principal.astype(np.float64)
    a = arrears.astype(np.float64)
    rate = np.broadcast_to(np.asarray(rate, dtype=np.float64), p.shape)
    periods = np.broadcast_to(np.asarray(periods, dtype=np.int64), p.shape)
    log_growth = np.log1p(rate)

    def payment_for(rows: slice | Int64Array, m: Int64Array) -> FloatArray:
        pr, r = p[rows], rate[rows]
        owed = pr + a[rows] + (r + (m - 1) * r) * pr
        factor = _annuity_factor(r, log_growth[rows], periods[rows] - m)
        with np.errstate(divide="ignore", invalid="ignore"):
            result: FloatArray = np.where(
                np.isinf(factor), owed / m, owed * factor / (1.0 + m * factor)
            )
        return result

    m = np.ones_like(periods)
    # payment_for at m = 1 for every debt, without the operations by m that leave a float as
    # it is (r + 0 * r, owed / 1, 1 * factor): the same figures in a third fewer passes.
    owed = p + a + rate * p
    factor = _annuity_factor(rate, log_growth, periods - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(np.isinf(factor), owed, owed * factor / (1.0 + factor))
    # The fixed point of the scalar rule, stepped only for the debts still moving: the same
    # decisions as the scalar rule in the same float operations. At first those are the debts
    # whose arrears and first interest do not fit in the first payment: the step takes the
    # others to m = 1, where they already are.
    pending = (arrears > 0) & ~(a + rate * p <= x)
    rows = np.flatnonzero(pending)
    for _ in range(12):
        if not len(rows):
            break
        # most debts owe arrears at first: then step them all (no gather) and keep those
        dense = 2 * len(rows) > len(x)
        at: Int64Array | slice = slice(None) if dense else rows
        xr, pr, ar, r, n = x[at], p[at], a[at], rate[at], periods[at]
        excess = xr - r * pr
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.ceil(ar / excess - 1e-12)
        m_next = np.where(
            ar + r * pr <= xr, 1, np.where(excess <= 0, n, np.clip(need, 1, n))
        ).astype(np.int64)
        moving = m_next != m[at]
        if dense:
            moving &= pending
            pending = moving
            rows = np.flatnonzero(moving)
            m[rows] = m_next[rows]
        else:
            rows = rows[moving]
            m[rows] = m_next[moving]
        if len(rows):
            x[rows] = payment_for(rows, m[rows])
    if len(rows):
        # rare cycles between neighbouring m: defer to the scalar rule for those debts
        from plans.annuity import level_payment

        for i in rows.tolist():
            x[i] = level_payment(
                int(principal[i]),
                int(arrears[i]),
                first_rate=float(rate[i]),
                rate=float(rate[i]),
                periods=int(periods[i]),
            )
    return x


def instalment_schedules(
    principal_minor: npt.ArrayLike,
    interest_minor: npt.ArrayLike,
    fees_minor: npt.ArrayLike,
    nominal_annual_rate: npt.ArrayLike,
    term: npt.ArrayLike,
    *,
    policy: Policy,
    frequency: Frequency = Frequency.MONTHLY,
    level_minor: npt.ArrayLike | None = None,
) -> ScheduleArrays:
    """Equal-instalment schedules for many debts at once, line for line as the scalar engine.

    ``nominal_annual_rate`` is in Decimals/strings or already in millionths (int64 arrays).
    Arrears of interest and fees are folded (paid first down the policy's waterfall) or waived
    on the first line, as the policy says. ``level_minor`` fixes each debt's level payment
    instead of solving for it, as ``amortise(..., level_minor=...)`` does.

    Examples
    --------
    >>> s = instalment_schedules([250_000], [0], [0], ["0.0824"], [12], policy=Policy())
    >>> s.level_minor.tolist(), s.interest_minor[0, :3].tolist()
    ([21775], [1717, 1579, 1440])
    """
    level, lines, waived = _laid_out(
        principal_minor,
        interest_minor,
        fees_minor,
        nominal_annual_rate,
        term,
        policy=policy,
        frequency=frequency,
        level_minor=level_minor,
        kept=True,
    )
    return ScheduleArrays(
        level_minor=level,
        payment_minor=lines.payment.T,
        interest_minor=lines.interest.T,
        fees_minor=lines.fees.T,
        interest_accrued_minor=lines.accrued.T,
        closing_balance_minor=lines.closing.T,
        waived_on_first_minor=waived,
    )


@dataclass(frozen=True, slots=True)
class PaymentArrays:
    """What a simulation keeps of many debts' schedules: each debt's level payment, its
    payments line by line (one row per line, one column per debt, zero past its last line),
    the lines that ask for money, and the interest accrued over the plan."""

    level_minor: Int64Array
    payment_minor: Int64Array
    lines: Int64Array
    interest_accrued_minor: Int64Array


def instalment_payments(
    principal_minor: Int64Array,
    interest_minor: Int64Array,
    fees_minor: Int64Array,
    nominal_annual_rate_ppm: Int64Array,
    term: Int64Array,
    *,
    policy: Policy,
    level_minor: Int64Array | None = None,
) -> PaymentArrays:
    """:func:`instalment_schedules` (monthly) without the lines nobody reads afterwards.

    The same recursion, in the same operations, so every payment is the same; but only the
    payments are kept line by line, and the interest accrued and the lines still open are
    added up as the lines are made. The schedule's other lines (interest and fees paid,
    balances) reuse a row or two instead of a matrix each: the memory and the page faults of
    four matrices are what a portfolio of debts spends most of its layout time on.

    Examples
    --------
    >>> p = instalment_payments(np.array([250_000]), np.array([0]), np.array([0]),
    ...                         np.array([82_400]), np.array([12]), policy=Policy())
    >>> p.level_minor.tolist(), p.payment_minor[:2, 0].tolist(), p.lines.tolist()
    ([21775], [21775, 21775], [12])
    >>> int(p.payment_minor[:, 0].sum()) - 250_000, p.interest_accrued_minor.tolist()
    (11297, [11297])
    """
    level, lines, _ = _laid_out(
        principal_minor,
        interest_minor,
        fees_minor,
        nominal_annual_rate_ppm,
        term,
        policy=policy,
        frequency=Frequency.MONTHLY,
        level_minor=level_minor,
        kept=False,
    )
    assert lines.open_lines is not None and lines.accrued_total is not None  # kept=False
    return PaymentArrays(level, lines.payment, lines.open_lines + 1, lines.accrued_total)


def _laid_out(
    principal_minor: npt.ArrayLike,
    interest_minor: npt.ArrayLike,
    fees_minor: npt.ArrayLike,
    nominal_annual_rate: npt.ArrayLike,
    term: npt.ArrayLike,
    *,
    policy: Policy,
    frequency: Frequency,
    level_minor: npt.ArrayLike | None,
    kept: bool,
) -> tuple[Int64Array, _Lines, Int64Array]:
    # The level payments, the lines (every line of every kind if ``kept``; else the payments,
    # and the accrued interest and open lines added up), and the arrears waived on line one.
    principal = np.asarray(principal_minor, dtype=np.int64).copy()
    interest = np.asarray(interest_minor, dtype=np.int64).copy()
    fees = np.asarray(fees_minor, dtype=np.int64).copy()
    raw_rates = np.asarray(nominal_annual_rate)
    rate_units = raw_rates if raw_rates.dtype == np.int64 else rates_scaled(raw_rates)
    periods = np.asarray(term, dtype=np.int64)
    if principal.ndim != 1 or not (
        principal.shape == interest.shape == fees.shape == rate_units.shape == periods.shape
    ):
        raise DomainError("portfolio", "shape", "all inputs must be 1-d arrays of one length")
    if (principal < 0).any() or (interest < 0).any() or (fees < 0).any():
        raise DomainError("portfolio", "non_negative", "amounts must not be negative")
    if (periods < 1).any():
        raise DomainError("term", "min_term", "every term must be at least 1")
    ppy = frequency.periods_per_year
    denominator = _RATE_SCALE * ppy
    count, width = len(principal), int(periods.max(initial=0))
    waived = np.zeros(count, dtype=np.int64)
    if policy.arrears is ArrearsTreatment.WAIVE:
        waived = interest + fees
        interest = np.zeros_like(interest)
        fees = np.zeros_like(fees)
    exact_dtype: type = np.int64
    if int(principal.max(initial=0)) * int(rate_units.max(initial=0)) >= _SAFE_PRODUCT:
        exact_dtype = object  # Python integers: exact for any size, slower
    rate = rate_units / denominator  # correctly rounded, as float(Fraction(annual) / ppy)
    if level_minor is None:
        level = _round_float(
            level_payments(principal, interest + fees, rate, periods), policy.rounding
        )
    else:
        level = np.asarray(level_minor, dtype=np.int64)
        if level.shape != principal.shape or (level < 0).any():
            raise DomainError("level", "shape", "one non-negative level payment per debt")

    # Lines are laid out period-major (one row of all debts per period) and handed back
    # transposed; the recursion runs over blocks of debts small enough to stay in cache.
    # Lines not kept take turns in a row or two (see _row): one for what a line pays and
    # accrues, two for the balance, which the next line starts from. Every line a block
    # reaches is written whole (payment, interest, accrued, closing), so those matrices start
    # uninitialised (np.empty, which numpy backs with huge pages when large) rather than zeroed
    # to be written over, and a block zeroes only the lines past its longest term. Fees paid
    # are written on the few debts that carry fees, so their matrix starts zeroed.
    def rows(kept_rows: int, start: Any = np.zeros) -> Int64Array:
        made: Int64Array = start((kept_rows if kept else min(kept_rows, 1), count), np.int64)
        return made

    lines = _Lines(
        payment=np.empty((width, count), dtype=np.int64),
        interest=rows(width, np.empty),
        fees=rows(width),
        accrued=rows(width, np.empty),
        closing=np.empty((width if kept else min(width, 2), count), dtype=np.int64),
        accrued_total=None if kept else np.zeros(count, dtype=np.int64),
        open_lines=None if kept else np.zeros(count, dtype=np.int64),
    )

    def lay_out_block(start: int) -> None:
        block = slice(start, min(start + _BLOCK, count))
        _lay_out(
            lines,
            block,
            owed=principal[block].astype(exact_dtype),
            interest=interest[block],
            fees=fees[block],
            units=rate_units[block].astype(exact_dtype),
            level=level[block],
            periods=periods[block],
            denominator=denominator,
            policy=policy,
        )

    for start in range(0, count, _BLOCK):
        lay_out_block(start)
    return level, lines, waived


_BLOCK = 32768  # debts per block: measured fastest on 100k-debt portfolios (cache vs call overhead)


@dataclass(frozen=True, slots=True)
class _Lines:
    payment: Int64Array
    interest: Int64Array
    fees: Int64Array
    accrued: Int64Array
    closing: Int64Array
    accrued_total: Int64Array | None = None  # added up as the lines are made, if given
    open_lines: Int64Array | None = None  # lines whose closing balance is not 0, likewise


def _row(matrix: Int64Array, k: int, block: slice) -> Int64Array:
    # Line k of a block; a matrix of fewer rows than lines holds only the latest of them.
    row: Int64Array = matrix[k % len(matrix), block]
    return row


def _lay_out(
    lines: _Lines,
    block: slice,
    *,
    owed: npt.NDArray[Any],
    interest: Int64Array,
    fees: Int64Array,
    units: npt.NDArray[Any],
    level: Int64Array,
    periods: Int64Array,
    denominator: int,
    policy: Policy,
) -> None:
    # The scalar rules of plans.amortisation.amortise, one period at a time for a block of debts,
    # in int64, or in Python integers (boxed, converted to int64 for the rest). Each line's
    # figures are computed into its row of the lines. On the usual line a debt pays this
    # period's interest in full and the rest goes to its principal; the debts that carry
    # arrears (interest or fees: ``owing``, few after the first line) take the whole waterfall
    # on their rows only. A line where a debt without arrears cannot pay its interest, or a
    # waterfall with principal before interest, takes the whole waterfall for every debt.
    boxed = owed.dtype == object
    count = len(periods)
    shortest = int(periods.min()) if count else 0
    order = tuple(policy.waterfall)
    interest_first = order.index(Component.INTEREST) < order.index(Component.PRINCIPAL)
    interest = interest.copy()
    fees = fees.copy()
    owing: Int64Array = np.flatnonzero((interest != 0) | (fees != 0))
    longest = int(periods.max(initial=0))
    for matrix in (lines.payment, lines.interest, lines.accrued, lines.closing):
        if len(matrix) > longest:  # lines past the block's longest term, as np.empty left them
            matrix[longest:, block] = 0
    # Two rows of scratch, reused line after line: the product of a balance and a rate, and
    # what a line owes in all (neither is read after its line).
    product, total = np.empty(count, dtype=np.int64), np.empty(count, dtype=np.int64)
    # Past the first line, no debt without arrears pays less than its interest when interest
    # comes before principal, so the check is made on the first line only. A debt without
    # arrears on two lines paid its interest on the first (or it would carry some), a debt
    # that clears its arrears on a line paid that line's interest with them: either way its
    # balance did not grow, so its next interest (rounded monotonically) is at most that
    # line's, which its payment covered, and the payment is the level payment (at most the
    # line's total) or, on its last line, the whole total.
    for k in range(longest):
        accrued = _row(lines.accrued, k, block)
        if boxed:
            accrued[...] = _round_div(owed * units, denominator, policy.rounding)
            owed_now = owed.astype(np.int64)
        else:
            np.multiply(owed, units, out=product)
            _round_div(product, denominator, policy.rounding, out=accrued)
            owed_now = owed
        # np.putmask: a masked write without gathering the masked values first (twice as fast)
        if k >= shortest:
            np.putmask(accrued, periods <= k, 0)
        np.add(owed_now, accrued, out=total)
        # most of a block owes arrears on its first line: its whole rows then, not an index
        rows: Int64Array | slice = slice(None) if 2 * len(owing) > count else owing
        if len(owing):
            total[rows] += interest[rows] + fees[rows]
        payment = np.minimum(level, total, out=lines.payment[k, block])
        if k >= shortest - 1:
            np.putmask(payment, periods - 1 == k, total)
            np.putmask(payment, periods <= k, 0)
        closing = np.subtract(total, payment, out=_row(lines.closing, k, block))
        if lines.accrued_total is not None and lines.open_lines is not None:
            lines.accrued_total[block] += accrued
            lines.open_lines[block] += closing != 0
        if interest_first and not boxed and (k > 0 or not _any_short(payment, accrued, rows)):
            if lines.accrued_total is None:  # a kept line; a row taking turns is not read again
                _row(lines.interest, k, block)[...] = accrued
            owed = closing.copy() if len(owing) else closing
            if len(owing):
                _waterfall(
                    lines, k, block, rows, order, payment, accrued, owed_now, owed, interest, fees
                )
                owing = _still_owing(rows, interest, fees)
            continue
        paid_interest = _row(lines.interest, k, block)
        repaid = np.empty_like(payment)
        if interest_first:
            np.minimum(payment, accrued, out=paid_interest)
            np.subtract(payment, paid_interest, out=repaid)
        else:
            np.minimum(payment, owed_now, out=repaid)
            np.subtract(payment, repaid, out=paid_interest)
        carried = accrued - paid_interest
        principal = owed_now - repaid
        if len(owing):
            carried[rows] = interest[rows]
            _waterfall(
                lines, k, block, rows, order, payment, accrued, owed_now, principal, carried, fees
            )
        interest = carried
        owing = _still_owing(slice(None), interest, fees)
        owed = principal.astype(object) if boxed else principal


def _any_short(payment: Int64Array, accrued: Int64Array, owing: Int64Array | slice) -> bool:
    # Whether a debt without arrears pays less than its interest this line.
    short = payment < accrued
    short[owing] = False
    return bool(short.any())


def _waterfall(
    lines: _Lines,
    k: int,
    block: slice,
    rows: Int64Array | slice,
    order: tuple[Component, ...],
    payment: Int64Array,
    accrued: Int64Array,
    owed: Int64Array,
    principal: Int64Array,
    interest: Int64Array,
    fees: Int64Array,
) -> None:
    # Line k of the debts ``rows``, which carry arrears: ``payment`` goes down the whole
    # waterfall over their fees, their interest (carried, plus this period's ``accrued``) and
    # their ``owed`` principal. What is left of each is written back to ``principal``,
    # ``interest`` and ``fees``; what is paid, to the lines.
    left = np.array(payment[rows])
    due = {
        Component.FEES: fees[rows],
        Component.INTEREST: interest[rows] + accrued[rows],
        Component.PRINCIPAL: owed[rows],
    }
    paid = {}
    for component in order:
        take = np.minimum(left, due[component])
        left -= take
        due[component] = due[component] - take
        paid[component] = take
    _row(lines.interest, k, block)[rows] = paid[Component.INTEREST]
    # Fees paid are written only where there are some: their matrix starts zeroed, and the
    # debts still carrying arrears after a line or two mostly owe interest alone, so most of
    # its pages are never touched (each first touch faults in a zeroed page).
    some = paid[Component.FEES] != 0
    at = np.flatnonzero(some) if isinstance(rows, slice) else rows[some]
    _row(lines.fees, k, block)[at] = paid[Component.FEES][some]
    principal[rows] = due[Component.PRINCIPAL]
    interest[rows] = due[Component.INTEREST]
    fees[rows] = due[Component.FEES]


def _still_owing(rows: Int64Array | slice, interest: Int64Array, fees: Int64Array) -> Int64Array:
    # Of ``rows``, the debts that still carry interest or fees (as positions in the block).
    if isinstance(rows, slice):
        return np.flatnonzero((interest != 0) | (fees != 0))
    left: Int64Array = rows[(interest[rows] != 0) | (fees[rows] != 0)]
    return left


def level_payments_from(
    principal: Int64Array,
    arrears: Int64Array,
    *,
    first_rate: FloatArray,
    rate: FloatArray,
    periods: Int64Array,
) -> FloatArray:
    """Vectorised :func:`plans.annuity.level_payment` with a first period of its own rate.

    The same fixed point as the scalar rule, in the same floating-point operations, so that a
    search over terms takes the same decisions for every debt; the rare debt whose fixed point
    cycles is handed to the scalar rule itself.

    Examples
    --------
    >>> level_payments_from(np.array([1_000_000]), np.array([50_000]),
    ...                     first_rate=np.array([0.0102]), rate=np.array([0.01]),
    ...                     periods=np.array([12]))
    array([93264.837...])
    """
    count = len(principal)
    p = principal.astype(np.float64)
    a = arrears.astype(np.float64)
    first = np.broadcast_to(np.asarray(first_rate, dtype=np.float64), (count,))
    per = np.broadcast_to(np.asarray(rate, dtype=np.float64), (count,))
    n = np.broadcast_to(np.asarray(periods, dtype=np.int64), (count,))
    log_growth = np.log1p(per)

    def payment_for(rows: slice | Int64Array, m: Int64Array) -> FloatArray:
        pr, r = p[rows], per[rows]
        owed = pr + a[rows] + (first[rows] + (m - 1) * r) * pr
        factor = _annuity_factor(r, log_growth[rows], n[rows] - m)
        with np.errstate(divide="ignore", invalid="ignore"):
            result: FloatArray = np.where(
                np.isinf(factor), owed / m, owed * factor / (1.0 + m * factor)
            )
        return result

    x = payment_for(slice(None), np.ones(count, dtype=np.int64))
    # Every debt takes the fixed-point step, as the scalar rule does (one without arrears
    # stops at once unless its first period's interest alone exceeds the payment).
    rows = np.arange(count)
    m = np.ones(count, dtype=np.int64)
    for _ in range(16):
        if not len(rows):
            break
        xr, pr, ar, r = x[rows], p[rows], a[rows], per[rows]
        excess = xr - r * pr
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.ceil((ar + (first[rows] - r) * pr) / excess - 1e-12)
        m_next = np.where(
            ar + first[rows] * pr <= xr,
            1,
            np.where(excess <= 0, n[rows], np.clip(need, 1, n[rows])),
        ).astype(np.int64)
        moving = m_next != m
        rows, m = rows[moving], m_next[moving]
        if len(rows):
            x[rows] = payment_for(rows, m)
    if len(rows):
        # a fixed point that cycles between neighbours: the scalar rule settles it
        from plans.annuity import level_payment

        for i in rows.tolist():
            x[i] = level_payment(
                int(principal[i]),
                int(arrears[i]),
                first_rate=float(first[i]),
                rate=float(per[i]),
                periods=int(n[i]),
            )
    return x


def shortest_terms(
    fits: Int64Array,
    *,
    principal: Int64Array,
    arrears: Int64Array,
    first_rate: FloatArray,
    rate: FloatArray,
    limit: int,
) -> Int64Array:
    """Vectorised :func:`plans.instalment.shortest_term`: for each debt, the fewest payments
    whose level payment is at most ``fits`` minor units, or ``limit + 1`` if none within
    ``limit``. The scalar binary search, run on every debt at once.

    Examples
    --------
    >>> shortest_terms(np.array([125_000, 0]), principal=np.array([1_000_000, 1_000_000]),
    ...                arrears=np.array([0, 0]), first_rate=np.array([0.0, 0.0]),
    ...                rate=np.array([0.0, 0.0]), limit=36).tolist()
    [8, 37]
    """
    count = len(fits)
    first = np.broadcast_to(np.asarray(first_rate, dtype=np.float64), (count,))
    per = np.broadcast_to(np.asarray(rate, dtype=np.float64), (count,))
    lo = np.ones(count, dtype=np.int64)
    hi = np.full(count, limit + 1, dtype=np.int64)
    lo[fits <= 0] = limit + 1
    bound = fits.astype(np.float64) + 0.5
    rows = np.flatnonzero(lo < hi)

    def fits_at(rows: Int64Array, term: Int64Array) -> npt.NDArray[np.bool_]:
        x = level_payments_from(
            principal[rows], arrears[rows], first_rate=first[rows], rate=per[rows], periods=term
        )
        ok: npt.NDArray[np.bool_] = x <= bound[rows]
        return ok

    # Start from the annuity of the whole balance (an estimate: arrears carry no interest)
    # and probe its neighbour: most debts are bracketed in two evaluations. The level payment
    # falls as the term grows, so the bracket holds the same answer as the binary search.
    owed = (principal[rows] + arrears[rows]).astype(np.float64)
    r, b = per[rows], bound[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(r > 0, -np.log1p(-r * owed / b) / np.log1p(r), owed / b)
    guess = np.clip(np.nan_to_num(np.ceil(estimate), nan=limit), 1, limit).astype(np.int64)
    ok = fits_at(rows, guess)
    hi[rows[ok]], lo[rows[~ok]] = guess[ok], guess[~ok] + 1
    below, above = rows[ok & (guess > 1)], rows[~ok & (guess < limit)]
    if len(below):
        ok = fits_at(below, hi[below] - 1)
        hi[below[ok]], lo[below[~ok]] = hi[below[ok]] - 1, hi[below[~ok]]
    if len(above):
        ok = fits_at(above, lo[above])
        hi[above[ok]], lo[above[~ok]] = lo[above[ok]], lo[above[~ok]] + 1
    rows = rows[lo[rows] < hi[rows]]
    while len(rows):
        mid = (lo[rows] + hi[rows]) // 2
        x = level_payments_from(
            principal[rows],
            arrears[rows],
            first_rate=first[rows],
            rate=per[rows],
            periods=mid,
        )
        ok = x <= bound[rows]
        hi[rows] = np.where(ok, mid, hi[rows])
        lo[rows] = np.where(ok, lo[rows], mid + 1)
        rows = rows[lo[rows] < hi[rows]]
    return lo
