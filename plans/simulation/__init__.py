"""Portfolio simulation: every offer a policy would make to every debt, and what it is worth.

For a portfolio (:mod:`.portfolio`) and a grid of policy variants (:mod:`.grid`),
:func:`simulate` (:mod:`.run`) makes each debt the four kinds of offer (:mod:`.kinds`, plans
laid out by :mod:`.layout` on the dates of :mod:`.timeline`) or names the rule that stops one
(:mod:`.offers`), measures what each is worth (:mod:`.metrics`), and sums the best offers
exactly per grid point, currency and days-past-due bucket into a :class:`Simulation`
(:mod:`.aggregation`); :mod:`.units` holds the array types and scales they share. It is numpy
across debts, held to the scalar engine debt by debt in ``tests/plans/test_simulation.py``.
"""

from plans.simulation.aggregation import (
    CASH_FLOW_COLUMNS,
    DPD_BUCKETS,
    DPD_LABELS,
    KIND_COLUMNS,
    TOTAL_COLUMNS,
    Simulation,
    combine,
)
from plans.simulation.grid import GRID_KEYS, MAX_GRID_POINTS, GridPoint, grid_points, policy_grid
from plans.simulation.metrics import apr_ppm
from plans.simulation.offers import OFFER_COLUMNS, OFFER_KINDS, RULES
from plans.simulation.portfolio import PORTFOLIO_COLUMNS, portfolio_frame
from plans.simulation.run import simulate

# The name tests/plans/test_simulation.py holds the vectorised APR to Reg Z's by.
_apr_ppm = apr_ppm

__all__ = [
    "CASH_FLOW_COLUMNS",
    "DPD_BUCKETS",
    "DPD_LABELS",
    "GRID_KEYS",
    "KIND_COLUMNS",
    "MAX_GRID_POINTS",
    "OFFER_COLUMNS",
    "OFFER_KINDS",
    "PORTFOLIO_COLUMNS",
    "RULES",
    "TOTAL_COLUMNS",
    "GridPoint",
    "Simulation",
    "combine",
    "grid_points",
    "policy_grid",
    "portfolio_frame",
    "simulate",
]
