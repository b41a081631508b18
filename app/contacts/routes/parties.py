"""The parties of a debt: add, list, read, change, remove, and reveal for a call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response

from app.contacts import parties
from app.core.access import Action
from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from schemas.contacts import (
    DEBT_REF_PATTERN,
    PARTY_ID,
    PARTY_ID_PATTERN,
    PartyIn,
    PartyList,
    PartyOut,
    PartyPatch,
    RevealedParty,
)

router = APIRouter(prefix="/v1", tags=["contacts"])

ERRORS = problem_responses(401, 403, 404, 422, 503)
Ref = Path(
    min_length=1,
    max_length=100,
    pattern=DEBT_REF_PATTERN,
    description="The creditor's reference of the debt.",
    examples=["CARD-2024-0012345"],
)
PartyId = Path(pattern=PARTY_ID_PATTERN, description="A party's id.", examples=[PARTY_ID])


@router.post("/debts/{ref}/parties", response_model=PartyOut, status_code=201, responses=ERRORS)
def add_party(body: PartyIn, db: DbSession, key: CollectorKey, ref: str = Ref) -> dict[str, Any]:
    """Add a party (debtor, co-debtor, guarantor, third party) to a debt, at most the
    policy's ``max_parties``. The name and contact details are stored encrypted and shown
    masked."""
    return parties.add_party(db, ref, body, key)


@router.get("/debts/{ref}/parties", response_model=PartyList, responses=ERRORS)
def list_parties(db: DbSession, key: CollectorKey, ref: str = Ref) -> dict[str, Any]:
    """The debt's parties (collectors see those they added), masked."""
    return parties.list_parties(db, ref, key)


@router.get("/debts/{ref}/parties/{party_id}", response_model=PartyOut, responses=ERRORS)
def party(
    db: DbSession, key: CollectorKey, ref: str = Ref, party_id: str = PartyId
) -> dict[str, Any]:
    """One party of the debt, masked."""
    return parties.party_json(parties.party_for(db, ref, party_id, key))


@router.patch(
    "/debts/{ref}/parties/{party_id}",
    response_model=PartyOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def change_party(
    body: PartyPatch, db: DbSession, key: CollectorKey, ref: str = Ref, party_id: str = PartyId
) -> dict[str, Any]:
    """Change a party; record an opt-out of channels (``opted_out``) or a request not to be
    contacted at all (``stopped``). Neither can be lifted here (409): only by the party."""
    return parties.update_party(
        db, parties.party_for(db, ref, party_id, key, Action.WORK), body, key
    )


@router.delete(
    "/debts/{ref}/parties/{party_id}", status_code=204, response_class=Response, responses=ERRORS
)
def remove_party(
    db: DbSession, key: CollectorKey, ref: str = Ref, party_id: str = PartyId
) -> Response:
    """Remove a party; its contact details are erased, its attempts still count."""
    parties.delete_party(db, parties.party_for(db, ref, party_id, key, Action.WORK), key)
    return Response(status_code=204)


@router.post(
    "/debts/{ref}/parties/{party_id}/reveal", response_model=RevealedParty, responses=ERRORS
)
def reveal(
    db: DbSession, key: CollectorKey, ref: str = Ref, party_id: str = PartyId
) -> dict[str, Any]:
    """The party's name and contact details in clear, for placing a call. Every call is an
    audit event (``contact_details_revealed``)."""
    return parties.reveal(db, parties.party_for(db, ref, party_id, key, Action.WORK), key)
