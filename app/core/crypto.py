"""Personal data kept encrypted at rest: AES-256-GCM under the service's secret key.

A sealed value is bound to where it is stored: the associated data is ``table.column.row_id``,
so a ciphertext copied into another row or column (or another table) fails to open instead of
showing one party's phone number as another's. Each value has its own random 96-bit nonce
(NIST SP 800-38D §8.2.2: random nonces are safe far below 2^32 encryptions per key).

The stored form is ``v1.`` + base64url(nonce || ciphertext || tag); the version prefix leaves
room for a later key rotation.

The secret key is never itself an HMAC key: :func:`derived_key` gives a key of its own per
purpose (RFC 5869 HKDF-SHA256, the purpose as ``info``), and :func:`keyed_hash` signs with it
(the audit chain's hashes and its checkpoints, ``app.audit``). None of them is stored anywhere:
whoever holds the database but not the secret cannot make a keyed hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.settings import get_settings

_VERSION = "v1."
_NONCE_BYTES = 12


def _associated(table: str, column: str, row_id: str) -> bytes:
    return f"{table}.{column}.{row_id}".encode()


def seal(plaintext: str, *, table: str, column: str, row_id: str) -> str:
    """``plaintext`` encrypted for one cell: ``table.column`` of the row ``row_id``.

    Examples
    --------
    >>> sealed = seal("+8613800138000", table="parties", column="channels", row_id="a1")
    >>> sealed.startswith("v1.") and "138" not in sealed
    True
    >>> unseal(sealed, table="parties", column="channels", row_id="a1")
    '+8613800138000'
    """
    nonce = secrets.token_bytes(_NONCE_BYTES)
    key = AESGCM(get_settings().secret_key)
    sealed = key.encrypt(nonce, plaintext.encode(), _associated(table, column, row_id))
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(sealed: str, *, table: str, column: str, row_id: str) -> str:
    """The plaintext of a cell sealed by :func:`seal`; ``ValueError`` if it was not sealed for
    this table, column and row, or not under this key.

    Examples
    --------
    >>> sealed = seal("张小明", table="parties", column="name", row_id="a1")
    >>> unseal(sealed, table="parties", column="name", row_id="a2")
    Traceback (most recent call last):
    ...
    ValueError: parties.name.a2: the sealed value does not open here
    """
    where = f"{table}.{column}.{row_id}"
    if not sealed.startswith(_VERSION):
        raise ValueError(f"{where}: not a sealed value")
    raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
    try:
        plain = AESGCM(get_settings().secret_key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated(table, column, row_id)
        )
    except InvalidTag:
        raise ValueError(f"{where}: the sealed value does not open here") from None
    return plain.decode()


@lru_cache(maxsize=16)
def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=purpose).derive(secret)


def derived_key(purpose: bytes, *, secret: bytes | None = None) -> bytes:
    """A 32-byte key for one ``purpose``, derived from the service's secret key (or ``secret``)
    by HKDF-SHA256 (RFC 5869 §2, no salt, the purpose as ``info``): keys of two purposes are
    independent, and neither reveals the secret.

    Examples
    --------
    >>> secret = bytes(range(32))
    >>> one = derived_key(b"repay audit chain v1", secret=secret)
    >>> len(one), one == derived_key(b"repay audit checkpoint v1", secret=secret)
    (32, False)
    """
    return _derive(get_settings().secret_key if secret is None else secret, purpose)


def keyed_hash(purpose: bytes, message: bytes, *, secret: bytes | None = None) -> str:
    """HMAC-SHA256 (RFC 2104) of ``message`` under the key of ``purpose``, as 64 hex digits.

    Examples
    --------
    >>> secret = bytes(range(32))
    >>> tag = keyed_hash(b"repay audit chain v1", b"{}", secret=secret)
    >>> len(tag), tag == keyed_hash(b"repay audit chain v1", b"{ }", secret=secret)
    (64, False)
    """
    return hmac.new(derived_key(purpose, secret=secret), message, hashlib.sha256).hexdigest()
