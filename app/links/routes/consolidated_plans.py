"""Consolidated plans: several debts' plans accepted as one, and the money received against
them, shared between the debts by the offer's allocation rule."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Response

from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from app.core.idempotency import PaymentKey, require_idempotency_key
from app.links import groups
from app.links.routes.plans import OnDate
from schemas.consolidated_plans import GROUP_ID_EXAMPLE, ConsolidatedPlanOut, SharedPaymentOut
from schemas.sharing import PaymentIn

router = APIRouter(prefix="/v1/consolidated-plans", tags=["plans"])

GroupId = Path(
    pattern=r"^[0-9a-f]{32}$",
    description="A consolidated plan's id (the saved consolidated offer's, once accepted).",
    examples=[GROUP_ID_EXAMPLE],
)


@router.get(
    "/{consolidated_plan_id}",
    response_model=ConsolidatedPlanOut,
    responses=problem_responses(401, 403, 404, 422, 503),
)
def consolidated_plan(
    db: DbSession,
    key: CollectorKey,
    consolidated_plan_id: str = GroupId,
    on: date | None = OnDate,
) -> dict[str, Any]:
    """A consolidated plan on a day: each debt's plan (its own state, paid and outstanding:
    ``GET /v1/plans/{plan_id}`` for the whole of it), the plan's state from theirs, and every
    payment received with its share per debt."""
    group = groups.group_for(db, consolidated_plan_id, key)
    return groups.consolidated_plan_json(db, group, on or date.today())


@router.post(
    "/{consolidated_plan_id}/payments",
    response_model=SharedPaymentOut,
    status_code=201,
    responses={
        200: {
            "model": SharedPaymentOut,
            "description": "A retry with the same Idempotency-Key: the payment as recorded.",
        },
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
def record_payment(
    body: PaymentIn,
    db: DbSession,
    key: CollectorKey,
    response: Response,
    idempotency_key: PaymentKey,
    consolidated_plan_id: str = GroupId,
) -> dict[str, Any]:
    """Record money received against a consolidated plan: shared between the debts by the
    offer's allocation rule, line by line (what was due by its date, oldest first, then the
    next payment, then the last ones or a refund, per policy), from what each debt's plan
    still asks; each part is a payment of that debt's plan, applied by its waterfall and
    audited, and the sharing is audited as ``payment_allocated``. A payment recorded against
    one debt's plan of a consolidated plan is a 409 naming it."""
    key_value = require_idempotency_key(idempotency_key)
    document, new = groups.record_group_payment(db, consolidated_plan_id, body, key, key_value)
    if not new:
        response.status_code = 200
    return document
