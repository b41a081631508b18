"""A debt by its reference: its recorded terms and jurisdiction, its team, parties and offers;
reassigning it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.contacts import debts
from app.contacts.routes.parties import Ref  # the debt's reference, as its parties' routes take it
from app.core.deps import CollectorKey, DbSession, SupervisorKey
from app.core.errors import problem_responses
from schemas.debts import AssignedOut, Assignment, DebtOut, DebtRecordIn

router = APIRouter(prefix="/v1", tags=["debts"])


@router.put(
    "/debts/{ref}",
    response_model=DebtOut,
    responses={201: {"model": DebtOut}, **problem_responses(401, 403, 404, 422, 503)},
)
def record_debt(
    body: DebtRecordIn, response: Response, db: DbSession, key: CollectorKey, ref: str = Ref
) -> dict[str, Any]:
    """Record the debt's terms and the jurisdiction whose contact rules its parties default
    to: 201 when recorded for the first time, 200 when it replaces the terms recorded before
    (audited, old and new). A reference new to the organisation opens a debt for the key's
    team; one the key may not work answers 404. Offers already made keep their terms."""
    document, created = debts.record_debt(db, ref, body, key)
    if created:
        response.status_code = 201
    return document


@router.get(
    "/debts/{ref}", response_model=DebtOut, responses=problem_responses(401, 403, 404, 422, 503)
)
def debt(db: DbSession, key: CollectorKey, ref: str = Ref) -> dict[str, Any]:
    """The debt: recorded terms and jurisdiction, where it is worked, parties (masked) and
    offers. A collector sees the debts of their team; finance and admin their organisation's;
    any other debt answers 404, as one that does not exist."""
    return debts.debt_json(db, ref, key)


@router.post(
    "/debts/{ref}/assignment",
    response_model=AssignedOut,
    responses=problem_responses(401, 403, 404, 422, 503),
)
def reassign(body: Assignment, db: DbSession, key: SupervisorKey, ref: str = Ref) -> dict[str, Any]:
    """Move the debt to a team of the organisation, and to one of that team's collectors or
    to the team as a whole (``member_id`` null). A supervisor moves their team's debts, an
    admin any; audited (``debt_reassigned``, from and to)."""
    return debts.reassign(db, ref, body, key)
