"""The append-only audit trail: every event chained to the one before by its hash.

An event's hash is the SHA-256 of a canonical JSON form (sorted keys, no spaces, UTF-8) of its
sequence number, time, kind, offer, plan, actor, payload and the previous event's hash. A row
changed afterwards no longer matches its hash, and every later hash depends on it:
:func:`verify` recomputes the chain and names the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.access import debt_of
from app.core.canonical import canonical
from app.core.db import utcnow

GENESIS = "0" * 64
# Any constant: appenders on PostgreSQL queue on this transaction-scoped advisory lock, so
# each reads the true last hash. (SQLite transactions are serialised already.)
_CHAIN_LOCK = 7_270_011


def _digest(event: AuditEvent) -> str:
    return hashlib.sha256(
        canonical(
            {
                "seq": event.seq,
                "at": event.at.isoformat(timespec="microseconds"),
                "kind": event.kind,
                "offer_id": event.offer_id,
                "plan_id": event.plan_id,
                "actor": event.actor,
                "payload": event.payload,
                "prev_hash": event.prev_hash,
            }
        )
    ).hexdigest()


def record(
    db: Session,
    kind: str,
    *,
    actor: str,
    offer_id: str | None = None,
    plan_id: str | None = None,
    payload: dict[str, Any] | None = None,
    organisation_id: int | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction: it exists if and only if what it records
    was committed.

    The event is the organisation's whose debt its offer or plan is (``organisation_id`` when
    it has neither: a party, a policy, a key); the organisation is kept beside the chain, not
    in its hash, so finance reads its own organisation's events only."""
    if organisation_id is None and (plan_id or offer_id):
        debt = debt_of(db, "plan", plan_id) if plan_id else debt_of(db, "offer", offer_id or "")
        organisation_id = None if debt is None else debt.organisation_id
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _CHAIN_LOCK})
    last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    event = AuditEvent(
        seq=1 if last is None else last.seq + 1,
        at=utcnow(),
        kind=kind,
        offer_id=offer_id,
        plan_id=plan_id,
        organisation_id=organisation_id,
        actor=actor,
        payload=json.loads(canonical(payload or {})),  # JSON types only: it must round-trip
        prev_hash=GENESIS if last is None else last.hash,
    )
    event.hash = _digest(event)
    db.add(event)
    db.flush()
    return event


@dataclass(frozen=True, slots=True)
class Verification:
    """The chain's state: how many events were checked and the first broken one, if any."""

    ok: bool
    events: int
    first_broken_seq: int | None
    reason: str | None


def verify(db: Session) -> Verification:
    """Recompute every hash in order; stop at the first event that does not match."""
    previous = GENESIS
    count = 0
    expected_seq = 1
    for event in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        count += 1
        if event.seq != expected_seq:
            return Verification(False, count, event.seq, f"event {expected_seq} is missing")
        if event.prev_hash != previous:
            return Verification(False, count, event.seq, "does not follow the previous event")
        if _digest(event) != event.hash:
            return Verification(False, count, event.seq, "its content does not match its hash")
        previous = event.hash
        expected_seq += 1
    return Verification(True, count, None, None)


def as_json(event: AuditEvent) -> dict[str, Any]:
    """An event as the API shows it."""
    return {
        "seq": event.seq,
        "at": event.at,
        "kind": event.kind,
        "offer_id": event.offer_id,
        "plan_id": event.plan_id,
        "actor": event.actor,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
