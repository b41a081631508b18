"""The finance team's policies: a name and its immutable, numbered versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from app.core.db import Base, JSONBody, UTCDateTime, utcnow


class Policy(Base):
    """A named negotiation policy; its content lives in immutable :class:`PolicyVersion` rows."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Policy(id={self.id!r}, name={self.name!r})"


class PolicyVersion(Base):
    """One immutable version of a policy. ``body`` is opaque here; the API layer defines it."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    version: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))

    policy: Mapped[Policy] = relationship()

    def __repr__(self) -> str:
        return f"PolicyVersion(policy_id={self.policy_id!r}, version={self.version!r})"


@event.listens_for(PolicyVersion, "before_update")
def _versions_are_immutable(_mapper: Mapper[Any], _connection: Any, target: PolicyVersion) -> None:
    # An offer cites (policy, version); changing a version would rewrite offers already made.
    raise TypeError(f"{target!r} is immutable: add a new version instead")
