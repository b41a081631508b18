"""Portfolio simulation: every offer a policy would make to every debt, and what it is worth.

The finance team's question is what an incentive buys. For a portfolio of debts (one row per
debt, see :data:`PORTFOLIO_COLUMNS`) and a grid of policy variants (:func:`policy_grid`:
discount by days past due, maximum term, plan rate, ...), :func:`simulate` finds, for every
debt and each of the four offer kinds, the offer the engine would make or the rule that stops
it, what the debtor would pay, at what APR, and what it is worth to the creditor (NPV and
expected recovery, as :func:`plans.offer.measure` defines them). Then, per grid point and
currency (amounts are never added across currencies), the totals a policy is chosen by:
expected recovery, the share of debts with a feasible offer, the discount granted, and the
cash-flow curve by month of the offer each debt would be shown first.

The simplifications that make the simulated offers the scalar engine's are stated where they
are made: one as-of date and monthly payments (:mod:`plans.simulation.timeline`), the nominal
interest basis (:mod:`plans.simulation.layout`), whole-month APRs and NPVs added in date order
(:mod:`plans.simulation.metrics`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pandas as pd

from plans.policy import Policy
from plans.simulation.aggregation import Simulation, assemble, chunk_tables
from plans.simulation.grid import GridPoint, grid_points
from plans.simulation.portfolio import Debts, portfolio_frame


def simulate(
    portfolio: pd.DataFrame,
    grid: Policy | Sequence[GridPoint],
    *,
    as_of: date,
    chunk_debts: int = 32_768,
    workers: int = 1,
    keep_offers: bool = True,
    write_offers: Callable[[pd.DataFrame], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Every offer of every kind for every debt under every grid point, and their totals.

    Parameters
    ----------
    portfolio
        One row per debt (:data:`PORTFOLIO_COLUMNS`); checked by :func:`portfolio_frame`.
    grid
        A policy, or the points of :func:`policy_grid`.
    as_of
        The date the debts are owed on and every offer is made.
    chunk_debts
        Debts computed at once: memory grows with it (about
        ``chunk_debts × distinct policies per kind × max term × 8`` bytes).
    workers
        Threads working on chunks at once (numpy releases the GIL in its loops).
    keep_offers
        Keep the per-debt offers (:data:`OFFER_COLUMNS`) as well as the totals.
    write_offers
        Called with each chunk's offers (one frame per grid point, chunks in portfolio order)
        as soon as they are made: a writer streams a large result to a file this way.
    progress
        Called with the number of debts each finished chunk held.

    Returns
    -------
    Simulation

    Examples
    --------
    >>> from plans.synthetic import synthetic_portfolio
    >>> sim = simulate(synthetic_portfolio(1_000, seed=1), Policy(), as_of=date(2026, 11, 25))
    >>> row = sim.summary().iloc[0]
    >>> row["currency"], int(row["debts"]), bool(0 < row["share_with_offer"] <= 1)
    ('CNY', 784, True)
    >>> sim.offers.groupby("kind", observed=True)["feasible"].mean().round(2).tolist()
    [0.67, 0.62, 0.05, 0.14]
    """
    if chunk_debts < 1 or workers < 1:
        raise ValueError("chunk_debts and workers must be at least 1")
    frame = portfolio_frame(portfolio)
    points = grid_points(grid)
    currencies = tuple(sorted(str(c) for c in pd.unique(frame["currency"])))

    def run(start: int) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
        chunk = frame.iloc[start : start + chunk_debts]
        ids = chunk["debt_id"].to_numpy()
        wanted = keep_offers or write_offers is not None
        return chunk_tables(Debts.of(chunk), ids, points, as_of, currencies, wanted)

    starts = list(range(0, len(frame), chunk_debts))
    tables: list[pd.DataFrame] = []
    kept: list[list[pd.DataFrame]] = []

    def take(start: int, made: tuple[list[pd.DataFrame], list[pd.DataFrame]]) -> None:
        # on the calling thread, chunk after chunk: the writer sees the portfolio in order
        tables.extend(made[0])
        if write_offers is not None:
            for offers_of_point in made[1]:
                write_offers(offers_of_point)
        if keep_offers:
            kept.append(made[1])
        if progress is not None:
            progress(min(chunk_debts, len(frame) - start))

    if workers == 1 or len(starts) <= 1:
        for start in starts:
            take(start, run(start))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for start, future in zip(starts, [pool.submit(run, s) for s in starts], strict=True):
                take(start, future.result())
    offers = None
    if keep_offers:
        # grid point by grid point, each in portfolio order
        offers = [chunk[g] for g in range(len(points)) for chunk in kept]
    return assemble(points, tables, offers)
