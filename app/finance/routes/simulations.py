"""Portfolio simulations for the finance team: a bounded portfolio, answered at once.

Larger portfolios go through ``repay simulate`` (pandas, or Dask across machines).
"""

from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import DbSession, FinanceKey
from app.core.errors import FieldError, Problem, problem_responses
from app.core.responses import Json
from app.finance.policies import resolve
from app.finance.simulations import consolidated, response
from plans.simulation import OFFER_KINDS, policy_grid, simulate
from schemas.simulations import (
    MAX_DEBT_POLICIES,
    MAX_DEBTS,
    MAX_GRID_POINTS,
    MAX_OFFER_ROWS,
    SimulationOut,
    SimulationRequest,
)

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])

# Small chunks bound memory whatever the policy's maximum term (up to 600 months).
CHUNK_DEBTS = 4096


def too_large(request: SimulationRequest) -> Problem | None:
    """413 for a request beyond the documented bounds, naming the bound."""
    debts = len(request.debts)
    points = request.grid.points() if request.grid is not None else 1
    if debts > MAX_DEBTS:
        where, rule, detail = "debts", "max_debts", f"{debts:,} debts: at most {MAX_DEBTS:,}"
    elif points > MAX_GRID_POINTS:
        where, rule = "grid", "max_grid_points"
        detail = f"{points:,} grid points: at most {MAX_GRID_POINTS}"
    elif debts * points > MAX_DEBT_POLICIES:
        where, rule = "grid", "max_debt_policies"
        detail = f"{debts * points:,} debts × grid points: at most {MAX_DEBT_POLICIES:,}"
    elif request.include_offers and debts * points * len(OFFER_KINDS) > MAX_OFFER_ROWS:
        where, rule = "include_offers", "max_offer_rows"
        detail = (
            f"{debts * points * len(OFFER_KINDS):,} offers to return: at most {MAX_OFFER_ROWS:,}"
        )
    else:
        return None
    return Problem(
        413,
        "too-large",
        "Content Too Large",
        f"The simulation is too large for a request ({detail}); run it with `repay simulate`.",
        errors=[FieldError(where, rule, detail)],
    )


@router.post(
    "",
    response_model=SimulationOut,
    responses=problem_responses(401, 403, 404, 413, 422, 503),
)
def create_simulation(request: SimulationRequest, db: DbSession, key: FinanceKey) -> Json:
    """Every offer the policy (and each variant of the grid) would make to every debt, and the
    totals per grid point and currency: expected recovery of each debt's best offer, the share
    of debts with a feasible offer, the discount granted, each kind's offers and rejections,
    and the cash flow by month. At most 10,000 debts, 64 grid points and 200,000 debts × grid
    points (413 beyond)."""
    problem = too_large(request)
    if problem is not None:
        raise problem
    resolved = resolve(db, request.policy, key.organisation_id)
    points = policy_grid(resolved.engine, request.grid.to_engine() if request.grid else None)
    portfolio, debtors = request.portfolio(), None
    if request.consolidate:
        ids = request.debtor_ids()
        portfolio, debtors = consolidated(portfolio, ids), len(set(ids))
    sim = simulate(
        portfolio,
        points,
        as_of=request.as_of,
        chunk_debts=CHUNK_DEBTS,
        keep_offers=request.include_offers,
    )
    return Json(
        response(
            sim,
            as_of=request.as_of,
            debts=len(request.debts),
            policy=resolved.used,
            debtors=debtors,
        )
    )
