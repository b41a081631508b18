"""One offer with explicit parameters, and several side by side."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Query

from app import offers, sharing
from app.deps import CollectorKey, DbSession
from app.errors import problem_responses
from app.policies import resolve_async
from app.responses import Json
from schemas import examples
from schemas.offers import (
    CompareRequest,
    DeferralRequest,
    InstalmentRequest,
    OfferOut,
    OfferSet,
    SettlementRequest,
)
from schemas.sharing import PayoffOut, PlanOut

router = APIRouter(prefix="/v1/plans", tags=["plans"])

ERRORS = problem_responses(401, 403, 404, 422, 503)


@router.post("/instalment", response_model=OfferOut, responses=ERRORS)
async def instalment(request: InstalmentRequest, db: DbSession, key: CollectorKey) -> Json:
    """An instalment plan: a given term, or the shortest that keeps each payment within
    ``payment`` (or the capacity)."""
    return Json(offers.one_plan(request, await resolve_async(db, request.policy)))


@router.post("/deferral", response_model=OfferOut, responses=ERRORS)
async def deferral(request: DeferralRequest, db: DbSession, key: CollectorKey) -> Json:
    """A pause of some periods (no or token payments), then instalments."""
    return Json(offers.one_plan(request, await resolve_async(db, request.policy)))


@router.post("/settlement", response_model=OfferOut, responses=ERRORS)
async def settlement(request: SettlementRequest, db: DbSession, key: CollectorKey) -> Json:
    """A settlement: the discounted lump sum by a date (``kind: settlement``) or the discounted
    total in a few instalments (``kind: settlement_plan``)."""
    return Json(offers.one_plan(request, await resolve_async(db, request.policy)))


@router.post("/compare", response_model=OfferSet, responses=ERRORS)
async def compare(request: CompareRequest, db: DbSession, key: CollectorKey) -> Json:
    """Several explicit offers for one debt, ranked; any the policy refuses is listed with its
    reason."""
    return Json(offers.compare_plans(request, await resolve_async(db, request.policy)))


# ---- accepted plans ---------------------------------------------------------------------

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
    plan = sharing.plan_for(db, plan_id, key)
    return sharing.plan_json(db, plan, on or date.today())


@router.get("/{plan_id}/payoff", response_model=PayoffOut, responses=ERRORS)
def plan_payoff(
    db: DbSession,
    key: CollectorKey,
    plan_id: str = PlanId,
    on: date | None = Query(None, description="Payoff date (default today)."),
) -> dict[str, Any]:
    """What closes the plan on a date: unpaid principal and fees, interest due and accrued
    since the last due date (the policy's day count), less the early-payoff waiver."""
    plan = sharing.plan_for(db, plan_id, key)
    return sharing.payoff_json(db, plan, on or date.today())
