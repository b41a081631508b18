"""The parties of a debt and the contact rules applied to them: a service over the engine.

A party's name and contact details are sealed at rest (``app.core.crypto``, bound to the table,
column and row) and leave the service masked: a number keeps its country code and last two
digits, an email address its first letter and its domain, a name its initials
(``app.links.pages.mask_name``). Only :func:`reveal` returns them in clear, and that is an audit
event. Audit payloads and log lines carry masked forms only.

Who sees what, as for offers: a collector's key sees the parties it added (others answer 404);
finance and admin keys see all. A debt's caps and cooling-off periods count every attempt on
it, whoever made them. Opt-outs and a stop request only grow through this API: lifting them
needs the party's own request, made on their plan page (``app.contacts.preferences``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit import trail
from app.contacts.models import Party as PartyRow
from app.core.access import Action, Actor, actor, can, open_debt, require_debt
from app.core.crypto import seal, unseal
from app.core.db import utcnow
from app.core.errors import FieldError, Problem, not_found
from app.core.masking import mask_name, masked_channels
from app.core.models import Debt
from app.finance.policies import resolve
from plans.contact import (
    Channel,
)
from plans.errors import DomainError
from plans.money import from_minor, to_minor
from schemas.contacts import PartyIn, PartyPatch

Json = dict[str, Any]

TABLE = "parties"
DEFAULT_JURISDICTION = "CN"
# Any constant, distinct from the audit chain's: attempts and additions to one debt queue on
# PostgreSQL's advisory lock (debt, hash of its reference). SQLite serialises writers already.
_DEBT_LOCK = 7_270_012

# ---- sealed columns ----------------------------------------------------------------------


def _name(row: PartyRow) -> str:
    return unseal(row.name_sealed, table=TABLE, column="name_sealed", row_id=row.id)


def channels_of(row: PartyRow) -> dict[str, str]:
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


def lock_debt(db: Session, debt: Debt) -> None:
    """One change to a debt's parties and attempts at a time (PostgreSQL's advisory lock on the
    debt; SQLite serialises writers already)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            text("SELECT pg_advisory_xact_lock(:lock, hashtext(:debt))"),
            {"lock": _DEBT_LOCK, "debt": debt.id},
        )


def party_for(
    db: Session, debt_ref: str, party_id: str, key: Actor, action: Action = Action.READ
) -> PartyRow:
    """A party of the debt ``debt_ref`` that the key may ``action``, or the same 404 as a party
    that does not exist (a debt the key may not touch has none it can see)."""
    row = db.get(PartyRow, party_id)
    debt = row.debt if row is not None else None
    if (
        row is None
        or debt is None
        or row.deleted_at is not None
        or debt.ref != debt_ref
        or not can(key, action, debt)
    ):
        raise not_found(f"Debt {debt_ref} has no party {party_id}.")
    return row


def listed(db: Session, debt_id: str) -> list[PartyRow]:
    """The parties on file for a debt (not removed), oldest first."""
    return list(
        db.scalars(
            select(PartyRow)
            .where(PartyRow.debt_id == debt_id, PartyRow.deleted_at.is_(None))
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
        "masked_channels": masked_channels(channels_of(row)),
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


def _audit(db: Session, kind: str, row: PartyRow, key: Actor, **more: Any) -> None:
    trail.record(
        db,
        kind,
        actor=actor(key),
        payload={"debt_ref": row.debt_ref, "party_id": row.id, "role": row.role, **more},
        organisation_id=row.debt.organisation_id,
    )


def _set_guaranteed(row: PartyRow, guaranteed: Any) -> None:
    if guaranteed is None:
        row.guaranteed_minor = row.guaranteed_currency = None
        return
    if row.role != "guarantor":
        raise DomainError("guaranteed", "guarantor_only", "only a guarantor has one")
    row.guaranteed_minor = to_minor(guaranteed.amount, guaranteed.currency, field="guaranteed")
    row.guaranteed_currency = guaranteed.currency


def _default_jurisdiction(debt: Debt, on_file: list[PartyRow]) -> str:
    """The debt's recorded jurisdiction, else its first party's, else CN."""
    if debt.jurisdiction is not None:
        return debt.jurisdiction
    return on_file[0].jurisdiction if on_file else DEFAULT_JURISDICTION


def add_party(db: Session, debt_ref: str, body: PartyIn, key: Actor) -> Json:
    """Add a party to a debt, within the default policy's ``max_parties``. A reference the
    organisation does not know yet opens a debt for the key's team
    (``app.core.access.open_debt``); one the key may not work is a 404."""
    debt = open_debt(db, key, debt_ref)
    lock_debt(db, debt)
    on_file = listed(db, debt.id)
    limit = resolve(db, None, debt.organisation_id).engine.max_parties
    if len(on_file) >= limit:
        raise DomainError(
            "max_parties",
            "max_parties",
            f"debt {debt_ref} already lists {len(on_file)} parties, the policy's maximum",
        )
    now = utcnow()
    row = PartyRow(
        id=uuid.uuid4().hex,
        debt_id=debt.id,
        debt_ref=debt.ref,
        role=body.role.value,
        locale=body.locale.value,
        time_zone=body.time_zone,
        jurisdiction=body.jurisdiction or _default_jurisdiction(debt, on_file),
        opted_out={},
        created_by=key.id,
        created_at=now,
        updated_at=now,
    )
    _set_name(row, body.name)
    _set_channels(row, body.channels.model_dump())
    _set_guaranteed(row, body.guaranteed)
    row.debt = debt
    db.add(row)
    db.flush()
    document = party_json(row)
    _audit(db, "party_added", row, key, masked_channels=document["masked_channels"])
    return document


def list_parties(db: Session, debt_ref: str, key: Actor) -> Json:
    """The parties of a debt the key may see, oldest first (the 404 of a debt that does not
    exist for one it may not)."""
    debt = require_debt(db, key, debt_ref)
    return {"debt_ref": debt_ref, "parties": [party_json(r) for r in listed(db, debt.id)]}


def _reversal(field: str, rule: str, detail: str) -> Problem:
    return Problem(
        409,
        "reversible-only-by-the-party",
        "Conflict",
        f"{detail} Only the party's own request lifts it; a collector's key cannot.",
        [FieldError(field, rule, detail)],
    )


def update_party(db: Session, row: PartyRow, body: PartyPatch, key: Actor) -> Json:
    """Apply the changes in ``body``; opt-outs and a stop request only grow."""
    # The party may be changing their own preferences on their page at the same moment
    # (app.contacts.preferences locks the row too): the opt-outs merged below must be the latest.
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


def delete_party(db: Session, row: PartyRow, key: Actor) -> None:
    """Remove a party: its contact details are erased; the row stays, as its attempts still
    count against the debt's caps."""
    row.deleted_at = row.updated_at = utcnow()
    _set_channels(row, {})
    db.flush()
    _audit(db, "party_removed", row, key)


def reveal(db: Session, row: PartyRow, key: Actor) -> Json:
    """The party's name and contact details in clear, for placing a call: an audit event."""
    channels = channels_of(row)
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
