"""The transactional outbox: messages to a debt's parties, queued with what causes them.

* An accepted plan queues its reminders (:func:`plan_accepted`): for each party of the debt
  that may hear of it (debtor, co-debtor; a guarantor its guaranteed amount and the due date;
  never a third party), on each of their email and SMS channels not opted out of (nobody who
  asked to be left alone), the policy's ``reminder_days_before`` (3 days before and on the
  day) each payment date at 10:00 in the party's zone, moved into permitted time by
  ``plans.contact.schedule_message``. One that cannot be sent by the end of the payment date's
  permitted hours is not queued: a ``message_dropped`` audit event says why. A reminder whose
  wanted time is already past when the plan is accepted is skipped.
* A payment recorded (:func:`payment_recorded`) queues a confirmation to the debtor: the amount,
  what it paid, the new balance and the next due date, now or at the next permitted time.
* A missed instalment queues a notice to the obligors with the link to their plan
  (:func:`missed_notices`, run by ``repay outbox schedule``, e.g. from cron once a day); each
  instalment's notice is queued once.

A sender claims due messages (:func:`claim`): the rows are locked with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL (SQLite transactions are serialised by ``BEGIN IMMEDIATE``), given a
lease and a claim token, and only then are their addresses opened. Before that, a message is
re-checked: a party removed, stopped or opted out of the channel, or a reminder of an
instalment already paid, cancels it; outside permitted hours it moves to the next permitted
time. An acknowledgement (:func:`acknowledge`) with the claim's token marks it delivered; one
not acknowledged within the lease is claimed again (at-least-once delivery); a sender may give
one back earlier (:func:`release`). ``repay outbox send`` is such a sender (``app.webhook``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit, contacts
from app.crypto import seal, unseal
from app.db import AcceptedPlan, OutboxMessage, PlanPayment, utcnow
from app.db import Party as PartyRow
from app.errors import conflict, not_found
from app.messages import Facts, Kind, Message, as_text, compose
from app.sharing import _unseal, link, resolve_version, scheduled_lines, state_of
from plans.contact import (
    Attempt,
    Channel,
    Party,
    Role,
    check_contact,
    jurisdiction,
    schedule_message,
)
from plans.contact_rules import Jurisdiction, Outcome
from plans.payments import InstalmentStatus, PaymentResult, PlanState
from schemas.common import Locale

Json = dict[str, Any]

TABLE = "outbox"
LEASE = timedelta(seconds=60)
REMINDER_AT = time(10, 0)  # wanted local time of a reminder, before moving into permitted hours
# A call is placed by a person; the outbox sends what a machine sends.
MESSAGE_CHANNELS = (Channel.EMAIL, Channel.SMS)
# How long a confirmation or a missed notice stays worth sending.
USEFUL_FOR = timedelta(days=7)
SENDER = "outbox"


def _content(row: OutboxMessage) -> Json:
    found: Json = json.loads(
        unseal(row.content_sealed, table=TABLE, column="content_sealed", row_id=row.id)
    )
    return found


def sealed_content(message_id: str, subject: str | None, body: str) -> str:
    """A message's subject and body sealed for its row."""
    plain = json.dumps({"subject": subject, "body": body}, ensure_ascii=False)
    return seal(plain, table=TABLE, column="content_sealed", row_id=message_id)


@dataclass
class _Debt:
    """What queueing messages for one debt needs: its parties and every contact so far."""

    debt_ref: str
    parties: list[tuple[PartyRow, Party]]
    history: list[Attempt] = field(default_factory=list)


def _debt(db: Session, debt_ref: str) -> _Debt:
    rows = contacts._listed(db, debt_ref)
    queued = db.execute(
        select(OutboxMessage.party_id, OutboxMessage.channel, OutboxMessage.send_at).where(
            OutboxMessage.debt_ref == debt_ref, OutboxMessage.status != "cancelled"
        )
    )
    # Queued messages count against the caps like attempts made (a message left).
    history = contacts.history(db, debt_ref) + [
        Attempt(p, Channel(c), at, Outcome.MESSAGE_LEFT) for p, c, at in queued
    ]
    return _Debt(debt_ref, [(r, contacts.engine_party(r)) for r in rows], history)


def _channels(party: Party) -> list[Channel]:
    if party.stopped:
        return []
    return [c for c in MESSAGE_CHANNELS if c in party.channels and c not in party.opted_out]


def _end_of_hours(rules: Jurisdiction, channel: Channel, party: Party, on: date) -> datetime:
    """The last instant of ``on``'s permitted hours for ``channel`` in the party's zone."""
    ends = [h.end for h in rules.hours_for(channel)]
    end = min(ends) if ends else time.max
    return datetime.combine(on, end, tzinfo=party.zone) - timedelta(microseconds=1)


def _queue(
    db: Session,
    debt: _Debt,
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
    rules = jurisdiction(row.jurisdiction)
    message = compose(kind, party, channel, facts, rules=rules)
    if message is None:
        return None
    send_at = schedule_message(party, channel, wanted, latest, history=debt.history, rules=rules)
    if send_at is None:
        verdict = check_contact(party, channel, wanted, history=debt.history, rules=rules)
        audit.record(
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
                "rule": verdict.rule_id,
                "policy_version": rules.policy_version,
            },
        )
        return None
    message_id = uuid.uuid4().hex
    stored = OutboxMessage(
        id=message_id,
        kind=kind.value,
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


def _missed_text(locale: str, texts: dict[Any, str]) -> str:
    return texts.get(Locale(locale)) or next(iter(texts.values()), "")


def plan_accepted(db: Session, plan: AcceptedPlan, *, now: datetime | None = None) -> int:
    """Queue the reminders of a plan just accepted, in the acceptance's transaction.

    Returns how many were queued (none when the debt lists no parties).
    """
    now = now or utcnow()
    offer = plan.offer
    debt = _debt(db, offer.debt_ref)
    if not debt.parties:
        return 0
    policy = resolve_version(db, offer)
    days_before = sorted(set(policy.body.reminder_days_before), reverse=True)
    lines = scheduled_lines(offer.document)
    page = link(_unseal(offer.token_sealed))
    queued = 0
    for index, line in enumerate(lines):
        owed = sum(x.payment_minor for x in lines[index:])
        for row, party in debt.parties:
            if party.role is Role.THIRD_PARTY:
                continue
            facts = Facts(
                offer.currency,
                page,
                missed_text=_missed_text(row.locale, policy.body.missed_payment_text),
                owed_minor=owed,
                instalment=line.number,
                due_date=line.payment_date,
                amount_minor=line.payment_minor,
            )
            rules = jurisdiction(row.jurisdiction)
            for channel in _channels(party):
                latest = _end_of_hours(rules, channel, party, line.payment_date)
                for days in days_before:
                    wanted = datetime.combine(
                        line.payment_date - timedelta(days=days), REMINDER_AT, tzinfo=party.zone
                    )
                    if wanted < now:
                        continue
                    queued += (
                        _queue(
                            db,
                            debt,
                            row,
                            party,
                            channel,
                            kind=Kind.REMINDER,
                            facts=facts,
                            wanted=wanted,
                            latest=latest,
                            dedupe_key=f"reminder:{plan.id}:{line.number}:{days}:{row.id}:{channel}",
                            plan_id=plan.id,
                            instalment=line.number,
                        )
                        is not None
                    )
    return queued


def _next_due(state: PlanState) -> tuple[date | None, int]:
    due = state.next_due
    if due is None:
        return None, 0
    return due.payment_date, due.due_minor - due.paid_minor


def payment_recorded(
    db: Session,
    plan: AcceptedPlan,
    payment: PlanPayment,
    result: PaymentResult,
    state: PlanState,
    *,
    now: datetime | None = None,
) -> int:
    """Queue the confirmation of a payment just recorded to the debtor, in its transaction."""
    now = now or utcnow()
    offer = plan.offer
    debt = _debt(db, offer.debt_ref)
    next_date, next_minor = _next_due(state)
    facts = Facts(
        offer.currency,
        link(_unseal(offer.token_sealed)),
        owed_minor=result.balance_after_minor,
        amount_minor=payment.amount_minor,
        paid_on=payment.paid_on,
        principal_minor=sum(a.principal_minor for a in result.allocations),
        interest_minor=sum(a.interest_minor for a in result.allocations),
        fees_minor=sum(a.fees_minor for a in result.allocations),
        refunded_minor=result.refunded_minor,
        next_due_date=next_date,
        next_due_minor=next_minor,
    )
    queued = 0
    for row, party in debt.parties:
        if party.role is not Role.DEBTOR:
            continue
        for channel in _channels(party):
            queued += (
                _queue(
                    db,
                    debt,
                    row,
                    party,
                    channel,
                    kind=Kind.CONFIRMATION,
                    facts=facts,
                    wanted=now,
                    latest=now + USEFUL_FOR,
                    dedupe_key=f"confirmation:{payment.id}:{row.id}:{channel}",
                    plan_id=plan.id,
                    instalment=None,
                )
                is not None
            )
    return queued


def missed_notices(db: Session, *, on: date, now: datetime | None = None) -> int:
    """Queue a notice for every instalment missed on ``on`` not noticed yet; how many."""
    now = now or utcnow()
    known = set(db.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "missed")))
    queued = 0
    for plan in db.scalars(select(AcceptedPlan).order_by(AcceptedPlan.accepted_at)):
        state, _, policy = state_of(db, plan, on)
        missed = [s for s in state.instalments if s.status is InstalmentStatus.MISSED]
        if not missed:
            continue
        offer = plan.offer
        debt = _debt(db, offer.debt_ref)
        page = link(_unseal(offer.token_sealed))
        for s in missed:
            for row, party in debt.parties:
                if not party.role.is_obligor:
                    continue
                facts = Facts(
                    offer.currency,
                    page,
                    missed_text=_missed_text(row.locale, policy.body.missed_payment_text),
                    owed_minor=state.outstanding_minor,
                    instalment=s.number,
                    due_date=s.payment_date,
                    amount_minor=s.due_minor,
                    remaining_minor=s.due_minor - s.paid_minor,
                )
                for channel in _channels(party):
                    key = f"missed:{plan.id}:{s.number}:{row.id}:{channel}"
                    if key in known:
                        continue
                    known.add(key)
                    queued += (
                        _queue(
                            db,
                            debt,
                            row,
                            party,
                            channel,
                            kind=Kind.MISSED,
                            facts=facts,
                            wanted=now,
                            latest=now + USEFUL_FOR,
                            dedupe_key=key,
                            plan_id=plan.id,
                            instalment=s.number,
                        )
                        is not None
                    )
    return queued


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
                else (row, contacts.engine_party(row), contacts._channels(row))
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
    if message.kind == Kind.REMINDER and message.plan_id and message.instalment is not None:
        state = recipients.state(message.plan_id, now.date())
        paid = state is not None and any(
            s.number == message.instalment and s.status is InstalmentStatus.PAID
            for s in state.instalments
        )
        if paid:
            return "paid", None
    # Hours and no-contact days only: the caps were applied when it was queued.
    verdict = check_contact(party, channel, now, rules=jurisdiction(row.jurisdiction))
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
) -> list[Json]:
    """Claim up to ``limit`` due messages for a sender, each with its address in clear.

    Locked rows (another sender claiming) are skipped, not waited for. Audited as
    ``messages_claimed`` with the ids only.
    """
    now = now or utcnow()
    rows = list(db.scalars(_due(now).limit(limit).with_for_update(skip_locked=True)))
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
        content = _content(message)
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
        audit.record(
            db,
            "messages_claimed",
            actor=actor,
            payload={
                "ids": [m["id"] for m in claimed],
                "cancelled": cancelled,
                "claimed_until": until.isoformat(),
            },
        )
    return claimed


def _ack_json(message: OutboxMessage) -> Json:
    return {"id": message.id, "status": message.status, "delivered_at": message.delivered_at}


def acknowledge(db: Session, message_id: str, claim_token: str) -> Json:
    """Mark a claimed message delivered; again with the same token answers the same."""
    message = db.get(OutboxMessage, message_id, with_for_update=True)
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
            to = contacts.masked_channels({message.channel: found[2][message.channel]})[
                message.channel
            ]
        content = _content(message)
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
