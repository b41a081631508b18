"""The contact rules applied to a debt's parties: may this party be contacted now, on this
channel, for this purpose (the check), and the record of each attempt made.

The engine (``plans.contact``) judges against the jurisdiction's rules in the default policy's
latest version (hours, days, caps per channel, cooling-off, who may be told what) and the
debt's whole history of attempts, whoever made them. A refused attempt is a 409 naming the
rule; a recorded one is audited with masked details only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import trail
from app.contacts.models import ContactAttempt
from app.contacts.models import Party as PartyRow
from app.contacts.parties import channels_of, lock_debt, party_for
from app.core.access import Action, Actor, actor
from app.core.db import utcnow
from app.core.errors import FieldError, Problem
from app.core.masking import masked_channels
from app.finance.policies import contact_rules
from plans.contact import (
    Attempt,
    Channel,
    ContactNotAllowed,
    Party,
    Verdict,
    check_contact,
    record_attempt,
)
from plans.contact_rules import Jurisdiction, Outcome, Purpose, Role, Rule
from schemas.contacts import ContactAttemptIn, ContactCheckIn

Json = dict[str, Any]


def engine_party(row: PartyRow) -> Party:
    """The engine's view of a party: the channels given, never their numbers."""
    return Party(
        row.id,
        Role(row.role),
        row.time_zone,
        locale=row.locale,
        channels=frozenset(Channel(c) for c in channels_of(row)),
        opted_out=frozenset(Channel(c) for c in row.opted_out),
        stopped=row.stopped_at is not None,
        guaranteed_minor=row.guaranteed_minor,
    )


def history(db: Session, debt_id: str) -> list[Attempt]:
    """Every attempt recorded on a debt, to any of its parties, oldest first."""
    rows = db.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.debt_id == debt_id)
        .order_by(ContactAttempt.at, ContactAttempt.id)
    )
    return [Attempt(r.party_id, Channel(r.channel), r.at, Outcome(r.outcome)) for r in rows]


def _rule_json(rule: Rule, rules: Jurisdiction) -> Json:
    return {
        "id": rule.id,
        "text": rule.text,
        "source": rule.source,
        "policy_version": rules.policy_version,
    }


def _verdict_json(verdict: Verdict, party: Party, rules: Jurisdiction) -> Json:
    refused = None
    if not verdict.allowed:
        refused = {
            "id": verdict.rule_id,
            "text": verdict.text,
            "source": verdict.source,
            "policy_version": verdict.policy_version,
        }
    when = verdict.next_permitted
    return {
        "allowed": verdict.allowed,
        "policy_version": verdict.policy_version,
        "requires": [_rule_json(r, rules) for r in verdict.requires],
        "rule": refused,
        # in the party's own zone: what the collector tells them, and checks against
        "next_permitted": None if when is None else when.astimezone(party.zone),
    }


def check(db: Session, body: ContactCheckIn, key: Actor) -> Json:
    """``schemas.contacts.ContactCheckOut`` for a proposed contact."""
    row = party_for(db, body.debt_ref, body.party_id, key)
    party, rules = engine_party(row), contact_rules(db, row.jurisdiction, row.debt.organisation_id)
    verdict = check_contact(
        party,
        body.channel,
        body.at or utcnow(),
        history=history(db, row.debt_id),
        rules=rules,
        purpose=body.purpose,
    )
    return _verdict_json(verdict, party, rules)


def _refused(verdict: Verdict, party: Party) -> Problem:
    when = verdict.next_permitted
    local = None if when is None else when.astimezone(party.zone).isoformat()
    after = f" Next permitted: {local}." if local else " Waiting does not make it permitted."
    return Problem(
        409,
        "contact-not-allowed",
        "Conflict",
        f"{verdict.rule_id}: {verdict.text}{after} Nothing was recorded.",
        [FieldError("at", verdict.rule_id or "contact", verdict.text or "")],
        extensions={
            "rule": {
                "id": verdict.rule_id,
                "text": verdict.text,
                "source": verdict.source,
                "policy_version": verdict.policy_version,
            },
            "next_permitted": local,
        },
    )


def _at(value: datetime) -> str:
    return value.isoformat()


def record(db: Session, body: ContactAttemptIn, key: Actor) -> Json:
    """Record an attempt the rules allow (409 and nothing stored otherwise); audited."""
    row = party_for(db, body.debt_ref, body.party_id, key, Action.WORK)
    lock_debt(db, row.debt)
    party, rules = engine_party(row), contact_rules(db, row.jurisdiction, row.debt.organisation_id)
    past = history(db, row.debt_id)
    purpose = Purpose(body.purpose)
    verdict = check_contact(
        party, body.channel, body.at, history=past, rules=rules, purpose=purpose
    )
    attempt = Attempt(row.id, body.channel, body.at, body.outcome)
    try:
        record_attempt(party, attempt, history=past, rules=rules, purpose=purpose)
    except ContactNotAllowed as refused:
        raise _refused(refused.verdict, party) from None
    stored = ContactAttempt(
        debt_id=row.debt_id,
        debt_ref=body.debt_ref,
        party_id=row.id,
        channel=attempt.channel.value,
        at=attempt.at,
        outcome=attempt.outcome.value,
        purpose=purpose.value,
        rules_version=rules.policy_version,
        created_by=key.id,
        created_at=utcnow(),
    )
    db.add(stored)
    db.flush()
    address = channels_of(row)[attempt.channel.value]
    trail.record(
        db,
        "contact_attempt",
        actor=actor(key),
        payload={
            "debt_ref": body.debt_ref,
            "party_id": row.id,
            "role": row.role,
            "channel": stored.channel,
            "to": masked_channels({stored.channel: address})[stored.channel],
            "at": _at(attempt.at),
            "outcome": stored.outcome,
            "purpose": stored.purpose,
            "policy_version": stored.rules_version,
        },
        organisation_id=row.debt.organisation_id,
    )
    return {
        "id": stored.id,
        "debt_ref": stored.debt_ref,
        "party_id": stored.party_id,
        "channel": stored.channel,
        "at": stored.at,
        "outcome": stored.outcome,
        "purpose": stored.purpose,
        "policy_version": stored.rules_version,
        "requires": [_rule_json(r, rules) for r in verdict.requires],
        "created_at": stored.created_at,
    }
