"""A debt by its reference: the recorded terms and jurisdiction, its team, its parties and
offers, and reassigning it.

Who sees what is ``app.core.access.can``'s: a collector sees the debts of their team, a
supervisor also reassigns them, finance and admin see the organisation's; a debt the key may
not touch answers the 404 of one that does not exist. Recording a debt's terms again replaces
them (audited with the old and the new): the offers already made keep the terms they were
computed from, in their own documents. Every reassignment is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import trail
from app.contacts.parties import listed, lock_debt, party_json
from app.core.access import Action, Actor, actor, can, open_debt, require_debt
from app.core.db import utcnow
from app.core.errors import FieldError, Problem, forbidden
from app.core.models import Debt, Member, Role, Team
from app.links.models import AcceptedPlan, SavedOffer
from schemas.debts import Assignment, DebtRecordIn

Json = dict[str, Any]


def record_debt(db: Session, ref: str, body: DebtRecordIn, key: Actor) -> tuple[Json, bool]:
    """Record (or replace) a debt's terms and jurisdiction; the debt, and whether its terms
    are recorded for the first time. A new reference opens a debt for the key's team."""
    body.terms.to_engine()  # refuse amounts too precise for the currency, as offers do
    debt = open_debt(db, key, ref)
    lock_debt(db, debt)
    db.refresh(debt, with_for_update=True)
    terms = body.terms.model_dump(mode="json")
    now = utcnow()
    created = debt.recorded_at is None
    before = None if created else {"jurisdiction": debt.jurisdiction, "terms": debt.terms}
    debt.jurisdiction, debt.terms, debt.updated_at = body.jurisdiction, terms, now
    if created:
        debt.recorded_at = now
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
        organisation_id=debt.organisation_id,
    )
    return debt_json(db, ref, key), created


def _offers(db: Session, debt: Debt) -> list[Json]:
    query = (
        select(SavedOffer, AcceptedPlan.id)
        .outerjoin(AcceptedPlan, AcceptedPlan.offer_id == SavedOffer.id)
        .where(SavedOffer.debt_id == debt.id)
        .order_by(SavedOffer.created_at.desc(), SavedOffer.id)
    )
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


def _assignment(db: Session, debt: Debt) -> Json:
    team = db.get(Team, debt.team_id)
    member = None if debt.assignee_id is None else db.get(Member, debt.assignee_id)
    return {
        "team": None if team is None else team.name,
        "member_id": None if member is None else member.id,
        "member": None if member is None else member.name,
    }


def debt_json(db: Session, ref: str, key: Actor) -> Json:
    """The debt as ``schemas.debts.DebtOut``, if ``key`` may see it; else 404."""
    debt = require_debt(db, key, ref)
    parties = listed(db, debt.id)
    jurisdiction = debt.jurisdiction
    if jurisdiction is None and parties:
        jurisdiction = parties[0].jurisdiction
    return {
        "ref": ref,
        "jurisdiction": jurisdiction,
        "terms": debt.terms,
        "assigned": _assignment(db, debt),
        "parties": [party_json(p) for p in parties],
        "offers": _offers(db, debt),
        "created_at": debt.recorded_at,
        "updated_at": debt.updated_at,
    }


def _invalid(field: str, rule: str, detail: str) -> Problem:
    return Problem(
        422, "invalid-input", "Unprocessable Content", detail, [FieldError(field, rule, detail)]
    )


def reassign(db: Session, ref: str, body: Assignment, key: Actor) -> Json:
    """Move a debt to a team of its organisation, and to one of that team's collectors or to
    nobody in particular. Supervisors move their team's debts; admins any. Audited."""
    debt = require_debt(db, key, ref)  # a debt out of reach is the 404 of one that does not exist
    if not can(key, Action.ASSIGN, debt):  # one the key sees but may not move: say so
        raise forbidden(f"A {key.role} may not reassign debt {ref}: supervisors and admins do.")
    db.refresh(debt, with_for_update=True)
    team = db.scalar(
        select(Team).where(Team.organisation_id == debt.organisation_id, Team.name == body.team)
    )
    if team is None:
        raise _invalid("team", "exists", f"the organisation has no team {body.team!r}")
    member = None
    if body.member_id is not None:
        member = db.get(Member, body.member_id)
        if member is None or member.organisation_id != debt.organisation_id:
            raise _invalid(
                "member_id", "exists", f"the organisation has no member {body.member_id}"
            )
        if member.team_id != team.id or Role(member.role) is not Role.COLLECTOR:
            raise _invalid(
                "member_id",
                "collector_of_team",
                f"member {member.id} is not a collector of {team.name}",
            )
    before = _assignment(db, debt)
    debt.team_id, debt.assignee_id, debt.updated_at = (
        team.id,
        None if member is None else member.id,
        utcnow(),
    )
    db.flush()
    after = _assignment(db, debt)
    trail.record(
        db,
        "debt_reassigned",
        actor=actor(key),
        payload={"debt_ref": ref, "from": before, "to": after},
        organisation_id=debt.organisation_id,
    )
    return after
