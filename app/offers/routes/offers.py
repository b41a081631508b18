"""Offers for a debt: every offer that fits, and the debtor's counter-proposal."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import CollectorKey, DbOnDemand
from app.core.errors import problem_responses
from app.core.responses import Json
from app.finance.policies import resolve_for_offer_async
from app.offers import calculations
from schemas.offer_answers import CounterAnswer, NegotiateAnswer
from schemas.offers import CounterBody, NegotiateBody

router = APIRouter(prefix="/v1/offers", tags=["offers"])

ERRORS = problem_responses(401, 403, 404, 422, 503)


@router.post("/negotiate", response_model=NegotiateAnswer, responses=ERRORS)
async def negotiate(request: NegotiateBody, db: DbOnDemand, key: CollectorKey) -> Json:
    """Every offer the policy allows for this debt (or these debts, as one consolidated plan)
    and capacity, ranked, each with its full schedule, APR, NPV, expected recovery and a
    one-sentence summary in the locale; and the reason each kind not offered was rejected.
    Several debts: each schedule line is allocated to the debts by the policy's
    allocation_rule. A capacity with an income and expenditure statement: the affordability
    says how each offer fits the disposable income."""
    return Json(
        calculations.negotiate_any(request, await resolve_for_offer_async(db, request.policy, key))
    )


@router.post("/counter", response_model=CounterAnswer, responses=ERRORS)
async def counter(request: CounterBody, db: DbOnDemand, key: CollectorKey) -> Json:
    """The debtor's proposal: accepted as it stands, or why not and the nearest offers that the
    policy allows (same payment for longer, same term for more, or a later start). Several
    debts: the proposal describes one consolidated plan, its payment shared between them by
    the policy's allocation_rule, and each offer's lines are allocated to the debts."""
    return Json(
        calculations.counter_any(request, await resolve_for_offer_async(db, request.policy, key))
    )
