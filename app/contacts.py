"""The parties of a debt and the contact rules applied to them: a service over the engine.

A party's name and contact details are sealed at rest (``app.crypto``, bound to the table,
column and row) and leave the service masked: a number keeps its country code and last two
digits, an email address its first letter and its domain, a name its initials
(``app.pages.mask_name``). Only :func:`reveal` returns them in clear, and that is an audit
event. Audit payloads and log lines carry masked forms only.

Who sees what, as for offers: a collector's key sees the parties it added (others answer 404);
finance and admin keys see all. A debt's caps and cooling-off periods count every attempt on
it, whoever made them. Opt-outs and a stop request only grow through this API: lifting them
needs the party's own request, made on their plan page (``app.preferences``).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import audit
from app.crypto import seal, unseal
from app.db import ApiKey, ContactAttempt, DebtRecord, Role, utcnow
from app.db import Party as PartyRow
from app.errors import FieldError, Problem, not_found
from app.pages import mask_name
from app.policies import contact_rules, resolve
from app.sharing import actor
from plans.contact import (
    Attempt,
    Channel,
    ContactNotAllowed,
    Party,
    Verdict,
    check_contact,
    record_attempt,
)
from plans.contact_rules import Jurisdiction, Outcome, Purpose, Rule
from plans.errors import DomainError
from plans.money import from_minor, to_minor
from schemas.contacts import ContactAttemptIn, ContactCheckIn, PartyIn, PartyPatch

Json = dict[str, Any]

TABLE = "parties"
DEFAULT_JURISDICTION = "CN"
# Any constant, distinct from the audit chain's: attempts and additions to one debt queue on
# PostgreSQL's advisory lock (debt, hash of its reference). SQLite serialises writers already.
_DEBT_LOCK = 7_270_012

# ITU-T E.164 country codes of one and two digits (Annex to ITU-T Operational Bulletin
# No. 1253, "List of ITU-T Recommendation E.164 assigned country codes"); every other code
# has three digits.
_TWO_DIGIT_CODES = frozenset(
    {
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    }
)


def mask_number(number: str) -> str:
    """An E.164 number with its country code and last 2 digits, the rest starred.

    Examples
    --------
    >>> mask_number("+8613800138000"), mask_number("+12125550123"), mask_number("+35312345678")
    ('+86 *********00', '+1 ********23', '+353 ******78')
    """
    digits = number.removeprefix("+")
    size = 1 if digits[0] in "17" else 2 if digits[:2] in _TWO_DIGIT_CODES else 3
    code, rest = digits[:size], digits[size:]
    return f"+{code} " + "*" * (len(rest) - 2) + rest[-2:]


def mask_email(address: str) -> str:
    """An email address as its first letter and its domain.

    Examples
    --------
    >>> mask_email("zhang.xiaoming@example.cn")
    'z***@example.cn'
    """
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def masked_channels(channels: dict[str, str]) -> dict[str, str | None]:
    """Every channel of a party, masked (None where not given)."""
    return {
        c.value: None
        if channels.get(c.value) is None
        else (mask_email if c is Channel.EMAIL else mask_number)(channels[c.value])
        for c in Channel
    }


# ---- sealed columns ----------------------------------------------------------------------


def _name(row: PartyRow) -> str:
    return unseal(row.name_sealed, table=TABLE, column="name_sealed", row_id=row.id)


def _channels(row: PartyRow) -> dict[str, str]:
    sealed = unseal(row.channels_sealed, table=TABLE, column="channels_sealed", row_id=row.id)
    found: dict[str, str] = json.loads(sealed)
    return found


def _set_name(row: PartyRow, name: str) -> None:
    row.name_sealed = seal(name, table=TABLE, column="name_sealed", row_id=row.id)


def _set_channels(row: PartyRow, channels: dict[str, str | None]) -> None:
    given = {name: value for name, value in channels.items() if value is not None}
    plain = json.dumps(given, sort_keys=True)
    row.channels_sealed = seal(plain, table=TABLE, column="channels_sealed", row_id=row.id)


# ---- parties -----------------------------------------------------------------------------


def _lock_debt(db: Session, debt_ref: str) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            text("SELECT pg_advisory_xact_lock(:lock, hashtext(:ref))"),
            {"lock": _DEBT_LOCK, "ref": debt_ref},
        )


def _sees_everything(key: ApiKey) -> bool:
    return Role(key.role).includes(Role.FINANCE)


def party_for(db: Session, debt_ref: str, party_id: str, key: ApiKey) -> PartyRow:
    """A party of ``debt_ref`` the key may see, or 404."""
    row = db.get(PartyRow, party_id)
    if (
        row is None
        or row.deleted_at is not None
        or row.debt_ref != debt_ref
        or not (_sees_everything(key) or row.created_by == key.id)
    ):
        raise not_found(f"Debt {debt_ref} has no party {party_id}.")
    return row


def _listed(db: Session, debt_ref: str) -> list[PartyRow]:
    return list(
        db.scalars(
            select(PartyRow)
            .where(PartyRow.debt_ref == debt_ref, PartyRow.deleted_at.is_(None))
            .order_by(PartyRow.created_at, PartyRow.id)
        )
    )


def _guaranteed(row: PartyRow) -> Json | None:
    if row.guaranteed_minor is None or row.guaranteed_currency is None:
        return None
    currency = row.guaranteed_currency
    return {"amount": str(from_minor(row.guaranteed_minor, currency)), "currency": currency}


def party_json(row: PartyRow) -> Json:
    """A party as ``schemas.contacts.PartyOut``: name and channels masked."""
    return {
        "id": row.id,
        "debt_ref": row.debt_ref,
        "role": row.role,
        "masked_name": mask_name(_name(row)),
        "masked_channels": masked_channels(_channels(row)),
        "locale": row.locale,
        "time_zone": row.time_zone,
        "jurisdiction": row.jurisdiction,
        "guaranteed": _guaranteed(row),
        "opted_out": sorted(row.opted_out),
        "opted_out_at": dict(row.opted_out),
        "stopped": row.stopped_at is not None,
        "stopped_at": row.stopped_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _audit(db: Session, kind: str, row: PartyRow, key: ApiKey, **more: Any) -> None:
    audit.record(
        db,
        kind,
        actor=actor(key),
        payload={"debt_ref": row.debt_ref, "party_id": row.id, "role": row.role, **more},
    )


def _set_guaranteed(row: PartyRow, guaranteed: Any) -> None:
    if guaranteed is None:
        row.guaranteed_minor = row.guaranteed_currency = None
        return
    if row.role != "guarantor":
        raise DomainError("guaranteed", "guarantor_only", "only a guarantor has one")
    row.guaranteed_minor = to_minor(guaranteed.amount, guaranteed.currency, field="guaranteed")
    row.guaranteed_currency = guaranteed.currency


def _default_jurisdiction(db: Session, debt_ref: str, listed: list[PartyRow]) -> str:
    """The debt's recorded jurisdiction, else its first party's, else CN."""
    recorded = db.get(DebtRecord, debt_ref)
    if recorded is not None:
        return recorded.jurisdiction
    return listed[0].jurisdiction if listed else DEFAULT_JURISDICTION


def add_party(db: Session, debt_ref: str, body: PartyIn, key: ApiKey) -> Json:
    """Add a party to a debt, within the default policy's ``max_parties``."""
    _lock_debt(db, debt_ref)
    listed = _listed(db, debt_ref)
    limit = resolve(db, None).engine.max_parties
    if len(listed) >= limit:
        raise DomainError(
            "max_parties",
            "max_parties",
            f"debt {debt_ref} already lists {len(listed)} parties, the policy's maximum",
        )
    now = utcnow()
    row = PartyRow(
        id=uuid.uuid4().hex,
        debt_ref=debt_ref,
        role=body.role.value,
        locale=body.locale.value,
        time_zone=body.time_zone,
        jurisdiction=body.jurisdiction or _default_jurisdiction(db, debt_ref, listed),
        opted_out={},
        created_by=key.id,
        created_at=now,
        updated_at=now,
    )
    _set_name(row, body.name)
    _set_channels(row, body.channels.model_dump())
    _set_guaranteed(row, body.guaranteed)
    db.add(row)
    db.flush()
    document = party_json(row)
    _audit(db, "party_added", row, key, masked_channels=document["masked_channels"])
    return document


def list_parties(db: Session, debt_ref: str, key: ApiKey) -> Json:
    """The parties of a debt the key may see, oldest first."""
    rows = [r for r in _listed(db, debt_ref) if _sees_everything(key) or r.created_by == key.id]
    return {"debt_ref": debt_ref, "parties": [party_json(r) for r in rows]}


def _reversal(field: str, rule: str, detail: str) -> Problem:
    return Problem(
        409,
        "reversible-only-by-the-party",
        "Conflict",
        f"{detail} Only the party's own request lifts it; a collector's key cannot.",
        [FieldError(field, rule, detail)],
    )


def update_party(db: Session, row: PartyRow, body: PartyPatch, key: ApiKey) -> Json:
    """Apply the changes in ``body``; opt-outs and a stop request only grow."""
    # The party may be changing their own preferences on their page at the same moment
    # (app.preferences locks the row too): the opt-outs merged below must be the latest.
    db.refresh(row, with_for_update=True)
    now = utcnow()
    changed = sorted(body.model_fields_set)
    if body.opted_out is not None:
        wanted = {c.value for c in body.opted_out}
        lifted = sorted(set(row.opted_out) - wanted)
        if lifted:
            raise _reversal(
                "opted_out", "opt_out_reversible_only_by_party", f"The party opted out of {lifted}."
            )
        row.opted_out = {
            **row.opted_out,
            **{c: now.isoformat() for c in sorted(wanted - set(row.opted_out))},
        }
    if body.stopped is False and row.stopped_at is not None:
        raise _reversal(
            "stopped", "stop_reversible_only_by_party", "The party asked not to be contacted."
        )
    if body.stopped and row.stopped_at is None:
        row.stopped_at = now
    if body.name is not None:
        _set_name(row, body.name)
    if body.channels is not None:
        _set_channels(row, body.channels.model_dump())
    if body.locale is not None:
        row.locale = body.locale.value
    if body.time_zone is not None:
        row.time_zone = body.time_zone
    if body.jurisdiction is not None:
        row.jurisdiction = body.jurisdiction
    if "guaranteed" in body.model_fields_set:
        _set_guaranteed(row, body.guaranteed)
    row.updated_at = now
    db.flush()
    document = party_json(row)
    _audit(
        db,
        "party_changed",
        row,
        key,
        fields=changed,
        opted_out=document["opted_out"],
        stopped=document["stopped"],
    )
    return document


def delete_party(db: Session, row: PartyRow, key: ApiKey) -> None:
    """Remove a party: its contact details are erased; the row stays, as its attempts still
    count against the debt's caps."""
    row.deleted_at = row.updated_at = utcnow()
    _set_channels(row, {})
    db.flush()
    _audit(db, "party_removed", row, key)


def reveal(db: Session, row: PartyRow, key: ApiKey) -> Json:
    """The party's name and contact details in clear, for placing a call: an audit event."""
    channels = _channels(row)
    _audit(
        db,
        "contact_details_revealed",
        row,
        key,
        masked_name=mask_name(_name(row)),
        masked_channels=masked_channels(channels),
    )
    return {
        "id": row.id,
        "debt_ref": row.debt_ref,
        "name": _name(row),
        "channels": {c.value: channels.get(c.value) for c in Channel},
    }


# ---- the contact rules -------------------------------------------------------------------


def engine_party(row: PartyRow) -> Party:
    """The engine's view of a party: the channels given, never their numbers."""
    return Party(
        row.id,
        row.role,
        row.time_zone,
        locale=row.locale,
        channels=frozenset(Channel(c) for c in _channels(row)),
        opted_out=frozenset(Channel(c) for c in row.opted_out),
        stopped=row.stopped_at is not None,
        guaranteed_minor=row.guaranteed_minor,
    )


def history(db: Session, debt_ref: str) -> list[Attempt]:
    """Every attempt recorded on a debt, to any of its parties, oldest first."""
    rows = db.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.debt_ref == debt_ref)
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


def check(db: Session, body: ContactCheckIn, key: ApiKey) -> Json:
    """``schemas.contacts.ContactCheckOut`` for a proposed contact."""
    row = party_for(db, body.debt_ref, body.party_id, key)
    party, rules = engine_party(row), contact_rules(db, row.jurisdiction)
    verdict = check_contact(
        party,
        body.channel,
        body.at or utcnow(),
        history=history(db, body.debt_ref),
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


def record(db: Session, body: ContactAttemptIn, key: ApiKey) -> Json:
    """Record an attempt the rules allow (409 and nothing stored otherwise); audited."""
    _lock_debt(db, body.debt_ref)
    row = party_for(db, body.debt_ref, body.party_id, key)
    party, rules = engine_party(row), contact_rules(db, row.jurisdiction)
    past = history(db, body.debt_ref)
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
    address = _channels(row)[attempt.channel.value]
    audit.record(
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
