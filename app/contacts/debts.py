"""A debt by its reference: the recorded terms and jurisdiction, with its parties and offers.

Who sees what, as everywhere: a collector's key sees the debt records, parties and offers it
made (a debt it has no part in answers 404); finance and admin keys see all. Recording a debt
again replaces its terms (audited with the old and the new): the offers already made keep the
terms they were computed from, in their own documents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import trail
from app.contacts.models import DebtRecord
from app.contacts.parties import listed, lock_debt, party_json
from app.core.access import actor, may_see, sees_everything
from app.core.db import utcnow
from app.core.errors import forbidden, not_found
from app.core.models import ApiKey
from app.links.models import AcceptedPlan, SavedOffer
from schemas.debts import DebtRecordIn

Json = dict[str, Any]


def record_debt(db: Session, ref: str, body: DebtRecordIn, key: ApiKey) -> tuple[Json, bool]:
    """Record (or replace) a debt's terms and jurisdiction; the debt, and whether it is new.

    A collector may replace only a record it made; finance and admin keys any.
    """
    body.terms.to_engine()  # refuse amounts too precise for the currency, as offers do
    lock_debt(db, ref)
    row = db.get(DebtRecord, ref, with_for_update=True)
    terms = body.terms.model_dump(mode="json")
    now = utcnow()
    created = row is None
    if row is None:
        row = DebtRecord(
            ref=ref,
            jurisdiction=body.jurisdiction,
            terms=terms,
            created_by=key.id,
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        before = None
    else:
        if not may_see(key, row.created_by):
            raise forbidden(f"Debt {ref} was recorded by another collector's key.")
        before = {"jurisdiction": row.jurisdiction, "terms": row.terms}
        row.jurisdiction, row.terms, row.updated_at = body.jurisdiction, terms, now
    db.flush()
    trail.record(
        db,
        "debt_recorded",
        actor=actor(key),
        payload={
            "debt_ref": ref,
            "jurisdiction": body.jurisdiction,
            "terms": terms,
            "replaced": before,
        },
    )
    return debt_json(db, ref, key), created


def recorded_jurisdiction(db: Session, ref: str) -> str | None:
    """The jurisdiction a debt was recorded with, if it was."""
    row = db.get(DebtRecord, ref)
    return None if row is None else row.jurisdiction


def _offers(db: Session, ref: str, key: ApiKey) -> list[Json]:
    query = (
        select(SavedOffer, AcceptedPlan.id)
        .outerjoin(AcceptedPlan, AcceptedPlan.offer_id == SavedOffer.id)
        .where(SavedOffer.debt_ref == ref)
        .order_by(SavedOffer.created_at.desc(), SavedOffer.id)
    )
    if not sees_everything(key):
        query = query.where(SavedOffer.created_by == key.id)
    return [
        {
            "id": offer.id,
            "kind": offer.kind,
            "status": offer.status,
            "plan_id": plan_id,
            "created_at": offer.created_at,
        }
        for offer, plan_id in db.execute(query)
    ]


def debt_json(db: Session, ref: str, key: ApiKey) -> Json:
    """The debt as ``schemas.debts.DebtOut``, as far as ``key`` may see it; else 404."""
    row = db.get(DebtRecord, ref)
    everything = sees_everything(key)
    if row is not None and not (everything or row.created_by == key.id):
        row = None
    parties = [p for p in listed(db, ref) if everything or p.created_by == key.id]
    offers = _offers(db, ref, key)
    if row is None and not parties and not offers:
        raise not_found(f"There is no debt {ref}.")
    jurisdiction = row.jurisdiction if row is not None else None
    if jurisdiction is None and parties:
        jurisdiction = parties[0].jurisdiction
    return {
        "ref": ref,
        "jurisdiction": jurisdiction,
        "terms": None if row is None else row.terms,
        "parties": [party_json(p) for p in parties],
        "offers": offers,
        "created_at": None if row is None else row.created_at,
        "updated_at": None if row is None else row.updated_at,
    }
