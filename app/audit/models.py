"""The audit trail's one table: append-only, each row chained to the one before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from app.core.db import Base, JSONBody, UTCDateTime


class AuditEvent(Base):
    """One event of the append-only audit trail, chained to the previous by its hash.

    ``hash`` = HMAC-SHA256, under a key derived from the service's secret, of the canonical
    JSON of (seq, at, kind, offer_id, plan_id, actor, payload, prev_hash); plain SHA-256 for
    events before migration 0010 (``app.audit.trail``). ``prev_hash`` is unique, so the chain
    cannot fork. The database refuses UPDATE and DELETE on the table (triggers, 0010); these
    listeners refuse them in the ORM before the statement is sent.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    offer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    plan_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # whose event it is (outside the hash: the chain is one across organisations)
    organisation_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@event.listens_for(AuditEvent, "before_update")
def _audit_is_append_only(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise TypeError("the audit trail is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _audit_is_never_deleted(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise TypeError("the audit trail is append-only")
