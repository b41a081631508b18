"""The service's configuration: read from the environment once, in one place, and checked.

Everything configurable lives on :class:`Settings`; code asks :func:`get_settings` and never
reads ``os.environ`` itself. Each variable has a type and a rule; a value that breaks it is a
:class:`SettingsError` whose every line names the variable and the expected format, raised
when the settings are first read: ``repay`` reads them before any command that needs them and
``app.main`` when it builds the application, so a bad value stops the service at start, never
a request. Tests change the environment and call ``get_settings.cache_clear()`` (the
``migrated_url`` fixture does this).
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # app/core/settings.py -> the checkout
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'repay.db'}"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Good enough to keep dev keys apart from other installs; production sets its own secret.
DEV_KEY_PEPPER = "repay-dev-pepper-change-me-in-production"
SECRET_KEY_FILE = PROJECT_ROOT / "var" / "secret.key"
SECRET_KEY_BYTES = 32  # AES-256-GCM (app.core.crypto, app.links.sharing)
# 32 bytes are 43 base64 characters and 2 bits of padding, so one "=" when padded. Either
# alphabet, URL-safe ("-_") or standard ("+/"): the bytes are the same.
_SECRET_KEY_TEXT = re.compile(r"[A-Za-z0-9+/_-]{43}=?")
MAX_CACHE_SECONDS = 3600.0
MIN_WEBHOOK_SECRET = 16  # characters: a short HMAC key is guessable from one signed request
DATABASE_BACKENDS = {"sqlite", "postgresql", "postgres"}  # app.core.db.make_engine's
MAX_CHECKPOINT_EVERY = 1_000_000  # events between two audit checkpoints


class SettingsError(ValueError):
    """The configuration is malformed: one line per variable, ``NAME: expected …, got …``."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _refuse(expected: str, got: str = "") -> PydanticCustomError:
    # in the context, not the template: a value with braces is shown, never formatted
    line = expected + (f", got {got}" if got else "")
    return PydanticCustomError("settings", "{line}", {"line": line})


def _shown(value: str, limit: int = 40) -> str:
    """A value quoted for an error line, cut short (never used for secrets)."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def secret_key_from_text(text: str) -> bytes:
    """The 32-byte key that ``text`` encodes, or a :class:`ValueError` saying why not.

    Strict about the length, lenient about the padding: a key of any other length is not an
    AES-256 key, and padding or cutting it would change it silently; the one ``=`` carries
    no information, and the usual generators leave it off (``secrets.token_urlsafe(32)``,
    JWK's base64url) while Python's ``base64.urlsafe_b64encode`` writes it. Standard base64
    (``+/``) is read too. The text must be the canonical encoding of its bytes, so two
    different texts never stand for one key.

    Examples
    --------
    >>> key = bytes(range(32))
    >>> secret_key_from_text(generate_secret_key_text(key)) == key
    True
    >>> secret_key_from_text(base64.urlsafe_b64encode(key).decode()) == key  # padded
    True
    >>> secret_key_from_text(base64.b64encode(key).decode()) == key  # standard alphabet
    True
    >>> secret_key_from_text("c2hvcnQ=")
    Traceback (most recent call last):
    ...
    ValueError: expected 32 bytes as URL-safe base64 (...), got 8 characters
    """
    text = text.strip()
    expected = "expected 32 bytes as URL-safe base64 (43 characters, or 44 ending in '=')"
    if not _SECRET_KEY_TEXT.fullmatch(text):
        if len(text) in {43, 44}:
            raise ValueError(f"{expected}, got {len(text)} characters that are not such base64")
        raise ValueError(f"{expected}, got {len(text)} characters")
    unpadded = text.rstrip("=").replace("+", "-").replace("/", "_")
    try:
        key = base64.urlsafe_b64decode(unpadded + "=")
    except binascii.Error:  # pragma: no cover - the pattern admits only decodable text
        raise ValueError(f"{expected}, got text that is not base64") from None
    if generate_secret_key_text(key) != unpadded:
        raise ValueError(f"{expected}, got 43 characters whose last is not a canonical ending")
    return key


def generate_secret_key_text(key: bytes | None = None) -> str:
    """A new secret key (or ``key``) as :envvar:`REPAY_SECRET_KEY` wants it: 43 characters
    of URL-safe base64, no padding (what ``secrets.token_urlsafe(32)`` gives).

    Examples
    --------
    >>> len(generate_secret_key_text())
    43
    """
    key = secrets.token_bytes(SECRET_KEY_BYTES) if key is None else key
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def _secret_key_file() -> bytes:
    """The key in ``var/secret.key``, written there first if missing."""
    path = SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: two processes
        # starting at once both read one complete key, never a half-written or second one.
        fd, temporary = tempfile.mkstemp(dir=path.parent)  # mode 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.urlsafe_b64encode(secrets.token_bytes(SECRET_KEY_BYTES)))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    try:
        return secret_key_from_text(path.read_text(encoding="ascii", errors="replace"))
    except ValueError as exc:
        raise _refuse(f"unset, so {path} is read, which is malformed: {exc}") from None


def _web_url(value: str, *, secret: bool) -> str:
    """``value`` if it is an absolute http(s) URL with a host (``secret``: never shown)."""
    expected = "expected an absolute http:// or https:// URL with a host"
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _refuse(
            expected, "a value without http(s):// and a host" if secret else _shown(value)
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        raise _refuse(expected, "a port that is not a number from 0 to 65535") from None
    return value


class Settings(BaseSettings):
    """Configuration of one running service, from the environment (names below).

    An empty variable counts as unset. Values that may hold a secret are left out of
    ``repr``.

    Attributes
    ----------
    database_url
        SQLAlchemy URL (``DATABASE_URL``). ``sqlite:///path`` or ``postgresql://...``;
        defaults to ``var/repay.db`` under the project root.
    base_url
        Where clients reach the API (``REPAY_BASE_URL``), for links and printed examples: an
        absolute http(s) URL, without the trailing ``/``.
    key_pepper
        HMAC key for API key hashes (``REPAY_KEY_PEPPER``). Changing it invalidates every key.
    secret_key
        32 bytes that encrypt what must be kept but never stored in clear (a share link's
        token, for re-sending it to the collector who made it; parties' contact details):
        ``REPAY_SECRET_KEY``, URL-safe base64 (:func:`secret_key_from_text`), else
        ``var/secret.key``, generated on first use.
    cache_seconds
        How long a process may reuse an API key's lookup or "the latest version of a policy"
        (``REPAY_CACHE_SECONDS``, default 2; 0 disables; at most an hour). A revocation or a
        new version made through this process applies at once. Made through another process
        (another worker of ``repay serve --workers``, the CLI), it applies to the first request
        after this time, which asks the database; requests arriving while that one waits for
        its answer are still served from the expired entry, for at most this time again. The
        bound is therefore twice this time (4 s by default); a version named in a request that
        is newer than the one cached is taken as the latest at once.
    webhook_url
        Where ``repay outbox send`` POSTs messages (``REPAY_WEBHOOK_URL``); ``--webhook``
        overrides it.
    webhook_secret
        The HMAC-SHA256 key of the webhook's ``Repay-Signature`` (``REPAY_WEBHOOK_SECRET``, at
        least 16 characters), required to send (``app.messaging.webhook``).
    audit_checkpoint_path
        Where the service writes the signed checkpoint of the audit chain's head and where
        ``GET /v1/audit/verify`` reads it (``REPAY_AUDIT_CHECKPOINT_PATH``): a file in an
        existing directory, best on storage the database's users cannot write. Unset: no
        checkpoint is written, and a truncated trail cannot be told from a short one.
    audit_checkpoint_every
        Write a checkpoint each time the chain reaches a multiple of this many events
        (``REPAY_AUDIT_CHECKPOINT_EVERY``, default 1: after every audited commit; at most
        1000000). ``repay audit checkpoint`` writes one at any time (cron, for an interval in
        time).
    """

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        env_ignore_empty=True,  # VAR= is unset, as `os.environ.get(VAR) or default` was
        populate_by_name=True,
        extra="ignore",
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL", repr=False
    )  # may hold a password
    base_url: str = Field(DEFAULT_BASE_URL, validation_alias="REPAY_BASE_URL")
    key_pepper: str = Field(DEV_KEY_PEPPER, validation_alias="REPAY_KEY_PEPPER", repr=False)
    cache_seconds: float = Field(2.0, validation_alias="REPAY_CACHE_SECONDS")
    # b"": unset, read from var/secret.key (validate_default: the file is checked too)
    secret_key: bytes = Field(
        b"", validation_alias="REPAY_SECRET_KEY", repr=False, validate_default=True
    )
    webhook_url: str | None = Field(None, validation_alias="REPAY_WEBHOOK_URL", repr=False)
    webhook_secret: str | None = Field(None, validation_alias="REPAY_WEBHOOK_SECRET", repr=False)
    audit_checkpoint_path: Path | None = Field(None, validation_alias="REPAY_AUDIT_CHECKPOINT_PATH")
    audit_checkpoint_every: int = Field(1, validation_alias="REPAY_AUDIT_CHECKPOINT_EVERY")

    @field_validator("database_url", mode="before")
    @classmethod
    def _database(cls, value: Any) -> str:
        expected = "expected sqlite:///path or postgresql://user:password@host/db"
        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError, TypeError):
            raise _refuse(expected, "a value that is not a database URL") from None
        if backend not in DATABASE_BACKENDS:
            raise _refuse(expected, f"a {backend!r} URL")
        return str(value)

    @field_validator("base_url", mode="before")
    @classmethod
    def _base(cls, value: Any) -> str:
        return _web_url(str(value), secret=False).rstrip("/")

    @field_validator("key_pepper", "webhook_secret", mode="before")
    @classmethod
    def _secret_text(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        text = str(value)
        expected = "expected text without spaces at either end or control characters"
        # Spaces at an end or a control character are a pasted line's, not a chosen secret's.
        if text != text.strip():
            raise _refuse(expected, f"{len(text)} characters with a space at an end")
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise _refuse(expected, f"{len(text)} characters with a control character")
        if info.field_name == "webhook_secret" and len(text) < MIN_WEBHOOK_SECRET:
            raise _refuse(
                f"expected at least {MIN_WEBHOOK_SECRET} characters", f"{len(text)} characters"
            )
        return text

    @field_validator("cache_seconds", mode="before")
    @classmethod
    def _cache(cls, value: Any) -> float:
        expected = f"expected a number of seconds from 0 (no cache) to {MAX_CACHE_SECONDS:g}"
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise _refuse(expected, _shown(str(value))) from None
        if not (math.isfinite(seconds) and 0 <= seconds <= MAX_CACHE_SECONDS):
            raise _refuse(expected, _shown(str(value)))
        return seconds

    @field_validator("secret_key", mode="before")
    @classmethod
    def _secret_key(cls, value: Any) -> bytes:
        if isinstance(value, bytes):
            if value == b"":
                return _secret_key_file()
            if len(value) != SECRET_KEY_BYTES:
                raise _refuse("expected 32 bytes", f"{len(value)} bytes")
            return value
        try:
            return secret_key_from_text(str(value))
        except ValueError as exc:
            raise _refuse(f"{exc}; generate one with: repay secret generate") from None

    @field_validator("audit_checkpoint_path", mode="before")
    @classmethod
    def _checkpoint_path(cls, value: Any) -> Path | None:
        if value is None:
            return None
        path = Path(str(value)).expanduser().absolute()
        expected = "expected the path of a file in an existing directory"
        if path.is_dir():
            raise _refuse(expected, f"the directory {_shown(str(value))}")
        if not path.parent.is_dir():
            raise _refuse(expected, f"{_shown(str(value))}, whose directory does not exist")
        return path

    @field_validator("audit_checkpoint_every", mode="before")
    @classmethod
    def _checkpoint_every(cls, value: Any) -> int:
        expected = f"expected a whole number of events from 1 to {MAX_CHECKPOINT_EVERY}"
        text = str(value).strip()
        if not re.fullmatch(r"[0-9]{1,7}", text) or not 1 <= int(text) <= MAX_CHECKPOINT_EVERY:
            raise _refuse(expected, _shown(str(value)))
        return int(text)

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook(cls, value: Any) -> str | None:
        # Never shown: a webhook's address may carry its token.
        return None if value is None else _web_url(str(value), secret=True)


def read_settings() -> Settings:
    """The settings from the environment now, or a :class:`SettingsError` naming each
    malformed variable on a line of its own.

    Examples
    --------
    >>> read_settings().cache_seconds >= 0
    True
    """
    try:
        return Settings()
    except ValidationError as exc:
        # a value from the environment is named by its variable, a default by its field
        variables = {name: str(f.validation_alias) for name, f in Settings.model_fields.items()}
        lines = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            lines.append(f"{variables.get(where, where)}: {error['msg']}")
        raise SettingsError(lines) from None


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
    return read_settings()
