"""Who owns what: organisations, their teams and members, API keys, and the debts they own.

An organisation (a tenant) has teams; a member belongs to one organisation, to at most one of
its teams, and has a role. A key belongs to a member, or, for a service (a payment processor,
a message sender), to the organisation alone. A debt belongs to one organisation, is assigned
to one of its teams and optionally to one member; everything about a debt (offers, plans,
payments, parties, contact attempts, messages, change requests) hangs off it. Who may do what
to a debt is answered in one place, ``app.core.access.can``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONBody, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What a member (and so their keys) may do. Hierarchical: admin ⊇ finance ⊇ supervisor ⊇
    collector, for what an endpoint requires; which debts a role reaches is ``can``'s.

    Examples
    --------
    >>> Role.ADMIN.includes("finance"), Role.COLLECTOR.includes(Role.FINANCE)
    (True, False)
    >>> Role.SUPERVISOR.includes(Role.COLLECTOR), Role.SUPERVISOR.includes(Role.FINANCE)
    (True, False)
    """

    # Declaration order is the hierarchy, lowest first.
    COLLECTOR = "collector"
    SUPERVISOR = "supervisor"
    FINANCE = "finance"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the hierarchy; a higher rank includes every lower one."""
        return list(Role).index(self)

    def includes(self, required: Role | str) -> bool:
        """Whether a key with this role may do what ``required`` may."""
        return self.rank >= Role(required).rank

    @property
    def works_in_a_team(self) -> bool:
        """Collectors and supervisors work a team's debts; finance and admin the organisation's."""
        return self in (Role.COLLECTOR, Role.SUPERVISOR)


def _roles() -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in Role) + ")"


class Organisation(Base):
    """A tenant: its teams, members, keys, policies and debts are its own, and nothing crosses
    to another organisation."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Organisation(id={self.id!r}, name={self.name!r})"


class Team(Base):
    """A team of an organisation: its collectors work the debts assigned to it."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Team(id={self.id!r}, name={self.name!r})"


class Member(Base):
    """A person of an organisation with a role; collectors and supervisors in one team."""

    __tablename__ = "members"
    __table_args__ = (CheckConstraint(_roles(), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Member(id={self.id!r}, role={self.role!r}, team_id={self.team_id!r})"


class ApiKey(Base):
    """An API key. Only the public prefix and an HMAC of the whole key are stored.

    A member's key carries the member's role; a service key (no member) its own, for the
    whole organisation.
    """

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_roles(), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, prefix={self.prefix!r}, role={self.role!r})"


class Debt(Base):
    """A debt of an organisation, by the creditor's reference (unique in the organisation).

    It is assigned to a team, and optionally to one member of it. Its recorded terms
    (``schemas.offers.DebtIn`` as JSON) and jurisdiction are optional: a debt first known by an
    offer or a party has a row before anyone records its terms (``recorded_at`` then None).
    """

    __tablename__ = "debts"
    __table_args__ = (
        UniqueConstraint("organisation_id", "ref"),
        CheckConstraint("jurisdiction IN ('CN', 'US', 'GB')", name="jurisdiction"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    ref: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(2))
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSONBody)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"Debt(id={self.id!r}, ref={self.ref!r}, team_id={self.team_id!r})"
