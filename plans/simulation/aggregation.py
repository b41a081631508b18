"""The totals a policy is chosen by: each debt's best offer, summed by group, and rolled up.

Per grid point, currency (amounts are never added across currencies) and days-past-due
bucket: expected recovery, the debts with a feasible offer, the discount granted, the offers
of each kind and the rules that stopped them, and the cash-flow curve by month of the offer
each debt would be shown first. :class:`Simulation` holds these partial sums and rolls them
up. Every amount is int64 minor units; totals are int64 sums, so the same portfolio gives the
same aggregates however it is split into chunks or partitions (the Dask engine relies on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from plans.policy import OfferKind, Policy
from plans.simulation.grid import GridPoint
from plans.simulation.kinds import MAKERS, relevant
from plans.simulation.offers import (
    KIND_TYPE,
    OFFER_COLUMNS,
    OFFER_KINDS,
    RULES,
    Offers,
    offer_rows,
)
from plans.simulation.portfolio import Debts
from plans.simulation.timeline import dates_for
from plans.simulation.units import BoolArray, Int64Array

DPD_BUCKETS: tuple[int, ...] = (0, 30, 90, 180, 360, 720)
"""Lower bounds (days past due) of the buckets aggregates are reported by: the default
policy's discount bands, so a bucket's discount is one number under that policy."""
DPD_LABELS: tuple[str, ...] = ("0-29", "30-89", "90-179", "180-359", "360-719", "720+")

TOTAL_COLUMNS: tuple[str, ...] = (
    "debts",
    "owed_minor",
    "with_offer",
    "expected_recovery_minor",
    "npv_minor",
    "total_paid_minor",
    "discount_minor",
    "discount_bps_sum",
    *(f"best_{kind}" for kind in OFFER_KINDS),
)
"""Integer sums per (grid point, currency, days-past-due bucket) over each debt's best offer
(the one :func:`plans.compare.negotiate` ranks first: highest expected recovery, then NPV,
then kind order); debts with no feasible offer add only to ``debts`` and ``owed_minor``."""

KIND_COLUMNS: tuple[str, ...] = (
    "offered",
    "expected_recovery_minor",
    "npv_minor",
    "total_paid_minor",
    "discount_minor",
    *(f"rejected_{rule}" for rule in RULES[1:]),
)
"""Integer sums per (grid point, currency, bucket, kind) over every feasible offer of the kind,
and the count of debts each rule stopped it for."""

CASH_FLOW_COLUMNS: tuple[str, ...] = ("paid_minor", "expected_minor")
"""Per (grid point, currency, bucket, month): what the best offers schedule in that month
(month 0: the as-of date's down payments and lump sums within the settlement window; month k:
the k-th monthly due date), and the same weighted by the survival curve and discounted at the
cost of funds, each payment rounded to the minor unit before it is added."""

_KEYS = ("grid_point", "currency", "dpd_bucket")
_BUCKET_TYPE = pd.CategoricalDtype(list(DPD_LABELS), ordered=True)
_INT64_MIN = np.iinfo(np.int64).min


def _best(made: Sequence[Offers]) -> tuple[Int64Array, BoolArray]:
    """Index of each debt's first-ranked kind, and whether it has a feasible offer at all."""
    feasible = np.stack([m.rule == 0 for m in made])
    recovery = np.where(feasible, np.stack([m.expected_recovery_minor for m in made]), _INT64_MIN)
    tied = feasible & (recovery == recovery.max(axis=0))
    npv = np.where(tied, np.stack([m.npv_minor for m in made]), _INT64_MIN)
    tied &= npv == npv.max(axis=0)
    best: Int64Array = tied.argmax(axis=0).astype(np.int64)  # the earliest kind among ties
    has: BoolArray = np.any(feasible, axis=0, keepdims=False)
    return best, has


@dataclass(frozen=True, slots=True)
class _Groups:
    """Debts grouped by currency and days-past-due bucket, for exact integer sums."""

    index: Int64Array
    currencies: tuple[str, ...]

    @classmethod
    def of(cls, debts: Debts) -> _Groups:
        bucket = np.searchsorted(np.array(DPD_BUCKETS), debts.days_past_due, side="right") - 1
        return cls(debts.currency_code * len(DPD_BUCKETS) + bucket, debts.currencies)

    @property
    def size(self) -> int:
        return len(self.currencies) * len(DPD_BUCKETS)

    def sums(self, columns: Sequence[npt.NDArray[Any]]) -> Int64Array:
        """Per group (rows) the sum of each of ``columns`` (non-negative integers), exactly."""
        out = np.zeros((self.size, len(columns)), dtype=np.int64)
        for c, values in enumerate(columns):
            if values.dtype == np.bool_ or int(values.max(initial=0)) * len(values) < 2**53:
                # every partial sum is an integer a double holds exactly
                out[:, c] = np.bincount(self.index, values, self.size).astype(np.int64)
            else:
                np.add.at(out[:, c], self.index, values)
        return out

    def frame(self, grid_point: Int64Array, group: Int64Array) -> dict[str, Any]:
        """Key columns for rows of ``(grid point, group)``."""
        buckets = len(DPD_BUCKETS)
        return {
            "grid_point": grid_point,
            "currency": pd.Categorical.from_codes(
                group // buckets, dtype=pd.CategoricalDtype(list(self.currencies))
            ),
            "dpd_bucket": pd.Categorical.from_codes(group % buckets, dtype=_BUCKET_TYPE),
        }


def chunk_tables(
    debts: Debts,
    ids: npt.NDArray[Any],
    points: Sequence[GridPoint],
    as_of: date,
    currencies: tuple[str, ...],
    keep_offers: bool,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """The partial sums of one chunk for every grid point, and its offers if kept."""
    groups = _Groups.of(debts)
    made_by: dict[tuple[OfferKind, Policy], Offers] = {}
    totals, kinds, flows = [], [], []
    offers: list[pd.DataFrame] = []
    for point in points:
        made = []
        for kind in OFFER_KINDS:
            policy = relevant(point.policy, kind)
            if (kind, policy) not in made_by:
                made_by[kind, policy] = MAKERS[kind](debts, policy, dates_for(as_of, policy))
            made.append(made_by[kind, policy])
        best, has = _best(made)
        totals.append(_totals(debts, groups, made, best, has))
        kinds.append(np.concatenate([_kind_sums(groups, m) for m in made]))
        flows.append(_cash_flows(groups, made, best, has))
        if keep_offers:
            offers.append(offer_rows(point.index, debts, ids, currencies, made, best, has))
    indices = np.array([p.index for p in points], dtype=np.int64)
    return _tables(groups, indices, totals, kinds, flows), offers


def _totals(
    debts: Debts, groups: _Groups, made: Sequence[Offers], best: Int64Array, has: BoolArray
) -> Int64Array:
    columns = np.arange(len(debts))

    def pick(name: str) -> Int64Array:
        chosen: Int64Array = np.stack([getattr(m, name) for m in made])[best, columns]
        return np.where(has, chosen, 0)

    return groups.sums(
        [
            np.ones(len(debts), dtype=np.int64),
            debts.total,
            has,
            pick("expected_recovery_minor"),
            pick("npv_minor"),
            pick("total_paid_minor"),
            pick("waived_minor"),
            pick("discount_bps"),
            *(has & (best == k) for k in range(len(made))),
        ]
    )


def _kind_sums(groups: _Groups, m: Offers) -> Int64Array:
    # the offers made (rule 0) and those each rule stopped, per group, in one count
    rules = len(RULES)
    by_rule = np.bincount(groups.index * rules + m.rule, minlength=groups.size * rules)
    by_rule = by_rule.reshape(groups.size, rules).astype(np.int64)
    amounts = groups.sums(
        [m.expected_recovery_minor, m.npv_minor, m.total_paid_minor, m.waived_minor]
    )
    counted: Int64Array = np.column_stack([by_rule[:, :1], amounts, by_rule[:, 1:]])
    return counted


def _cash_flows(
    groups: _Groups, made: Sequence[Offers], best: Int64Array, has: BoolArray
) -> Int64Array:
    """(group, month, paid/expected) sums of the best offers' flows."""
    months = max(int(m.months.max(initial=0)) for m in made) + 1
    out = np.zeros((groups.size, months, 2), dtype=np.int64)
    for k, m in enumerate(made):
        rows = np.flatnonzero(has & (best == k))
        if not len(rows) or m.weights is None:
            continue
        group = groups.index[rows]
        first_position = m.positions[np.maximum(m.first[rows], 0)]
        for j, position in enumerate(m.positions.tolist()):
            amounts = m.flows[j, rows]
            if not amounts.any():
                continue
            month = int(m.months[j])
            survival = np.take(m.weights.table[:, position], first_position)
            weighted = amounts * m.weights.discount[position] * m.weights.take_up * survival
            # each expected payment rounded on its own: sums of integers, exact anywhere
            sums = _Groups(group, groups.currencies).sums([amounts, np.rint(weighted)])
            out[:, month] += sums
    return out


def _tables(
    groups: _Groups,
    indices: Int64Array,
    totals: Sequence[Int64Array],
    kinds: Sequence[Int64Array],
    flows: Sequence[Int64Array],
) -> list[pd.DataFrame]:
    """The chunk's partial sums as three frames (rows of groups that have debts)."""
    size, points = groups.size, len(indices)
    present = np.tile(totals[0][:, 0] > 0, points) if points else np.zeros(0, np.bool_)
    group = np.tile(np.arange(size), points)
    point = np.repeat(indices, size)
    total = pd.DataFrame(
        {**groups.frame(point, group), **dict(zip(TOTAL_COLUMNS, np.vstack(totals).T, strict=True))}
    )[present]
    kind_count = len(OFFER_KINDS)
    kind_codes = np.tile(np.repeat(np.arange(kind_count), size), points)
    kind = pd.DataFrame(
        {
            **groups.frame(
                np.repeat(indices, size * kind_count), np.tile(group[:size], kind_count * points)
            ),
            "kind": pd.Categorical.from_codes(kind_codes, dtype=KIND_TYPE),
            **dict(zip(KIND_COLUMNS, np.vstack(kinds).T, strict=True)),
        }
    )[np.repeat(present.reshape(points, size), kind_count, axis=0).ravel()]
    tables = [total.assign(table="totals"), kind.assign(table="kinds")]
    for index, cash in zip(indices.tolist(), flows, strict=True):
        group_of, month = np.nonzero(cash.any(axis=2))
        if len(group_of):
            rows = {
                **groups.frame(np.full(len(month), index, dtype=np.int64), group_of),
                "month": month.astype(np.int64),
                "paid_minor": cash[group_of, month, 0],
                "expected_minor": cash[group_of, month, 1],
            }
            tables.append(pd.DataFrame(rows).assign(table="cash_flow"))
    return tables


@dataclass(frozen=True)
class Simulation:
    """A portfolio simulated under a grid of policies: integer totals, and the offers if kept.

    ``totals``, ``kinds`` and ``cash_flow`` are the finest partial sums (by grid point,
    currency and days-past-due bucket; see :data:`TOTAL_COLUMNS`, :data:`KIND_COLUMNS`,
    :data:`CASH_FLOW_COLUMNS`); :meth:`summary`, :meth:`kind_summary` and :meth:`cash_flow_curve`
    roll them up. Simulations of parts of a portfolio :func:`combine` into the simulation of
    the whole, exactly.
    """

    grid: tuple[GridPoint, ...]
    totals: pd.DataFrame
    kinds: pd.DataFrame
    cash_flow: pd.DataFrame
    offers: pd.DataFrame | None = None

    def summary(self, by: Sequence[str] = ("grid_point", "currency")) -> pd.DataFrame:
        """Totals of the best offers per ``by``, with the ratios a policy is chosen by.

        ``share_with_offer`` is the share of debts with a feasible offer; ``recovery_rate``
        the expected recovery over what is owed; ``mean_discount_bps`` the settlement discount
        of the best offers, averaged over the debts that have one (0 for a plan).
        """
        totals = _roll_up(self.totals, by, TOTAL_COLUMNS)
        with np.errstate(divide="ignore", invalid="ignore"):
            totals["share_with_offer"] = totals["with_offer"] / totals["debts"]
            totals["recovery_rate"] = totals["expected_recovery_minor"] / totals["owed_minor"]
            totals["mean_discount_bps"] = totals["discount_bps_sum"] / totals["with_offer"]
        return totals

    def kind_summary(self, by: Sequence[str] = ("grid_point", "currency", "kind")) -> pd.DataFrame:
        """Feasible offers and rejections of each kind per ``by``."""
        return _roll_up(self.kinds, by, KIND_COLUMNS)

    def cash_flow_curve(
        self, by: Sequence[str] = ("grid_point", "currency", "month")
    ) -> pd.DataFrame:
        """What the best offers schedule (and are expected to bring) month by month."""
        return _roll_up(self.cash_flow, by, CASH_FLOW_COLUMNS)

    def parameters(self) -> pd.DataFrame:
        """One row per grid point: its label and the value of each parameter it varies."""
        rows = [{"grid_point": p.index, "label": p.label, **dict(p.parameters)} for p in self.grid]
        return pd.DataFrame(rows)


def _roll_up(frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    keys = list(by)
    if "currency" not in keys:
        raise ValueError("amounts of different currencies are never added: group by currency")
    rolled = frame.groupby(keys, sort=True, observed=True)[list(columns)].sum().reset_index()
    # currency codes differ between chunks and partitions: the code itself is the key
    return rolled.astype({"currency": str, **{name: np.int64 for name in columns}})


def _canonical(frame: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Partial sums added up per key and sorted: equal for equal portfolios, however split."""
    if frame.empty:
        empty = {k: pd.Series([], dtype=frame[k].dtype if k in frame else object) for k in keys}
        return pd.DataFrame({**empty, **{c: np.zeros(0, dtype=np.int64) for c in columns}})
    return _roll_up(frame, keys, columns)


# The tables of a Simulation: the keys they are summed by, and the summed columns.
TABLES = {
    "totals": (_KEYS, TOTAL_COLUMNS),
    "kinds": ((*_KEYS, "kind"), KIND_COLUMNS),
    "cash_flow": ((*_KEYS, "month"), CASH_FLOW_COLUMNS),
}


def _empty_table(name: str) -> pd.DataFrame:
    keys, columns = TABLES[name]
    frame: dict[str, Any] = {
        "grid_point": np.zeros(0, dtype=np.int64),
        "currency": pd.Series([], dtype=str),
        "dpd_bucket": pd.Categorical([], dtype=_BUCKET_TYPE),
    }
    if "kind" in keys:
        frame["kind"] = pd.Categorical([], dtype=KIND_TYPE)
    if "month" in keys:
        frame["month"] = np.zeros(0, dtype=np.int64)
    return pd.DataFrame({**frame, **{c: np.zeros(0, dtype=np.int64) for c in columns}})


def assemble(
    grid: tuple[GridPoint, ...],
    parts: Sequence[pd.DataFrame],
    offers: Sequence[pd.DataFrame] | None,
) -> Simulation:
    """A :class:`Simulation` from partial sums (each frame tagged by ``table``) and offers."""
    tables = {}
    for name, (keys, columns) in TABLES.items():
        pieces = [p[list(keys) + list(columns)] for p in parts if p["table"].iat[0] == name]
        if pieces:
            tables[name] = _canonical(pd.concat(pieces, ignore_index=True), keys, columns)
        else:
            tables[name] = _empty_table(name)
    kept = None
    if offers is not None:
        kept = (
            pd.concat(offers, ignore_index=True)
            if offers
            else pd.DataFrame({c: [] for c in OFFER_COLUMNS})
        )
    return Simulation(grid, tables["totals"], tables["kinds"], tables["cash_flow"], kept)


def combine(parts: Sequence[Simulation]) -> Simulation:
    """The simulation of a whole portfolio from simulations of its parts, under one grid.

    Integer sums add up exactly, so the result equals simulating the whole at once; offers
    are kept only if every part kept them.

    Examples
    --------
    >>> from plans.simulation import simulate
    >>> from plans.synthetic import synthetic_portfolio
    >>> debts = synthetic_portfolio(300, seed=7)
    >>> whole = simulate(debts, Policy(), as_of=date(2026, 11, 25))
    >>> halves = [simulate(debts[:100], Policy(), as_of=date(2026, 11, 25)),
    ...           simulate(debts[100:], Policy(), as_of=date(2026, 11, 25))]
    >>> combine(halves).summary().equals(whole.summary())
    True
    """
    if not parts:
        raise ValueError("nothing to combine")
    tables = []
    for part in parts:
        for name in TABLES:
            table = getattr(part, name)
            if not table.empty:
                tables.append(table.assign(table=name))
    kept = [p.offers for p in parts if p.offers is not None]
    offers = kept if len(kept) == len(parts) else None
    return assemble(parts[0].grid, tables, offers)
