"""Data access for API keys and versioned policies: plain functions over a ``Session``.

The functions flush but never commit: the caller owns the transaction (``app.deps.get_db``
commits when a request succeeds, the CLI commits per command).

API keys look like ``rk_<prefix>_<secret>``: ``prefix`` is 8 hex characters, public, and
finds the row; ``secret`` is ``secrets.token_urlsafe(32)`` (256 bits). The database keeps the
prefix and an HMAC-SHA256 of the whole key under the server's pepper, never the key: a leaked
database (or backup) yields no usable key without the pepper.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from app.db import ApiKey, Policy, PolicyVersion, Role, utcnow
from app.settings import get_settings

KEY_SCHEME = "rk"


class Conflict(Exception):
    """The row would break a uniqueness rule (a policy name already taken)."""


class NotFound(LookupError):
    """The row the operation refers to does not exist."""


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


def create_key(session: Session, role: Role | str, name: str) -> tuple[str, ApiKey]:
    """Create an API key; return its plaintext (shown once, never stored) and its row.

    Raises ``ValueError`` for a role that is not a :class:`~app.db.Role`.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.db import Base, make_engine
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> plaintext, key = create_key(session, "finance", "reconciliation job")
    >>> plaintext.startswith(f"rk_{key.prefix}_"), key.role, plaintext in key.key_hash
    (True, 'finance', False)
    """
    role = Role(role)
    while True:
        prefix = secrets.token_hex(4)
        # 32 bits of prefix: collisions are rare but possible, and the prefix must be unique.
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(prefix=prefix, key_hash=hash_key(plaintext), role=role.value, name=name)
    session.add(key)
    session.flush()
    return plaintext, key


def find_key(session: Session, plaintext: str) -> ApiKey | None:
    """The active key whose plaintext is ``plaintext``, else ``None`` (unknown or revoked).

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.db import Base, make_engine
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


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(session: Session, prefix: str) -> ApiKey | None:
    """Revoke the key with ``prefix`` (idempotent); ``None`` if there is no such key.

    The row stays, so ``created_by`` references and the audit trail survive.
    """
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def _insert(session: Session) -> Any:
    # ON CONFLICT DO NOTHING reports a taken name without an exception, so the caller's
    # transaction stays usable (no savepoint needed). Both backends have it.
    dialect = session.get_bind().dialect.name
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]


def _insert_next_version(
    session: Session, policy_id: int, body: dict[str, Any], created_by: int | None
) -> PolicyVersion:
    # The next number is computed inside the INSERT: one statement, so it runs under the
    # database's write lock (SQLite) or the policy row lock taken by the caller (PostgreSQL).
    existing = aliased(PolicyVersion)
    next_version = (
        select(func.coalesce(func.max(existing.version), 0) + 1)
        .where(existing.policy_id == policy_id)
        .scalar_subquery()
    )
    statement = (
        insert(PolicyVersion)
        .values(policy_id=policy_id, version=next_version, body=body, created_by=created_by)
        .returning(PolicyVersion)
    )
    return session.scalars(statement).one()


def create_policy(
    session: Session, name: str, body: dict[str, Any], created_by: int | None
) -> PolicyVersion:
    """Create the policy ``name`` with ``body`` as its version 1.

    ``created_by`` is the acting key's id (``ApiKey.id``) or ``None`` (the CLI). Raises
    :class:`Conflict` if the name is taken; the session stays usable.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.db import Base, make_engine
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> first = create_policy(session, "retail", {"max_term_months": 24}, None)
    >>> first.version, first.policy.name
    (1, 'retail')
    >>> create_policy(session, "retail", {}, None)
    Traceback (most recent call last):
    ...
    app.storage.Conflict: a policy named 'retail' already exists
    """
    statement = (
        _insert(session)(Policy)
        .values(name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[Policy.name])
        .returning(Policy)
    )
    policy = session.scalars(statement).one_or_none()
    if policy is None:
        raise Conflict(f"a policy named {name!r} already exists")
    return _insert_next_version(session, policy.id, body, created_by)


def add_policy_version(
    session: Session, policy_id: int, body: dict[str, Any], created_by: int | None
) -> PolicyVersion:
    """Add the next version (highest + 1) of policy ``policy_id``.

    Safe under concurrent writers: numbers have no gaps or duplicates. Raises
    :class:`NotFound` if the policy does not exist.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.db import Base, make_engine
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> first = create_policy(session, "retail", {"max_term_months": 24}, None)
    >>> add_policy_version(session, first.policy_id, {"max_term_months": 36}, None).version
    2
    """
    # PostgreSQL: writers of the same policy queue on its row until the holder commits, and
    # READ COMMITTED then shows them the new maximum. NO KEY UPDATE still lets other rows
    # reference the policy meanwhile. SQLite ignores this; it serialises all writers anyway.
    locked = session.scalar(
        select(Policy.id).where(Policy.id == policy_id).with_for_update(key_share=True)
    )
    if locked is None:
        raise NotFound(f"no policy with id {policy_id}")
    return _insert_next_version(session, policy_id, body, created_by)


def list_policies(session: Session) -> list[tuple[Policy, PolicyVersion]]:
    """Every policy with its latest version, by name.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.db import Base, make_engine
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> first = create_policy(session, "retail", {}, None)
    >>> _ = add_policy_version(session, first.policy_id, {"max_term_months": 36}, None)
    >>> [(policy.name, latest.version) for policy, latest in list_policies(session)]
    [('retail', 2)]
    """
    latest = (
        select(PolicyVersion.policy_id, func.max(PolicyVersion.version).label("version"))
        .group_by(PolicyVersion.policy_id)
        .subquery()
    )
    statement = (
        select(Policy, PolicyVersion)
        .join(PolicyVersion, PolicyVersion.policy_id == Policy.id)
        .join(
            latest,
            (latest.c.policy_id == PolicyVersion.policy_id)
            & (latest.c.version == PolicyVersion.version),
        )
        .order_by(Policy.name)
    )
    return [(policy, version) for policy, version in session.execute(statement)]


def get_policy_version(
    session: Session, policy_id: int, version: int | None = None
) -> PolicyVersion | None:
    """Version ``version`` of policy ``policy_id`` (the latest if ``None``), or ``None``."""
    statement = select(PolicyVersion).where(PolicyVersion.policy_id == policy_id)
    if version is None:
        statement = statement.order_by(PolicyVersion.version.desc()).limit(1)
    else:
        statement = statement.where(PolicyVersion.version == version)
    return session.scalar(statement)


def database_ready(session: Session) -> bool:
    """Whether the database answers ``SELECT 1`` (for a readiness probe)."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        # Leave the session usable for whoever reports the failure.
        session.rollback()
        return False
    return True
