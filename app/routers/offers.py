"""Offers for a debt: every offer that fits, and the debtor's counter-proposal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path

from app import offers, sharing
from app.deps import CollectorKey, DbSession
from app.errors import problem_responses
from app.policies import resolve_async
from app.responses import Json
from schemas import examples
from schemas.offers import CounterRequest, CounterResult, NegotiateRequest, OfferSet
from schemas.sharing import SavedOfferOut, SaveOffer

router = APIRouter(prefix="/v1/offers", tags=["offers"])

ERRORS = problem_responses(401, 403, 404, 422, 503)


@router.post("/negotiate", response_model=OfferSet, responses=ERRORS)
async def negotiate(request: NegotiateRequest, db: DbSession, key: CollectorKey) -> Json:
    """Every offer the policy allows for this debt and capacity, ranked, each with its full
    schedule, APR, NPV, expected recovery and a one-sentence summary in the locale; and the
    reason each kind not offered was rejected."""
    return Json(offers.negotiate_offers(request, await resolve_async(db, request.policy)))


@router.post("/counter", response_model=CounterResult, responses=ERRORS)
async def counter(request: CounterRequest, db: DbSession, key: CollectorKey) -> Json:
    """The debtor's proposal: accepted as it stands, or why not and the nearest offers that the
    policy allows (same payment for longer, same term for more, or a later start)."""
    return Json(offers.counter(request, await resolve_async(db, request.policy)))


# ---- offers saved for a debt and shared with the debtor ---------------------------------

OfferId = Path(
    pattern=r"^[0-9a-f]{32}$",
    description="A saved offer's id.",
    examples=[examples.SAVED_OFFER["id"]],
)


@router.post(
    "",
    response_model=SavedOfferOut,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def save(
    request: SaveOffer,
    db: DbSession,
    key: CollectorKey,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Repeat it on a retry: the first result comes back, nothing is made twice.",
        ),
    ] = None,
) -> dict[str, Any]:
    """Save an offer (from negotiate, or an explicit plan) for a debt and get its share link.
    An earlier open offer for the same debt is superseded."""
    return sharing.save_offer(db, request, key, idempotency_key)


@router.get("/{offer_id}", response_model=SavedOfferOut, responses=ERRORS)
def saved(db: DbSession, key: CollectorKey, offer_id: str = OfferId) -> dict[str, Any]:
    """A saved offer, its link and state (collectors see their own)."""
    return sharing.saved_json(db, sharing.offer_for(db, offer_id, key))


@router.post(
    "/{offer_id}/revoke",
    response_model=SavedOfferOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def revoke(db: DbSession, key: CollectorKey, offer_id: str = OfferId) -> dict[str, Any]:
    """Revoke an offer's link at once; idempotent. An accepted offer cannot be revoked."""
    return sharing.revoke_offer(db, offer_id, key)
