"""The audit trail: events in order, and a check of the hash chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from app import audit, sharing
from app.db import AuditEvent, Role
from app.deps import CollectorKey, DbSession, FinanceKey
from app.errors import forbidden, problem_responses
from schemas.sharing import AuditList, AuditVerification

router = APIRouter(prefix="/v1/audit", tags=["audit"])

ID = r"^[0-9a-f]{32}$"


@router.get("", response_model=AuditList, responses=problem_responses(401, 403, 404, 422, 503))
def events(
    db: DbSession,
    key: CollectorKey,
    offer_id: str | None = Query(None, pattern=ID),
    plan_id: str | None = Query(None, pattern=ID),
    limit: int = Query(500, ge=1, le=5000),
) -> dict[str, Any]:
    """Events in order. Collectors must name an offer or plan of their own; finance and
    admin keys may list everything."""
    statement = select(AuditEvent).order_by(AuditEvent.seq).limit(limit)
    if offer_id is not None:
        sharing.offer_for(db, offer_id, key)
        statement = statement.where(AuditEvent.offer_id == offer_id)
    if plan_id is not None:
        sharing.plan_for(db, plan_id, key)
        statement = statement.where(AuditEvent.plan_id == plan_id)
    if offer_id is None and plan_id is None and not Role(key.role).includes(Role.FINANCE):
        raise forbidden("Collectors list the events of an offer or plan: give offer_id or plan_id.")
    return {"events": [audit.as_json(e) for e in db.scalars(statement)]}


@router.get("/verify", response_model=AuditVerification, responses=problem_responses(401, 403, 503))
def verify(db: DbSession, key: FinanceKey) -> dict[str, Any]:
    """Recompute the whole hash chain; report the first event that does not match."""
    result = audit.verify(db)
    return {
        "ok": result.ok,
        "events": result.events,
        "first_broken_seq": result.first_broken_seq,
        "reason": result.reason,
    }
