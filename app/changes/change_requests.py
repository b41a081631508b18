"""Change requests: the debtor asks, through their link, for a plan they can afford.

The debtor proposes a payment a period (and optionally a start and a lump sum). The
counter-offer engine (``plans.counter.counter_offer``) judges it against what is owed now, under
the exact policy version the link's offer was made under: the plan as proposed if the rules
allow it, else the nearest plans they do. Asking for one of those records a change request,
recomputed here from the proposal (a form never carries a finished plan), audited in the
chain, once per link, proposal and choice a day, and at most :data:`MAX_REQUESTS_PER_DAY` a
link in any 24 hours. A collector then answers it: a new offer made (named) or declined.

What is owed now: on an accepted plan, what it still asks for today (principal and fees
unpaid; interest due by today and accrued since the last due date, as the plan's payoff quote
counts it but without its early-payoff waiver; a broken plan's recomputed balance); on an
offer not yet accepted, the offer's own debt on its as-of date. The new plan keeps the old
one's frequency and rate (an interest freeze stays one).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import trail
from app.changes.models import ChangeRequest
from app.core.access import Action, Actor, actor, can, reachable
from app.core.canonical import canonical
from app.core.db import utcnow
from app.core.errors import FieldError, Problem, conflict, invalid, no_such_link, not_found
from app.core.models import ApiKey
from app.core.models import Debt as DebtRow
from app.finance.policies import ResolvedPolicy
from app.links import plans, sharing
from app.links.models import AcceptedPlan, SavedOffer
from app.offers.summaries import summary
from plans.calendar import Frequency
from plans.counter import CounterResult, Proposal, counter_offer
from plans.debt import Debt, check_amount
from plans.errors import DomainError
from plans.money import to_minor
from plans.offer import Offer
from schemas.changes import DecisionIn
from schemas.common import Locale
from schemas.wire import amount_formatter, counter_json, offer_json

Json = dict[str, Any]

MAX_REQUESTS_PER_DAY = 5
WINDOW = timedelta(days=1)
AS_PROPOSED = "as_proposed"
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# what the debtor typed around a field's value, and only that, is ignored (the contract's
# patterns for these fields, schemas.changes, say the same)
BLANKS = " \t\n\r\v\f"


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a link's debt stands today, for a change: ``debt`` is ``None`` if nothing is owed."""

    offer: SavedOffer
    plan: AcceptedPlan | None
    policy: ResolvedPolicy
    debt: Debt | None
    frequency: Frequency
    owed: Json  # schemas.changes.OwedNowOut
    today: date

    @property
    def currency(self) -> str:
        """The plan's currency."""
        return self.offer.currency

    def read(self, fields: Mapping[str, str | None]) -> Proposal:
        """The debtor's fields as a proposal for this plan (:func:`read_proposal`); a plan
        replaced or with nothing owed is a 409 first, whatever the fields say."""
        check_open(self)
        return read_proposal(
            fields,
            currency=self.currency,
            earliest=self.today,
            latest=self.latest_start,
            frequency=self.frequency,
        )

    @property
    def latest_start(self) -> date:
        """The latest first payment the policy allows (``max_start_delay_days``)."""
        as_of = self.debt.as_of if self.debt is not None else self.today
        return as_of + timedelta(days=self.policy.engine.max_start_delay_days)


def standing(db: Session, offer: SavedOffer, today: date) -> Standing:
    """What is owed on the link's plan (or offer) today, and under which policy version."""
    document = offer.document
    currency = offer.currency
    policy = plans.resolve_version(db, offer)
    plan = db.scalar(select(AcceptedPlan).where(AcceptedPlan.offer_id == offer.id))
    if plan is None:
        owed = document["owed"]
        as_of = date.fromisoformat(document["as_of"])
        principal, interest, fees = (
            to_minor(owed[k], currency) for k in ("principal", "interest", "fees")
        )
        days_past_due = 0
    else:
        # what the plan still asks, no waiver: exactly what a new offer for the debt must
        # start from (app.links.sharing: one live arrangement per debt)
        state, _, plan_policy = plans.state_of(db, plan, today)
        owed_now = plans.still_asks(plan.offer.document, state, plan_policy, today)
        principal, interest, fees = (
            owed_now.principal_minor,
            owed_now.interest_minor,
            owed_now.fees_minor,
        )
        as_of = today
        days_past_due = max((s.days_late for s in state.instalments), default=0)
    fmt = amount_formatter(currency)
    total = principal + interest + fees
    debt = None
    if total > 0:
        debt = Debt(
            currency,
            principal,
            interest,
            fees,
            Decimal(document["terms"]["nominal_annual_rate"]),
            as_of,
            days_past_due,
            # the jurisdiction the offer was measured in (none on offers saved before it was)
            document["metrics"].get("annual_rate", {}).get("jurisdiction"),
        )
    return Standing(
        offer=offer,
        plan=plan,
        policy=policy,
        debt=debt,
        frequency=Frequency(document["terms"]["frequency"]),
        owed={
            "currency": currency,
            "as_of": as_of,
            "principal": fmt(principal),
            "interest": fmt(interest),
            "fees": fmt(fees),
            "total": fmt(total),
        },
        today=today,
    )


# ---- reading a proposal -----------------------------------------------------------------


def _amount(raw: str | None, currency: str, field: str, *, required: bool) -> int:
    text = (raw or "").strip(BLANKS)
    if not text:
        if required:
            raise DomainError(field, "required", "enter an amount")
        return 0
    if not _NUMBER.fullmatch(text):
        raise DomainError(field, "number", "must be a number such as 500.00")
    if text.startswith("-"):
        raise DomainError(field, "non_negative", "must not be negative")
    minor = to_minor(text, currency, field=field)
    if required and minor == 0:
        raise DomainError(field, "positive", "must be more than zero")
    return check_amount(minor, field=field)


def _start(raw: str | None, earliest: date, latest: date) -> date | None:
    text = (raw or "").strip(BLANKS)
    if not text:
        return None
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        start = date.fromisoformat(text)
    except ValueError:
        raise DomainError("start", "date", "must be a date as YYYY-MM-DD") from None
    if start < earliest:
        raise DomainError("start", "not_in_past", f"must not be before {earliest.isoformat()}")
    if start > latest:
        raise DomainError(
            "start", "max_start_delay", f"the policy lets a plan start by {latest.isoformat()}"
        )
    return start


def read_proposal(
    fields: Mapping[str, str | None],
    *,
    currency: str,
    earliest: date,
    latest: date,
    frequency: Frequency = Frequency.MONTHLY,
) -> Proposal:
    """The debtor's fields as the engine's proposal; every broken rule at once, as a 422.

    ``earliest`` and ``latest`` bound the start: today, and the as-of date plus the policy's
    ``max_start_delay_days``.

    Examples
    --------
    >>> days = {"earliest": date(2026, 12, 1), "latest": date(2027, 1, 15)}
    >>> read_proposal({"payment": "500.00"}, currency="CNY", **days).payment_minor
    50000
    >>> try:
    ...     read_proposal({"payment": "5.001", "start": "2027-02-01"}, currency="CNY", **days)
    ... except Problem as problem:
    ...     print([(e.field, e.rule) for e in problem.errors])
    [('payment', 'max_decimals'), ('start', 'max_start_delay')]
    """
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    readers: dict[str, Callable[[], Any]] = {
        "payment": lambda: _amount(fields.get("payment"), currency, "payment", required=True),
        "lump_sum": lambda: _amount(fields.get("lump_sum"), currency, "lump_sum", required=False),
        "start": lambda: _start(fields.get("start"), earliest, latest),
    }
    for name, read in readers.items():
        try:
            values[name] = read()
        except DomainError as error:
            errors.append(FieldError(error.field, error.rule, error.detail))
    if errors:
        raise invalid(errors)
    return Proposal(
        payment_minor=values["payment"],
        start=values["start"],
        frequency=frequency,
        lump_sum_minor=values["lump_sum"],
    )


def proposal_json(proposal: Proposal, currency: str) -> Json:
    """A proposal as ``schemas.changes.ProposalOut``."""
    fmt = amount_formatter(currency)
    return {
        "payment": fmt(proposal.payment_minor or 0),
        "start": proposal.start,
        "lump_sum": fmt(proposal.lump_sum_minor),
        "frequency": proposal.frequency.value,
    }


# ---- the engine's answer ----------------------------------------------------------------


def check_open(standing: Standing) -> None:
    """409 for a plan nothing can change: replaced by a newer offer, or nothing owed."""
    if standing.offer.status == "superseded":
        raise conflict(
            "This offer was replaced by a newer one: use the newer offer's link.", "superseded"
        )
    if standing.debt is None:
        raise conflict("Nothing is owed on this plan: there is nothing to change.", "nothing-owed")


def evaluate(standing: Standing, proposal: Proposal) -> CounterResult:
    """The counter-offer engine on what is owed now, under the offer's policy version."""
    check_open(standing)
    assert standing.debt is not None
    # no plan whose first payment is before the day the page bounds a start by
    return counter_offer(
        standing.debt, proposal, policy=standing.policy.engine, today=standing.today
    )


def candidates(result: CounterResult) -> list[tuple[str, Offer, str]]:
    """The plans a debtor may ask for: (choice, offer, reason)."""
    if result.accepted and result.offer is not None:
        return [(AS_PROPOSED, result.offer, "the proposal fits the policy as it stands")]
    return [(a.change.value, a.offer, a.reason) for a in result.alternatives]


def requests_left(db: Session, offer: SavedOffer, now: datetime | None = None) -> int:
    """How many change requests the link may still make in the current 24 hours."""
    return max(0, MAX_REQUESTS_PER_DAY - _recent(db, offer, now or utcnow()))


def _recent(db: Session, offer: SavedOffer, now: datetime) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(ChangeRequest)
            .where(ChangeRequest.offer_id == offer.id, ChangeRequest.created_at > now - WINDOW)
        )
        or 0
    )


def evaluation_json(db: Session, standing: Standing, proposal: Proposal, locale: Locale) -> Json:
    """The answer to a proposal as ``schemas.changes.Evaluation``."""
    result = evaluate(standing, proposal)
    return {
        "owed": standing.owed,
        "proposal": proposal_json(proposal, standing.currency),
        "result": counter_json(
            result, summarise=lambda o: summary(o, locale), policy=standing.policy.used
        ),
        "requests_left_today": requests_left(db, standing.offer),
    }


# ---- asking for a plan ------------------------------------------------------------------


def open_link(db: Session, token: str) -> SavedOffer:
    """The link's offer (one debt's: :func:`app.links.sharing.one_debts`), or the links' one
    404."""
    offer = sharing.one_debts(db, token)
    if offer is None:
        raise no_such_link()
    return offer


def too_many(db: Session, offer: SavedOffer, now: datetime) -> Problem:
    """429: the link made its requests for the day; when the oldest leaves the window."""
    oldest = db.scalar(
        select(func.min(ChangeRequest.created_at)).where(
            ChangeRequest.offer_id == offer.id, ChangeRequest.created_at > now - WINDOW
        )
    )
    wait = WINDOW if oldest is None else oldest + WINDOW - now
    seconds = max(1, int(wait.total_seconds()) + 1)
    return Problem(
        429,
        "too-many-requests",
        "Too Many Requests",
        f"A link may ask for at most {MAX_REQUESTS_PER_DAY} changes in 24 hours;"
        f" try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
        echo_path=False,
    )


def request_change(
    db: Session, token: str, fields: Mapping[str, str | None], locale: Locale
) -> tuple[ChangeRequest, bool]:
    """Record the plan the debtor chose; the request and whether it is new."""
    offer = open_link(db, token)
    # One request of a link at a time: the duplicate check and the day's count see the others.
    db.refresh(offer, with_for_update=True)
    now = utcnow()
    today = now.date()
    state = standing(db, offer, today)
    proposal = state.read(fields)
    choice = (fields.get("choice") or "").strip(BLANKS)
    chosen = next((c for c in candidates(evaluate(state, proposal)) if c[0] == choice), None)
    if chosen is None:
        raise invalid(
            [FieldError("choice", "not_offered", f"the answer to this proposal has no {choice!r}")]
        )
    proposed = proposal_json(proposal, offer.currency)
    fingerprint = hashlib.sha256(
        canonical(
            {
                "proposal": {**proposed, "start": iso_day(proposal.start)},
                "choice": choice,
                "on": str(today),
            }
        )
    ).hexdigest()
    earlier = made_already(db, offer, fingerprint, now)
    if earlier is not None:
        return earlier, False
    _, plan, _reason = chosen
    document = offer_json(plan, summary=summary(plan, locale), policy=state.policy.used)
    row = stored_request(
        db,
        offer,
        plan_id=None if state.plan is None else state.plan.id,
        choice=choice,
        proposal={**proposed, "start": iso_day(proposal.start)},
        owed=state.owed,
        document=document,
        summaries={lang.value: summary(plan, lang) for lang in Locale},
        fingerprint=fingerprint,
        now=now,
        instalments=document["terms"]["instalments"],
        instalment=document["terms"]["instalment"],
    )
    if row is None:  # the same submission, recorded meanwhile by a concurrent one
        return request_change(db, token, fields, locale)
    return row, True


def made_already(
    db: Session, offer: SavedOffer, fingerprint: str, now: datetime
) -> ChangeRequest | None:
    """The request this same submission (``fingerprint``) made through ``offer``'s link, if
    any; else None once the link may make another today (a 429 when it may not)."""
    earlier = db.scalar(
        select(ChangeRequest).where(
            ChangeRequest.offer_id == offer.id, ChangeRequest.request_hash == fingerprint
        )
    )
    if earlier is None and _recent(db, offer, now) >= MAX_REQUESTS_PER_DAY:
        raise too_many(db, offer, now)
    return earlier


def stored_request(
    db: Session,
    offer: SavedOffer,
    *,
    plan_id: str | None,
    choice: str,
    proposal: Json,
    owed: Json,
    document: Json,
    summaries: dict[str, str],
    fingerprint: str,
    now: datetime,
    instalments: int,
    instalment: str,
    audited: Json | None = None,
) -> ChangeRequest | None:
    """A new open request through ``offer``'s link, flushed and audited as
    ``change_requested`` (its plan's ``instalments`` of ``instalment`` said, with ``audited``
    added); None if a concurrent identical submission recorded it first (its fingerprint is
    unique per link)."""
    row = ChangeRequest(
        id=uuid.uuid4().hex,
        offer_id=offer.id,
        plan_id=plan_id,
        debt_id=offer.debt_id,
        debt_ref=offer.debt_ref,
        choice=choice,
        proposal=proposal,
        owed={**owed, "as_of": owed["as_of"].isoformat()},
        document=document,
        summaries=summaries,
        request_hash=fingerprint,
        status="open",
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        return None
    trail.record(
        db,
        "change_requested",
        actor="debtor",
        offer_id=offer.id,
        plan_id=row.plan_id,
        payload={
            "request_id": row.id,
            "debt_ref": offer.debt_ref,
            "choice": choice,
            "kind": document["kind"],
            "instalments": instalments,
            "instalment": instalment,
            "total": document["metrics"]["total_paid"],
            "currency": offer.currency,
            "policy": document["policy"],
            **(audited or {}),
        },
    )
    return row


def iso_day(day: date | None) -> str | None:
    """A date as ISO 8601 text, None kept."""
    return None if day is None else day.isoformat()


def receipt_json(row: ChangeRequest) -> Json:
    """The debtor's copy of a request (``schemas.changes.Receipt``)."""
    return {
        "id": row.id,
        "status": row.status,
        "choice": row.choice,
        "created_at": row.created_at,
        "offer": row.document,
    }


def debtor_request(
    db: Session, offer: SavedOffer, request_id: str, *, consolidated: bool = False
) -> ChangeRequest | None:
    """A request made through this link (``None`` for any other id): one debt's through the
    offer's own link, a consolidated one's through its group's (``consolidated``)."""
    row = db.get(ChangeRequest, request_id)
    if row is None or row.offer_id != offer.id:
        return None
    # a consolidated request's document names its allocation rule; one debt's does not
    return row if ("allocation_rule" in row.document) == consolidated else None


# ---- the collectors' side ---------------------------------------------------------------


def request_for(
    db: Session, request_id: str, key: Actor, action: Action = Action.READ
) -> ChangeRequest:
    """A request about a debt the key may ``action``, or the 404 of one that does not exist."""
    row = db.scalar(
        select(ChangeRequest)
        .join(DebtRow, DebtRow.id == ChangeRequest.debt_id)
        .where(ChangeRequest.id == request_id, reachable(key, action))
    )
    if row is None:
        raise not_found(f"There is no change request {request_id}.")
    return row


def list_requests(
    db: Session, key: Actor, *, debt_ref: str | None, status: str | None
) -> list[ChangeRequest]:
    """Requests about debts the key may see, newest first, optionally for one debt and in one
    status."""
    query = (
        select(ChangeRequest)
        .join(DebtRow, DebtRow.id == ChangeRequest.debt_id)
        .where(reachable(key, Action.READ))
        .order_by(ChangeRequest.created_at.desc(), ChangeRequest.id)
    )
    if debt_ref is not None:
        query = query.where(ChangeRequest.debt_ref == debt_ref)
    if status is not None:
        query = query.where(ChangeRequest.status == status)
    return list(db.scalars(query))


def request_json(db: Session, row: ChangeRequest) -> Json:
    """A request as ``schemas.changes.ChangeRequestOut``."""
    decision = None
    if row.status != "open" and row.decided_at is not None:
        decider = None if row.decided_by is None else db.get(ApiKey, row.decided_by)
        decision = {
            "decision": row.status,
            "offer_id": row.decision_offer_id,
            "reason": row.decision_reason,
            "decided_at": row.decided_at,
            "decided_by": "" if decider is None else actor(decider),
        }
    return {
        "id": row.id,
        "debt_ref": row.debt_ref,
        "offer_id": row.offer_id,
        "plan_id": row.plan_id,
        "status": row.status,
        "choice": row.choice,
        "proposal": row.proposal,
        "owed": row.owed,
        "offer": row.document,
        "created_at": row.created_at,
        "decision": decision,
    }


def decide(db: Session, request_id: str, body: DecisionIn, key: Actor) -> Json:
    """Record what was done with a request, once; the same decision again changes nothing."""
    row = request_for(db, request_id, key, Action.WORK)
    db.refresh(row, with_for_update=True)
    if body.decision == "offered":
        if body.offer_id is None:
            raise invalid([FieldError("offer_id", "required", "name the new saved offer")])
        new = db.get(SavedOffer, body.offer_id)
        if new is None or not can(key, Action.WORK, new.debt):
            raise invalid([FieldError("offer_id", "exists", "there is no such saved offer")])
        if new.debt_id != row.debt_id:
            raise invalid(
                [
                    FieldError(
                        "offer_id", "same_debt", f"is an offer for another debt than {row.debt_ref}"
                    )
                ]
            )
        if new.id == row.offer_id:
            raise invalid(
                [FieldError("offer_id", "new_offer", "is the offer the debtor asked to change")]
            )
    elif body.offer_id is not None:
        raise invalid(
            [FieldError("offer_id", "not_with_declined", "a declined request names no offer")]
        )
    if row.status != "open":
        if row.status == body.decision and row.decision_offer_id == body.offer_id:
            return request_json(db, row)
        raise conflict(f"This request was already decided: {row.status}.", "already-decided")
    row.status = body.decision
    row.decision_offer_id = body.offer_id
    row.decision_reason = body.reason
    row.decided_by = key.id
    row.decided_at = utcnow()
    trail.record(
        db,
        "change_decided",
        actor=actor(key),
        offer_id=row.offer_id,
        plan_id=row.plan_id,
        # the reason is free text a person wrote: kept on the request, not in the chain
        payload={"request_id": row.id, "decision": body.decision, "new_offer_id": body.offer_id},
    )
    db.flush()
    return request_json(db, row)
