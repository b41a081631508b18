"""Canonical JSON: the one byte string a JSON value hashes as.

Sorted keys, no spaces, UTF-8 (not ASCII escapes): two equal values always give the same bytes,
so the audit chain's hashes and a request's fingerprint are stable across processes.
"""

from __future__ import annotations

import json
from typing import Any


def canonical(value: Any) -> bytes:
    """The one byte string a JSON value hashes as.

    Examples
    --------
    >>> canonical({"b": 1, "a": ["x", None]})
    b'{"a":["x",null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
