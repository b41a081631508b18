"""Offers to a chunk of debts: the kinds, the rules that stop an offer, and what one holds.

:class:`Offers` holds one kind's offers to every debt of a chunk as arrays (amounts zero where
a rule stopped the offer); :func:`offer_rows` turns a grid point's offers into the rows of
:data:`OFFER_COLUMNS`, one per debt and kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from plans.policy import OfferKind
from plans.simulation.portfolio import Debts
from plans.simulation.timeline import Dates, Weights
from plans.simulation.units import RATE_SCALE, BoolArray, Int64Array, put_columns

OFFER_KINDS: tuple[OfferKind, ...] = tuple(OfferKind)
"""The four kinds, in the order :func:`plans.compare.negotiate` makes (and tie-breaks) them."""

RULES: tuple[str, ...] = (
    "",
    "rate_cap",
    "min_instalment",
    "max_term",
    "capacity",
    "lump_sum",
    "min_deferral",
    "lump_sum_covers",
)
"""Why an offer was not made: the ``rule`` of the domain error the scalar engine raises."""
(
    RATE_CAP,
    MIN_INSTALMENT,
    MAX_TERM,
    CAPACITY,
    LUMP_SUM,
    MIN_DEFERRAL,
    LUMP_SUM_COVERS,
) = range(1, len(RULES))

KIND_TYPE = pd.CategoricalDtype([str(kind) for kind in OFFER_KINDS], ordered=True)
_RULE_TYPE = pd.CategoricalDtype(list(RULES))


@dataclass(slots=True)
class Offers:
    """One kind's offers to a chunk of debts; amounts zero where ``rule`` is not 0.

    ``flows`` holds the payments, one row per position of ``positions`` (a :class:`Dates`
    position), one column per debt; ``first`` is the row of each debt's first payment.
    """

    rule: npt.NDArray[np.int8]
    instalments: Int64Array
    instalment_minor: Int64Array
    down_payment_minor: Int64Array
    total_paid_minor: Int64Array
    waived_minor: Int64Array
    discount_bps: Int64Array
    apr_ppm: Int64Array
    npv_minor: Int64Array
    expected_recovery_minor: Int64Array
    flows: Int64Array
    positions: Int64Array
    months: Int64Array
    first: Int64Array
    weights: Weights | None = None

    @classmethod
    def empty(cls, count: int, positions: Int64Array, dates: Dates) -> Offers:
        def zeros() -> Int64Array:
            return np.zeros(count, dtype=np.int64)

        return cls(
            rule=np.zeros(count, dtype=np.int8),
            instalments=zeros(),
            instalment_minor=zeros(),
            down_payment_minor=zeros(),
            total_paid_minor=zeros(),
            waived_minor=zeros(),
            discount_bps=zeros(),
            apr_ppm=zeros(),
            npv_minor=zeros(),
            expected_recovery_minor=zeros(),
            flows=np.zeros((len(positions), count), dtype=np.int64),
            positions=positions,
            months=dates.months[positions],
            first=np.full(count, -1, dtype=np.int64),
        )


def reject(rule: npt.NDArray[np.int8], where: BoolArray, code: int) -> None:
    """Mark ``where`` with ``code`` unless an earlier rule already stopped the offer."""
    rule[where & (rule == 0)] = code


def clear(offers: Offers, rows: Int64Array) -> None:
    """Take back the offers of ``rows``: every amount and flow 0 (the rule is the caller's)."""
    for name in (
        "instalments",
        "instalment_minor",
        "down_payment_minor",
        "total_paid_minor",
        "waived_minor",
        "discount_bps",
        "apr_ppm",
    ):
        getattr(offers, name)[rows] = 0
    put_columns(offers.flows, rows, 0)


OFFER_COLUMNS: tuple[str, ...] = (
    "grid_point",
    "debt_id",
    "currency",
    "kind",
    "feasible",
    "rule",
    "best",
    "instalments",
    "instalment_minor",
    "down_payment_minor",
    "total_paid_minor",
    "discount_bps",
    "waived_minor",
    "apr",
    "npv_minor",
    "expected_recovery_minor",
)
"""One row per grid point, debt and kind (in :data:`OFFER_KINDS` order). ``rule`` is empty when
the offer is feasible and names the rule that stopped it otherwise (every amount is then 0);
``best`` marks the offer :func:`plans.compare.negotiate` would rank first. ``instalments``
counts regular payments (not the down payment); ``waived_minor`` is all the offer gives up
(a settlement's discount, arrears or pause interest waived); ``apr`` is Reg Z App J's, a
fraction to six places."""


def offer_rows(
    index: int,
    debts: Debts,
    ids: npt.NDArray[Any],
    currencies: tuple[str, ...],
    made: Sequence[Offers],
    best: Int64Array,
    has: BoolArray,
) -> pd.DataFrame:
    """One grid point's offers to a chunk of debts as rows of :data:`OFFER_COLUMNS`."""
    count, kinds = len(debts), len(made)

    def interleave(arrays: Sequence[npt.NDArray[Any]]) -> npt.NDArray[Any]:
        return np.stack(arrays, axis=1).reshape(-1)  # debt by debt, the kinds side by side

    def column(name: str) -> npt.NDArray[Any]:
        return interleave([getattr(m, name) for m in made])

    codes = np.searchsorted(np.array(currencies), np.array(debts.currencies))
    currency = np.repeat(codes[debts.currency_code] if count else codes[:0], kinds)
    return pd.DataFrame(
        {
            "grid_point": np.full(count * kinds, index, dtype=np.int64),
            "debt_id": np.repeat(ids, kinds),
            "currency": pd.Categorical.from_codes(
                currency, dtype=pd.CategoricalDtype(list(currencies))
            ),
            "kind": pd.Categorical.from_codes(np.tile(np.arange(kinds), count), dtype=KIND_TYPE),
            "feasible": interleave([m.rule == 0 for m in made]),
            "rule": pd.Categorical.from_codes(column("rule").astype(np.int64), dtype=_RULE_TYPE),
            "best": interleave([has & (best == k) for k in range(kinds)]),
            "instalments": column("instalments"),
            "instalment_minor": column("instalment_minor"),
            "down_payment_minor": column("down_payment_minor"),
            "total_paid_minor": column("total_paid_minor"),
            "discount_bps": column("discount_bps"),
            "waived_minor": column("waived_minor"),
            "apr": column("apr_ppm") / RATE_SCALE,
            "npv_minor": column("npv_minor"),
            "expected_recovery_minor": column("expected_recovery_minor"),
        }
    )
