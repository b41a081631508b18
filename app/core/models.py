"""The service's own tables: API keys and the roles they carry."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What an API key may do. Hierarchical: admin ⊇ finance ⊇ collector.

    Examples
    --------
    >>> Role.ADMIN.includes("finance"), Role.COLLECTOR.includes(Role.FINANCE)
    (True, False)
    """

    # Declaration order is the hierarchy, lowest first.
    COLLECTOR = "collector"
    FINANCE = "finance"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the hierarchy; a higher rank includes every lower one."""
        return list(Role).index(self)

    def includes(self, required: Role | str) -> bool:
        """Whether a key with this role may do what ``required`` may."""
        return self.rank >= Role(required).rank


class ApiKey(Base):
    """An API key. Only the public prefix and an HMAC of the whole key are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in Role) + ")", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, prefix={self.prefix!r}, role={self.role!r})"
