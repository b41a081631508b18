"""Payments against accepted plans."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from app.core.idempotency import PaymentKey, require_idempotency_key
from app.links import plans
from app.links.routes.plans import PlanId
from schemas.sharing import PaymentIn, PaymentOut

router = APIRouter(prefix="/v1/plans", tags=["payments"])


@router.post(
    "/{plan_id}/payments",
    response_model=PaymentOut,
    status_code=201,
    responses={
        200: {
            "model": PaymentOut,
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
    plan_id: str = PlanId,
) -> dict[str, Any]:
    """Record money received: allocated to instalments oldest first, and within each by the
    policy's waterfall; money beyond what is due shortens the plan or is refunded, per policy
    (``overpaid``, ``refunded``). Collectors record for their own plans; finance and admin
    keys (a payment processor's integration) for any."""
    key_value = require_idempotency_key(idempotency_key)
    document, new = plans.record_payment(db, plan_id, body, key, key_value)
    if not new:
        response.status_code = 200
    return document
