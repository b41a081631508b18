"""API keys: created (shown once), found by their plaintext, listed, revoked.

The functions flush but never commit: the caller owns the transaction
(``app.core.deps.get_db`` commits when a request succeeds, the CLI commits per command).

API keys look like ``rk_<prefix>_<secret>``: ``prefix`` is 8 hex characters, public, and
finds the row; ``secret`` is ``secrets.token_urlsafe(32)`` (256 bits). The database keeps the
prefix and an HMAC-SHA256 of the whole key under the server's pepper, never the key: a leaked
database (or backup) yields no usable key without the pepper.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.models import ApiKey, Member, Organisation, Role, Team
from app.core.settings import get_settings

KEY_SCHEME = "rk"


def hash_key(plaintext: str) -> str:
    """HMAC-SHA256 (hex) of an API key under the configured pepper: what is stored.

    Examples
    --------
    >>> len(hash_key("rk_0123abcd_secret"))
    64
    """
    pepper = get_settings().key_pepper.encode()
    return hmac.new(pepper, plaintext.encode(), hashlib.sha256).hexdigest()


def _prefix_of(plaintext: str) -> str | None:
    # The secret may itself contain "_" (URL-safe base64), the prefix never does.
    scheme, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != 8 or not secret:
        return None
    return prefix


DEFAULT = "default"


def organisation_named(
    session: Session, name: str = DEFAULT, *, create: bool = True
) -> Organisation:
    """The organisation called ``name``, made (with its team ``default``) if ``create`` and
    missing; ``LookupError`` if missing and not ``create``.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.core.db import Base, make_engine
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> acme = organisation_named(session, "acme")
    >>> acme is organisation_named(session, "acme"), team_named(session, acme).name
    (True, 'default')
    """
    found = session.scalar(select(Organisation).where(Organisation.name == name))
    if found is not None:
        return found
    if not create:
        raise LookupError(f"there is no organisation {name!r}")
    found = Organisation(name=name, created_at=utcnow())
    session.add(found)
    session.flush()
    session.add(Team(organisation_id=found.id, name=DEFAULT, created_at=utcnow()))
    session.flush()
    return found


def team_named(
    session: Session, organisation: Organisation, name: str = DEFAULT, *, create: bool = True
) -> Team:
    """The team ``name`` of ``organisation``, made if ``create`` and missing."""
    found = session.scalar(
        select(Team).where(Team.organisation_id == organisation.id, Team.name == name)
    )
    if found is not None:
        return found
    if not create:
        raise LookupError(f"organisation {organisation.name!r} has no team {name!r}")
    found = Team(organisation_id=organisation.id, name=name, created_at=utcnow())
    session.add(found)
    session.flush()
    return found


def create_key(
    session: Session,
    role: Role | str,
    name: str,
    *,
    organisation: str = DEFAULT,
    organisation_id: int | None = None,
    team: str | None = None,
    service: bool = False,
) -> tuple[str, ApiKey]:
    """Create an API key; return its plaintext (shown once, never stored) and its row.

    The key belongs to a new member called ``name`` with ``role`` in ``organisation`` (made if
    missing) and, for a collector or a supervisor, in ``team`` (the organisation's ``default``
    team if not given; made if missing). A ``service`` key (a payment processor, a sender)
    belongs to the organisation alone. ``organisation_id`` names an existing organisation
    instead of ``organisation`` (an admin's key creating another). Raises ``ValueError`` for a
    role that is not a :class:`~app.core.models.Role`, or a team given to a role that works
    for the whole organisation.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.core.db import Base, make_engine
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> plaintext, key = create_key(session, "finance", "reconciliation job")
    >>> plaintext.startswith(f"rk_{key.prefix}_"), key.role, plaintext in key.key_hash
    (True, 'finance', False)
    >>> _, agent = create_key(session, "collector", "agent 7", organisation="acme", team="north")
    >>> session.get(Member, agent.member_id).team_id == team_named(
    ...     session, organisation_named(session, "acme"), "north").id
    True
    """
    role = Role(role)
    owner = (
        organisation_named(session, organisation)
        if organisation_id is None
        else session.get_one(Organisation, organisation_id)
    )
    member_id = None
    if not service:
        team_id = None
        if role.works_in_a_team:
            team_id = team_named(session, owner, team or DEFAULT).id
        elif team is not None:
            raise ValueError(f"a {role} works for the whole organisation, not in a team")
        member = Member(
            organisation_id=owner.id,
            team_id=team_id,
            role=role.value,
            name=name,
            created_at=utcnow(),
        )
        session.add(member)
        session.flush()
        member_id = member.id
    while True:
        prefix = secrets.token_hex(4)
        # 32 bits of prefix: collisions are rare but possible, and the prefix must be unique.
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix,
        key_hash=hash_key(plaintext),
        role=role.value,
        name=name,
        organisation_id=owner.id,
        member_id=member_id,
    )
    session.add(key)
    session.flush()
    return plaintext, key


def find_key(session: Session, plaintext: str) -> ApiKey | None:
    """The active key whose plaintext is ``plaintext``, else ``None`` (unknown or revoked).

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.core.db import Base, make_engine
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> plaintext, key = create_key(session, "collector", "agent 7")
    >>> find_key(session, plaintext) is key, find_key(session, plaintext + "x")
    (True, None)
    """
    prefix = _prefix_of(plaintext)
    if prefix is None:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        return None
    # Constant time, so response timing does not tell how much of a guessed key was right.
    if not hmac.compare_digest(hash_key(plaintext), key.key_hash):
        return None
    return key if key.revoked_at is None else None


def list_keys(session: Session, organisation_id: int | None = None) -> list[ApiKey]:
    """Every key (of one organisation, if given), revoked ones included, oldest first."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if organisation_id is not None:
        query = query.where(ApiKey.organisation_id == organisation_id)
    return list(session.scalars(query))


def only_active_admin(session: Session, prefix: str, organisation_id: int) -> bool:
    """Whether ``prefix`` is the one active admin key of the organisation: revoking it would
    leave nobody able to make or revoke keys there."""
    active = select(ApiKey.prefix).where(
        ApiKey.organisation_id == organisation_id,
        ApiKey.role == Role.ADMIN,
        ApiKey.revoked_at.is_(None),
    )
    return list(session.scalars(active.limit(2))) == [prefix]


def revoke_key(session: Session, prefix: str, organisation_id: int | None = None) -> ApiKey | None:
    """Revoke the key with ``prefix`` (idempotent); ``None`` if there is no such key (in the
    organisation, if given).

    The row stays, so ``created_by`` references and the audit trail survive.
    """
    query = select(ApiKey).where(ApiKey.prefix == prefix)
    if organisation_id is not None:
        query = query.where(ApiKey.organisation_id == organisation_id)
    key = session.scalar(query)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key
