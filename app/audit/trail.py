"""The append-only audit trail: every event chained to the one before by a keyed hash.

An event's hash is the HMAC-SHA256, under a key derived from the service's secret
(``app.core.crypto.derived_key``, purpose ``repay audit chain v1``), of a canonical JSON form
(sorted keys, no spaces, UTF-8) of its sequence number, time, kind, offer, plan, actor, payload
and the previous event's hash. A row changed afterwards no longer matches its hash, every later
hash depends on it, and the database does not hold the key to make them match again:
:func:`verify` recomputes the chain and names the first broken link.

Events written before the chain was keyed (migration 0010) keep their plain SHA-256 hashes.
The migration appended one keyed event, ``audit_keyed``, whose payload counts them
(``legacy_events``) and names the last one's hash; :func:`verify` checks the events before it
under the plain rule and it and every later event under the keyed one. A chain without it (a
database keyed from its start, or one whose anchor was removed) is keyed throughout, and an
anchor made or changed without the key fails its own keyed hash, so rewritten events cannot
pass for legacy ones.

What a keyed chain cannot show alone is its own end: deleting the last events leaves a chain
that verifies. After each audited commit the service writes a signed checkpoint of the head
(``app.audit.checkpoint``, every ``REPAY_AUDIT_CHECKPOINT_EVERY`` events), and :func:`verify`
compares the chain with the last one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audit import checkpoint as checkpoints
from app.audit.checkpoint import Checkpoint, CheckpointError
from app.audit.models import AuditEvent
from app.core.access import debt_of
from app.core.canonical import canonical
from app.core.crypto import keyed_hash
from app.core.db import utcnow
from app.core.settings import get_settings

GENESIS = "0" * 64
# HKDF info of the chain's key (app.core.crypto.derived_key); migration 0010 spells it too.
PURPOSE = b"repay audit chain v1"
# The event migration 0010 appended to a trail that held events already (see the docstring).
ANCHOR_KIND = "audit_keyed"
# Any constant: appenders on PostgreSQL queue on this transaction-scoped advisory lock, so
# each reads the true last hash. (SQLite transactions are serialised already.)
_CHAIN_LOCK = 7_270_011
# Session.info: the transaction's last event (seq, hash) and whether a checkpoint is due
_APPENDED = "repay.audit.appended"

log = logging.getLogger(__name__)


def _content(event: AuditEvent) -> bytes:
    return canonical(
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


def _digest(event: AuditEvent) -> str:
    """The event's keyed hash: what the database cannot compute."""
    return keyed_hash(PURPOSE, _content(event))


def _legacy_digest(event: AuditEvent) -> str:
    """The event's hash under the rule before migration 0010: plain SHA-256."""
    return hashlib.sha256(_content(event)).hexdigest()


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
    _note_appended(db, event)
    return event


def _note_appended(db: Session, event: AuditEvent) -> None:
    """Remember the transaction's head, and whether a checkpoint of it is due at its commit:
    the chain reached a multiple of ``REPAY_AUDIT_CHECKPOINT_EVERY`` and still holds the last
    checkpoint's head. One that no longer does was truncated: its checkpoint is kept as the
    evidence, and no later one is written over it (verify names the truncation)."""
    settings = get_settings()
    path = settings.audit_checkpoint_path
    if path is None:
        return
    due = db.info.get(_APPENDED, (None, None, False))[2]
    if event.seq % settings.audit_checkpoint_every == 0:
        due = _continues_checkpoint(db, path, event.seq)
    db.info[_APPENDED] = (event.seq, event.hash, due)


def _continues_checkpoint(db: Session, path: Path, seq: int) -> bool:
    try:
        held = checkpoints.read(path)
    except CheckpointError as exc:
        log.error("no audit checkpoint written over %s: %s", path, exc)
        return False
    if held is None or held.events == 0:
        return True
    if held.events >= seq:
        log.error(
            "no audit checkpoint written: %s counts %s events, the chain %s", path, held.events, seq
        )
        return False
    kept = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == held.events))
    if kept != held.hash:
        log.error("no audit checkpoint written: event %s is not the one in %s", held.events, path)
        return False
    return True


@orm_event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(db: Session) -> None:
    appended = db.info.pop(_APPENDED, None)
    path = get_settings().audit_checkpoint_path
    if appended is None or path is None or not appended[2]:
        return
    seq, head, _ = appended
    try:
        checkpoints.write(path, Checkpoint(seq, head, utcnow()))
    except OSError:
        # The events are committed: the request succeeded. The next checkpoint (or
        # `repay audit checkpoint`) covers them; until then verify compares with the last one.
        log.exception("the audit checkpoint %s was not written", path)


@orm_event.listens_for(Session, "after_rollback")
def _forget_appended(db: Session) -> None:
    db.info.pop(_APPENDED, None)


@dataclass(frozen=True, slots=True)
class Verification:
    """The chain's state: how many events were checked and the first broken one, if any;
    whether it is shorter than its last checkpoint.

    ``rewritten_seq`` is an event changed after it was written (its content no longer matches
    its hash, or it does not follow the event before: one before it was changed and the hashes
    recomputed without the key); ``missing_seq`` a number missing inside the chain; ``truncated``
    a chain cut short since ``checkpoint`` (``truncation`` says how).
    """

    ok: bool
    events: int
    first_broken_seq: int | None
    reason: str | None
    rewritten_seq: int | None = None
    missing_seq: int | None = None
    truncated: bool = False
    truncation: str | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_problem: str | None = None
    legacy_events: int = 0


def legacy_events(db: Session) -> int:
    """How many events precede the chain's keying (0 if it was keyed from its start): those
    before the first ``audit_keyed`` event that counts them.

    The anchor is not trusted for itself: it is after the boundary, so :func:`verify` checks it
    under the keyed rule like every later event, and a forged or altered one is named there."""
    anchor = db.scalars(
        select(AuditEvent).where(AuditEvent.kind == ANCHOR_KIND).order_by(AuditEvent.seq).limit(1)
    ).first()
    if anchor is None or anchor.payload.get("legacy_events") != anchor.seq - 1:
        return 0
    return anchor.seq - 1


def _truncation(db: Session, checkpoint: Checkpoint) -> str | None:
    """Why the chain is not the one ``checkpoint`` saw the head of, or ``None``."""
    length = db.scalar(select(func.max(AuditEvent.seq))) or 0
    when = checkpoint.at.isoformat(timespec="seconds")
    if length < checkpoint.events:
        return (
            f"the checkpoint of {when} counted {checkpoint.events} events;"
            f" the chain ends at event {length}"
        )
    if checkpoint.events == 0:
        return None
    head = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == checkpoint.events))
    if head != checkpoint.hash:
        return (
            f"event {checkpoint.events} is not the one checkpointed on {when}: the chain was"
            " cut there and written again"
        )
    return None


def verify(db: Session, *, checkpoint_path: Path | None = None) -> Verification:
    """Recompute every hash in order, stopping at the first event that does not match; then
    compare the chain's length and head with the last checkpoint in ``checkpoint_path``."""
    legacy = legacy_events(db)
    previous = GENESIS
    count = 0
    expected_seq = 1
    broken: tuple[int, str] | None = None
    rewritten = missing = None
    for event in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        count += 1
        if event.seq != expected_seq:
            broken, missing = (event.seq, f"event {expected_seq} is missing"), expected_seq
            break
        if event.prev_hash != previous:
            broken, rewritten = (event.seq, "does not follow the previous event"), event.seq
            break
        digest = _legacy_digest(event) if event.seq <= legacy else _digest(event)
        if digest != event.hash:
            broken, rewritten = (event.seq, "its content does not match its hash"), event.seq
            break
        previous = event.hash
        expected_seq += 1
    checkpoint = problem = truncation = None
    if checkpoint_path is not None:
        try:
            checkpoint = checkpoints.read(checkpoint_path)
        except CheckpointError as exc:
            problem = str(exc)
    if checkpoint is not None:
        truncation = _truncation(db, checkpoint)
    reasons = [broken[1] if broken else None, truncation, problem]
    return Verification(
        ok=not any(reasons),
        events=count,
        first_broken_seq=broken[0] if broken else None,
        reason=next((r for r in reasons if r), None),
        rewritten_seq=rewritten,
        missing_seq=missing,
        truncated=truncation is not None,
        truncation=truncation,
        checkpoint=checkpoint,
        checkpoint_problem=problem,
        legacy_events=legacy,
    )


def head(db: Session) -> Checkpoint:
    """A checkpoint of the chain's head now (its time: now)."""
    last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    if last is None:
        return Checkpoint(0, GENESIS, utcnow())
    return Checkpoint(last.seq, last.hash, utcnow())


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


def as_verification_json(result: Verification) -> dict[str, Any]:
    """A verification as the API shows it (``schemas.sharing.AuditVerification``)."""
    checkpoint = result.checkpoint
    return {
        "ok": result.ok,
        "events": result.events,
        "first_broken_seq": result.first_broken_seq,
        "reason": result.reason,
        "rewritten_seq": result.rewritten_seq,
        "missing_seq": result.missing_seq,
        "truncated": result.truncated,
        "truncation": result.truncation,
        "checkpoint": None
        if checkpoint is None
        else {"events": checkpoint.events, "hash": checkpoint.hash, "at": checkpoint.at},
        "checkpoint_problem": result.checkpoint_problem,
        "legacy_events": result.legacy_events,
    }
