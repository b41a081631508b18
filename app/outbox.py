"""The transactional outbox: messages to a debt's parties, queued with what causes them.

* An accepted plan queues its reminders (:func:`plan_accepted`), by the rule of
  ``plans.reminders``: for each party of the debt that may hear of it (debtor, co-debtor; a
  guarantor its guaranteed amount and the due date; never a third party), on each of their
  email and SMS channels not opted out of (nobody who asked to be left alone), the policy's
  ``reminder_days_before`` (3 days before and on the day) each payment date at 10:00 in the
  party's zone, moved into permitted time. One that cannot be sent by the end of the payment
  date's permitted hours is not queued: a ``message_dropped`` audit event says why. A reminder
  whose wanted time is already past when the plan is accepted is skipped.
* The daily job (:func:`coming_reminders`, run by ``repay outbox schedule``) queues the
  reminders of every active plan wanted today or tomorrow that are not queued or dropped yet:
  those of a party added to the debt, or a channel given, after the plan was accepted. Each
  reminder has the same ``dedupe_key`` whichever queued it, so running it again adds nothing.
* A payment recorded (:func:`payment_recorded`) queues a confirmation to the debtor: the amount,
  what it paid, the new balance and the next due date, now or at the next permitted time.
* A missed instalment queues a notice to the obligors with the link to their plan
  (:func:`missed_notices`, run by ``repay outbox schedule``, e.g. from cron once a day); each
  instalment's notice is queued once.

Every message to an obligor carries that party's own link to the plan's page (the page's
address and the party's marker, ``app.sharing.link``): the page then lists the messages
delivered to them and lets them opt out (``app.preferences``).

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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session, selectinload

from app import audit, contacts
from app.changes import change_link
from app.crypto import seal, unseal
from app.db import AcceptedPlan, AuditEvent, ContactAttempt, OutboxMessage, PlanPayment, utcnow
from app.db import Party as PartyRow
from app.errors import conflict, not_found
from app.messages import Facts, Kind, Message, as_text, compose
from app.policies import ResolvedPolicy, contact_rules
from app.sharing import _unseal, link, resolve_version, scheduled_lines, state_of
from plans.contact import (
    Attempt,
    Channel,
    Party,
    Role,
    check_contact,
    schedule_message,
)
from plans.contact_rules import Outcome
from plans.payments import InstalmentStatus, PaymentResult, PlanState, PlanStatus, ScheduledLine
from plans.reminders import (
    ActivePlan,
    Due,
    DueIndex,
    Recipient,
    Reminder,
    ReminderKey,
    message_channels,
    plan_reminders,
    reminders_on,
)
from schemas.common import Locale

Json = dict[str, Any]

TABLE = "outbox"
LEASE = timedelta(seconds=60)
# How long a confirmation or a missed notice stays worth sending.
USEFUL_FOR = timedelta(days=7)
SENDER = "outbox"
# A confirmation's dedupe key: "confirmation:<payment id>:<party id>:<channel>"
CONFIRMATION_KEY = "confirmation"


def confirmed_payment_id(kind: str, dedupe_key: str) -> int | None:
    """The payment a confirmation is about (from its dedupe key), else None.

    Examples
    --------
    >>> confirmed_payment_id("confirmation", "confirmation:7:p:sms")
    7
    >>> confirmed_payment_id("reminder", "reminder:plan:1:3:p:sms") is None
    True
    """
    prefix, _, rest = dedupe_key.partition(":")
    if kind != Kind.CONFIRMATION or prefix != CONFIRMATION_KEY:
        return None
    payment = rest.partition(":")[0]
    return int(payment) if payment.isdigit() else None


# Any constant, distinct from the audit chain's and the debts' advisory locks.
_JOB_LOCK = 7_270_014


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


def _debts(db: Session, refs: Iterable[str]) -> dict[str, _Debt]:
    """The debts named, each with its parties (oldest first) and every contact so far."""
    wanted = sorted(set(refs))
    found = {ref: _Debt(ref, []) for ref in wanted}
    # In chunks: a daily job may ask for thousands of debts (bound parameters are limited).
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.scalars(
            select(PartyRow)
            .where(PartyRow.debt_ref.in_(chunk), PartyRow.deleted_at.is_(None))
            .order_by(PartyRow.created_at, PartyRow.id)
        )
        for row in rows:
            found[row.debt_ref].parties.append((row, contacts.engine_party(row)))
        attempts = db.execute(
            select(
                ContactAttempt.debt_ref,
                ContactAttempt.party_id,
                ContactAttempt.channel,
                ContactAttempt.at,
                ContactAttempt.outcome,
            )
            .where(ContactAttempt.debt_ref.in_(chunk))
            .order_by(ContactAttempt.at, ContactAttempt.id)
        )
        for ref, party_id, channel, at, outcome in attempts:
            found[ref].history.append(Attempt(party_id, Channel(channel), at, Outcome(outcome)))
        queued = db.execute(
            select(
                OutboxMessage.debt_ref,
                OutboxMessage.party_id,
                OutboxMessage.channel,
                OutboxMessage.send_at,
            ).where(OutboxMessage.debt_ref.in_(chunk), OutboxMessage.status != "cancelled")
        )
        # Queued messages count against the caps like attempts made (a message left).
        for ref, party_id, channel, at in queued:
            found[ref].history.append(Attempt(party_id, Channel(channel), at, Outcome.MESSAGE_LEFT))
    return found


def _debt(db: Session, debt_ref: str) -> _Debt:
    return _debts(db, [debt_ref])[debt_ref]


def _dropped(
    db: Session,
    debt: _Debt,
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
            "rule": rule,
            "policy_version": policy_version,
            "dedupe_key": dedupe_key,
        },
    )


def _store(
    db: Session,
    debt: _Debt,
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
    rules = contact_rules(db, row.jurisdiction)
    message = compose(kind, party, channel, facts, rules=rules)
    if message is None:
        return None
    send_at = schedule_message(party, channel, wanted, latest, history=debt.history, rules=rules)
    if send_at is None:
        verdict = check_contact(party, channel, wanted, history=debt.history, rules=rules)
        _dropped(
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
    return _store(
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


def _missed_text(locale: str, texts: dict[Any, str]) -> str:
    return texts.get(Locale(locale)) or next(iter(texts.values()), "")


# ---- reminders -----------------------------------------------------------------------------


def reminder_key(
    plan_id: str, instalment: int, days_before: int, party_id: str, channel: str
) -> str:
    """The ``dedupe_key`` of a reminder: the same whether acceptance or the daily job queues it."""
    return f"reminder:{plan_id}:{instalment}:{days_before}:{party_id}:{channel}"


def _active(
    db: Session,
    plan: AcceptedPlan,
    lines: list[ScheduledLine],
    debt: _Debt,
    policy: ResolvedPolicy,
    *,
    done: frozenset[ReminderKey] = frozenset(),
) -> ActivePlan:
    return ActivePlan(
        plan.id,
        debt.debt_ref,
        tuple(Due(x.number, x.payment_date) for x in lines),
        tuple(Recipient(party, contact_rules(db, row.jurisdiction)) for row, party in debt.parties),
        tuple(policy.body.reminder_days_before),
        done,
    )


def _queue_reminders(
    db: Session,
    plan: AcceptedPlan,
    lines: list[ScheduledLine],
    debt: _Debt,
    policy: ResolvedPolicy,
    reminders: Iterable[Reminder],
) -> tuple[int, int]:
    """Queue the reminders the engine scheduled and audit those it dropped: (queued, dropped)."""
    offer = plan.offer
    token = _unseal(offer.token_sealed)
    rows = {row.id: (row, party) for row, party in debt.parties}
    # what a reminder of each line says the plan still asks for, from that line on
    owed = {x.number: sum(y.payment_minor for y in lines[i:]) for i, x in enumerate(lines)}
    by_number = {x.number: x for x in lines}
    queued = dropped = 0
    for r in reminders:
        row, party = rows[r.party_id]
        key = reminder_key(plan.id, r.instalment, r.days_before, r.party_id, r.channel)
        if r.send_at is None:
            _dropped(
                db,
                debt,
                row,
                r.channel,
                kind=Kind.REMINDER,
                wanted=r.wanted_at,
                latest=r.latest_useful,
                rule=r.rule_id,
                policy_version=r.policy_version,
                dedupe_key=key,
                plan_id=plan.id,
                instalment=r.instalment,
            )
            dropped += 1
            continue
        line = by_number[r.instalment]
        facts = Facts(
            offer.currency,
            link(token, row.id),  # the party's own link: their page shows their messages
            missed_text=_missed_text(row.locale, policy.body.missed_payment_text),
            owed_minor=owed[line.number],
            instalment=line.number,
            due_date=line.payment_date,
            amount_minor=line.payment_minor,
        )
        rules = contact_rules(db, row.jurisdiction)
        # The engine reminds only roles that may learn a due date: each gets a reminder text.
        message = compose(Kind.REMINDER, party, r.channel, facts, rules=rules)
        assert message is not None, party.role
        _store(
            db,
            debt,
            row,
            r.channel,
            message,
            kind=Kind.REMINDER,
            send_at=r.send_at,
            dedupe_key=key,
            plan_id=plan.id,
            instalment=r.instalment,
        )
        queued += 1
    return queued, dropped


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
    lines = scheduled_lines(offer.document)
    found = plan_reminders(_active(db, plan, lines, debt, policy), history=debt.history, now=now)
    return _queue_reminders(db, plan, lines, debt, policy, found)[0]


def _parsed(key: str) -> ReminderKey:
    _, _, instalment, days_before, party_id, channel = key.split(":")
    return int(instalment), int(days_before), party_id, Channel(channel)


def _decided(db: Session, plan_ids: list[str]) -> dict[str, set[ReminderKey]]:
    """The reminders of each plan already queued (in any state, cancelled too) or dropped."""
    found: dict[str, set[ReminderKey]] = {p: set() for p in plan_ids}
    for start in range(0, len(plan_ids), 500):
        chunk = plan_ids[start : start + 500]
        queued = db.execute(
            select(OutboxMessage.plan_id, OutboxMessage.dedupe_key).where(
                OutboxMessage.plan_id.in_(chunk), OutboxMessage.kind == Kind.REMINDER.value
            )
        )
        for plan_id, key in queued:
            found[str(plan_id)].add(_parsed(key))
        dropped = db.execute(
            select(AuditEvent.plan_id, AuditEvent.payload).where(
                AuditEvent.plan_id.in_(chunk), AuditEvent.kind == "message_dropped"
            )
        )
        for plan_id, payload in dropped:
            if payload.get("kind") == Kind.REMINDER.value and "dedupe_key" in payload:
                found[plan_id].add(_parsed(payload["dedupe_key"]))
    return found


@dataclass(frozen=True, slots=True)
class Scheduled:
    """What the daily job did: reminders queued and dropped, plans they belong to."""

    queued: int
    dropped: int
    plans: int


def coming_reminders(
    db: Session, *, on: date, days: int = 2, now: datetime | None = None
) -> Scheduled:
    """Queue the reminders of active plans wanted on ``on`` and the ``days - 1`` after it.

    Only those neither queued nor dropped before: a party added to the debt, or a channel
    given, since the plan was accepted. Plans are taken in order of acceptance and scheduled
    against each debt's history as acceptance would; the whole run is one transaction (the
    caller's) and one ``reminders_scheduled`` audit event, beside a ``message_dropped`` for
    each reminder that cannot be sent in time.
    """
    now = now or utcnow()
    if db.get_bind().dialect.name == "postgresql":
        # Two runs at once would queue the same reminders: the second waits for the first and
        # then sees what it queued. (SQLite's BEGIN IMMEDIATE serialises them already.)
        db.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _JOB_LOCK})
    plans = list(
        db.scalars(
            select(AcceptedPlan)
            .options(selectinload(AcceptedPlan.offer))
            .order_by(AcceptedPlan.accepted_at, AcceptedPlan.id)
        )
    )
    lines = [scheduled_lines(p.offer.document) for p in plans]
    policies: dict[tuple[int, int], ResolvedPolicy] = {}

    def policy_of(plan: AcceptedPlan) -> ResolvedPolicy:
        offer = plan.offer
        key = (offer.policy_id, offer.policy_version)
        if key not in policies:
            policies[key] = resolve_version(db, offer)
        return policies[key]

    # First the plans with a payment date that many days ahead of one of the days, by the
    # payment dates alone; only theirs are then read in full.
    sketch = [
        ActivePlan(
            p.id,
            p.offer.debt_ref,
            tuple(Due(x.number, x.payment_date) for x in ls),
            (),
            tuple(policy_of(p).body.reminder_days_before),
        )
        for p, ls in zip(plans, lines, strict=True)
    ]
    index = DueIndex(sketch)
    dates = [on + timedelta(days=k) for k in range(days)]
    picked = sorted({i for d in dates for i in index.plans_on(d).tolist()})
    debts = _debts(db, {plans[i].offer.debt_ref for i in picked})
    decided = _decided(db, [plans[i].id for i in picked])
    active: list[ActivePlan] = []
    for i in picked:
        plan, debt = plans[i], debts[plans[i].offer.debt_ref]
        if not debt.parties:
            continue
        state = state_of(db, plan, on)[0]
        if state.status is not PlanStatus.ACTIVE:
            continue
        paid = {s.number for s in state.instalments if s.status is InstalmentStatus.PAID}
        unpaid = [x for x in lines[i] if x.number not in paid]
        done = frozenset(decided[plan.id])
        active.append(_active(db, plan, unpaid, debt, policy_of(plan), done=done))
    histories = {ref: debt.history for ref, debt in debts.items()}
    by_id = {p.id: (i, p) for i, p in enumerate(plans)}
    queued = dropped = 0
    touched: set[str] = set()
    for day in dates:
        found = reminders_on(day, active, histories=histories, now=now)
        for plan_id in dict.fromkeys(r.plan_id for r in found):
            i, plan = by_id[plan_id]
            debt = debts[plan.offer.debt_ref]
            mine = [r for r in found if r.plan_id == plan_id]
            # _store adds each queued one to the debt's history: the next day counts it
            q, d = _queue_reminders(db, plan, lines[i], debt, policy_of(plan), mine)
            queued, dropped = queued + q, dropped + d
            touched.add(plan_id)
    if queued or dropped:
        audit.record(
            db,
            "reminders_scheduled",
            actor=SENDER,
            payload={
                "days": [d.isoformat() for d in dates],
                "queued": queued,
                "dropped": dropped,
                "plans": len(touched),
            },
        )
    return Scheduled(queued, dropped, len(touched))


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
    token = _unseal(offer.token_sealed)
    facts = Facts(
        offer.currency,
        link(token),
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
        for channel in message_channels(party):
            queued += (
                _queue(
                    db,
                    debt,
                    row,
                    party,
                    channel,
                    kind=Kind.CONFIRMATION,
                    facts=replace(facts, link=link(token, row.id)),
                    wanted=now,
                    latest=now + USEFUL_FOR,
                    dedupe_key=f"{CONFIRMATION_KEY}:{payment.id}:{row.id}:{channel}",
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
        token = _unseal(offer.token_sealed)
        for s in missed:
            for row, party in debt.parties:
                if not party.role.is_obligor:
                    continue
                facts = Facts(
                    offer.currency,
                    # the party's own link to the page where they can propose a change
                    change_link(token, row.id),
                    missed_text=_missed_text(row.locale, policy.body.missed_payment_text),
                    owed_minor=state.outstanding_minor,
                    instalment=s.number,
                    due_date=s.payment_date,
                    amount_minor=s.due_minor,
                    remaining_minor=s.due_minor - s.paid_minor,
                )
                for channel in message_channels(party):
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
    verdict = check_contact(
        party, channel, now, rules=contact_rules(recipients.db, row.jurisdiction)
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
