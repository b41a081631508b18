"""A debt by its reference: its recorded terms and jurisdiction, its parties and offers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.contacts import debts
from app.contacts.routes.parties import Ref  # the debt's reference, as its parties' routes take it
from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from schemas.debts import DebtOut, DebtRecordIn

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
    to: 201 when new, 200 when it replaces the terms recorded before (audited, old and new).
    Offers already made keep the terms they were computed from."""
    document, created = debts.record_debt(db, ref, body, key)
    if created:
        response.status_code = 201
    return document


@router.get(
    "/debts/{ref}", response_model=DebtOut, responses=problem_responses(401, 403, 404, 422, 503)
)
def debt(db: DbSession, key: CollectorKey, ref: str = Ref) -> dict[str, Any]:
    """The debt: recorded terms and jurisdiction, parties (masked) and offers, as far as the
    key may see them (a collector: what it made)."""
    return debts.debt_json(db, ref, key)
