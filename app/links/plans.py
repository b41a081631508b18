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

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.audit import trail
from app.core.access import Action, Actor, actor, can, not_visible
from app.core.errors import conflict
from app.core.events import bus
from app.core.idempotency import request_fingerprint
from app.finance.policies import ResolvedPolicy, resolve
from app.links.events import InstalmentMissed, PaymentRecorded
from app.links.models import AcceptedPlan, PlanPayment, SavedOffer
from plans.errors import DomainError
from plans.money import to_minor
from plans.offer import Owed
from plans.payments import (
    InstalmentStatus,
    Overpayment,
    Payment,
    PaymentResult,
    PlanState,
    ScheduledLine,
    StandingQuote,
    plan_state,
    standing_payoff,
)
from plans.schedule import Waiver
from schemas.policies import PolicyRef
from schemas.sharing import PaymentIn
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


def _payments(db: Session, plan: AcceptedPlan) -> list[PlanPayment]:
    return list(
        db.scalars(
            select(PlanPayment)
            .where(PlanPayment.plan_id == plan.id)
            .order_by(PlanPayment.paid_on, PlanPayment.id)
        )
    )


def state_of(
    db: Session, plan: AcceptedPlan, on: date
) -> tuple[PlanState, list[PlanPayment], ResolvedPolicy]:
    """The plan's state on ``on`` under the policy version its offer came from."""
    offer = plan.offer
    policy = resolve_version(db, offer)
    rows = _payments(db, plan)
    owed, waiver = _owed_and_waiver(offer.document)
    state = plan_state(
        scheduled_lines(offer.document),
        [Payment(r.paid_on, r.amount_minor, r.reference) for r in rows],
        on=on,
        policy=policy.engine,
        owed=owed,
        waiver=waiver,
    )
    return state, rows, policy


def resolve_version(db: Session, offer: SavedOffer) -> ResolvedPolicy:
    """The exact policy version an offer was made under."""
    return resolve(
        db,
        PolicyRef(id=offer.policy_id, version=offer.policy_version),
        offer.debt.organisation_id,
    )


def _payment_json(row: PlanPayment, result: PaymentResult, currency: str, rule: str) -> Json:
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
    if earlier is None:
        amount = to_minor(body.amount, currency, field="amount")
        if amount <= 0:
            raise DomainError("amount", "positive", "a payment must be more than zero")
        if body.date < plan.accepted_at.date():
            raise DomainError("date", "not_before_acceptance", "is before the plan was accepted")
        if body.date > date.today() + timedelta(days=1):
            raise DomainError("date", "not_in_future", "a payment cannot be dated in the future")
        row = PlanPayment(
            plan_id=plan.id,
            amount_minor=amount,
            paid_on=body.date,
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
    state, rows, policy = state_of(db, plan, max(date.today(), row.paid_on))
    result = next(r for stored, r in _matching(state, rows) if stored.id == row.id)
    document = _payment_json(row, result, currency, Overpayment(policy.engine.overpayment).value)
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
            },
        )
        bus.publish(db, PaymentRecorded(plan, row, result, state))
    return document, new


def plan_json(db: Session, plan: AcceptedPlan, on: date) -> Json:
    """An accepted plan on ``on`` as ``schemas.sharing.PlanOut``."""
    state, rows, policy = state_of(db, plan, on)
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

    revocation = None
    if state.revocation is not None:
        r = state.revocation

        def owed_json(o: Owed) -> Json:
            return {
                "principal": fmt(o.principal_minor),
                "interest": fmt(o.interest_minor),
                "fees": fmt(o.fees_minor),
                "total": fmt(o.total_minor),
            }

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
        "broken_reason": state.broken_reason,
        "paid": fmt(state.paid_minor),
        "refunded": fmt(state.refunded_minor),
        "outstanding": fmt(state.outstanding_minor),
        "next_due": None if state.next_due is None else instalment(state.next_due),
        "instalments": [instalment(s) for s in state.instalments],
        "payments": [
            _payment_json(row, r, offer.currency, rule) for row, r in _matching(state, rows)
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
    owed, waiver = _owed_and_waiver(document)
    return standing_payoff(
        scheduled_lines(document),
        state,
        settlement=document["kind"] in ("settlement", "settlement_plan"),
        nominal_annual_rate=Decimal(document["terms"]["nominal_annual_rate"]),
        as_of=date.fromisoformat(document["as_of"]),
        on=on,
        policy=policy.engine,
        interest_arrears_minor=owed.interest_minor - waiver.interest_minor,
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
        .options(selectinload(AcceptedPlan.offer).selectinload(SavedOffer.debt))
        .order_by(AcceptedPlan.accepted_at)
    )
    for plan in plans:
        state, _, policy = state_of(db, plan, on)
        for s in state.instalments:
            if s.status is InstalmentStatus.MISSED:
                bus.publish(db, InstalmentMissed(plan, on, s, state, policy))
                published += 1
    return published
