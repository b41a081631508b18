"""One offer with explicit parameters, and several side by side."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import CollectorKey, DbOnDemand
from app.core.errors import problem_responses
from app.core.responses import Json
from app.finance.policies import resolve_for_offer_async
from app.offers import calculations
from schemas.offer_answers import NegotiateAnswer, OfferOut
from schemas.plan_requests import CompareBody, DeferralRequest, InstalmentRequest, SettlementRequest

router = APIRouter(prefix="/v1/plans", tags=["plans"])

ERRORS = problem_responses(401, 403, 404, 422, 503)


@router.post("/instalment", response_model=OfferOut, responses=ERRORS)
async def instalment(request: InstalmentRequest, db: DbOnDemand, key: CollectorKey) -> Json:
    """An instalment plan: a given term, or the shortest that keeps each payment within
    ``payment`` (or the capacity)."""
    return Json(
        calculations.one_plan(request, await resolve_for_offer_async(db, request.policy, key))
    )


@router.post("/deferral", response_model=OfferOut, responses=ERRORS)
async def deferral(request: DeferralRequest, db: DbOnDemand, key: CollectorKey) -> Json:
    """A pause of some periods (no or token payments), then instalments."""
    return Json(
        calculations.one_plan(request, await resolve_for_offer_async(db, request.policy, key))
    )


@router.post("/settlement", response_model=OfferOut, responses=ERRORS)
async def settlement(request: SettlementRequest, db: DbOnDemand, key: CollectorKey) -> Json:
    """A settlement: the discounted lump sum by a date (``kind: settlement``) or the discounted
    total in a few instalments (``kind: settlement_plan``)."""
    return Json(
        calculations.one_plan(request, await resolve_for_offer_async(db, request.policy, key))
    )


@router.post("/compare", response_model=NegotiateAnswer, responses=ERRORS)
async def compare(request: CompareBody, db: DbOnDemand, key: CollectorKey) -> Json:
    """Several explicit offers for one debt, ranked; any the policy refuses is listed with its
    reason. Several debts (``debts``): the kinds listed, each made as negotiate makes it for
    them, each line allocated to the debts by the policy's allocation_rule."""
    return Json(
        calculations.compare_any(request, await resolve_for_offer_async(db, request.policy, key))
    )
