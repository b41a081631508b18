"""Who may do what to a debt: the one place that answers it.

Every access question in the service comes here: the routes, the debtor's pages (through the
link's debt), the background jobs. The rule (:func:`can`):

* nothing crosses organisations: a debt of another organisation is out of reach for every
  key, whatever its role;
* a collector works the debts assigned to their team; a supervisor works them too and
  reassigns them; finance and admin see and work every debt of the organisation, and admin
  reassigns any;
* a service key (no member: a payment processor, a sender) reaches what its role reaches
  across the organisation, so a collector-role service key reaches no team's debts.

What an actor may not touch answers exactly as what does not exist: the same 404, with the
same words (:func:`not_visible`). Capabilities that own something asked for by id (an offer,
a plan) register how to find its debt (:func:`debt_finder`), so any room can check it with
:func:`require` without importing that capability.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.errors import Problem, not_found
from app.core.keys import DEFAULT as DEFAULT_TEAM
from app.core.models import ApiKey, Debt, Member, Role, Team


class Action(enum.StrEnum):
    """What is done to a debt."""

    READ = "read"  # see the debt and everything that hangs off it
    WORK = "work"  # make and revoke offers, record payments, add parties, contact, decide
    ASSIGN = "assign"  # move the debt to another team or member


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, as the access rule needs them: an API key, its role, organisation, team and
    member (``None`` for a service key). ``id`` is the key's id (what ``created_by`` columns
    hold)."""

    id: int
    prefix: str
    role: str
    name: str
    organisation_id: int
    team_id: int | None = None
    member_id: int | None = None

    @property
    def rank(self) -> Role:
        """The role as the hierarchy knows it."""
        return Role(self.role)


def actor_of(db: Session, key: ApiKey) -> Actor:
    """The actor behind a key row: its member's team looked up now (a member may have moved)."""
    team_id = None
    if key.member_id is not None:
        team_id = db.scalar(select(Member.team_id).where(Member.id == key.member_id))
    return Actor(
        id=key.id,
        prefix=key.prefix,
        role=key.role,
        name=key.name,
        organisation_id=key.organisation_id,
        team_id=team_id,
        member_id=key.member_id,
    )


def actor(key: Actor | ApiKey) -> str:
    """How the audit trail names a key: its role and public prefix, never the key."""
    return f"{key.role}:{key.prefix}"


def sees_everything(who: Actor) -> bool:
    """Whether ``who`` reaches every debt of their organisation (finance and admin)."""
    return who.rank.includes(Role.FINANCE)


def can(who: Actor, action: Action, debt: Debt) -> bool:
    """Whether ``who`` may do ``action`` to ``debt``.

    Examples
    --------
    >>> debt = Debt(id="d", organisation_id=1, ref="R-1", team_id=10)
    >>> collector = Actor(1, "c", "collector", "agent", organisation_id=1, team_id=10)
    >>> can(collector, Action.WORK, debt), can(collector, Action.ASSIGN, debt)
    (True, False)
    >>> other_team = Actor(2, "o", "supervisor", "lead", organisation_id=1, team_id=11)
    >>> can(other_team, Action.READ, debt)
    False
    >>> other_org = Actor(3, "x", "admin", "root", organisation_id=2)
    >>> can(other_org, Action.READ, debt)
    False
    >>> finance = Actor(4, "f", "finance", "finance", organisation_id=1)
    >>> can(finance, Action.WORK, debt), can(finance, Action.ASSIGN, debt)
    (True, False)
    """
    if debt.organisation_id != who.organisation_id:
        return False
    role = who.rank
    if role is Role.ADMIN:
        return True
    if role is Role.FINANCE:
        return action is not Action.ASSIGN
    in_team = who.team_id is not None and debt.team_id == who.team_id
    if role is Role.SUPERVISOR:
        return in_team
    return in_team and action is not Action.ASSIGN


def reachable(who: Actor, action: Action) -> ColumnElement[bool]:
    """:func:`can` as a SQL condition on :class:`Debt`, for listing what ``who`` may
    ``action`` (a test checks the two agree on every role, team and action)."""
    same_org = Debt.organisation_id == who.organisation_id
    role = who.rank
    if role is Role.ADMIN:
        return same_org
    if role is Role.FINANCE:
        return and_(same_org, true() if action is not Action.ASSIGN else false())
    if who.team_id is None or (role is Role.COLLECTOR and action is Action.ASSIGN):
        return false()
    return and_(same_org, Debt.team_id == who.team_id)


def not_visible(kind: str, reference: str) -> Problem:
    """The 404 of something that does not exist, for what an actor may not touch as well."""
    return not_found(f"There is no {kind} {reference}.")


def require_debt(db: Session, who: Actor, ref: str, action: Action = Action.READ) -> Debt:
    """The debt ``ref`` of ``who``'s organisation if ``who`` may do ``action`` to it; else the
    404 of a debt that does not exist."""
    debt = db.scalar(
        select(Debt).where(Debt.organisation_id == who.organisation_id, Debt.ref == ref)
    )
    if debt is None or not can(who, action, debt):
        raise not_visible("debt", ref)
    return debt


def open_debt(db: Session, who: Actor, ref: str) -> Debt:
    """The debt ``ref`` for ``who`` to work on: theirs if the organisation has it and ``who``
    may work it, else a new debt of ``who``'s organisation, assigned to their team (and to
    them, for a collector; to the organisation's ``default`` team for finance and admin).

    A reference the organisation already uses for a debt ``who`` may not work answers the 404
    of a debt that does not exist: ``who`` can neither read it nor take it over (a newer offer
    would supersede the team's own).
    """
    found = db.scalar(
        select(Debt).where(Debt.organisation_id == who.organisation_id, Debt.ref == ref)
    )
    if found is not None:
        if not can(who, Action.WORK, found):
            raise not_visible("debt", ref)
        return found
    team_id = who.team_id if who.rank.works_in_a_team else None
    if team_id is None:
        if who.rank.works_in_a_team:
            # a collector or supervisor service key has no team: nothing to open a debt in
            raise not_visible("debt", ref)
        team_id = db.scalar(
            select(Team.id).where(
                Team.organisation_id == who.organisation_id, Team.name == DEFAULT_TEAM
            )
        )
        if team_id is None:
            raise LookupError(f"organisation {who.organisation_id} has no {DEFAULT_TEAM} team")
    debt = Debt(
        id=uuid.uuid4().hex,
        organisation_id=who.organisation_id,
        ref=ref,
        team_id=team_id,
        assignee_id=who.member_id if who.rank is Role.COLLECTOR else None,
        opened_by=who.id,
        opened_at=utcnow(),
    )
    try:
        with db.begin_nested():
            db.add(debt)
            db.flush()
    except IntegrityError:  # opened at the same moment by another request: take that one
        return open_debt(db, who, ref)
    return debt


#: How to find the debt of a resource from its id (``None``: no such resource).
DebtFinder = Callable[[Session, str], Debt | None]

_finders: dict[str, DebtFinder] = {}


def debt_finder(kind: str, finder: DebtFinder) -> None:
    """Register how to find the debt of a ``kind`` (``"offer"``, ``"plan"``) from its id."""
    _finders[kind] = finder


def debt_of(db: Session, kind: str, resource_id: str) -> Debt | None:
    """The debt of the ``kind`` with that id, by the capability that owns it; ``None`` if
    there is no such thing."""
    try:
        finder = _finders[kind]
    except KeyError:
        raise LookupError(f"no capability registered how to find a {kind}'s debt") from None
    return finder(db, resource_id)


def require(db: Session, who: Actor, kind: str, resource_id: str, action: Action) -> Debt:
    """The debt of the ``kind`` with that id if ``who`` may do ``action`` to it; else the 404
    of one that does not exist ("There is no offer …")."""
    debt = debt_of(db, kind, resource_id)
    if debt is None or not can(who, action, debt):
        raise not_visible(kind, resource_id)
    return debt
