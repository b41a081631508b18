"""What queues a message to a debt's parties, in the transaction of what causes it.

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
address and the party's marker, ``app.links.sharing.link``): the page then lists the messages
delivered to them and lets them opt out (``app.contacts.preferences``).

The causes are ``app.links``'s events (:func:`subscribe` wires the handlers); this module never
reaches into links' private state, and links never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from app.audit import trail
from app.audit.models import AuditEvent
from app.core.db import utcnow
from app.core.events import Bus
from app.finance.policies import ResolvedPolicy, contact_rules
from app.links.events import InstalmentMissed, PaymentRecorded, PlanAccepted
from app.links.models import RUNNING_STATES, AcceptedPlan, PlanPayment, SavedOffer
from app.links.plans import resolve_version, review_missed, scheduled_lines, state_of
from app.links.sharing import change_link, link, unseal_token
from app.messaging.messages import Facts, Kind, compose
from app.messaging.models import OutboxMessage
from app.messaging.outbox import (
    SENDER,
    DebtParties,
    debt_with_parties,
    debts_with_parties,
    queue,
    record_dropped,
    store,
)
from plans.contact import (
    Channel,
    Role,
)
from plans.lifecycle import RUNNING
from plans.payments import InstalmentStatus, PaymentResult, PlanState, ScheduledLine
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

# How long a confirmation or a missed notice stays worth sending.
USEFUL_FOR = timedelta(days=7)
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
    debt: DebtParties,
    policy: ResolvedPolicy,
    *,
    done: frozenset[ReminderKey] = frozenset(),
) -> ActivePlan:
    return ActivePlan(
        plan.id,
        debt.debt_id,
        tuple(Due(x.number, x.payment_date) for x in lines),
        tuple(
            Recipient(party, contact_rules(db, row.jurisdiction, row.debt.organisation_id))
            for row, party in debt.parties
        ),
        tuple(policy.body.reminder_days_before),
        done,
    )


def _queue_reminders(
    db: Session,
    plan: AcceptedPlan,
    lines: list[ScheduledLine],
    debt: DebtParties,
    policy: ResolvedPolicy,
    reminders: Iterable[Reminder],
) -> tuple[int, int]:
    """Queue the reminders the engine scheduled and audit those it dropped: (queued, dropped)."""
    offer = plan.offer
    token = unseal_token(offer.token_sealed)
    rows = {row.id: (row, party) for row, party in debt.parties}
    # what a reminder of each line says the plan still asks for, from that line on
    owed = {x.number: sum(y.payment_minor for y in lines[i:]) for i, x in enumerate(lines)}
    by_number = {x.number: x for x in lines}
    queued = dropped = 0
    for r in reminders:
        row, party = rows[r.party_id]
        key = reminder_key(plan.id, r.instalment, r.days_before, r.party_id, r.channel)
        if r.send_at is None:
            record_dropped(
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
        rules = contact_rules(db, row.jurisdiction, row.debt.organisation_id)
        # The engine reminds only roles that may learn a due date: each gets a reminder text.
        message = compose(Kind.REMINDER, party, r.channel, facts, rules=rules)
        assert message is not None, party.role
        store(
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
    debt = debt_with_parties(db, offer.debt_id)
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
            .where(AcceptedPlan.state.in_(RUNNING_STATES))
            .options(selectinload(AcceptedPlan.offer).selectinload(SavedOffer.debt))
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
            p.offer.debt_id,
            tuple(Due(x.number, x.payment_date) for x in ls),
            (),
            tuple(policy_of(p).body.reminder_days_before),
        )
        for p, ls in zip(plans, lines, strict=True)
    ]
    index = DueIndex(sketch)
    dates = [on + timedelta(days=k) for k in range(days)]
    picked = sorted({i for d in dates for i in index.plans_on(d).tolist()})
    debts = debts_with_parties(db, {plans[i].offer.debt_id for i in picked})
    decided = _decided(db, [plans[i].id for i in picked])
    active: list[ActivePlan] = []
    for i in picked:
        plan, debt = plans[i], debts[plans[i].offer.debt_id]
        if not debt.parties:
            continue
        state = state_of(db, plan, on)[0]
        if state.status not in RUNNING:  # broken or closed by then: its schedule no longer stands
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
            debt = debts[plan.offer.debt_id]
            mine = [r for r in found if r.plan_id == plan_id]
            # store adds each queued one to the debt's history: the next day counts it
            q, d = _queue_reminders(db, plan, lines[i], debt, policy_of(plan), mine)
            queued, dropped = queued + q, dropped + d
            touched.add(plan_id)
    if queued or dropped:
        trail.record(
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
    debt = debt_with_parties(db, offer.debt_id)
    next_date, next_minor = _next_due(state)
    token = unseal_token(offer.token_sealed)
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
                queue(
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


def notice_missed(db: Session, event: InstalmentMissed) -> int:
    """Queue the notices of one missed instalment to the debt's obligors; how many.

    Each party and channel is told once per instalment (the ``dedupe_key``), however often
    the miss is published.
    """
    now = utcnow()
    plan, s, state, policy = event.plan, event.instalment, event.state, event.policy
    known = set(
        db.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.kind == Kind.MISSED.value,
                OutboxMessage.plan_id == plan.id,
                OutboxMessage.instalment == s.number,
            )
        )
    )
    offer = plan.offer
    debt = debt_with_parties(db, offer.debt_id)
    token = unseal_token(offer.token_sealed)
    queued = 0
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
                queue(
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


def missed_notices(db: Session, *, on: date) -> int:
    """The daily job's notices: links reviews every plan on ``on`` and publishes each missed
    instalment (:func:`app.links.plans.review_missed`); :func:`notice_missed`, subscribed to
    them, queues what was not noticed yet. Returns how many notices that queued."""

    def counted() -> int:
        return (
            db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == Kind.MISSED.value)
            )
            or 0
        )

    before = counted()
    review_missed(db, on=on)
    return counted() - before


def on_plan_accepted(db: Session, event: PlanAccepted) -> None:
    """Handler: queue the reminders of a plan just accepted."""
    plan_accepted(db, event.plan)


def on_payment_recorded(db: Session, event: PaymentRecorded) -> None:
    """Handler: queue the confirmation of a payment just recorded."""
    payment_recorded(db, event.plan, event.payment, event.result, event.state)


def on_instalment_missed(db: Session, event: InstalmentMissed) -> None:
    """Handler: queue the notices of a missed instalment."""
    notice_missed(db, event)


def subscribe(bus: Bus) -> None:
    """Subscribe this module's handlers to the events of ``app.links``."""
    bus.subscribe(PlanAccepted, on_plan_accepted)
    bus.subscribe(PaymentRecorded, on_payment_recorded)
    bus.subscribe(InstalmentMissed, on_instalment_missed)
