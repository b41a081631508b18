"""Change requests through a consolidated offer's link: one proposal for all its debts.

The group's link (``OfferGroup.token_hash``) opens its lead offer (``app.links.sharing.by_token``);
its change page judges the debtor's proposal for the whole group as one plan
(``plans.consolidated_counter.counter_consolidated``): each debt's owed now exactly as one
debt's change counts it (:func:`app.changes.change_requests.standing`), the lead's policy
version, the group's allocation rule and the lead's frequency. A request made here is recorded
on the lead's offer and debt (``ChangeRequest.offer_id``, ``debt_id``) with the consolidated
offer chosen as its document; a collector answers it as any, with a new offer of the lead debt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.changes.change_requests import (
    AS_PROPOSED,
    BLANKS,
    Standing,
    iso_day,
    made_already,
    proposal_json,
    read_proposal,
    requests_left,
    standing,
    stored_request,
)
from app.changes.models import ChangeRequest
from app.core.canonical import canonical
from app.core.db import utcnow
from app.core.errors import FieldError, conflict, invalid, no_such_link
from app.finance.policies import ResolvedPolicy
from app.links import sharing
from app.links.models import OfferGroup, SavedOffer
from app.offers.consolidated import allocation_text, consolidated_summary
from plans.allocation import AllocationRule, NamedDebt
from plans.calendar import Frequency
from plans.consolidated_counter import ConsolidatedCounterResult, counter_consolidated
from plans.consolidation import ConsolidatedOffer
from plans.counter import Proposal
from plans.money import to_minor
from plans.schedule import LineKind
from schemas.common import Locale
from schemas.wire import amount_formatter, consolidated_counter_json, consolidated_json

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class GroupStanding:
    """Where a consolidated offer's debts stand today, for a change: ``debts`` are those that
    still owe something (none: nothing is owed)."""

    offer: SavedOffer  # the lead's
    group: OfferGroup
    members: tuple[Standing, ...]
    policy: ResolvedPolicy
    debts: tuple[NamedDebt, ...]
    rule: AllocationRule
    frequency: Frequency
    owed: Json  # schemas.changes.OwedNowOut, the debts' sum
    today: date

    @property
    def currency(self) -> str:
        """The plan's currency."""
        return self.offer.currency

    @property
    def superseded(self) -> bool:
        """Whether a newer offer replaced one of the debts' (and so the whole)."""
        return any(m.offer.status == "superseded" for m in self.members)

    @property
    def owes(self) -> bool:
        """Whether anything is owed on any of the debts."""
        return bool(self.debts)

    @property
    def latest_start(self) -> date:
        """The latest first payment the policy allows, from the earliest debt's as-of date
        (as ``counter_consolidated`` bounds it)."""
        as_of = min((d.debt.as_of for d in self.debts), default=self.today)
        return as_of + timedelta(days=self.policy.engine.max_start_delay_days)

    def read(self, fields: Mapping[str, str | None]) -> Proposal:
        """The debtor's fields as a proposal for the group; a plan replaced or with nothing
        owed is a 409 first, whatever the fields say."""
        check_group_open(self)
        return read_proposal(
            fields,
            currency=self.currency,
            earliest=self.today,
            latest=self.latest_start,
            frequency=self.frequency,
        )


def group_standing(db: Session, lead: SavedOffer, today: date) -> GroupStanding:
    """What each debt of ``lead``'s consolidated offer owes today (as one debt's change counts
    it), under the lead's policy version and the group's allocation rule."""
    assert lead.group is not None
    group = lead.group
    members = tuple(standing(db, m, today) for m in sharing.group_members(db, group.id))
    debts = tuple(NamedDebt(m.offer.debt_ref, m.debt) for m in members if m.debt is not None)
    currency = lead.currency
    fmt = amount_formatter(currency)

    parts = {
        key: sum(to_minor(m.owed[key], currency) for m in members)
        for key in ("principal", "interest", "fees", "total")
    }
    return GroupStanding(
        offer=lead,
        group=group,
        members=members,
        policy=members[0].policy,
        debts=debts,
        rule=AllocationRule(group.allocation_rule),
        frequency=members[0].frequency,
        owed={
            "currency": currency,
            "as_of": min(m.owed["as_of"] for m in members),
            **{key: fmt(minor) for key, minor in parts.items()},
        },
        today=today,
    )


def check_group_open(state: GroupStanding) -> None:
    """409 for a consolidated offer nothing can change: replaced, or nothing owed."""
    if state.superseded:
        raise conflict(
            "This offer was replaced by a newer one: use the newer offer's link.", "superseded"
        )
    if not state.owes:
        raise conflict("Nothing is owed on this plan: there is nothing to change.", "nothing-owed")


def evaluate_group(state: GroupStanding, proposal: Proposal) -> ConsolidatedCounterResult:
    """The consolidated counter-offer engine on what the debts owe now."""
    check_group_open(state)
    return counter_consolidated(
        state.debts,
        proposal,
        policy=state.policy.engine,
        rule=state.rule,
        today=state.today,
    )


def group_candidates(result: ConsolidatedCounterResult) -> list[tuple[str, ConsolidatedOffer]]:
    """The consolidated plans a debtor may ask for: (choice, offer)."""
    if result.accepted and result.offer is not None:
        return [(AS_PROPOSED, result.offer)]
    return [(a.change.value, a.offer) for a in result.alternatives]


def _document(state: GroupStanding, offer: ConsolidatedOffer, locale: Locale) -> Json:
    # as a consolidated negotiation writes its offers (app.offers.consolidated)
    return consolidated_json(
        offer,
        summary=consolidated_summary(offer, locale),
        allocation_text=allocation_text(state.rule, locale),
        policy=state.policy.used,
    )


def group_evaluation_json(
    db: Session, state: GroupStanding, proposal: Proposal, locale: Locale
) -> Json:
    """The answer to a proposal for the group as ``schemas.changes.Evaluation``."""
    result = evaluate_group(state, proposal)
    return {
        "owed": state.owed,
        "proposal": proposal_json(proposal, state.currency),
        "result": consolidated_counter_json(
            result, rule=state.rule.value, render=lambda o: _document(state, o, locale)
        ),
        "requests_left_today": requests_left(db, state.offer),
    }


def open_group_link(db: Session, token: str) -> SavedOffer:
    """The lead offer of a consolidated offer's link, or the links' one 404."""
    offer = sharing.by_token(db, token)
    if offer is None or not sharing.shows_group(offer, token):
        raise no_such_link()
    return offer


def request_group_change(
    db: Session, token: str, fields: Mapping[str, str | None], locale: Locale
) -> tuple[ChangeRequest, bool]:
    """Record the consolidated plan the debtor chose through the group's link, on the lead's
    offer and debt; the request and whether it is new."""
    lead = open_group_link(db, token)
    # one request of the link at a time, as one debt's (the lead's row is the lock)
    db.refresh(lead, with_for_update=True)
    now = utcnow()
    today = now.date()
    state = group_standing(db, lead, today)
    proposal = state.read(fields)
    choice = (fields.get("choice") or "").strip(BLANKS)
    chosen = next(
        (c for c in group_candidates(evaluate_group(state, proposal)) if c[0] == choice), None
    )
    if chosen is None:
        raise invalid(
            [FieldError("choice", "not_offered", f"the answer to this proposal has no {choice!r}")]
        )
    proposed = {**proposal_json(proposal, lead.currency), "start": iso_day(proposal.start)}
    # the group's in the fingerprint: never the same request as one of the lead debt's own
    fingerprint = hashlib.sha256(
        canonical(
            {
                "proposal": proposed,
                "choice": choice,
                "on": str(today),
                "consolidated": state.group.id,
            }
        )
    ).hexdigest()
    earlier = made_already(db, lead, fingerprint, now)
    if earlier is not None:
        return earlier, False
    _, plan = chosen
    document = _document(state, plan, locale)
    lead_standing = state.members[0]
    row = stored_request(
        db,
        lead,
        plan_id=None if lead_standing.plan is None else lead_standing.plan.id,
        choice=choice,
        proposal=proposed,
        owed=state.owed,
        document=document,
        summaries={lang.value: consolidated_summary(plan, lang) for lang in Locale},
        fingerprint=fingerprint,
        now=now,
        instalments=sum(
            1 for x in plan.schedule.lines if x.payment_minor and x.kind is LineKind.INSTALMENT
        ),
        instalment=amount_formatter(lead.currency)(plan.largest_payment_minor),
        audited={"consolidated": state.group.id, "debts": [d.ref for d in state.debts]},
    )
    if row is None:  # the same submission, recorded meanwhile by a concurrent one
        return request_group_change(db, token, fields, locale)
    return row, True
