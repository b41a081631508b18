"""Offers shared with debtors, the plans they accepted and the payments against them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, JSONBody, UTCDateTime, utcnow
from app.core.models import Debt


class SavedOffer(Base):
    """An offer saved for a debt and shared through a link.

    ``document`` is the offer exactly as computed and shown (the API's offer JSON): what the
    debtor sees and accepts never changes after saving. The link's token is stored only as its
    SHA-256 (a 192-bit random token needs no slow hash).
    """

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key"),
        CheckConstraint(
            "status IN ('offered', 'accepted', 'revoked', 'superseded')", name="status"
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    debt_id: Mapped[str] = mapped_column(ForeignKey("debts.id"), index=True)
    debt: Mapped[Debt] = relationship()
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    policy_version: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    # the summary sentence in every page language (the document carries the requested one)
    summaries: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    debtor_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the token sealed with the service's secret key: only to show the link again to the
    # collector who made it (an idempotent retry); never used to find the offer
    token_sealed: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="offered")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AcceptedPlan(Base):
    """An accepted offer. ``offer_id`` is unique: an offer can be accepted exactly once."""

    __tablename__ = "accepted_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), unique=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    offer: Mapped[SavedOffer] = relationship()


class PlanPayment(Base):
    """Money received against a plan; (plan, idempotency key) is unique: stored exactly once."""

    __tablename__ = "plan_payments"
    __table_args__ = (UniqueConstraint("plan_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("accepted_plans.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
