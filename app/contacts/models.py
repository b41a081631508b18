"""A debt's parties and the attempts to contact them (the debt itself: ``app.core.models.Debt``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, JSONBody, UTCDateTime, utcnow
from app.core.models import Debt


class Party(Base):
    """Someone linked to a debt who might be contacted (``plans.contact.Party``).

    The name and the contact details are personal data: stored only sealed with the service's
    secret key (``app.core.crypto``, bound to this table, column and row). ``channels_sealed`` holds
    the JSON ``{"phone": ..., "email": ..., "sms": ...}`` of the channels given. Opt-outs keep
    the time each channel was opted out of; ``stopped_at`` a request not to be contacted at all.
    A deleted party keeps its row (``deleted_at``): the debt's attempts still count against
    the caps.
    """

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint("role IN ('debtor', 'co_debtor', 'guarantor', 'third_party')", name="role"),
        CheckConstraint("jurisdiction IN ('CN', 'US', 'GB')", name="jurisdiction"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    debt_id: Mapped[str] = mapped_column(ForeignKey("debts.id"), index=True)
    debt: Mapped[Debt] = relationship()
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name_sealed: Mapped[str] = mapped_column(String(1000))
    channels_sealed: Mapped[str] = mapped_column(String(2000))
    locale: Mapped[str] = mapped_column(String(8))
    time_zone: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    guaranteed_minor: Mapped[int | None] = mapped_column(BigInteger)
    guaranteed_currency: Mapped[str | None] = mapped_column(String(3))
    # {channel: ISO time it was opted out of}
    opted_out: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactAttempt(Base):
    """One attempt to reach a party of a debt, recorded only if the contact rules allowed it."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        CheckConstraint("channel IN ('phone', 'email', 'sms')", name="channel"),
        CheckConstraint(
            "outcome IN ('no_answer', 'connected', 'message_left', 'wrong_party', 'refused')",
            name="outcome",
        ),
        CheckConstraint("purpose IN ('collection', 'call_back')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_id: Mapped[str] = mapped_column(ForeignKey("debts.id"), index=True)
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    # the version of the contact rules the attempt was checked against
    rules_version: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
