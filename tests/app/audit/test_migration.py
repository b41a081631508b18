"""Migration 0010 (``app/migrations/versions/0010_anchored_audit.py``) on SQLite and
PostgreSQL: events written under the plain rule before it still verify after it, behind an
``audit_keyed`` anchor; what comes after is keyed; a rewrite of the old events is still named;
downgrading leaves the trail as it was, or chains keyed events again under the plain rule."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select

from app.audit import trail
from app.core.canonical import canonical
from app.core.db import get_engine, get_sessionmaker
from app.core.migrate import alembic_config, upgrade
from tests.app.audit.attacker import EVENTS, behind_the_triggers, plain_hash, rewrite

OLD_EVENTS = 3


def write_before_0010(url: str) -> list[str]:
    """The database at 0009 with three events hashed as 0009's code did (plain SHA-256)."""
    command.upgrade(alembic_config(url), "0009")
    hashes = []
    previous = "0" * 64
    with get_engine().begin() as connection:
        for seq in range(1, OLD_EVENTS + 1):
            at = datetime(2026, 11, 25, 9, seq, tzinfo=UTC)
            row = {
                "seq": seq,
                "at": at,
                "kind": "offer_saved",
                "offer_id": None,
                "plan_id": None,
                "actor": "collector:1",
                "payload": {"n": seq},
                "prev_hash": previous,
            }
            previous = hashlib.sha256(
                canonical({**row, "at": at.isoformat(timespec="microseconds")})
            ).hexdigest()
            connection.execute(insert(EVENTS).values(**row, organisation_id=None, hash=previous))
            hashes.append(previous)
    return hashes


def kinds() -> list[str]:
    with get_engine().connect() as connection:
        return list(connection.scalars(select(EVENTS.c.kind).order_by(EVENTS.c.seq)))


def test_events_before_0010_still_verify_and_later_ones_are_keyed(app_database_url: str) -> None:
    hashes = write_before_0010(app_database_url)
    upgrade(app_database_url)
    with get_engine().connect() as connection:
        anchor = connection.execute(select(EVENTS).where(EVENTS.c.seq == OLD_EVENTS + 1)).one()
    assert (anchor.kind, anchor.prev_hash) == ("audit_keyed", hashes[-1])
    assert anchor.payload == {"legacy_events": OLD_EVENTS, "legacy_head": hashes[-1]}
    with get_sessionmaker().begin() as session:
        assert trail.verify(session) == trail.Verification(True, 4, None, None, legacy_events=3)
        trail.record(session, "offer_saved", actor="collector:1", payload={"n": 5})
    with get_sessionmaker()() as session:
        assert trail.verify(session) == trail.Verification(True, 5, None, None, legacy_events=3)
    # An old event rewritten and the plain hashes recomputed to the end: the anchor's keyed
    # hash no longer holds; recomputed only up to the anchor, it no longer follows.
    with behind_the_triggers() as connection:
        rewrite(connection, 2, {"n": 20})
    with get_sessionmaker()() as session:
        result = trail.verify(session)
    assert (result.ok, result.rewritten_seq, result.legacy_events) == (False, 4, 3)
    assert result.reason == "its content does not match its hash"
    with behind_the_triggers() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq > OLD_EVENTS))
        upgrade_anchor = anchor._asdict()
        connection.execute(insert(EVENTS).values(**upgrade_anchor))
    with get_sessionmaker()() as session:
        result = trail.verify(session)
    assert (result.ok, result.rewritten_seq) == (False, 4)
    assert result.reason == "does not follow the previous event"


def test_an_anchor_removed_leaves_every_event_to_the_keyed_rule(app_database_url: str) -> None:
    write_before_0010(app_database_url)
    upgrade(app_database_url)
    with behind_the_triggers() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.kind == "audit_keyed"))
    with get_sessionmaker()() as session:
        result = trail.verify(session)
    # without a valid anchor, the old events cannot pass for legacy ones
    assert (result.ok, result.rewritten_seq, result.legacy_events) == (False, 1, 0)


def test_down_and_up_again_over_old_events(app_database_url: str) -> None:
    write_before_0010(app_database_url)
    upgrade(app_database_url)
    command.downgrade(alembic_config(app_database_url), "0009")
    assert kinds() == ["offer_saved"] * OLD_EVENTS  # the anchor gone, and with it the triggers
    with get_engine().begin() as connection:
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 1).values(actor="collector:1"))
    upgrade(app_database_url)
    assert kinds() == ["offer_saved"] * OLD_EVENTS + ["audit_keyed"]
    with get_sessionmaker().begin() as session:
        assert trail.verify(session).ok
        trail.record(session, "offer_saved", actor="collector:1")
    # Down again with a keyed event after the anchor: the code before 0010 knows only the plain
    # rule, so the anchor (kept as an ordinary event) and what follows are chained again under it.
    command.downgrade(alembic_config(app_database_url), "0009")
    assert kinds() == ["offer_saved"] * OLD_EVENTS + ["audit_keyed", "offer_saved"]
    assert plain_chain_holds()


def plain_chain_holds() -> bool:
    """The trail verifies under the rule before 0010: each event's plain hash
    (:func:`tests.app.audit.attacker.plain_hash`), each naming the hash of the one before."""
    previous = "0" * 64
    with get_engine().connect() as connection:
        for row in connection.execute(select(EVENTS).order_by(EVENTS.c.seq)):
            if row.prev_hash != previous or plain_hash(row) != row.hash:
                return False
            previous = row.hash
    return True
