"""Replies to our messages, as the sender's gateway receives them: a reply that asks to opt
out (``T``, ``TD``, ``退订``, ``STOP``, ... :data:`schemas.message_rules.OPT_OUT_KEYWORDS`)
opts its party out of the channel, which every text message's last line promises
(``回T退订``, ``Reply STOP to opt out``).

A gateway relates an inbound reply to the message it answers (the last one it sent to that
address), so the reply names that message; the reply must come from the address the message
went to. Party details are sealed at rest (no lookup by number), so a reply that names no
message cannot be placed: the gateway keeps it for a person to handle, as it does any reply
that is not an opt-out (a question, a promise to pay).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contacts import parties, preferences
from app.contacts.models import Party as PartyRow
from app.core.errors import conflict, not_found
from app.core.models import Debt
from app.messaging.models import OutboxMessage
from schemas.message_rules import opt_out_keyword

Json = dict[str, Any]


def _same_address(channel: str, given: str, known: str | None) -> bool:
    if known is None:
        return False
    if channel == "email":
        return given.strip().casefold() == known.casefold()
    # E.164, however the gateway spaces it: "+86 138-0013-8000" is "+8613800138000"
    return re.sub(r"[^0-9+]", "", given) == known


def record_reply(
    db: Session, message_id: str, *, sender: str, text: str, organisation_id: int
) -> Json:
    """Record a reply to one of an organisation's messages (another's is a 404): an opt-out
    keyword opts the party out of the message's channel. The reply's text is not stored."""
    message = db.get(OutboxMessage, message_id)
    if message is not None:
        owner = db.scalar(select(Debt.organisation_id).where(Debt.id == message.debt_id))
        message = message if owner == organisation_id else None
    row = None if message is None else db.get(PartyRow, message.party_id)
    if message is None or row is None or row.deleted_at is not None:
        raise not_found(f"There is no message {message_id}.")
    if not _same_address(message.channel, sender, parties.channels_of(row).get(message.channel)):
        raise conflict(
            "This reply does not come from the address the message was sent to.",
            "reply-not-from-recipient",
        )
    opt_out = opt_out_keyword(text)
    changed = opt_out and preferences.opt_out_by_reply(db, row, message.channel)
    return {
        "message_id": message.id,
        "party_id": row.id,
        "channel": message.channel,
        "opt_out": opt_out,
        "changed": changed,
    }
