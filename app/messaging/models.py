"""The transactional outbox: messages to parties, written with what causes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    """A message to one party on one channel, queued in the transaction that caused it.

    ``send_at`` is already inside the party's permitted hours (``plans.contact``). The address
    is not here: ``party_id`` and ``channel`` refer to the party's sealed details, opened only
    when a sender claims the message. A claim sets ``claimed_until`` (the lease) and
    ``claim_token``; a message not acknowledged by then can be claimed again. ``dedupe_key`` is
    unique: the same message (an instalment's reminder, a payment's confirmation) is queued once.
    Content is sealed (``app.core.crypto``), bound to this table, column and row.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('reminder', 'confirmation', 'missed', 'plan_broken', 'plan_replaced',"
            " 'plan_completed')",
            name="kind",
        ),
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint("status IN ('pending', 'delivered', 'cancelled')", name="status"),
        # what a claim looks for: pending messages, the earliest first
        Index("ix_outbox_due", "status", "send_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    debt_id: Mapped[str] = mapped_column(ForeignKey("debts.id"), index=True)
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("accepted_plans.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str] = mapped_column(String(8))
    # the instalment a reminder or missed notice is about (a reminder of one paid is cancelled)
    instalment: Mapped[int | None]
    # {"subject": ..., "body": ...} sealed like a party's details (the body carries the debtor's
    # link, a capability): opened only for the sender that claims it
    content_sealed: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claims: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
