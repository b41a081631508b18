"""Accepted plans: their state on a day, the payments against them, statements and payoff.

A plan is an accepted offer; its schedule is the offer's document, exactly as the debtor saw
it, and its state on a day is the engine's (``plans.payments.plan_state``) over the payments
recorded up to then. A recorded payment is allocated (interest, fees, principal, by the offer's
policy version) and published as :class:`app.links.events.PaymentRecorded`, in its
transaction, for the rooms that act on it.

Who sees what: a collector's key sees the plans of the offers it created (others answer 404,
as if they did not exist); finance and admin keys see all.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.audit import trail
from app.core.access import Action, Actor, actor, can, not_visible
from app.core.errors import Problem, conflict, forbidden
from app.core.events import bus
from app.core.idempotency import request_fingerprint
from app.core.models import Role
from app.finance.policies import ResolvedPolicy, resolve
from app.links.events import (
    InstalmentMissed,
    PaymentRecorded,
    PlanBroken,
    PlanClosed,
    PlanCompleted,
)
from app.links.models import (
    OPEN_STATES,
    RUNNING_STATES,
    AcceptedPlan,
    PlanPayment,
    PlanTransition,
    SavedOffer,
)
from plans.errors import DomainError
from plans.lifecycle import (
    RUNNING,
    Cause,
    Decision,
    DecisionEvent,
    KnownPayment,
    Life,
    Transition,
    plan_on,
)
from plans.money import to_minor
from plans.offer import Owed
from plans.payments import (
    InstalmentStatus,
    Overpayment,
    Payment,
    PaymentResult,
    PayoffTerms,
    PlanState,
    PlanStatus,
    ScheduledLine,
    StandingQuote,
    plan_payoff,
    standing_payoff,
)
from plans.schedule import Waiver
from schemas.policies import PolicyRef
from schemas.sharing import PaymentIn, PlanDecisionIn
from schemas.wire import amount_formatter

Json = dict[str, Any]


def plan_for(db: Session, plan_id: str, key: Actor, action: Action = Action.READ) -> AcceptedPlan:
    """An accepted plan whose debt the key may ``action``, or the 404 of one that does not
    exist."""
    plan = db.get(AcceptedPlan, plan_id)
    if plan is None or not can(key, action, plan.offer.debt):
        raise not_visible("plan", plan_id)
    return plan


def scheduled_lines(document: Json) -> list[ScheduledLine]:
    """The lines of an offer document that ask for money, in minor units."""
    currency = document["currency"]

    def m(value: str) -> int:
        return to_minor(value, currency)

    return [
        ScheduledLine(
            x["number"],
            date.fromisoformat(x["payment_date"]),
            m(x["payment"]),
            m(x["interest"]),
            m(x["fees"]),
            m(x["principal"]),
        )
        for x in document["schedule"]["lines"]
        if m(x["payment"]) > 0
    ]


def _owed_and_waiver(document: Json) -> tuple[Owed, Waiver]:
    currency = document["currency"]
    owed, waiver = document["owed"], document["waiver"]
    return (
        Owed(*(to_minor(owed[k], currency) for k in ("principal", "interest", "fees"))),
        Waiver(*(to_minor(waiver[k], currency) for k in ("fees", "interest", "principal"))),
    )


def payoff_terms(document: Json) -> PayoffTerms:
    """What an offer document's payoff quote needs besides its lines (``PayoffTerms``)."""
    owed, waiver = _owed_and_waiver(document)
    return PayoffTerms(
        settlement=document["kind"] in ("settlement", "settlement_plan"),
        nominal_annual_rate=Decimal(document["terms"]["nominal_annual_rate"]),
        as_of=date.fromisoformat(document["as_of"]),
        interest_arrears_minor=owed.interest_minor - waiver.interest_minor,
    )


def _payments(db: Session, plan: AcceptedPlan) -> list[PlanPayment]:
    """The plan's payments in the order they were recorded."""
    return list(
        db.scalars(
            select(PlanPayment).where(PlanPayment.plan_id == plan.id).order_by(PlanPayment.id)
        )
    )


def transitions(db: Session, plan: AcceptedPlan) -> list[PlanTransition]:
    """The plan's recorded transitions, in order."""
    return list(
        db.scalars(
            select(PlanTransition)
            .where(PlanTransition.plan_id == plan.id)
            .order_by(PlanTransition.seq)
        )
    )


def decisions(recorded: list[PlanTransition]) -> list[DecisionEvent]:
    """The decisions among recorded transitions, as the engine replays them."""
    return [
        DecisionEvent(t.on, Decision(t.decision), t.detail)
        for t in recorded
        if t.cause == Cause.DECISION and t.decision is not None
    ]


def life_of(
    db: Session, plan: AcceptedPlan, on: date
) -> tuple[Life, PlanState, list[PlanPayment], ResolvedPolicy]:
    """The plan's life up to ``on`` and its state that day, from what was known by then
    (``plans.lifecycle.plan_on``), under the policy version its offer came from; with the
    payments counted, in the order the state applies them (date, then recording)."""
    offer = plan.offer
    policy = resolve_version(db, offer)
    rows = _payments(db, plan)
    owed, waiver = _owed_and_waiver(offer.document)
    lived, state = plan_on(
        scheduled_lines(offer.document),
        [KnownPayment(Payment(r.paid_on, r.amount_minor, r.reference), r.known_on) for r in rows],
        decisions(transitions(db, plan)),
        accepted_on=plan.accepted_at.date(),
        on=on,
        policy=policy.engine,
        owed=owed,
        waiver=waiver,
        payoff=payoff_terms(offer.document),
    )
    counted = sorted((r for r in rows if r.known_on <= on), key=lambda r: (r.paid_on, r.id))
    return lived, state, counted, policy


def state_of(
    db: Session, plan: AcceptedPlan, on: date
) -> tuple[PlanState, list[PlanPayment], ResolvedPolicy]:
    """The plan's state on ``on`` (:func:`life_of`)."""
    _, state, rows, policy = life_of(db, plan, on)
    return state, rows, policy


def completed_on(db: Session, plan: AcceptedPlan) -> date | None:
    """The day ``plan`` was paid in full, or ``None`` while anything is still owed on it.

    The one place that decides whether a plan is complete and since when: its settlement
    certificate exists from that day (``GET /s/{token}/certificate``). It is the plan's recorded
    state (``completed``, recorded when the payment that completed it was), and the day is the
    date of that payment; payments after it are handed back.
    """
    if plan.state != PlanStatus.COMPLETED:
        return None
    payment_id = db.scalar(
        select(PlanTransition.payment_id).where(
            PlanTransition.plan_id == plan.id, PlanTransition.to_state == PlanStatus.COMPLETED
        )
    )
    payment = None if payment_id is None else db.get(PlanPayment, payment_id)
    return plan.state_since if payment is None else payment.paid_on


def resolve_version(db: Session, offer: SavedOffer) -> ResolvedPolicy:
    """The exact policy version an offer was made under."""
    return resolve(
        db,
        PolicyRef(id=offer.policy_id, version=offer.policy_version),
        offer.debt.organisation_id,
    )


def payment_json(row: PlanPayment, result: PaymentResult, currency: str, rule: str) -> Json:
    fmt = amount_formatter(currency)
    return {
        "id": row.id,
        "plan_id": row.plan_id,
        "amount": fmt(row.amount_minor),
        "date": row.paid_on,
        "reference": row.reference,
        "allocations": [
            {
                "number": a.number,
                "interest": fmt(a.interest_minor),
                "fees": fmt(a.fees_minor),
                "principal": fmt(a.principal_minor),
            }
            for a in result.allocations
        ],
        "overpaid": fmt(result.overpaid_minor),
        "overpayment": rule,
        "refunded": fmt(result.refunded_minor),
        "balance_after": fmt(result.balance_after_minor),
    }


def _matching(state: PlanState, rows: list[PlanPayment]) -> list[tuple[PlanPayment, PaymentResult]]:
    # plan_state applies payments in date order; rows come in the same order
    return list(zip(rows, state.payments, strict=True))


def payment_amount(body: PaymentIn, currency: str, *, accepted_on: date, today: date) -> int:
    """The amount of money received, in minor units, once its rules hold: more than zero,
    dated neither before the plan was accepted nor after tomorrow."""
    amount = to_minor(body.amount, currency, field="amount")
    if amount <= 0:
        raise DomainError("amount", "positive", "a payment must be more than zero")
    if body.date < accepted_on:
        raise DomainError("date", "not_before_acceptance", "is before the plan was accepted")
    if body.date > today + timedelta(days=1):
        raise DomainError("date", "not_in_future", "a payment cannot be dated in the future")
    return amount


def record_payment(
    db: Session, plan_id: str, body: PaymentIn, key: Actor, idempotency_key: str
) -> tuple[Json, bool]:
    """Record a payment once per Idempotency-Key; return it and whether it is new."""
    plan = plan_for(db, plan_id, key, Action.WORK)
    # One payment of a plan at a time: each is allocated (and audited) after those before it,
    # not as if a concurrent one were not there.
    db.refresh(plan, with_for_update=True)
    currency = plan.offer.currency
    fingerprint = request_fingerprint(body.model_dump(mode="json"))
    earlier = db.scalar(
        select(PlanPayment).where(
            PlanPayment.plan_id == plan.id, PlanPayment.idempotency_key == idempotency_key
        )
    )
    today = date.today()
    if earlier is None:
        refuse_part_of_group(plan)
        # bring the plan's recorded life up to today first: a payment is counted after it
        advance(db, plan, today)
        refuse_closed(plan)
        amount = payment_amount(body, currency, accepted_on=plan.accepted_at.date(), today=today)
        row = PlanPayment(
            plan_id=plan.id,
            amount_minor=amount,
            paid_on=body.date,
            known_on=max(body.date, today, plan.reviewed_through),
            reference=body.reference,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
            created_by=key.id,
        )
        try:
            with db.begin_nested():
                db.add(row)
                db.flush()
        except IntegrityError:
            return record_payment(db, plan_id, body, key, idempotency_key)
        new = True
    else:
        if earlier.request_hash != fingerprint:
            raise conflict(
                "This Idempotency-Key was used for a different payment.", "idempotency-key"
            )
        row, new = earlier, False
    return applied_payment(db, plan, row, key, today, new=new), new


def applied_payment(
    db: Session,
    plan: AcceptedPlan,
    row: PlanPayment,
    key: Actor,
    today: date,
    *,
    new: bool,
    audited: Json | None = None,
) -> Json:
    """The stored payment ``row`` as its plan applies it (``schemas.sharing.PaymentOut``).

    A ``new`` one is also audited as ``payment_recorded`` (with ``audited`` added to what the
    entry says), published, and its plan's life recorded up to the day it is known: a
    payment received for one plan and a consolidated plan's part of one are recorded alike.
    """
    currency = plan.offer.currency
    state, rows, policy = state_of(db, plan, max(today, row.known_on))
    result = next(r for stored, r in _matching(state, rows) if stored.id == row.id)
    document = payment_json(row, result, currency, Overpayment(policy.engine.overpayment).value)
    if new:
        trail.record(
            db,
            "payment_recorded",
            actor=actor(key),
            offer_id=plan.offer_id,
            plan_id=plan.id,
            payload={
                "amount": document["amount"],
                "currency": currency,
                "date": row.paid_on.isoformat(),
                "reference": row.reference,
                "allocations": document["allocations"],
                "refunded": document["refunded"],
                **(audited or {}),
            },
        )
        bus.publish(db, PaymentRecorded(plan, row, result, state))
        # what the payment moved (back to active, cured, completed) is recorded after it
        advance(db, plan, row.known_on)
    return document


def plan_json(db: Session, plan: AcceptedPlan, on: date) -> Json:
    """An accepted plan on ``on`` as ``schemas.sharing.PlanOut``."""
    lived, state, rows, policy = life_of(db, plan, on)
    offer = plan.offer
    fmt = amount_formatter(offer.currency)
    rule = Overpayment(policy.engine.overpayment).value

    def instalment(s: Any) -> Json:
        return {
            "number": s.number,
            "payment_date": s.payment_date,
            "due": fmt(s.due_minor),
            "paid": fmt(s.paid_minor),
            "remaining": fmt(s.remaining_minor),
            "status": s.status.value,
            "days_late": s.days_late,
        }

    def owed_json(o: Owed) -> Json:
        return {
            "principal": fmt(o.principal_minor),
            "interest": fmt(o.interest_minor),
            "fees": fmt(o.fees_minor),
            "total": fmt(o.total_minor),
        }

    revocation = None
    if state.revocation is not None:
        r = state.revocation

        revocation = {
            "owed_before": owed_json(r.owed_before),
            "waiver_revoked": {
                "fees": fmt(r.waiver_revoked.fees_minor),
                "interest": fmt(r.waiver_revoked.interest_minor),
                "principal": fmt(r.waiver_revoked.principal_minor),
                "total": fmt(r.waiver_revoked.total_minor),
            },
            "credited": [
                {
                    "payment": a.number,
                    "fees": fmt(a.fees_minor),
                    "interest": fmt(a.interest_minor),
                    "principal": fmt(a.principal_minor),
                }
                for a in r.credited
            ],
            "owed_after": owed_json(r.owed_after),
        }
    return {
        "id": plan.id,
        "offer_id": offer.id,
        "debt_ref": offer.debt_ref,
        "currency": offer.currency,
        "accepted_at": plan.accepted_at,
        "on": on,
        "status": state.status.value,
        "since": lived.since,
        "transitions": [
            {
                "on": t.on,
                "from_status": t.before.value,
                "to_status": t.after.value,
                "cause": t.cause.value,
                "detail": t.detail,
            }
            for t in lived.transitions
        ],
        "replaces": plan.replaces_id,
        "replaced_by": plan.replaced_by_id if lived.status is PlanStatus.REPLACED else None,
        "still_owed": owed_json(still_asks(offer.document, state, policy, on)),
        "broken_reason": state.broken_reason,
        "paid": fmt(state.paid_minor),
        "refunded": fmt(state.refunded_minor),
        "outstanding": fmt(state.outstanding_minor),
        "next_due": None if state.next_due is None else instalment(state.next_due),
        "instalments": [instalment(s) for s in state.instalments],
        "payments": [
            payment_json(row, r, offer.currency, rule) for row, r in _matching(state, rows)
        ],
        "revocation": revocation,
        "offer": offer.document,
    }


def standing_quote(
    plan: AcceptedPlan, state: PlanState, policy: ResolvedPolicy, on: date
) -> StandingQuote:
    """The plan's payoff quote on ``on`` (``state`` is its state that day, under ``policy``)
    and the last day it holds (``plans.payments.standing_payoff``)."""
    document = plan.offer.document
    terms = payoff_terms(document)
    return standing_payoff(
        scheduled_lines(document),
        state,
        settlement=terms.settlement,
        nominal_annual_rate=terms.nominal_annual_rate,
        as_of=terms.as_of,
        on=on,
        policy=policy.engine,
        interest_arrears_minor=terms.interest_arrears_minor,
    )


def payoff_json(db: Session, plan: AcceptedPlan, on: date) -> Json:
    """The plan's payoff quote on ``on`` as ``schemas.sharing.PayoffOut``."""
    state, _, policy = state_of(db, plan, on)
    held = standing_quote(plan, state, policy, on)
    quote = held.quote
    fmt = amount_formatter(plan.offer.currency)
    return {
        "plan_id": plan.id,
        "on": on,
        "principal": fmt(quote.principal_minor),
        "interest": fmt(quote.interest_minor),
        "accrued_interest": fmt(quote.accrued_interest_minor),
        "fees": fmt(quote.fees_minor),
        "waived": fmt(quote.waived_minor),
        "amount": fmt(quote.amount_minor),
        "day_count": quote.day_count.value,
        "days": quote.days,
        "valid_until": held.valid_until,
    }


def review_missed(db: Session, *, on: date) -> int:
    """The daily review of accepted plans: publish :class:`InstalmentMissed` for every
    instalment that counts as missed on ``on``, in the caller's transaction; how many.

    Judged from the payments recorded up to now (a miss is about what has not been paid),
    plans in the order they were accepted. Publishing the same miss again is harmless: its
    subscribers act once per instalment.
    """
    published = 0
    # each plan's offer and debt loaded with the plans, not one query per plan (state_of reads
    # the policy of the offer's organisation)
    plans = db.scalars(
        select(AcceptedPlan)
        .where(AcceptedPlan.state.in_(RUNNING_STATES))
        .options(selectinload(AcceptedPlan.offer).selectinload(SavedOffer.debt))
        .order_by(AcceptedPlan.accepted_at)
    )
    for plan in plans:
        state, _, policy = state_of(db, plan, on)
        if state.status not in RUNNING:
            continue  # broken (its own notice) or closed by then: no demand for an instalment
        for s in state.instalments:
            if s.status is InstalmentStatus.MISSED:
                bus.publish(db, InstalmentMissed(plan, on, s, state, policy))
                published += 1
    return published


# ---- the recorded life -----------------------------------------------------------------


def open_plan_of(db: Session, debt_id: str, *, lock: bool = False) -> AcceptedPlan | None:
    """The debt's open plan (running or broken, ``plans.lifecycle.OPEN``), if it has one."""
    query = select(AcceptedPlan).where(
        AcceptedPlan.debt_id == debt_id, AcceptedPlan.state.in_(OPEN_STATES)
    )
    return db.scalar(query.with_for_update() if lock else query)


def refuse_part_of_group(plan: AcceptedPlan) -> None:
    """A 409 for money recorded against one debt's plan of a consolidated plan: it is received
    against the consolidated plan (``app.links.groups``), which shares it between its debts."""
    group_id = plan.offer.group_id
    if group_id is not None:
        raise Problem(
            409,
            "consolidated-plan",
            "Conflict",
            f"This plan is one debt's part of consolidated plan {group_id}: record payments"
            f" against it (POST /v1/consolidated-plans/{group_id}/payments), which shares"
            " them between its debts.",
            extensions={"consolidated_plan_id": group_id},
        )


def refuse_closed(plan: AcceptedPlan) -> None:
    """A 409 for money on a plan replaced, cancelled or written off (a replaced one names its
    successor). A completed plan still takes money received (it is refunded: nothing is
    owed), so that no payment a processor sends is lost."""
    if plan.state in OPEN_STATES or plan.state == PlanStatus.COMPLETED:
        return
    if plan.state == PlanStatus.REPLACED:
        raise Problem(
            409,
            "plan-replaced",
            "Conflict",
            f"This plan was replaced by plan {plan.replaced_by_id}: record payments against it.",
            extensions={"replaced_by": plan.replaced_by_id},
        )
    raise Problem(
        409, "plan-closed", "Conflict", f"This plan is {plan.state}: it takes no more payments."
    )


def advance(db: Session, plan: AcceptedPlan, through: date) -> list[PlanTransition]:
    """Record the plan's life through ``through``: every transition the engine's replay has
    beyond those already recorded, each audited, with its event published (a break, a
    completion) in the caller's transaction. Running it again records nothing.

    The recorded transitions are always the first ones of the replay: a payment counts from
    the day it was recorded (``known_on``), never before the day the life was recorded through.
    """
    through = max(through, plan.reviewed_through)
    lived, _, _, _ = life_of(db, plan, through)
    recorded = transitions(db, plan)
    if [(t.on, t.to_state) for t in recorded] != [
        (t.on, t.after.value) for t in lived.transitions[: len(recorded)]
    ]:  # pragma: no cover - the invariant above; a bug if it ever fails
        raise RuntimeError(f"plan {plan.id}: its recorded life is not the replay's")
    ordered = _payments(db, plan)  # the replay names a payment by its recording order
    fresh = lived.transitions[len(recorded) :]
    added = [
        _record(db, plan, seq, t, None if t.payment is None else ordered[t.payment])
        for seq, t in enumerate(fresh, start=len(recorded) + 1)
    ]
    plan.state = lived.status.value
    plan.state_since = lived.since
    plan.reviewed_through = through
    for t in fresh:
        if t.after is PlanStatus.BROKEN:
            _, state, _, _ = life_of(db, plan, t.on)
            bus.publish(db, PlanBroken(plan, t.on, t.detail, state))
        elif t.after is PlanStatus.COMPLETED:
            _, state, _, _ = life_of(db, plan, t.on)
            bus.publish(db, PlanCompleted(plan, t.on, state))
    return added


def _record(
    db: Session,
    plan: AcceptedPlan,
    seq: int,
    t: Transition,
    payment: PlanPayment | None,
    *,
    decided_by: int | None = None,
    decision: Decision | None = None,
    who: str = "system",
) -> PlanTransition:
    row = PlanTransition(
        plan_id=plan.id,
        seq=seq,
        on=t.on,
        from_state=t.before.value,
        to_state=t.after.value,
        cause=t.cause.value,
        decision=None if decision is None else decision.value,
        detail=t.detail[:500],
        payment_id=None if payment is None else payment.id,
        decided_by=decided_by,
    )
    db.add(row)
    db.flush()
    trail.record(
        db,
        "plan_transition",
        actor=who,
        offer_id=plan.offer_id,
        plan_id=plan.id,
        payload={
            "seq": seq,
            "on": t.on.isoformat(),
            "from": t.before.value,
            "to": t.after.value,
            "cause": t.cause.value,
            "decision": row.decision,
            "detail": row.detail,
            "payment_id": row.payment_id,
        },
    )
    return row


def decide(
    db: Session,
    plan: AcceptedPlan,
    decision: Decision,
    *,
    on: date,
    detail: str,
    key: Actor | None = None,
) -> PlanTransition:
    """Close an open plan by ``decision`` on ``on`` (its life recorded up to then first);
    a closed plan is a 409."""
    advance(db, plan, on)
    if plan.state not in OPEN_STATES:
        raise conflict(f"This plan is {plan.state}: it can no longer be {decision.outcome}.")
    on = max(on, plan.reviewed_through)
    seq = len(transitions(db, plan)) + 1
    status = PlanStatus(plan.state)
    t = Transition(on, status, decision.outcome, Cause.DECISION, detail)
    row = _record(
        db,
        plan,
        seq,
        t,
        None,
        decided_by=None if key is None else key.id,
        decision=decision,
        who="debtor" if key is None else actor(key),
    )
    plan.state = decision.outcome.value
    plan.state_since = on
    plan.reviewed_through = on
    return row


def balance_of(db: Session, plan: AcceptedPlan, on: date) -> Owed:
    """What the plan still asks on ``on`` (:func:`still_asks`), its state replayed here."""
    state, _, policy = state_of(db, plan, on)
    return still_asks(plan.offer.document, state, policy, on)


def still_asks(document: Json, state: PlanState, policy: ResolvedPolicy, on: date) -> Owed:
    """What a plan (its offer's ``document``, its ``state`` on ``on``) still asks that day,
    after every payment credited and with no waiver: the principal and fees unpaid, the
    interest due and accrued (a broken plan that lost its discount: its recomputed balance).
    A new plan for the debt starts from this."""
    terms = payoff_terms(document)
    no_waiver = dataclasses.replace(
        policy.engine, payoff_interest_waiver_bps=0, payoff_fee_waiver_bps=0
    )
    quote = plan_payoff(
        scheduled_lines(document),
        state,
        settlement=terms.settlement,
        nominal_annual_rate=terms.nominal_annual_rate,
        as_of=terms.as_of,
        on=max(on, terms.as_of),
        policy=no_waiver,
        interest_arrears_minor=terms.interest_arrears_minor,
    )
    # (interest paid ahead for days not yet run is already off the quote's principal)
    return Owed(quote.principal_minor, quote.interest_minor, quote.fees_minor)


def review_plans(db: Session, *, on: date) -> int:
    """The daily job: record every open plan's life through ``on`` (late, missed, broken as
    dates pass), in the caller's transaction; how many transitions it recorded. Running it
    again for the same day records nothing."""
    recorded = 0
    plans = db.scalars(
        select(AcceptedPlan)
        .where(AcceptedPlan.state.in_(OPEN_STATES))
        .options(selectinload(AcceptedPlan.offer).selectinload(SavedOffer.debt))
        .order_by(AcceptedPlan.accepted_at, AcceptedPlan.id)
    )
    for plan in plans:
        recorded += len(advance(db, plan, on))
    return recorded


def decide_for(db: Session, plan_id: str, body: PlanDecisionIn, key: Actor) -> AcceptedPlan:
    """A collector's, supervisor's or finance's decision on a plan they may work."""
    plan = plan_for(db, plan_id, key, Action.WORK)
    decision = Decision(body.decision)
    if decision is Decision.WRITE_OFF and not key.rank.includes(Role.SUPERVISOR):
        raise forbidden("A write-off is a supervisor's, finance's or an admin's decision.")
    db.refresh(plan, with_for_update=True)
    decide(db, plan, decision, on=date.today(), detail=body.reason, key=key)
    bus.publish(db, PlanClosed(plan, plan.state_since, decision))
    return plan
