"""What someone with write access to the database, but not the service's secret, can do to
the audit trail: set the triggers aside, delete events, rewrite one and recompute every hash
after it under the only rule they can compute (plain SHA-256), and put the triggers back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, delete, select, text, update

from app.audit.models import AuditEvent
from app.core.canonical import canonical
from app.core.db import get_engine

EVENTS = AuditEvent.__table__


@contextmanager
def behind_the_triggers() -> Iterator[Connection]:
    """A connection of the tables' owner, the triggers refusing UPDATE and DELETE set aside
    and put back afterwards, as an attacker who covers their tracks would."""
    with get_engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            yield connection
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
            return
        triggers = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'trigger' AND tbl_name = 'audit_events'"
            )
        ).all()
        assert triggers, "the migration made no trigger to set aside"
        for name, _ in triggers:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        yield connection
        for _, sql in triggers:
            connection.execute(text(sql))


def plain_hash(row: Any) -> str:
    """An event's hash as anyone can compute it: SHA-256 of the canonical JSON of its content
    (the rule before migration 0010)."""
    content = {
        "seq": row.seq,
        "at": row.at.isoformat(timespec="microseconds"),
        "kind": row.kind,
        "offer_id": row.offer_id,
        "plan_id": row.plan_id,
        "actor": row.actor,
        "payload": row.payload,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(canonical(content)).hexdigest()


def truncate(connection: Connection, *, after: int) -> None:
    """Delete every event after ``after``."""
    connection.execute(delete(EVENTS).where(EVENTS.c.seq > after))


def rewrite(connection: Connection, seq: int, payload: dict[str, Any]) -> None:
    """Give event ``seq`` another payload and recompute its hash and every later one (and
    their ``prev_hash``) in plain SHA-256, so the chain links up again."""
    rows = connection.execute(select(EVENTS).where(EVENTS.c.seq >= seq).order_by(EVENTS.c.seq))
    previous: str | None = None
    for row in rows.all():
        changed = SimpleNamespace(
            **{
                **row._asdict(),
                "payload": payload if row.seq == seq else row.payload,
                "prev_hash": row.prev_hash if previous is None else previous,
            }
        )
        previous = plain_hash(changed)
        connection.execute(
            update(EVENTS)
            .where(EVENTS.c.seq == row.seq)
            .values(payload=changed.payload, prev_hash=changed.prev_hash, hash=previous)
        )
