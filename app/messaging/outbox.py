"""The transactional outbox: messages to a debt's parties, stored with what causes them.

Messages are queued by :mod:`app.messaging.notices`, in the transaction of what causes them;
this module stores them (their content sealed, bound to the row) and hands them to senders.

A sender claims due messages (:func:`claim`): the rows are locked with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL (SQLite transactions are serialised by ``BEGIN IMMEDIATE``), given a
lease and a claim token, and only then are their addresses opened. Before that, a message is
re-checked: a party removed, stopped or opted out of the channel, or a reminder of an
instalment already paid, cancels it; outside permitted hours it moves to the next permitted
time. An acknowledgement (:func:`acknowledge`) with the claim's token marks it delivered; one
not acknowledged within the lease is claimed again (at-least-once delivery); a sender may give
one back earlier (:func:`release`). ``repay outbox send`` is such a sender
(``app.messaging.webhook``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import trail
from app.contacts import checks, parties
from app.contacts.models import ContactAttempt
from app.contacts.models import Party as PartyRow
from app.core.crypto import seal, unseal
from app.core.db import utcnow
from app.core.errors import conflict, not_found
from app.core.masking import masked_channels
from app.core.models import Debt
from app.finance.policies import contact_rules
from app.links.models import RUNNING_STATES, AcceptedPlan
from app.links.plans import state_of
from app.messaging.messages import Facts, Kind, Message, as_text, compose
from app.messaging.models import OutboxMessage
from plans.contact import (
    Attempt,
    Channel,
    Party,
    check_contact,
    schedule_message,
)
from plans.contact_rules import Outcome
from plans.payments import InstalmentStatus, PlanState

Json = dict[str, Any]

TABLE = "outbox"
LEASE = timedelta(seconds=60)
SENDER = "outbox"


def content_of(row: OutboxMessage) -> Json:
    found: Json = json.loads(
        unseal(row.content_sealed, table=TABLE, column="content_sealed", row_id=row.id)
    )
    return found


def sealed_content(message_id: str, subject: str | None, body: str) -> str:
    """A message's subject and body sealed for its row."""
    plain = json.dumps({"subject": subject, "body": body}, ensure_ascii=False)
    return seal(plain, table=TABLE, column="content_sealed", row_id=message_id)


@dataclass
class DebtParties:
    """What queueing messages for one debt needs: its parties and every contact so far."""

    debt_id: str
    debt_ref: str
    organisation_id: int
    parties: list[tuple[PartyRow, Party]]
    history: list[Attempt] = field(default_factory=list)


def debts_with_parties(db: Session, debt_ids: Iterable[str]) -> dict[str, DebtParties]:
    """The debts named (by id), each with its parties (oldest first) and every contact so far."""
    wanted = sorted(set(debt_ids))
    found: dict[str, DebtParties] = {}
    # In chunks: a daily job may ask for thousands of debts (bound parameters are limited).
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for debt in db.scalars(select(Debt).where(Debt.id.in_(chunk))):
            found[debt.id] = DebtParties(debt.id, debt.ref, debt.organisation_id, [])
        rows = db.scalars(
            select(PartyRow)
            .where(PartyRow.debt_id.in_(chunk), PartyRow.deleted_at.is_(None))
            .order_by(PartyRow.created_at, PartyRow.id)
        )
        for row in rows:
            found[row.debt_id].parties.append((row, checks.engine_party(row)))
        attempts = db.execute(
            select(
                ContactAttempt.debt_id,
                ContactAttempt.party_id,
                ContactAttempt.channel,
                ContactAttempt.at,
                ContactAttempt.outcome,
            )
            .where(ContactAttempt.debt_id.in_(chunk))
            .order_by(ContactAttempt.at, ContactAttempt.id)
        )
        for debt_id, party_id, channel, at, outcome in attempts:
            found[debt_id].history.append(Attempt(party_id, Channel(channel), at, Outcome(outcome)))
        queued = db.execute(
            select(
                OutboxMessage.debt_id,
                OutboxMessage.party_id,
                OutboxMessage.channel,
                OutboxMessage.send_at,
            ).where(OutboxMessage.debt_id.in_(chunk), OutboxMessage.status != "cancelled")
        )
        # Queued messages count against the caps like attempts made (a message left).
        for debt_id, party_id, channel, at in queued:
            found[debt_id].history.append(
                Attempt(party_id, Channel(channel), at, Outcome.MESSAGE_LEFT)
            )
    return found


def debt_with_parties(db: Session, debt_id: str) -> DebtParties:
    """One debt (by id) with its parties and every contact so far."""
    return debts_with_parties(db, [debt_id])[debt_id]


def record_dropped(
    db: Session,
    debt: DebtParties,
    row: PartyRow,
    channel: Channel,
    *,
    kind: Kind,
    wanted: datetime,
    latest: datetime,
    rule: str | None,
    policy_version: str,
    dedupe_key: str,
    plan_id: str | None,
    instalment: int | None,
) -> None:
    """Audit a message that cannot be sent in time, and the rule that stops it."""
    trail.record(
        db,
        "message_dropped",
        actor=SENDER,
        plan_id=plan_id,
        payload={
            "debt_ref": debt.debt_ref,
            "party_id": row.id,
            "role": row.role,
            "channel": channel.value,
            "kind": kind.value,
            "instalment": instalment,
            "wanted_at": wanted.isoformat(),
            "latest_useful": latest.isoformat(),
            "rule": rule,
            "policy_version": policy_version,
            "dedupe_key": dedupe_key,
        },
    )


def store(
    db: Session,
    debt: DebtParties,
    row: PartyRow,
    channel: Channel,
    message: Message,
    *,
    kind: Kind,
    send_at: datetime,
    dedupe_key: str,
    plan_id: str | None,
    instalment: int | None,
) -> OutboxMessage:
    message_id = uuid.uuid4().hex
    stored = OutboxMessage(
        id=message_id,
        kind=kind.value,
        debt_id=debt.debt_id,
        debt_ref=debt.debt_ref,
        plan_id=plan_id,
        party_id=row.id,
        channel=channel.value,
        locale=row.locale,
        instalment=instalment,
        content_sealed=sealed_content(message_id, message.subject, message.body),
        send_at=send_at,
        status="pending",
        dedupe_key=dedupe_key,
        claims=0,
        created_at=utcnow(),
    )
    db.add(stored)
    debt.history.append(Attempt(row.id, channel, send_at, Outcome.MESSAGE_LEFT))
    return stored


def queue(
    db: Session,
    debt: DebtParties,
    row: PartyRow,
    party: Party,
    channel: Channel,
    *,
    kind: Kind,
    facts: Facts,
    wanted: datetime,
    latest: datetime,
    dedupe_key: str,
    plan_id: str | None,
    instalment: int | None,
) -> OutboxMessage | None:
    """Queue one message in permitted time, or audit why it was dropped."""
    rules = contact_rules(db, row.jurisdiction, row.debt.organisation_id)
    message = compose(kind, party, channel, facts, rules=rules)
    if message is None:
        return None
    send_at = schedule_message(party, channel, wanted, latest, history=debt.history, rules=rules)
    if send_at is None:
        verdict = check_contact(party, channel, wanted, history=debt.history, rules=rules)
        record_dropped(
            db,
            debt,
            row,
            channel,
            kind=kind,
            wanted=wanted,
            latest=latest,
            rule=verdict.rule_id,
            policy_version=rules.policy_version,
            dedupe_key=dedupe_key,
            plan_id=plan_id,
            instalment=instalment,
        )
        return None
    return store(
        db,
        debt,
        row,
        channel,
        message,
        kind=kind,
        send_at=send_at,
        dedupe_key=dedupe_key,
        plan_id=plan_id,
        instalment=instalment,
    )


# ---- senders: claim and acknowledge ------------------------------------------------------


def _due(now: datetime) -> Any:
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.send_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
        )
        .order_by(OutboxMessage.send_at, OutboxMessage.id)
    )


class _Recipients:
    """Parties and plan states looked up once per claim."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.parties: dict[str, tuple[PartyRow, Party, dict[str, str]] | None] = {}
        self.states: dict[str, PlanState] = {}

    def party(self, party_id: str) -> tuple[PartyRow, Party, dict[str, str]] | None:
        if party_id not in self.parties:
            row = self.db.get(PartyRow, party_id)
            self.parties[party_id] = (
                None
                if row is None or row.deleted_at is not None
                else (row, checks.engine_party(row), parties.channels_of(row))
            )
        return self.parties[party_id]

    def state(self, plan_id: str, on: date) -> PlanState | None:
        if plan_id not in self.states:
            plan = self.db.get(AcceptedPlan, plan_id)
            if plan is None:
                return None
            self.states[plan_id] = state_of(self.db, plan, on)[0]
        return self.states[plan_id]


def _why_not(
    message: OutboxMessage, recipients: _Recipients, now: datetime
) -> tuple[str | None, datetime | None]:
    """Why a due message must not go now: (a reason to cancel it, or a time to move it to)."""
    found = recipients.party(message.party_id)
    if found is None:
        return "party_removed", None
    row, party, addresses = found
    channel = Channel(message.channel)
    if party.stopped:
        return "stopped", None
    if channel in party.opted_out:
        return "opted_out", None
    if channel.value not in addresses:
        return "no_address", None
    if message.kind in (Kind.REMINDER, Kind.MISSED) and message.plan_id:
        # a demand for a plan broken, replaced, paid or closed since it was queued never goes
        plan = recipients.db.get(AcceptedPlan, message.plan_id)
        if plan is not None and plan.state not in RUNNING_STATES:
            return f"plan_{plan.state}", None
    if message.kind == Kind.REMINDER and message.plan_id and message.instalment is not None:
        state = recipients.state(message.plan_id, now.date())
        paid = state is not None and any(
            s.number == message.instalment and s.status is InstalmentStatus.PAID
            for s in state.instalments
        )
        if paid:
            return "paid", None
    # Hours and no-contact days only: the caps were applied when it was queued.
    verdict = check_contact(
        party,
        channel,
        now,
        rules=contact_rules(recipients.db, row.jurisdiction, row.debt.organisation_id),
    )
    if verdict.allowed:
        return None, None
    if verdict.next_permitted is None:
        return verdict.rule_id or "not_permitted", None
    return None, verdict.next_permitted


def claim(
    db: Session,
    *,
    limit: int = 100,
    lease: timedelta = LEASE,
    actor: str = SENDER,
    now: datetime | None = None,
    organisation_id: int | None = None,
) -> list[Json]:
    """Claim up to ``limit`` due messages for a sender, each with its address in clear: of one
    organisation's debts (a sender with an organisation's key), or of all (the service's own
    sender, ``repay outbox send``).

    Locked rows (another sender claiming) are skipped, not waited for. Audited as
    ``messages_claimed`` with the ids only.
    """
    now = now or utcnow()
    due = _due(now)
    if organisation_id is not None:
        due = due.where(
            OutboxMessage.debt_id.in_(
                select(Debt.id).where(Debt.organisation_id == organisation_id)
            )
        )
    rows = list(db.scalars(due.limit(limit).with_for_update(skip_locked=True)))
    if not rows:
        return []
    token = uuid.uuid4().hex
    until = now + lease
    recipients = _Recipients(db)
    claimed: list[Json] = []
    for message in rows:
        cancel, later = _why_not(message, recipients, now)
        if cancel is not None or later is not None:
            # an earlier claim whose lease ran out can no longer be acknowledged
            message.claimed_until = message.claim_token = None
        if cancel is not None:
            message.status, message.cancelled_reason = "cancelled", cancel
            continue
        if later is not None:
            message.send_at = later
            continue
        message.claimed_until, message.claim_token = until, token
        message.claims += 1
        found = recipients.party(message.party_id)
        assert found is not None
        row, _, addresses = found
        content = content_of(message)
        claimed.append(
            {
                "id": message.id,
                "kind": message.kind,
                "debt_ref": message.debt_ref,
                "plan_id": message.plan_id,
                "party_id": message.party_id,
                "role": row.role,
                "channel": message.channel,
                "to": addresses[message.channel],
                "locale": message.locale,
                "subject": content["subject"],
                "body": content["body"],
                "send_at": message.send_at,
                "claimed_until": until,
                "claim_token": token,
                "claims": message.claims,
            }
        )
    db.flush()
    cancelled = sorted(m.id for m in rows if m.status == "cancelled")
    if claimed or cancelled:
        trail.record(
            db,
            "messages_claimed",
            actor=actor,
            payload={
                "ids": [m["id"] for m in claimed],
                "cancelled": cancelled,
                "claimed_until": until.isoformat(),
            },
            organisation_id=organisation_id,
        )
    return claimed


def _ack_json(message: OutboxMessage) -> Json:
    return {"id": message.id, "status": message.status, "delivered_at": message.delivered_at}


def acknowledge(
    db: Session, message_id: str, claim_token: str, *, organisation_id: int | None = None
) -> Json:
    """Mark a claimed message delivered; again with the same token answers the same. Of one
    organisation's messages only, if ``organisation_id`` is given (another's is a 404)."""
    message = db.get(OutboxMessage, message_id, with_for_update=True)
    if message is not None and organisation_id is not None:
        owner = db.scalar(select(Debt.organisation_id).where(Debt.id == message.debt_id))
        message = message if owner == organisation_id else None
    if message is None:
        raise not_found(f"There is no message {message_id}.")
    if message.claim_token is None or message.claim_token != claim_token:
        raise conflict(
            "This claim token is not the message's current claim: its lease ran out and"
            " another sender claimed it (or it was never claimed with this token).",
            "claim-lost",
        )
    if message.status == "pending":
        message.status, message.delivered_at = "delivered", utcnow()
        db.flush()
    return _ack_json(message)


def release(
    db: Session, message_id: str, claim_token: str, *, until: datetime | None = None
) -> bool:
    """Give a claimed message back before its lease ends, due again now or at ``until``.

    For a sender that will not send it in time (its lease nearly over, a stop asked for, the
    receiver asking to wait or refusing it): another claim need not wait for the lease. A later
    acknowledgement with the token is refused. False (and nothing changed) if the token is no
    longer the message's claim.
    """
    message = db.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status != "pending" or message.claim_token != claim_token:
        return False
    message.claimed_until = message.claim_token = None
    if until is not None and until > message.send_at:
        message.send_at = until
    db.flush()
    return True


def preview(db: Session, *, limit: int = 100, now: datetime | None = None) -> Iterable[Json]:
    """What a claim now would hand out, addresses masked; claims and changes nothing."""
    now = now or utcnow()
    recipients = _Recipients(db)
    for message in db.scalars(_due(now).limit(limit)):
        found = recipients.party(message.party_id)
        to = None
        if found is not None and message.channel in found[2]:
            to = masked_channels({message.channel: found[2][message.channel]})[message.channel]
        content = content_of(message)
        yield {
            "id": message.id,
            "kind": message.kind,
            "debt_ref": message.debt_ref,
            "channel": message.channel,
            "to": to,
            "send_at": message.send_at,
            "text": as_text_of(content),
        }


def as_text_of(content: Json) -> str:
    """A stored message's content as one text (subject line first, for email)."""
    return as_text(Message(content["subject"], content["body"]))
