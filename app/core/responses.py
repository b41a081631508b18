"""A JSON response rendered by orjson from plain dicts the contract already shaped.

Handlers on the hot path build their documents with ``schemas.wire`` and return this, so
FastAPI neither re-validates nor re-serialises them through pydantic.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class Json(Response):
    """``application/json`` rendered with orjson (dates as ISO 8601)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
