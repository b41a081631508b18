"""Offers for a debt: every offer that fits, and the debtor's counter-proposal."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import CollectorKey, DbOnDemand
from app.core.errors import problem_responses
from app.core.responses import Json
from app.finance.policies import resolve_for_offer_async
from app.offers import calculations
from schemas.offers import CounterRequest, CounterResult, NegotiateRequest, OfferSet

router = APIRouter(prefix="/v1/offers", tags=["offers"])

ERRORS = problem_responses(401, 403, 404, 422, 503)


@router.post("/negotiate", response_model=OfferSet, responses=ERRORS)
async def negotiate(request: NegotiateRequest, db: DbOnDemand, key: CollectorKey) -> Json:
    """Every offer the policy allows for this debt and capacity, ranked, each with its full
    schedule, APR, NPV, expected recovery and a one-sentence summary in the locale; and the
    reason each kind not offered was rejected."""
    return Json(
        calculations.negotiate_offers(
            request, await resolve_for_offer_async(db, request.policy, key)
        )
    )


@router.post("/counter", response_model=CounterResult, responses=ERRORS)
async def counter(request: CounterRequest, db: DbOnDemand, key: CollectorKey) -> Json:
    """The debtor's proposal: accepted as it stands, or why not and the nearest offers that the
    policy allows (same payment for longer, same term for more, or a later start)."""
    return Json(
        calculations.counter(request, await resolve_for_offer_async(db, request.policy, key))
    )
