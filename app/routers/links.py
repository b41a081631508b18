"""The debtor's side: a shared offer behind its capability link, and its acceptance.

Unknown, revoked and expired tokens get the same 404, byte for byte: a link reveals nothing
about any other. Nothing here needs an API key; the token is the capability.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from app import sharing
from app.deps import DbSession
from app.errors import not_found, problem_responses
from app.responses import Json
from schemas.sharing import Acceptance

router = APIRouter(prefix="/s", tags=["links"])

Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/{token}.json", responses=problem_responses(404, 422, 503))
def offer_json(token: Token, db: DbSession) -> Json:
    """The offer as JSON, exactly as saved."""
    offer = _open(db, token)
    sharing.viewed(db, offer, "json", offer.locale)
    return Json(offer.document)


@router.post(
    "/{token}/accept",
    response_model=Acceptance,
    status_code=201,
    responses=problem_responses(404, 409, 422, 503),
)
def accept(token: Token, db: DbSession) -> dict[str, Any]:
    """The debtor accepts the offer: it becomes an active plan. Exactly one acceptance ever;
    a second, or an offer replaced by a newer one, is a 409 that says so."""
    return sharing.accept(db, token)


def _open(db: DbSession, token: str) -> Any:
    offer = sharing.by_token(db, token)
    if offer is None:
        raise not_found("There is no such offer.")
    return offer
