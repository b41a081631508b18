"""The audit trail: events in order, and a check of the hash chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.audit import trail
from app.audit.models import AuditEvent
from app.core.access import Action, require, sees_everything
from app.core.deps import CollectorKey, DbSession, FinanceKey
from app.core.errors import forbidden, problem_responses
from app.core.settings import get_settings
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
    """Events in order, of the key's organisation. Collectors and supervisors must name an
    offer or plan of their team's debts; finance and admin keys may list everything of their
    organisation."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.organisation_id == key.organisation_id)
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    if offer_id is not None:
        require(db, key, "offer", offer_id, Action.READ)
        statement = statement.where(AuditEvent.offer_id == offer_id)
    if plan_id is not None:
        require(db, key, "plan", plan_id, Action.READ)
        statement = statement.where(AuditEvent.plan_id == plan_id)
    if offer_id is None and plan_id is None and not sees_everything(key):
        raise forbidden("Collectors list the events of an offer or plan: give offer_id or plan_id.")
    return {"events": [trail.as_json(e) for e in db.scalars(statement)]}


@router.get("/verify", response_model=AuditVerification, responses=problem_responses(401, 403, 503))
def verify(db: DbSession, key: FinanceKey) -> dict[str, Any]:
    """Recompute the whole keyed hash chain and report the first event that does not match
    (rewritten or missing); compare its length and head with the last signed checkpoint
    (REPAY_AUDIT_CHECKPOINT_PATH) and report a truncation. `repay audit verify` does the same
    offline."""
    return trail.as_verification_json(
        trail.verify(db, checkpoint_path=get_settings().audit_checkpoint_path)
    )
