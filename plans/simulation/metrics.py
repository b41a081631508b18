"""What an offer is worth: total paid, APR, NPV and expected recovery, over arrays of debts.

The measures of :func:`plans.offer.measure`, with two simplifications:

- The APR counts whole months from the as-of date (Reg Z App J (b)(5)(ii) with no odd days),
  which is exact when the as-of day is the 28th or earlier; from the 29th on, the month-end
  rule of (b)(3)(iv) is not applied.
- NPV and expected recovery add their terms in date order (compensated, for debts paying 2^32
  minor units or more) instead of with ``math.fsum``: a result can differ from the scalar
  engine's by one minor unit only if it lies within about 1e-16 (relative) of half a unit.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from plans.annual_rates import JURISDICTION_METHODS, RateMethod, rate_jurisdiction
from plans.calendar import Frequency, add_months
from plans.money import Rounding
from plans.policy import OfferKind, Policy
from plans.rates import irr_per_period
from plans.simulation.layout import by_term
from plans.simulation.offers import RATE_CAP, Offers, clear
from plans.simulation.timeline import Dates, Weights, weights_for
from plans.simulation.units import (
    MONTH_RATE_SCALE,
    PERIODS_PER_YEAR,
    RATE_SCALE,
    BoolArray,
    FloatArray,
    Int64Array,
)


def over_cap(apr_ppm: Int64Array, policy: Policy) -> Int64Array:
    """The positions of the APRs (monthly, whole months, in ppm) whose disclosed annual rate
    is above the policy's cap, as :func:`plans.annual_rates.check_rate_cap` tests it for the
    policy's jurisdiction: the APR itself to 2 decimals in percent (US; CN, where with no odd
    days the IRR is the APR), or the APRC ``(1 + APR / 12)^12 - 1`` to 1 decimal (GB: whole
    months are twelfths of a year).

    Examples
    --------
    >>> over_cap(np.array([240_049, 240_050]), Policy()).tolist()  # a cap of 24 %
    [1]
    """
    cap_percent = float(policy.rate_cap * 100)
    method = JURISDICTION_METHODS[rate_jurisdiction(None, policy.holiday_country)]
    if method is RateMethod.EU_CCD:
        aprc = (1.0 + apr_ppm / (RATE_SCALE * PERIODS_PER_YEAR)) ** PERIODS_PER_YEAR - 1.0
        disclosed = np.floor(aprc * 1_000 + 0.5) / 10
    else:
        disclosed = ((apr_ppm + 50) // 100) / 100
    over: Int64Array = np.flatnonzero(disclosed > cap_percent)
    return over


def measure(
    offers: Offers,
    kind: OfferKind,
    policy: Policy,
    dates: Dates,
    *,
    finance_charge: Int64Array | None = None,
    annual: Int64Array | None = None,
) -> None:
    """Total paid, APR, NPV and expected recovery as plans.offer.measure, and the APR cap.

    Debts without an offer have no flows, so every sum below is 0 for them without a mask.
    """
    flows = offers.flows
    offers.total_paid_minor[:] = flows.sum(axis=0)
    # Every flow is a payment (none is negative): which positions pay, found once for the
    # APR solve, the positions the present values need, and each debt's first payment.
    paying = flows > 0
    last = _last_rows(paying)
    if finance_charge is not None and annual is not None:
        financed = offers.total_paid_minor - finance_charge
        solve = np.flatnonzero((offers.rule == 0) & (finance_charge != 0) & (financed > 0))
        if len(solve):
            # the debts to solve are picked batch by batch from the whole flows: one copy each
            guess = annual[solve] / MONTH_RATE_SCALE
            apr = _solve_aprs(flows, solve, financed[solve], guess, last=last[solve])
            offers.apr_ppm[solve] = apr
            # plans.instalment.finish: an annual rate above the cap, as disclosed, refuses
            over = solve[over_cap(apr, policy)]
            if len(over):
                offers.rule[over] = RATE_CAP
                clear(offers, over)
                offers.total_paid_minor[over] = 0
                paying[:, over] = False
                last[over] = 0
    curve = policy.survival_curve(kind)
    weights = weights_for(dates.days, policy.cost_of_funds, curve.take_up, curve.monthly_retention)
    offers.weights = weights
    # Positions after the last payment of every debt add exact zeros: leave them out.
    latest = int(last.max(initial=0))
    rows = latest + 1 if latest or paying[:1].any() else 0
    positions = offers.positions.tolist()
    first = offers.first
    # the earliest position that pays (a debt whose plan pays nothing keeps its own)
    if rows:
        earliest = _first_rows(paying[:rows])
        paying_at_all = earliest < rows
        first[paying_at_all] = earliest[paying_at_all]
    first_position = offers.positions[np.maximum(first, 0)]
    values = flows[:rows]  # converted to doubles a row at a time, as they are weighted
    npv, expected = _present_values(values, positions, first_position, weights)
    # plans.rates.npv_minor adds with math.fsum (exactly); a plain sum drifts by a few units in
    # the last place, which only matters once that place nears half a minor unit: for debts
    # paying 2^32 minor units or more, the sums are compensated (each debt's own choice, so a
    # debt's result does not depend on the debts it is computed with).
    large = np.flatnonzero(offers.total_paid_minor >= 2**32)
    if len(large):
        npv[large], expected[large] = _present_values(
            values[:, large], positions, first_position[large], weights, compensated=True
        )
    offers.npv_minor[:] = _round_float(npv, policy.rounding)
    offers.expected_recovery_minor[:] = np.rint(expected).astype(np.int64)  # round(): half-even


def _present_values(
    values: Int64Array,
    positions: list[int],
    first_position: Int64Array,
    weights: Weights,
    *,
    compensated: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """NPV and expected recovery of each debt's flows (``values``: position × debt).

    Each row is converted to doubles by the multiplication that weights it (the same doubles
    as converting the whole matrix first, without the copy)."""
    count = values.shape[1]
    npv, expected = np.zeros(count), np.zeros(count)
    npv_error, expected_error = np.zeros(count), np.zeros(count)
    term = np.empty(count)
    for j, position in enumerate(positions[: values.shape[0]]):
        np.multiply(values[j], weights.discount[position], out=term)
        if compensated:
            _add_exactly(npv, npv_error, term)
        else:
            npv += term
        # amount × discount × take-up × survival, left to right as plans.offer.measure
        term *= weights.take_up
        term *= np.take(weights.table[:, position], first_position)
        if compensated:
            _add_exactly(expected, expected_error, term)
        else:
            expected += term
    if compensated:
        npv += npv_error
        expected += expected_error
    return npv, expected


def _add_exactly(total: FloatArray, error: FloatArray, term: FloatArray) -> None:
    # Knuth's TwoSum: total + term exactly as the rounded sum plus the error it dropped.
    rounded = total + term
    virtual = rounded - total
    error += (total - (rounded - virtual)) + (term - virtual)
    total[:] = rounded


def _round_float(x: FloatArray, rounding: Rounding) -> Int64Array:
    # plans.money.round_fraction of the exact value of each double (x - floor(x) is exact)
    whole = np.floor(x)
    fraction = x - whole
    up = fraction > 0.5
    tie = fraction == 0.5
    up |= tie if rounding is Rounding.HALF_UP else tie & (np.mod(whole, 2) == 1)
    result: Int64Array = (whole + up).astype(np.int64)
    return result


def apr_ppm(flows: Int64Array, financed: Int64Array, *, guess: FloatArray) -> Int64Array:
    """Reg Z App J APR in millionths: one advance of ``financed`` on the as-of date, payments
    at whole months (row ``t`` of ``flows``), the unit period a month.

    Newton's method from ``guess`` (the plan's own monthly rate, which the APR differs from
    only by rounding and arrears) to full double precision, each debt stopping on its own;
    debts are solved in batches of similar length so a short plan does not pay for a long
    one's columns. A debt that does not converge is handed to :func:`plans.rates.apr`.
    """
    return _solve_aprs(flows, np.arange(flows.shape[1]), financed, guess)


def _solve_aprs(
    flows: Int64Array,
    columns: Int64Array,
    financed: Int64Array,
    guess: FloatArray,
    *,
    last: Int64Array | None = None,
) -> Int64Array:
    """:func:`apr_ppm` of the ``columns`` of ``flows`` (``financed``, ``guess`` and the last
    row that pays, ``last``, theirs; found here if not given)."""
    if last is None:
        # the last month that pays (0 if none), of every column: a max over contiguous rows
        last = _last_rows(flows > 0)[columns]
    rate = np.full(len(columns), np.nan)
    for batch in by_term(last + 1):
        # np.take along the debts gathers several times faster than fancy indexing does
        paid = np.take(flows[: int(last[batch].max()) + 1], columns[batch], axis=1)
        rate[batch] = _monthly_irr(paid, financed[batch], guess[batch])
    for i in np.flatnonzero(np.isnan(rate)).tolist():
        rate[i] = _scalar_monthly_irr(flows[:, columns[i]], int(financed[i]))
    # Reg Z App J (b)(9): APR = unit-period rate × 12, six places, half-even (np.rint).
    apr: Int64Array = np.rint(rate * (PERIODS_PER_YEAR * RATE_SCALE)).astype(np.int64)
    return apr


def _row_numbers(rows: int, *, descending: bool = False) -> npt.NDArray[Any]:
    # a column of row numbers, 0..rows-1 (or rows..1), in the smallest type that holds them
    small = np.int16 if rows < 2**15 else np.int64
    numbers = np.arange(rows, 0, -1, dtype=small) if descending else np.arange(rows, dtype=small)
    return numbers[:, None]


def _last_rows(mask: BoolArray) -> Int64Array:
    """The last row of each column of ``mask`` that is true (0 if none).

    A max over rows of small integers, which numpy takes row by row over contiguous memory:
    many times faster than an ``argmax`` along the first axis, which goes column by column.
    """
    last: Int64Array = (_row_numbers(mask.shape[0]) * mask).max(axis=0, initial=0).astype(np.int64)
    return last


def _first_rows(mask: BoolArray) -> Int64Array:
    """The first row of each column of ``mask`` that is true (the number of rows if none),
    by the same max over rows as :func:`_last_rows`."""
    rows = mask.shape[0]
    found = (_row_numbers(rows, descending=True) * mask).max(axis=0, initial=0)
    first: Int64Array = rows - found.astype(np.int64)
    return first


def _monthly_irr(flows: Int64Array, financed: Int64Array, guess: FloatArray) -> FloatArray:
    # (b)(8) with whole unit periods: Σ a_t v^t = A, v = 1 / (1 + i). Horner's rule gives the
    # polynomial in v and its derivative in four in-place operations a column.
    amounts = flows.astype(np.float64)
    advance = financed.astype(np.float64)
    rate = np.maximum(guess, 1e-6)
    result = np.full(len(advance), np.nan)
    rows = np.arange(len(advance))
    for _ in range(50):
        if not len(rows):
            break
        v = 1.0 / (1.0 + rate)
        value = np.zeros(len(rows))
        slope = np.zeros(len(rows))  # d/dv
        for t in range(amounts.shape[0] - 1, -1, -1):
            slope *= v
            slope += value
            value *= v
            value += amounts[t]
        value -= advance
        # d/di = d/dv × dv/di = -v² d/dv
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = rate + value / (slope * v * v)
        step = np.where(np.isfinite(step), np.maximum(step, (rate - 0.99) / 2), rate / 2)
        done = np.abs(step - rate) <= 1e-14 * np.maximum(1.0, np.abs(rate))
        result[rows[done]] = step[done]
        if not done.any():
            rate = step  # nothing to take out: no copy of the amounts
            continue
        keep = ~done
        rows, rate, advance = rows[keep], step[keep], advance[keep]
        amounts = amounts.compress(keep, axis=1)  # much faster than amounts[:, keep]
    return result


def _scalar_monthly_irr(flows: Int64Array, financed: int) -> float:
    start = date(2001, 1, 1)  # any first of a month: whole months apart, no odd days
    payments = [(add_months(start, t), int(a)) for t, a in enumerate(flows.tolist()) if a > 0]
    return irr_per_period([(start, financed)], payments, frequency=Frequency.MONTHLY)
