"""The outbox: senders claim due messages, acknowledge each one sent, and pass on the replies."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.core.access import actor
from app.core.deps import DbSession, FinanceKey
from app.core.errors import problem_responses
from app.messaging import outbox, replies
from schemas.outbox import MESSAGE_ID_PATTERN, AckIn, AckOut, ClaimedMessages, ReplyIn, ReplyOut

router = APIRouter(prefix="/v1/outbox", tags=["outbox"])


@router.get("", response_model=ClaimedMessages, responses=problem_responses(401, 403, 422, 503))
def claim(
    db: DbSession,
    key: FinanceKey,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many messages.")] = 100,
    lease: Annotated[
        int, Query(ge=1, le=3600, description="Seconds the sender holds them unacknowledged.")
    ] = 60,
) -> dict[str, Any]:
    """Claim due messages of the key's organisation for sending, each with its address in
    clear. A message not acknowledged within the lease is handed out again. Audited (ids
    only)."""
    claimed = outbox.claim(
        db,
        limit=limit,
        lease=timedelta(seconds=lease),
        actor=actor(key),
        organisation_id=key.organisation_id,
    )
    return {"messages": claimed}


@router.post(
    "/{message_id}/ack",
    response_model=AckOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def acknowledge(
    body: AckIn,
    db: DbSession,
    key: FinanceKey,
    message_id: Annotated[str, Path(pattern=MESSAGE_ID_PATTERN)],
) -> dict[str, Any]:
    """Mark a claimed message delivered. Again with the same token: the same answer. A token
    whose lease ran out and whose message another sender claimed is a 409."""
    return outbox.acknowledge(db, message_id, body.claim_token, organisation_id=key.organisation_id)


@router.post(
    "/{message_id}/replies",
    response_model=ReplyOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def reply(
    body: ReplyIn,
    db: DbSession,
    key: FinanceKey,
    message_id: Annotated[str, Path(pattern=MESSAGE_ID_PATTERN)],
) -> dict[str, Any]:
    """A reply the gateway received to this message. One that asks to opt out (T, TD, 退订,
    STOP, UNSUBSCRIBE, ...) opts the party out of the message's channel, as their own request
    (audited); anything else changes nothing and is left to a person. A reply from another
    address than the message's is a 409."""
    return replies.record_reply(
        db, message_id, sender=body.sender, text=body.text, organisation_id=key.organisation_id
    )
