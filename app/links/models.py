"""Offers shared with debtors, the plans they accepted and the payments against them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, JSONBody, UTCDateTime, utcnow
from app.core.models import Debt


class OfferGroup(Base):
    """Several debts' offers saved as one consolidated offer (``plans.consolidation``).

    Each debt keeps its own :class:`SavedOffer` (its own single-debt document, accepted as its
    own plan, with its own link: the one its parties' messages carry, which shows that debt
    alone). The group holds the combined document the debtor sees and accepts through the
    group's link (its token stored as a :class:`SavedOffer`'s is), and ``debt_order``: the
    debts' references in the order its ``allocation_rule`` pays them, by which every payment
    received is shared between the debts' plans. Its lead offer (position 0) stands for the
    group wherever one offer is needed (its debt, its state, who may see it).
    """

    __tablename__ = "offer_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[str] = mapped_column(String(200))
    allocation_rule: Mapped[str] = mapped_column(String(20))
    debt_order: Mapped[list[str]] = mapped_column(JSONBody)
    document: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    summaries: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    # the income and expenditure statement the offer was negotiated from, and what it leaves
    # (schemas.sharing.StatementOut); None for one made from a payment alone or a plan
    statement: Mapped[dict[str, Any] | None] = mapped_column(JSONBody)
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
    # the debt's open plan when this offer was saved: accepting it replaces that plan
    replaces_plan_id: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # one debt's part of a consolidated offer: its group, and its place in the request (0: the
    # lead, whose link is the group's)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("offer_groups.id"), index=True)
    group_position: Mapped[int | None]
    group: Mapped[OfferGroup | None] = relationship()


# plans.lifecycle.OPEN: a debt has at most one plan in these states (a partial unique index)
RUNNING_STATES = ("active", "late", "missed", "cured")
OPEN_STATES = (*RUNNING_STATES, "broken")
PLAN_STATES = (*OPEN_STATES, "completed", "replaced", "cancelled", "written_off")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AcceptedPlan(Base):
    """An accepted offer. ``offer_id`` is unique: an offer can be accepted exactly once.

    ``state`` is the plan's recorded state (``plans.lifecycle``), ``state_since`` the day it
    took it and ``reviewed_through`` the last day its life has been recorded through: every
    transition up to then is a row of :class:`PlanTransition`. A plan that replaced another
    names it (``replaces_id``), and the replaced one its successor (``replaced_by_id``).
    """

    __tablename__ = "accepted_plans"
    __table_args__ = (
        CheckConstraint(_one_of("state", PLAN_STATES), name="state"),
        Index(
            "uq_accepted_plans_open_debt",
            "debt_id",
            unique=True,
            sqlite_where=text(_one_of("state", OPEN_STATES)),
            postgresql_where=text(_one_of("state", OPEN_STATES)),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), unique=True)
    debt_id: Mapped[str] = mapped_column(ForeignKey("debts.id"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="active")
    state_since: Mapped[date] = mapped_column(Date)
    reviewed_through: Mapped[date] = mapped_column(Date)
    replaces_id: Mapped[str | None] = mapped_column(String(32))
    replaced_by_id: Mapped[str | None] = mapped_column(String(32))

    offer: Mapped[SavedOffer] = relationship()


class PlanTransition(Base):
    """One move of a plan's recorded life, in order (``seq`` from 1): never changed after.

    ``cause`` is a date passing, a payment (``payment_id``) or a decision (``decided_by``, the
    key that took it, or none for the debtor accepting a new plan).
    """

    __tablename__ = "plan_transitions"
    __table_args__ = (
        UniqueConstraint("plan_id", "seq"),
        CheckConstraint("cause IN ('date', 'payment', 'decision')", name="cause"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("accepted_plans.id"), index=True)
    seq: Mapped[int]
    on: Mapped[date] = mapped_column(Date)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(500))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("plan_payments.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupPayment(Base):
    """Money received against a consolidated plan, once per (group, Idempotency-Key): shared
    between the debts' plans when it is recorded, each part a :class:`PlanPayment` of its
    plan; ``refunded_minor`` is what no debt took (handed back by the plan it was left on)."""

    __tablename__ = "group_payments"
    __table_args__ = (UniqueConstraint("group_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("offer_groups.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    refunded_minor: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanPayment(Base):
    """Money received against a plan; (plan, idempotency key) is unique: stored exactly once."""

    __tablename__ = "plan_payments"
    __table_args__ = (UniqueConstraint("plan_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("accepted_plans.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    # the day the plan's life counts it from (plans.lifecycle.KnownPayment): the day it was
    # recorded, never before it was paid nor before the plan's life was recorded through
    known_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # this plan's part of a payment received against its consolidated plan
    group_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_payments.id"), index=True
    )
