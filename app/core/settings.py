"""The service's configuration: read from the environment once, in one place.

Everything configurable lives on :class:`Settings`; code asks :func:`get_settings` and never
reads ``os.environ`` itself. Tests change the environment and call
``get_settings.cache_clear()`` (the ``migrated_url`` fixture does this).
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # app/core/settings.py -> the checkout
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'repay.db'}"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Good enough to keep dev keys apart from other installs; production sets its own secret.
DEV_KEY_PEPPER = "repay-dev-pepper-change-me-in-production"


@dataclass(frozen=True, slots=True)
class Settings:
    """Configuration of one running service.

    Attributes
    ----------
    database_url
        SQLAlchemy URL (``DATABASE_URL``). ``sqlite:///path`` or ``postgresql://...``;
        defaults to ``var/repay.db`` under the project root.
    base_url
        Where clients reach the API (``REPAY_BASE_URL``), for links and printed examples.
    key_pepper
        HMAC key for API key hashes (``REPAY_KEY_PEPPER``). Changing it invalidates every key.
    secret_key
        32 bytes that encrypt what must be kept but never stored in clear (a share link's
        token, for re-sending it to the collector who made it): ``REPAY_SECRET_KEY`` (base64),
        else ``var/secret.key``, generated on first use.
    cache_seconds
        How long a process may reuse an API key's lookup or "the latest version of a policy"
        (``REPAY_CACHE_SECONDS``, default 2; 0 disables). A revocation or a new version made
        through this process applies at once; made through another process, within this time.
    webhook_url
        Where ``repay outbox send`` POSTs messages (``REPAY_WEBHOOK_URL``); ``--webhook``
        overrides it. Not shown in ``repr`` (a URL may carry a token).
    webhook_secret
        The HMAC-SHA256 key of the webhook's ``Repay-Signature`` (``REPAY_WEBHOOK_SECRET``),
        required to send (``app.messaging.webhook``). Not shown in ``repr``.
    """

    database_url: str
    base_url: str
    key_pepper: str
    cache_seconds: float = 2.0
    secret_key: bytes = b""
    webhook_url: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read on first call and cached.

    Examples
    --------
    >>> get_settings() is get_settings()
    True
    >>> get_settings().base_url.startswith("http")
    True
    """
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        base_url=(os.environ.get("REPAY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        key_pepper=os.environ.get("REPAY_KEY_PEPPER") or DEV_KEY_PEPPER,
        cache_seconds=float(os.environ.get("REPAY_CACHE_SECONDS") or 2.0),
        secret_key=_secret_key(),
        webhook_url=os.environ.get("REPAY_WEBHOOK_URL") or None,
        webhook_secret=os.environ.get("REPAY_WEBHOOK_SECRET") or None,
    )


def _secret_key() -> bytes:
    configured = os.environ.get("REPAY_SECRET_KEY")
    if configured:
        key = base64.urlsafe_b64decode(configured)
        if len(key) != 32:
            raise ValueError("REPAY_SECRET_KEY must be 32 bytes, base64-encoded")
        return key
    path = PROJECT_ROOT / "var" / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: two processes
        # starting at once both read one complete key, never a half-written or second one.
        fd, temporary = tempfile.mkstemp(dir=path.parent)  # mode 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return base64.urlsafe_b64decode(path.read_bytes().strip())
