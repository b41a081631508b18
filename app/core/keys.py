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
from app.core.models import ApiKey, Role
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


def create_key(session: Session, role: Role | str, name: str) -> tuple[str, ApiKey]:
    """Create an API key; return its plaintext (shown once, never stored) and its row.

    Raises ``ValueError`` for a role that is not a :class:`~app.core.db.Role`.

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
