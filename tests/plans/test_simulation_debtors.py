"""plans/simulation/debtors.py: a portfolio grouped by debtor, held to the scalar engine.

The vectorised pro-rata shares are :func:`plans.money.allocate` group by group, and the
consolidated engine's own shares of the same capacity; a debtor's consolidated offers with one
debt are that debt's single-debt offers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.allocation import AllocationRule, NamedDebt, payment_order, shares
from plans.compare import negotiate
from plans.debt import MAX_AMOUNT_MINOR, Capacity, Debt
from plans.errors import DomainError
from plans.money import allocate
from plans.policy import Policy
from plans.simulation import simulate
from plans.simulation.debtors import (
    allocate_by_group,
    consolidated_offers,
    debtor_frame,
    debtor_totals,
    pro_rata_portfolio,
)
from plans.synthetic import synthetic_portfolio

AS_OF = date(2026, 11, 25)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**15),
            st.lists(st.integers(0, 10**15), min_size=1, max_size=6).filter(lambda w: sum(w) > 0),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_grouped_shares_are_allocate_group_by_group(
    groups: list[tuple[int, list[int]]],
) -> None:
    amount = np.array([a for a, weights in groups for _ in weights], dtype=np.int64)
    weights = np.array([w for _, ws in groups for w in ws], dtype=np.int64)
    codes = np.array([g for g, (_, ws) in enumerate(groups) for _ in ws], dtype=np.int64)
    expected = [part for a, ws in groups for part in allocate(a, ws)]
    assert allocate_by_group(amount, weights, codes).tolist() == expected


def test_ties_go_to_the_smaller_key() -> None:
    # 1 over two equal weights: the tie goes to the row whose key is smaller
    shares = allocate_by_group(np.array([1, 1]), np.array([5, 5]), np.array([0, 0]))
    assert shares.tolist() == [1, 0]
    shares = allocate_by_group(
        np.array([1, 1]), np.array([5, 5]), np.array([0, 0]), ties=np.array([1, 0])
    )
    assert shares.tolist() == [0, 1]


def portfolio_with_debtors(debts: int, *, seed: int, per_debtor: int) -> pd.DataFrame:
    """A synthetic portfolio in one currency whose debts belong to debtors of up to
    ``per_debtor`` debts, each debtor's capacity and lump sum those of its first debt."""
    frame = synthetic_portfolio(debts, seed=seed, currencies={"CNY": 1.0})
    rng = np.random.default_rng(seed)
    debtor = np.cumsum(rng.integers(0, per_debtor, size=debts) == 0)
    frame.insert(0, "debtor_id", [f"p{d}" for d in debtor])
    frame["debt_id"] = [f"d{i:05d}" for i in range(debts)]
    for column in ("capacity_minor", "lump_sum_minor"):
        frame[column] = frame.groupby("debtor_id")[column].transform("first")
    return frame


def test_pro_rata_shares_add_up_per_debtor_and_keep_single_debts() -> None:
    frame = portfolio_with_debtors(2_000, seed=7, per_debtor=3)
    shared = pro_rata_portfolio(frame)
    for column in ("capacity_minor", "lump_sum_minor"):
        stated = frame.groupby("debtor_id", sort=False)[column].first()
        assert shared.groupby("debtor_id", sort=False)[column].sum().equals(stated)
    alone = shared.groupby("debtor_id")["debt_id"].transform("size") == 1
    assert (shared.loc[alone, "capacity_minor"] == frame.loc[alone, "capacity_minor"]).all()
    # and the simulation runs on it as on any portfolio
    result = simulate(shared.drop(columns="debtor_id"), Policy(), as_of=AS_OF)
    assert int(result.summary()["debts"].sum()) == len(frame)


def test_shares_are_the_consolidated_engines() -> None:
    # The capacity a debt gets in the pro-rata portfolio is the share plans.consolidation
    # gives it (plans.allocation.shares by balance, ties by ref), pennies and all.
    frame = portfolio_with_debtors(600, seed=3, per_debtor=4)
    shared = pro_rata_portfolio(frame)
    checked = 0
    for debtor, rows in shared.groupby("debtor_id", sort=False):
        named = [
            NamedDebt(
                str(r.debt_id),
                Debt(
                    "CNY",
                    int(r.principal_minor),
                    int(r.interest_minor),
                    int(r.fees_minor),
                    Decimal(int(r.nominal_annual_rate_ppm)).scaleb(-6),
                    AS_OF,
                    int(r.days_past_due),
                ),
            )
            for r in rows.itertuples()
        ]
        capacity = int(frame.loc[frame["debtor_id"] == debtor, "capacity_minor"].iloc[0])
        totals = [n.debt.total_minor for n in named]
        engine = shares(
            capacity,
            [MAX_AMOUNT_MINOR] * len(named),
            order=payment_order(named, AllocationRule.PRO_RATA),
            rule=AllocationRule.PRO_RATA,
            weights=totals,
        )
        assert rows["capacity_minor"].tolist() == engine
        checked += len(named) > 1
    assert checked > 50


def test_one_debt_debtors_get_their_single_debt_offers() -> None:
    frame = portfolio_with_debtors(60, seed=11, per_debtor=1)
    offers = consolidated_offers(frame, Policy(), as_of=AS_OF)
    assert len(offers) == 4 * len(frame)
    for r in frame.itertuples():
        debt = Debt(
            r.currency,
            int(r.principal_minor),
            int(r.interest_minor),
            int(r.fees_minor),
            Decimal(int(r.nominal_annual_rate_ppm)).scaleb(-6),
            AS_OF,
            int(r.days_past_due),
        )
        single = negotiate(
            debt, Capacity(int(r.capacity_minor), int(r.lump_sum_minor)), policy=Policy()
        )
        mine = offers[offers["debtor_id"] == r.debtor_id].set_index("kind")
        for offer in single.ranked:
            row = mine.loc[str(offer.kind)]
            assert row["feasible"]
            assert row["total_paid_minor"] == offer.metrics.total_paid_minor
            assert row["expected_recovery_minor"] == offer.metrics.expected_recovery_minor
        for rejection in single.rejected:
            assert mine.loc[str(rejection.kind), "rule"] == rejection.rule


def test_totals_per_debtor() -> None:
    frame = portfolio_with_debtors(500, seed=5, per_debtor=3)
    totals = debtor_totals(frame)
    assert totals["debts"].sum() == len(frame)
    assert (
        totals["total_minor"].sum()
        == (frame["principal_minor"] + frame["interest_minor"] + frame["fees_minor"]).sum()
    )


@pytest.mark.parametrize(
    ("column", "values"),
    [("currency", ["CNY", "USD"]), ("capacity_minor", [100, 200]), ("lump_sum_minor", [0, 1])],
)
def test_a_debtor_has_one_currency_capacity_and_lump_sum(column: str, values: list[object]) -> None:
    raw = pd.DataFrame(
        {
            "debtor_id": ["x", "x"],
            "currency": ["CNY", "CNY"],
            "principal_minor": [10_000, 20_000],
            "nominal_annual_rate_ppm": [0, 0],
            "days_past_due": [90, 90],
            "capacity_minor": [100, 100],
            "lump_sum_minor": [0, 0],
        }
    )
    raw[column] = values
    with pytest.raises(DomainError) as caught:
        debtor_frame(raw)
    assert (caught.value.field, caught.value.rule) == (f"portfolio.{column}", "one_per_debtor")
