"""Personal data kept encrypted at rest: AES-256-GCM under the service's secret key.

A sealed value is bound to where it is stored: the associated data is ``table.column.row_id``,
so a ciphertext copied into another row or column (or another table) fails to open instead of
showing one party's phone number as another's. Each value has its own random 96-bit nonce
(NIST SP 800-38D §8.2.2: random nonces are safe far below 2^32 encryptions per key).

The stored form is ``v1.`` + base64url(nonce || ciphertext || tag); the version prefix leaves
room for a later key rotation.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
