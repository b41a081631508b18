"""Idempotent requests: the Idempotency-Key header's rule and a request's fingerprint.

A retried request with the same key answers what the first one did; the same key with a
different body is a conflict, told by comparing fingerprints.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Header

from app.core.canonical import canonical
from app.core.errors import FieldError, Problem


def request_fingerprint(value: Any) -> str:
    """The SHA-256 of a request body's canonical JSON (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(canonical(value)).hexdigest()


def require_idempotency_key(value: str | None) -> str:
    """Payments must carry an Idempotency-Key: a retried request must not pay twice."""
    if not value or len(value) > 200:
        raise Problem(
            422,
            "invalid-input",
            "Unprocessable Content",
            "The Idempotency-Key header is required (1 to 200 characters).",
            [FieldError("header.Idempotency-Key", "required", "send a unique key per payment")],
        )
    return value


# The header every payment operation requires (its absence answered by
# :func:`require_idempotency_key`, naming it).
PaymentKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="One key per payment; a retry with it records nothing new.",
    ),
]
