"""The contact check, and the record of contact attempts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.contacts import checks
from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from schemas.contacts import ContactAttemptIn, ContactAttemptOut, ContactCheckIn, ContactCheckOut

router = APIRouter(prefix="/v1", tags=["contacts"])

ERRORS = problem_responses(401, 403, 404, 422, 503)


@router.post("/contact-checks", response_model=ContactCheckOut, responses=ERRORS)
def check(body: ContactCheckIn, db: DbSession, key: CollectorKey) -> dict[str, Any]:
    """May this party be contacted on this channel at this time, given every attempt on the
    debt? Allowed, with what the message must meet; or the rule that forbids it (id, text,
    source, rules version) and the next permitted time in the party's zone."""
    return checks.check(db, body, key)


@router.post(
    "/contact-attempts",
    response_model=ContactAttemptOut,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def record_attempt(body: ContactAttemptIn, db: DbSession, key: CollectorKey) -> dict[str, Any]:
    """Record an attempt (a call placed, a message sent). It is checked first: one that
    breaks a rule is a 409 naming the rule and the next permitted time, and nothing is
    recorded. A recorded attempt is an audit event (``contact_attempt``), details masked."""
    return checks.record(db, body, key)
