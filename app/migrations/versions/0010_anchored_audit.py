"""The audit trail anchored: the database refuses to change it, and its hashes become keyed.

- Triggers refuse ``UPDATE`` and ``DELETE`` on ``audit_events`` (PostgreSQL: a trigger function,
  and ``TRUNCATE`` too; SQLite: one trigger each, which also turns off SQLite's truncate
  optimisation of an unqualified ``DELETE``). Whoever owns the tables can still drop them: the
  keyed hashes and the checkpoint (``app.audit.checkpoint``) are what show it afterwards.
- From here on each event's hash is an HMAC-SHA256 under a key derived from the service's
  secret (``REPAY_SECRET_KEY``; ``app.audit.trail``). The events already written keep their
  plain SHA-256 hashes: rewriting them here would bless whatever they say now. Instead, if the
  trail holds events, one keyed event is appended, ``audit_keyed``, whose payload counts them
  (``legacy_events``) and names the last one's hash (``legacy_head``); verification checks the
  events before it under the plain rule and every later one under the keyed rule. Run this
  migration with the service's own secret key, or the anchor (and so the whole trail before
  it) will not verify.

Downgrading drops the triggers and the anchor event; where keyed events follow it, it chains
them again under the plain rule (the only one the code before 0010 knows), the anchor kept as
an ordinary event: a downgrade is an administrator's act, and the keyed protection cannot
survive it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.core.canonical import canonical
from app.core.crypto import keyed_hash
from app.core.db import JSONBody, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# As app.audit.trail has them at this revision (a migration keeps the rule of its day).
PURPOSE = b"repay audit chain v1"
ANCHOR_KIND = "audit_keyed"
ANCHOR_ACTOR = "system:migration 0010"
REFUSAL = "the audit trail is append-only"

events = sa.table(
    "audit_events",
    sa.column("seq", sa.Integer),
    sa.column("at", UTCDateTime),
    sa.column("kind", sa.String),
    sa.column("offer_id", sa.String),
    sa.column("plan_id", sa.String),
    sa.column("organisation_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("payload", JSONBody),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}: % refused on %', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE"
            " ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE"
            " ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{operation.lower()} BEFORE {operation}"
            f" ON audit_events BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {operation} refused');"
            " END"
        )


def _drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_or_delete ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def _anchor(connection: sa.engine.Connection) -> None:
    """Append the ``audit_keyed`` event after the events hashed under the plain rule."""
    last = connection.execute(
        sa.select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    ).first()
    if last is None:
        return  # keyed from its first event
    at = datetime.now(UTC)
    row = {
        "seq": last.seq + 1,
        "at": at,
        "kind": ANCHOR_KIND,
        "offer_id": None,
        "plan_id": None,
        "actor": ANCHOR_ACTOR,
        "payload": {"legacy_events": last.seq, "legacy_head": last.hash},
        "prev_hash": last.hash,
    }
    content = {**row, "at": at.isoformat(timespec="microseconds")}
    connection.execute(
        events.insert().values(
            **row, organisation_id=None, hash=keyed_hash(PURPOSE, canonical(content))
        )
    )


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # no appender of the old code slips an event in between the last read and the anchor
        op.execute("LOCK TABLE audit_events IN EXCLUSIVE MODE")
    _anchor(connection)
    _create_triggers(dialect)


def downgrade() -> None:
    connection = op.get_bind()
    anchor = connection.scalar(
        sa.select(sa.func.min(events.c.seq)).where(events.c.kind == ANCHOR_KIND)
    )
    _drop_triggers(connection.dialect.name)
    last = connection.scalar(sa.select(sa.func.max(events.c.seq)))
    if anchor is not None and anchor == last:
        # nothing keyed after it: the trail is as it was before this revision
        connection.execute(events.delete().where(events.c.seq == anchor))
        return
    # Keyed events follow (or the trail was keyed from its first event): the code before this
    # revision knows only the plain rule, so they are chained again under it, the anchor kept
    # as an ordinary event. A downgrade is an administrator's act; the chain's keyed
    # protection (and any checkpoint of it) does not survive it, and cannot.
    start = 1 if anchor is None else anchor
    previous = connection.scalar(sa.select(events.c.hash).where(events.c.seq == start - 1))
    rows = connection.execute(
        sa.select(events).where(events.c.seq >= start).order_by(events.c.seq)
    ).all()
    for row in rows:
        prev_hash = previous if previous is not None else "0" * 64
        content = {
            "seq": row.seq,
            "at": row.at.isoformat(timespec="microseconds"),
            "kind": row.kind,
            "offer_id": row.offer_id,
            "plan_id": row.plan_id,
            "actor": row.actor,
            "payload": row.payload,
            "prev_hash": prev_hash,
        }
        digest = hashlib.sha256(canonical(content)).hexdigest()
        connection.execute(
            events.update().where(events.c.seq == row.seq).values(prev_hash=prev_hash, hash=digest)
        )
        previous = digest
