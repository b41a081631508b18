"""The debtors' requests for a change to their plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONBody, UTCDateTime, utcnow


class ChangeRequest(Base):
    """A plan the debtor asked for through their link, as the engine computed it.

    ``document`` is the requested offer as the wire JSON (``schemas.wire.offer_json``), recomputed
    by the service from the debtor's proposal (never taken from the form); ``proposal`` what
    they typed, as decimal strings. (offer, request hash) is unique, and the hash covers the day:
    the same choice submitted twice that day is one request. A collector's decision closes it.
    """

    __tablename__ = "change_requests"
    __table_args__ = (
        UniqueConstraint("offer_id", "request_hash"),
        CheckConstraint("status IN ('open', 'offered', 'declined')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("accepted_plans.id"))
    debt_id: Mapped[str] = mapped_column(ForeignKey("debts.id"), index=True)
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    choice: Mapped[str] = mapped_column(String(20))
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    owed: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    document: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    # the plan's summary sentence in every page language (the document carries the asker's)
    summaries: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    decision_offer_id: Mapped[str | None] = mapped_column(ForeignKey("offers.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
