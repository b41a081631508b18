"""Offers saved for a debt and shared with the debtor: save (and get the link), read, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path

from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from app.links import groups, sharing
from schemas import examples
from schemas.sharing import SaveConsolidated, SavedOfferOut, SaveOffer

router = APIRouter(prefix="/v1/offers", tags=["offers"])

ERRORS = problem_responses(401, 403, 404, 422, 503)
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
    An earlier open offer for the same debt is superseded. A negotiation of several debts
    (``negotiate.debts``) saves one offer per debt, grouped as one consolidated offer behind
    one link (``consolidated``)."""
    if isinstance(request, SaveConsolidated):
        return groups.save_consolidated(db, request, key, idempotency_key)
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
