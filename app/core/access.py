"""Who may see what: the one place that answers it, and how the audit trail names a caller.

Today a key sees what it created, and finance and admin keys see everything. Each capability
that owns something a caller can ask for by id (an offer, a plan) registers how to find who
created it (:func:`owner_finder`); any room can then ask :func:`require_visible` without
importing that capability, so the audit trail checks an offer or a plan the same way the
offers' own routes do. Something a key may not see answers exactly as something that does not
exist: the same 404.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from app.core.errors import not_found
from app.core.models import ApiKey, Role

#: How to find who created a resource from its id: the creating key's id, or None if no such.
OwnerFinder = Callable[[Session, str], int | None]

_finders: dict[str, OwnerFinder] = {}


def actor(key: ApiKey) -> str:
    """How the audit trail names a key: its role and public prefix, never the key."""
    return f"{key.role}:{key.prefix}"


def sees_everything(key: ApiKey) -> bool:
    """Finance and admin keys see every resource; collectors see what they created."""
    return Role(key.role).includes(Role.FINANCE)


def may_see(key: ApiKey, created_by: int) -> bool:
    """Whether ``key`` may see a resource that the key with id ``created_by`` created."""
    return sees_everything(key) or created_by == key.id


def owner_finder(kind: str, finder: OwnerFinder) -> None:
    """Register how to find who created a ``kind`` (``"offer"``, ``"plan"``) from its id."""
    _finders[kind] = finder


def require_visible(db: Session, key: ApiKey, kind: str, resource_id: str) -> None:
    """Nothing if ``key`` may see the ``kind`` with that id; else the 404 of one that does not
    exist ("There is no offer …")."""
    try:
        finder = _finders[kind]
    except KeyError:
        raise LookupError(f"no capability registered how to find a {kind}") from None
    owner = finder(db, resource_id)
    if owner is None or not may_see(key, owner):
        raise not_found(f"There is no {kind} {resource_id}.")
