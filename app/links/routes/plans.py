"""Accepted plans: a plan's statement on a day, and what closes it."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Query

from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from app.links import plans
from schemas import examples
from schemas.sharing import PayoffOut, PlanDecisionIn, PlanOut

router = APIRouter(prefix="/v1/plans", tags=["plans"])

ERRORS = problem_responses(401, 403, 404, 422, 503)
PlanId = Path(
    pattern=r"^[0-9a-f]{32}$", description="An accepted plan's id.", examples=[examples.PLAN["id"]]
)
OnDate = Query(None, description="The day to judge the plan on (default today).")


@router.get("/{plan_id}", response_model=PlanOut, responses=ERRORS)
def accepted_plan(
    db: DbSession, key: CollectorKey, plan_id: str = PlanId, on: date | None = OnDate
) -> dict[str, Any]:
    """An accepted plan: each instalment paid, partly paid, due, late or missed; the plan
    active, completed or broken (by the policy's rule, after which any discount is revoked
    and the balance recomputed with every payment credited, shown line by line)."""
    plan = plans.plan_for(db, plan_id, key)
    return plans.plan_json(db, plan, on or date.today())


@router.get("/{plan_id}/payoff", response_model=PayoffOut, responses=ERRORS)
def plan_payoff(
    db: DbSession,
    key: CollectorKey,
    plan_id: str = PlanId,
    on: date | None = Query(None, description="Payoff date (default today)."),
) -> dict[str, Any]:
    """What closes the plan on a date: unpaid principal and fees, interest due and accrued
    since the last due date (the policy's day count), less the early-payoff waiver."""
    plan = plans.plan_for(db, plan_id, key)
    return plans.payoff_json(db, plan, on or date.today())


@router.post(
    "/{plan_id}/decisions",
    response_model=PlanOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def plan_decision(
    db: DbSession, key: CollectorKey, body: PlanDecisionIn, plan_id: str = PlanId
) -> dict[str, Any]:
    """Close an open plan by a decision, recorded as its last transition (cause ``decision``)
    and audited: ``cancel`` or ``write_off`` (a write-off: supervisors, finance and admins;
    a collector gets 403). A plan already closed (completed, replaced, cancelled, written
    off) is a 409. Its reminders not yet sent are withdrawn."""
    plan = plans.decide_for(db, plan_id, body, key)
    return plans.plan_json(db, plan, date.today())
