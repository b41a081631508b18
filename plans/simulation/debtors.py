"""Debtors, not debts: a portfolio grouped by ``debtor_id``, and consolidated offers per debtor.

A portfolio row states the debtor's capacity beside each debt, and :func:`simulate` lets every
debt's offer assume all of it: a debtor with three debts is asked for three times what they
said they can pay. With a ``debtor_id`` column:

- :func:`debtor_frame` checks the grouping (one currency, one capacity and one lump sum per
  debtor) and :func:`debtor_totals` sums each debtor's debts;
- :func:`pro_rata_portfolio` gives each debt its pro-rata share (by balance, largest remainder,
  as :mod:`plans.allocation` shares them) of its debtor's capacity and lump sum, vectorised
  over the whole portfolio: simulating it prices each debt's part of its debtor's pro-rata
  plan, with every rule of the scalar engine. It is the consolidated pro-rata instalment plan
  and deferral, debt by debt, but for one rule: the simulation holds each debt's share to the
  minimum instalment, where the consolidated engine holds the debtor's combined payment to it
  (and a settlement's lump sum is shared by balance, not checked as one total), so it is the
  cautious side of the consolidated offer;
- :func:`consolidated_offers` makes every debtor the consolidated offers themselves
  (:mod:`plans.consolidation`), exactly, one debtor at a time.

Nothing here changes :func:`simulate` or a number it gives for a portfolio as it is.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from plans.allocation import AllocationRule, NamedDebt
from plans.consolidation import MAKERS
from plans.debt import Capacity, Debt
from plans.errors import DomainError
from plans.policy import RATE_PLACES, Policy
from plans.simulation.portfolio import PORTFOLIO_COLUMNS, portfolio_frame
from plans.simulation.units import Int64Array

DEBTOR_COLUMNS: dict[str, str] = {
    "debtor_id": "Who owes the debts: the rows of one debtor are negotiated together.",
    "currency": "The debtor's one currency.",
    "debts": "How many debts the debtor has.",
    "principal_minor": "Principal owed, all debts together.",
    "interest_minor": "Interest in arrears, all debts together.",
    "fees_minor": "Fees outstanding, all debts together.",
    "total_minor": "Everything owed.",
    "capacity_minor": "What the debtor says they can pay each month.",
    "lump_sum_minor": "Cash the debtor has now.",
}
"""The columns of :func:`debtor_totals`, one row per debtor."""

CONSOLIDATED_COLUMNS: tuple[str, ...] = (
    "debtor_id",
    "kind",
    "feasible",
    "rule",
    "debts",
    "total_paid_minor",
    "waived_minor",
    "payments",
    "largest_payment_minor",
    "npv_minor",
    "expected_recovery_minor",
    "last_payment_date",
)
"""The columns of :func:`consolidated_offers`, one row per debtor and offer kind."""

_SAFE_PRODUCT = 2**62


def debtor_frame(portfolio: pd.DataFrame) -> pd.DataFrame:
    """The checked portfolio (:func:`portfolio_frame`) with its ``debtor_id`` column first.

    Every debtor's debts are in one currency, and state one capacity and one lump sum (they
    are the debtor's, repeated on each row): rows that disagree are refused, naming the column.

    Examples
    --------
    >>> raw = pd.DataFrame({"debtor_id": ["x", "x"], "currency": ["CNY", "USD"],
    ...                     "principal_minor": [100, 200], "nominal_annual_rate_ppm": [0, 0],
    ...                     "days_past_due": [90, 90], "capacity_minor": [50, 50]})
    >>> debtor_frame(raw)
    Traceback (most recent call last):
    ...
    plans.errors.DomainError: portfolio.currency: debtor x has debts in more than one \
currency (1 debtors) [one_per_debtor]
    """
    if "debtor_id" not in portfolio.columns:
        raise DomainError("portfolio.debtor_id", "required", "group debts by a debtor_id column")
    ids = portfolio["debtor_id"]
    if ids.isna().any():
        raise DomainError("portfolio.debtor_id", "required", "every debt needs a debtor_id")
    frame = portfolio_frame(portfolio)
    frame.insert(0, "debtor_id", ids.to_numpy())
    grouped = frame.groupby("debtor_id", sort=False, observed=True)
    for column, what in (
        ("currency", "debts in more than one currency"),
        ("capacity_minor", "more than one capacity"),
        ("lump_sum_minor", "more than one lump sum"),
    ):
        counts = grouped[column].nunique()
        if (counts > 1).any():
            first = counts.index[int(np.argmax(counts.to_numpy() > 1))]
            raise DomainError(
                f"portfolio.{column}",
                "one_per_debtor",
                f"debtor {first!s} has {what} ({int((counts > 1).sum())} debtors)",
            )
    return frame


def debtor_totals(portfolio: pd.DataFrame) -> pd.DataFrame:
    """One row per debtor (:data:`DEBTOR_COLUMNS`), in order of first appearance.

    Examples
    --------
    >>> raw = pd.DataFrame({"debtor_id": ["x", "y", "x"], "currency": ["CNY"] * 3,
    ...                     "principal_minor": [100_000, 50_000, 200_000],
    ...                     "nominal_annual_rate_ppm": [0] * 3, "days_past_due": [90] * 3,
    ...                     "capacity_minor": [30_000, 10_000, 30_000]})
    >>> debtor_totals(raw)[["debtor_id", "debts", "total_minor", "capacity_minor"]]
      debtor_id  debts  total_minor  capacity_minor
    0         x      2       300000           30000
    1         y      1        50000           10000
    """
    frame = debtor_frame(portfolio)
    frame["total_minor"] = frame["principal_minor"] + frame["interest_minor"] + frame["fees_minor"]
    grouped = frame.groupby("debtor_id", sort=False, observed=True)
    out = grouped.agg(
        currency=("currency", "first"),
        debts=("currency", "size"),
        principal_minor=("principal_minor", "sum"),
        interest_minor=("interest_minor", "sum"),
        fees_minor=("fees_minor", "sum"),
        total_minor=("total_minor", "sum"),
        capacity_minor=("capacity_minor", "first"),
        lump_sum_minor=("lump_sum_minor", "first"),
    ).reset_index()
    out["currency"] = out["currency"].astype(str)
    return out[list(DEBTOR_COLUMNS)]


def allocate_by_group(
    amount: Int64Array,
    weights: Int64Array,
    groups: Int64Array,
    *,
    ties: Int64Array | None = None,
) -> Int64Array:
    """:func:`plans.money.allocate` of each group's ``amount`` over its rows' ``weights``, for
    every group at once: floors, then the units left to the largest remainders, ties to the
    row with the smaller ``ties`` key (by default the earlier row). ``amount`` is the group's,
    repeated on each of its rows.

    Examples
    --------
    >>> allocate_by_group(np.array([50_000] * 3 + [1] * 2), np.array([1, 2, 3, 5, 5]),
    ...                   np.array([0, 0, 0, 1, 1])).tolist()
    [8333, 16667, 25000, 1, 0]
    """
    count = len(weights)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    codes = np.asarray(pd.factorize(groups)[0], dtype=np.int64)
    size = int(codes.max()) + 1
    # int64 while every product fits (as plans.portfolio does), Python integers beyond
    exact: Any = np.int64
    if int(amount.max()) * max(int(weights.max()), 1) * max(count, 1) >= _SAFE_PRODUCT:
        exact = object
    share = amount.astype(exact)
    weight = weights.astype(exact)
    weight_sum = np.zeros(size, dtype=exact)
    np.add.at(weight_sum, codes, weight)
    divisor = np.where(weight_sum == 0, 1, weight_sum)[codes]
    numerator = share * weight
    floors = numerator // divisor
    remainders = numerator - floors * divisor
    floor_sum = np.zeros(size, dtype=exact)
    np.add.at(floor_sum, codes, floors)
    group_amount = np.zeros(size, dtype=exact)
    group_amount[codes] = share
    leftover = np.where(weight_sum == 0, 0, group_amount - floor_sum)
    # Rank each group's rows by remainder, largest first, the earlier row first on ties (one
    # divisor per group, so remainders compare as the fractions they stand for).
    by_remainder = np.unique(remainders, return_inverse=True)[1].astype(np.int64).ravel()
    rows = np.arange(count)
    tie_key = rows if ties is None else np.asarray(ties, dtype=np.int64)
    order = np.lexsort((rows, tie_key, -by_remainder, codes))
    sorted_codes = codes[order]
    rank = np.empty(count, dtype=np.int64)
    rank[order] = rows - np.searchsorted(sorted_codes, sorted_codes, side="left")
    parts = floors + (rank < leftover[codes])
    return np.asarray(parts, dtype=np.int64)


def pro_rata_portfolio(portfolio: pd.DataFrame) -> pd.DataFrame:
    """A portfolio (:data:`PORTFOLIO_COLUMNS` and ``debtor_id``) whose capacity and lump sum
    on each row are that debt's pro-rata share of its debtor's, by balance.

    Each debtor's shares add up to what the debtor stated, to the minor unit; a penny that
    ties goes to the smaller ``debt_id`` (as text), as :mod:`plans.consolidation` gives it to
    the smaller ``ref``. A debtor with one debt keeps its row as it was.

    Examples
    --------
    >>> raw = pd.DataFrame({"debtor_id": ["x", "x", "x"], "currency": ["GBP"] * 3,
    ...                     "principal_minor": [100_000, 200_000, 300_000],
    ...                     "nominal_annual_rate_ppm": [0] * 3, "days_past_due": [90] * 3,
    ...                     "capacity_minor": [50_000] * 3})
    >>> pro_rata_portfolio(raw)["capacity_minor"].tolist()
    [8333, 16667, 25000]
    """
    frame = debtor_frame(portfolio)
    groups, _ = pd.factorize(frame["debtor_id"])
    balance = (frame["principal_minor"] + frame["interest_minor"] + frame["fees_minor"]).to_numpy(
        dtype=np.int64
    )
    refs = np.unique(frame["debt_id"].astype(str).to_numpy(), return_inverse=True)[1]
    for column in ("capacity_minor", "lump_sum_minor"):
        frame[column] = allocate_by_group(
            frame[column].to_numpy(dtype=np.int64),
            balance,
            np.asarray(groups, dtype=np.int64),
            ties=np.asarray(refs, dtype=np.int64).ravel(),
        )
    return frame[["debtor_id", *PORTFOLIO_COLUMNS]]


def consolidated_offers(
    portfolio: pd.DataFrame,
    policy: Policy,
    *,
    as_of: date,
    rule: AllocationRule = AllocationRule.PRO_RATA,
) -> pd.DataFrame:
    """Every debtor's four consolidated offers (:data:`CONSOLIDATED_COLUMNS`), or the rule
    that stops each, by the scalar engine: exact, and a loop over debtors.

    Examples
    --------
    >>> raw = pd.DataFrame({"debtor_id": ["x", "x"], "debt_id": ["card", "loan"],
    ...                     "currency": ["GBP"] * 2, "principal_minor": [100_000, 200_000],
    ...                     "nominal_annual_rate_ppm": [0, 0], "days_past_due": [90, 90],
    ...                     "capacity_minor": [30_000, 30_000]})
    >>> offers = consolidated_offers(raw, Policy(), as_of=date(2026, 11, 25))
    >>> offers[["kind", "feasible", "rule", "total_paid_minor", "payments"]]
                  kind  feasible      rule  total_paid_minor  payments
    0       instalment      True                      300000        10
    1         deferral      True                      300000        10
    2       settlement     False  lump_sum                 0         0
    3  settlement_plan     False  capacity                 0         0
    """
    frame = debtor_frame(portfolio)
    rows: list[dict[str, Any]] = []
    for debtor, group in frame.groupby("debtor_id", sort=False, observed=True):
        records = group.to_dict("records")
        debts = [
            NamedDebt(
                str(row["debt_id"]),
                Debt(
                    str(row["currency"]),
                    int(row["principal_minor"]),
                    int(row["interest_minor"]),
                    int(row["fees_minor"]),
                    Decimal(int(row["nominal_annual_rate_ppm"])).scaleb(-RATE_PLACES),
                    as_of,
                    int(row["days_past_due"]),
                ),
            )
            for row in records
        ]
        capacity = Capacity(int(records[0]["capacity_minor"]), int(records[0]["lump_sum_minor"]))
        for kind, make in MAKERS.items():
            row_out: dict[str, Any] = {
                "debtor_id": debtor,
                "kind": str(kind),
                "feasible": False,
                "rule": "",
                "debts": len(debts),
                "total_paid_minor": 0,
                "waived_minor": 0,
                "payments": 0,
                "largest_payment_minor": 0,
                "npv_minor": 0,
                "expected_recovery_minor": 0,
                "last_payment_date": None,
            }
            try:
                offer = make(debts, capacity, policy=policy, rule=rule)
            except DomainError as error:
                row_out["rule"] = error.rule
            else:
                m = offer.metrics
                row_out.update(
                    feasible=True,
                    total_paid_minor=m.total_paid_minor,
                    waived_minor=m.total_waived_minor,
                    payments=m.payments,
                    largest_payment_minor=m.largest_payment_minor,
                    npv_minor=m.npv_minor,
                    expected_recovery_minor=m.expected_recovery_minor,
                    last_payment_date=m.last_payment_date,
                )
            rows.append(row_out)
    return pd.DataFrame(rows, columns=list(CONSOLIDATED_COLUMNS))
