"""Consolidated offers saved behind one link, accepted as one plan per debt, and the money
received against them shared between those plans.

Saving keeps each debt's part of a consolidated offer (``plans.consolidation``) as that debt's
own saved offer, with its single-debt document, so that once accepted each debt's plan lives,
breaks, is paid off and is certified exactly as any plan (``app.links.plans``). The group
(:class:`app.links.models.OfferGroup`) holds what the debtor sees and accepts: the combined
offer. A payment received against the consolidated plan is shared by the offer's allocation
rule (``plans.consolidated_payments.share_payment``) from what each debt's own plan still asks
that day; each part is then a payment of that plan, recorded, audited and confirmed as one, and
the sharing itself is audited (``payment_allocated``).

Who sees what: the consolidated plan is its lead debt's to see (``app.core.access.can``), as the
link is; each debt's own plan and offer, as any.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import trail
from app.core.access import Action, Actor, actor, can, not_visible, open_debt
from app.core.db import utcnow
from app.core.errors import conflict
from app.core.idempotency import request_fingerprint
from app.finance.policies import resolve_for_offer
from app.links import plans as plan_life
from app.links.models import (
    OPEN_STATES,
    AcceptedPlan,
    GroupPayment,
    OfferGroup,
    PlanPayment,
    SavedOffer,
)
from app.links.plans import completed_on
from app.links.sharing import (
    TOKEN_BYTES,
    chosen,
    group_members,
    page_query,
    page_view,
    reschedules,
    saved_before,
    saved_json,
    seal_token,
    token_hash,
    unseal_token,
)
from app.links.views import (
    ConfirmedPayment,
    ContactView,
    DebtPart,
    InstalmentStatus,
    OfferView,
    PayoffView,
)
from app.links.views import InstalmentState as LineState
from app.offers import calculations
from app.offers.consolidated import affordability_of, allocation_text, consolidated_summary
from app.offers.summaries import summary
from plans.allocation import AllocationRule, NamedDebt, payment_order
from plans.consolidated_payments import group_status, open_lines, pays_off, share_payment
from plans.consolidation import negotiate_consolidated
from plans.lifecycle import RUNNING
from plans.money import to_minor
from plans.payments import (
    InstalmentState,
    Overpayment,
    Payment,
    PaymentResult,
    PlanStatus,
    StandingQuote,
)
from plans.payments import InstalmentStatus as Instalment
from schemas.common import Locale
from schemas.sharing import PaymentIn, SaveConsolidated
from schemas.wire import amount_formatter, consolidated_json, offer_json

Json = dict[str, Any]


def save_consolidated(
    db: Session, request: SaveConsolidated, key: Actor, idempotency_key: str | None
) -> Json:
    """Save the consolidated offer ``request`` negotiates: one offer per debt (each debt opened
    by its ``ref`` as :func:`app.core.access.open_debt` opens one), grouped under the combined
    offer, behind one link; the lead's saved offer as ``SavedOfferOut``. Earlier open offers
    for any of the debts are superseded; an ``Idempotency-Key`` already used by this key for
    the same request gives the first result back."""
    fingerprint = request_fingerprint(request.model_dump(mode="json"))
    earlier = saved_before(db, key, idempotency_key, fingerprint)
    if earlier is not None:
        return earlier
    asked = request.negotiate
    debts = [open_debt(db, key, d.ref) for d in asked.debts]
    policy = resolve_for_offer(db, asked.policy, key, field="negotiate.policy.version")
    # each debt in its recorded jurisdiction when it has one, as one debt's offer is
    named = [
        NamedDebt(
            d.ref, replace(d.to_engine(f"negotiate.debts.{i}"), jurisdiction=row.jurisdiction)
        )
        if row.jurisdiction
        else d.named(i)
        for i, (d, row) in enumerate(zip(asked.debts, debts, strict=True))
    ]
    currency = named[0].debt.currency
    rule = policy.engine.allocation_rule
    result = negotiate_consolidated(
        named,
        asked.capacity.to_engine(currency, policy.engine),
        policy=policy.engine,
        rule=rule,
        rank_by=asked.rank_by,
        today=calculations.debt_today(policy, named[0].debt.jurisdiction),
    )
    offer = chosen(result.ranked, result.rejected, request.kind)
    locale = asked.locale
    summaries = {lang.value: consolidated_summary(offer, lang) for lang in Locale}
    token = secrets.token_urlsafe(TOKEN_BYTES)
    group = OfferGroup(
        id=uuid.uuid4().hex,
        token_hash=token_hash(token),
        token_sealed=seal_token(token),
        allocation_rule=rule.value,
        debt_order=[named[i].ref for i in payment_order(named, rule)],
        document=consolidated_json(
            offer,
            summary=summaries[locale.value],
            allocation_text=allocation_text(rule, locale),
            policy=policy.used,
        ),
        summaries=summaries,
        created_at=utcnow(),
    )
    statement = None
    if asked.capacity.statement is not None:
        statement = {
            "given": asked.capacity.statement.model_dump(mode="json"),
            "affordability": affordability_of(
                asked.capacity, currency, policy, [(offer.kind, offer.schedule.lines)], locale
            ),
        }
    now = utcnow()
    db.add(group)
    members: list[SavedOffer] = []
    for i, (part, debt) in enumerate(zip(offer.debts, debts, strict=True)):
        own = {lang.value: summary(part.offer, lang) for lang in Locale}
        document = offer_json(part.offer, summary=own[locale.value], policy=policy.used)
        current = reschedules(db, debt.id, document, f"negotiate.debts.{i}")
        own_token = secrets.token_urlsafe(TOKEN_BYTES)
        members.append(
            SavedOffer(
                id=uuid.uuid4().hex,
                debt_id=debt.id,
                debt_ref=debt.ref,
                kind=document["kind"],
                currency=currency,
                policy_id=policy.id,
                policy_version=policy.version,
                document=document,
                summaries=own,
                statement=statement if i == 0 else None,
                debtor_name=request.debtor.name,
                locale=request.locale.value,
                # each debt's own link (its page shows that debt alone): the one its parties'
                # messages carry once accepted, never the group's (a guarantor of one debt
                # learns nothing of the others); the collector shares the group's
                token_hash=token_hash(own_token),
                token_sealed=seal_token(own_token),
                expires_at=now + timedelta(days=policy.engine.link_expiry_days),
                status="offered",
                replaces_plan_id=None if current is None else current.id,
                idempotency_key=idempotency_key if i == 0 else None,
                request_hash=fingerprint,
                created_by=key.id,
                created_at=now,
                group_id=group.id,
                group_position=i,
            )
        )
    try:
        with db.begin_nested():
            db.add_all(members)
            db.flush()
    except IntegrityError:
        # the same key and Idempotency-Key, saved meanwhile by a concurrent retry
        return save_consolidated(db, request, key, idempotency_key)
    ids = [m.id for m in members]
    for member in members:
        superseded = sorted(
            db.scalars(
                update(SavedOffer)
                .where(
                    SavedOffer.debt_id == member.debt_id,
                    SavedOffer.status == "offered",
                    SavedOffer.id.not_in(ids),
                )
                .values(status="superseded", superseded_by=member.id)
                .returning(SavedOffer.id)
            )
        )
        trail.record(
            db,
            "offer_saved",
            actor=actor(key),
            offer_id=member.id,
            payload={
                "debt_ref": member.debt_ref,
                "kind": member.kind,
                "policy": member.document["policy"],
                "total": member.document["metrics"]["total_paid"],
                "currency": currency,
                "expires_at": member.expires_at.isoformat(),
                "supersedes": superseded,
                "consolidated": group.id,
                "allocation_rule": rule.value,
            },
        )
    return saved_json(db, members[0])


# ---- the consolidated plan --------------------------------------------------------------


def group_for(db: Session, group_id: str, key: Actor, action: Action = Action.READ) -> OfferGroup:
    """An accepted consolidated offer whose lead debt the key may ``action``, or the 404 of
    one that does not exist (one not accepted yet has no plan)."""
    group = db.get(OfferGroup, group_id)
    lead = None if group is None else _lead(db, group)
    if (
        group is None
        or lead is None
        or lead.status != "accepted"
        or not can(key, action, lead.debt)
    ):
        raise not_visible("consolidated plan", group_id)
    return group


def _lead(db: Session, group: OfferGroup) -> SavedOffer | None:
    return db.scalar(
        select(SavedOffer).where(SavedOffer.group_id == group.id, SavedOffer.group_position == 0)
    )


def group_plans(db: Session, group_id: str, *, lock: bool = False) -> list[AcceptedPlan]:
    """The debts' plans of an accepted consolidated offer, in the request's order."""
    query = (
        select(AcceptedPlan)
        .join(SavedOffer, SavedOffer.id == AcceptedPlan.offer_id)
        .where(SavedOffer.group_id == group_id)
        .order_by(SavedOffer.group_position)
    )
    return list(db.scalars(query.with_for_update(of=AcceptedPlan) if lock else query))


def record_group_payment(
    db: Session, group_id: str, body: PaymentIn, key: Actor, idempotency_key: str
) -> tuple[Json, bool]:
    """Record money received against a consolidated plan once per Idempotency-Key, shared
    between its debts' plans; return it and whether it is new."""
    group = group_for(db, group_id, key, Action.WORK)
    plans = group_plans(db, group.id, lock=True)  # one payment of the group at a time
    currency = plans[0].offer.currency
    fingerprint = request_fingerprint(body.model_dump(mode="json"))
    earlier = db.scalar(
        select(GroupPayment).where(
            GroupPayment.group_id == group.id, GroupPayment.idempotency_key == idempotency_key
        )
    )
    if earlier is not None:
        if earlier.request_hash != fingerprint:
            raise conflict(
                "This Idempotency-Key was used for a different payment.", "idempotency-key"
            )
        return _shared_json(earlier, group, plans, _applied(db, plans)), False
    today = date.today()
    accepted_on = min(p.accepted_at.date() for p in plans)
    amount = plan_life.payment_amount(body, currency, accepted_on=accepted_on, today=today)
    for plan in plans:
        plan_life.advance(db, plan, today)
    # money goes to plans still open (a completed one hands back what it gets)
    taking = [p.state in OPEN_STATES or p.state == PlanStatus.COMPLETED for p in plans]
    if not any(taking):
        plan_life.refuse_closed(plans[0])
    on = max(today, body.date)
    judged = [
        plan_life.state_of(db, p, on) if ok else None for p, ok in zip(plans, taking, strict=True)
    ]
    states = [None if j is None else j[0] for j in judged]
    payment = Payment(body.date, amount, body.reference)
    # enough to finish every debt that day: each gets what finishes it (its payoff quote)
    quotes = [
        None
        if j is None or j[0].outstanding_minor == 0
        else plan_life.standing_quote(p, j[0], j[2], body.date).quote.amount_minor
        for p, j in zip(plans, judged, strict=True)
    ]
    finished = pays_off(amount, quotes)
    if finished is not None:
        parts, left = finished
    else:
        rank = {ref: position for position, ref in enumerate(group.debt_order)}
        parts, left = share_payment(
            open_lines(
                [
                    date.fromisoformat(x["payment_date"])
                    for x in group.document["schedule"]["lines"]
                ],
                [None if s is None else s.instalments for s in states],
            ),
            payment,
            rule=AllocationRule(group.allocation_rule),
            rank=[rank[p.offer.debt_ref] for p in plans],
            overpayment=Overpayment(
                plan_life.resolve_version(db, plans[0].offer).engine.overpayment
            ),
        )
    # what no debt takes is the last open plan's to hand back, as a plan of its own would
    last = max(i for i, ok in enumerate(taking) if ok)
    parts[last] += left
    received = GroupPayment(
        group_id=group.id,
        amount_minor=amount,
        paid_on=body.date,
        reference=body.reference,
        refunded_minor=left,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        created_by=key.id,
    )
    try:
        with db.begin_nested():
            db.add(received)
            db.flush()
    except IntegrityError:
        return record_group_payment(db, group_id, body, key, idempotency_key)
    for plan, part in zip(plans, parts, strict=True):
        if part:
            _record_part(db, plan, received, part, key, today)
    answer = _shared_json(received, group, plans, _applied(db, plans))
    trail.record(
        db,
        "payment_allocated",
        actor=actor(key),
        offer_id=plans[0].offer_id,
        plan_id=plans[0].id,
        payload={
            "consolidated_plan_id": group.id,
            "amount": answer["amount"],
            "currency": currency,
            "date": answer["date"].isoformat(),
            "reference": received.reference,
            "allocation_rule": group.allocation_rule,
            "allocations": [
                {k: a[k] for k in ("debt_ref", "plan_id", "payment_id", "amount")}
                for a in answer["allocations"]
            ],
            "refunded": answer["refunded"],
        },
    )
    return answer, True


def _record_part(
    db: Session,
    plan: AcceptedPlan,
    received: GroupPayment,
    part: int,
    key: Actor,
    today: date,
) -> None:
    # one debt's part: a payment of its plan, recorded, audited and published as any
    row = PlanPayment(
        plan_id=plan.id,
        amount_minor=part,
        paid_on=received.paid_on,
        known_on=max(received.paid_on, today, plan.reviewed_through),
        reference=received.reference,
        idempotency_key=received.idempotency_key,
        request_hash=received.request_hash,
        created_by=key.id,
        group_payment_id=received.id,
    )
    db.add(row)
    db.flush()
    audited = {"consolidated_plan_id": received.group_id, "group_payment_id": received.id}
    plan_life.applied_payment(db, plan, row, key, today, new=True, audited=audited)


Applied = dict[int, tuple[PlanPayment, PaymentResult]]  # a payment's id: it, as applied


def _applied(db: Session, plans: list[AcceptedPlan]) -> Applied:
    # every recorded payment of the plans as its plan applied it, each plan's state replayed
    # once (through the last day its life was recorded: every payment is known by then)
    applied: Applied = {}
    for plan in plans:
        state, rows, _ = plan_life.state_of(db, plan, max(date.today(), plan.reviewed_through))
        applied.update(
            (row.id, (row, result)) for row, result in zip(rows, state.payments, strict=True)
        )
    return applied


def _shared_json(
    received: GroupPayment,
    group: OfferGroup,
    plans: list[AcceptedPlan],
    applied: Applied,
) -> Json:
    # schemas.consolidated_plans.SharedPaymentOut, each part as its plan applied it
    currency = plans[0].offer.currency
    fmt = amount_formatter(currency)
    parts = {
        row.plan_id: (row, result)
        for row, result in applied.values()
        if row.group_payment_id == received.id
    }
    allocations = []
    for plan in plans:
        if plan.id not in parts:
            continue
        row, result = parts[plan.id]
        allocations.append(
            {
                "debt_ref": plan.offer.debt_ref,
                "plan_id": plan.id,
                "payment_id": row.id,
                "amount": fmt(row.amount_minor),
                "principal": fmt(sum(a.principal_minor for a in result.allocations)),
                "interest": fmt(sum(a.interest_minor for a in result.allocations)),
                "fees": fmt(sum(a.fees_minor for a in result.allocations)),
                "refunded": fmt(result.refunded_minor),
            }
        )
    return {
        "id": received.id,
        "consolidated_plan_id": group.id,
        "amount": fmt(received.amount_minor),
        "date": received.paid_on,
        "reference": received.reference,
        "allocation_rule": group.allocation_rule,
        "allocations": allocations,
        "refunded": fmt(received.refunded_minor),
    }


def consolidated_plan_json(db: Session, group: OfferGroup, on: date) -> Json:
    """An accepted consolidated offer on ``on`` as ``ConsolidatedPlanOut``."""
    plans = group_plans(db, group.id)
    currency = plans[0].offer.currency
    fmt = amount_formatter(currency)
    debts = []
    paid = outstanding = 0
    statuses = []
    for plan in plans:
        lived, state, _, _ = plan_life.life_of(db, plan, on)
        statuses.append(lived.status)
        paid += state.paid_minor
        outstanding += state.outstanding_minor
        debts.append(
            {
                "debt_ref": plan.offer.debt_ref,
                "plan_id": plan.id,
                "status": lived.status.value,
                "paid": fmt(state.paid_minor),
                "outstanding": fmt(state.outstanding_minor),
            }
        )
    applied = _applied(db, plans)
    received = db.scalars(
        select(GroupPayment)
        .where(GroupPayment.group_id == group.id, GroupPayment.paid_on <= on)
        .order_by(GroupPayment.paid_on, GroupPayment.id)
    )
    return {
        "id": group.id,
        "currency": currency,
        "accepted_at": plans[0].accepted_at,
        "on": on,
        "status": group_status(statuses).value,
        "allocation_rule": group.allocation_rule,
        "paid": fmt(paid),
        "outstanding": fmt(outstanding),
        "debts": debts,
        "payments": [_shared_json(r, group, plans, applied) for r in received],
        "offer": group.document,
    }


# ---- the debtor's page ----------------------------------------------------------------------

_WORST: tuple[LineState, ...] = ("missed", "late", "partly_paid", "due")


def _line_status(states: Sequence[InstalmentState]) -> LineState:
    # a combined line: paid once every debt's part is, else the most pressing of its parts
    if all(s.status is Instalment.PAID for s in states):
        return "paid"
    found = {s.status.value for s in states}
    if any(s.paid_minor for s in states):
        found.add("partly_paid")
    return next(status for status in _WORST if status in found)


def group_page(
    db: Session,
    lead: SavedOffer,
    token: str,
    locale: Locale,
    *,
    marker: str | None = None,
    contact: ContactView | None = None,
) -> tuple[OfferView, list[DebtPart]]:
    """What a consolidated offer's page shows besides its combined document: the link's state
    and addresses (as one offer's, :func:`app.links.sharing.page_view`), and once accepted the
    payments received (each as shared), each line's status over the debts' parts, the plan's
    status from theirs and what would finish them all today; and each debt's part."""
    assert lead.group is not None
    group = lead.group
    base = page_view(db, lead, token, locale, marker=marker, contact=contact)
    members = group_members(db, group.id)
    if any(member.status == "superseded" for member in members):
        # a newer offer for any one of its debts replaced the whole: it can no longer be taken
        base = replace(base, state="superseded")
    outcomes = {d["debt_ref"]: d for d in group.document["debts"]}
    currency = group.document["currency"]

    def m(amount: str) -> int:
        return to_minor(amount, currency)

    plans = group_plans(db, group.id)
    if not plans:
        parts = [
            DebtPart(
                member.debt_ref,
                m(outcomes[member.debt_ref]["owed"]),
                m(outcomes[member.debt_ref]["interest_accrued"]),
                m(outcomes[member.debt_ref]["paid"]),
                m(outcomes[member.debt_ref]["waived"]),
                _day(outcomes[member.debt_ref]["cleared_on"]),
            )
            for member in members
        ]
        # the group's change page (base's: the link's own address) changes the whole
        return replace(base, summary=group.summaries.get(locale.value)), parts
    today = date.today()
    parts = []
    statuses = []
    by_date: dict[date, list[InstalmentState]] = {}
    results: dict[int, PaymentResult] = {}
    balances: dict[str, int] = {}
    payoffs: list[StandingQuote] = []
    for plan in plans:
        lived, state, rows, policy = plan_life.life_of(db, plan, today)
        ref = plan.offer.debt_ref
        outcome = outcomes[ref]
        statuses.append(lived.status)
        parts.append(
            DebtPart(
                ref,
                m(outcome["owed"]),
                m(outcome["interest_accrued"]),
                m(outcome["paid"]),
                m(outcome["waived"]),
                _day(outcome["cleared_on"]),
                lived.status.value,
                state.paid_minor,
                None
                if completed_on(db, plan) is None
                else f"/s/{unseal_token(plan.offer.token_sealed)}/certificate" + page_query(locale),
            )
        )
        for s in state.instalments:
            by_date.setdefault(s.payment_date, []).append(s)
        results.update((row.id, r) for row, r in zip(rows, state.payments, strict=True))
        balances[ref] = sum(x.payment_minor for x in plan_life.scheduled_lines(plan.offer.document))
        if lived.status in RUNNING and state.outstanding_minor > 0:
            payoffs.append(plan_life.standing_quote(plan, state, policy, state.on))
    instalments = [
        InstalmentStatus(
            x["number"],
            on,
            _line_status(by_date[on]),
            sum(s.due_minor for s in by_date[on]),
            sum(s.paid_minor for s in by_date[on]),
        )
        for x in group.document["schedule"]["lines"]
        if (on := date.fromisoformat(x["payment_date"])) in by_date
    ]
    received = db.scalars(
        select(GroupPayment)
        .where(GroupPayment.group_id == group.id)
        .order_by(GroupPayment.paid_on, GroupPayment.id)
    )
    payments = []
    refs = {plan.id: plan.offer.debt_ref for plan in plans}
    for payment in received:
        shares = db.scalars(
            select(PlanPayment).where(PlanPayment.group_payment_id == payment.id)
        ).all()
        applied = [results[row.id] for row in shares if row.id in results]
        for row in shares:
            if row.id in results:
                balances[refs[row.plan_id]] = results[row.id].balance_after_minor
        payments.append(
            ConfirmedPayment(
                paid_on=payment.paid_on,
                amount_minor=payment.amount_minor,
                reference=payment.reference,
                principal_minor=sum(a.principal_minor for r in applied for a in r.allocations),
                interest_minor=sum(a.interest_minor for r in applied for a in r.allocations),
                fees_minor=sum(a.fees_minor for r in applied for a in r.allocations),
                balance_after_minor=sum(balances.values()),
            )
        )
    status = group_status(statuses)
    view = replace(
        base,
        summary=group.summaries.get(locale.value),
        payments=payments,
        instalments=instalments,
        plan_status=status.value,
        certificate_url=None,
        payoff=_payoff(payoffs) if status in RUNNING else None,
    )
    return view, parts


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _payoff(quotes: Sequence[StandingQuote]) -> PayoffView | None:
    # what finishes every debt's plan today: their quotes added up, valid while all are
    if not quotes:
        return None
    until = [q.valid_until for q in quotes]
    return PayoffView(
        on=min(q.quote.on for q in quotes),
        valid_until=None if None in until else min(d for d in until if d is not None),
        principal_minor=sum(q.quote.principal_minor for q in quotes),
        interest_minor=sum(q.quote.interest_minor for q in quotes),
        accrued_interest_minor=sum(q.quote.accrued_interest_minor for q in quotes),
        fees_minor=sum(q.quote.fees_minor for q in quotes),
        waived_minor=sum(q.quote.waived_minor for q in quotes),
        amount_minor=sum(q.quote.amount_minor for q in quotes),
    )
