"""Instalment plans for arrays of debts, and the first plan that fits each debtor's capacity.

Equal-instalment plans on the ``nominal`` interest basis, laid out by
:func:`plans.portfolio.instalment_payments`; a policy with the ``actual_days`` basis is
refused rather than approximated (by :mod:`plans.simulation.grid`). The plans are checked,
and tried again one unit or one period more, in the scalar engine's order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from plans.policy import ArrearsTreatment, Policy
from plans.portfolio import instalment_payments
from plans.simulation.offers import CAPACITY, MIN_INSTALMENT, reject
from plans.simulation.units import BoolArray, Int64Array, put_columns


@dataclass(frozen=True, slots=True)
class _Plans:
    """Instalment plans laid out for some debts: payments position-major (line × debt)."""

    rule: npt.NDArray[np.int8]
    payments: Int64Array
    level: Int64Array
    lines: Int64Array
    accrued: Int64Array
    raisable: BoolArray  # only the last line broke the capacity, and one unit more fits


def _lay_out(
    owed: tuple[Int64Array, Int64Array, Int64Array],
    annual_ppm: Int64Array,
    term: Int64Array,
    *,
    capacity: Int64Array,
    minimum: Int64Array,
    policy: Policy,
    level: Int64Array | None = None,
) -> _Plans:
    """Equal-instalment plans of ``term`` payments, checked as plans.instalment.check_fit."""
    principal, interest, fees = owed
    s = instalment_payments(
        principal, interest, fees, annual_ppm, term, policy=policy, level_minor=level
    )
    payments = s.payment_minor  # line × debt
    # The scalar loop stops at the first line that closes the balance; no balance reopens.
    lines = s.lines
    last = payments[lines - 1, np.arange(len(term))]
    # Every line before the closing one pays the level payment exactly (amortise pays
    # min(level, balance), and a balance at or below the level closes): the checks on
    # "every instalment" and "all but the last" reduce to the level and the last payment.
    made = s.level_minor
    several = lines > 1
    largest = np.where(several, np.maximum(made, last), last)
    rule = np.zeros(len(term), dtype=np.int8)
    reject(rule, (capacity > 0) & (largest > capacity), CAPACITY)
    reject(rule, several & (made < minimum), MIN_INSTALMENT)
    # plans.instalment.raised_level: a rounded-down level pushes its residue onto the last
    # line; if only that line is over the capacity, the scalar engine tries one unit more.
    raisable = (rule == CAPACITY) & several & (made < capacity)
    return _Plans(rule, payments, made, lines, s.interest_accrued_minor, raisable)


def by_term(term: Int64Array, step: int = 6, least: int = 4096) -> list[Int64Array]:
    """Row indices in groups of similar term: a batch loops to its own longest term only.

    A group of fewer than ``least`` rows joins the next longer one (the longest, the one
    before it): a batch pays numpy's call overhead on every line it lays out, which for a
    few debts (the retries of :func:`fitting_plans` are mostly a handful per term) outweighs
    the lines they lay out past their own term. A debt's figures are the same in any batch
    (its lines past its term are zeros), so only the time changes.

    Examples
    --------
    >>> [b.tolist() for b in by_term(np.array([3, 30, 4, 12]), least=1)]
    [[0, 2], [3], [1]]
    >>> [b.tolist() for b in by_term(np.array([3, 30, 4, 12]), least=2)]
    [[0, 2], [3, 1]]
    """
    group = (term - 1) // step
    order = np.argsort(group, kind="stable")
    cuts: list[int] = []
    start = 0
    for bound in (np.flatnonzero(np.diff(group[order])) + 1).tolist():
        if bound - start >= least:
            cuts.append(bound)
            start = bound
    if cuts and len(term) - cuts[-1] < least:
        cuts.pop()
    return [rows for rows in np.split(order, cuts) if len(rows)]


@dataclass(frozen=True, slots=True)
class Fitted:
    """The plan each debt keeps (its payments are in the caller's flows), or why none fits."""

    rule: npt.NDArray[np.int8]
    level: Int64Array
    lines: Int64Array
    accrued: Int64Array


def fitting_plans(
    owed: tuple[Int64Array, Int64Array, Int64Array],
    annual_ppm: Int64Array,
    term: Int64Array,
    *,
    limit: int,
    capacity: Int64Array,
    minimum: Int64Array,
    policy: Policy,
    into: Int64Array,
    columns: Int64Array,
) -> Fitted:
    """The scalar engine's attempts in its order: the searched term ``n`` at the solved level,
    then at one unit more if that may help, then ``n + 1`` the same way (within ``limit``).
    Each debt keeps the first plan that fits, or the rule of its last attempt.

    The payments are written where they end up, column ``columns[i]`` of ``into`` for debt
    ``i`` (row 0 its first instalment; ``into`` zero there to begin with), rather than
    gathered here and copied again: all zero for a debt no plan fits.
    """
    count = len(term)
    rule = np.zeros(count, dtype=np.int8)
    level = np.zeros(count, dtype=np.int64)
    lines = np.zeros(count, dtype=np.int64)
    accrued = np.zeros(count, dtype=np.int64)
    raisable = np.zeros(count, dtype=np.bool_)
    written = np.zeros(count, dtype=np.int64)  # rows of ``into`` each debt's last try wrote
    # Arrears are already folded or waived by the caller; the layout must not waive again.
    fold = replace(policy, arrears=ArrearsTreatment.FOLD)

    def attempt(rows: Int64Array, terms: Int64Array, levels: Int64Array | None) -> None:
        for batch in by_term(terms):
            at = rows[batch]
            plans = _lay_out(
                (owed[0][at], owed[1][at], owed[2][at]),
                annual_ppm[at],
                terms[batch],
                capacity=capacity[at],
                minimum=minimum[at],
                policy=fold,
                level=None if levels is None else levels[batch],
            )
            rule[at], level[at], lines[at] = plans.rule, plans.level, plans.lines
            accrued[at], raisable[at] = plans.accrued, plans.raisable
            made, stale = plans.payments.shape[0], int(written[at].max(initial=0))
            put_columns(into, columns[at], plans.payments)
            if stale > made:  # a longer plan of an earlier try: its last lines are gone
                put_columns(into[made:stale], columns[at], 0)
            written[at] = made

    rows = np.arange(count)
    for extra in (0, 1):
        if extra:
            rows = rows[term[rows] < limit]
        if not len(rows):
            break
        attempt(rows, term[rows] + extra, None)
        again = rows[raisable[rows]]
        if len(again):
            attempt(again, term[again] + extra, level[again] + 1)
        rows = rows[rule[rows] != 0]
    failed = np.flatnonzero(rule != 0)
    if len(failed):
        put_columns(into[: int(written[failed].max())], columns[failed], 0)
    return Fitted(rule, level, lines, accrued)
