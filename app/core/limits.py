"""The largest request body the service reads: :data:`MAX_BODY_BYTES`, 1 MiB.

The largest document the contract describes (a comparison of plans, a portfolio simulation,
a policy) is a few tens of kilobytes; a body beyond a mebibyte is a mistake or an attack, and
is refused with a 413 problem document before it is parsed, or read further than the limit:

- a ``Content-Length`` over the limit is refused before the application sees the request;
- a body without one (``Transfer-Encoding: chunked``) is counted as it streams, and refused at
  the first byte past the limit.

An operation whose documented bounds need more names its own limit (a portfolio simulation of
10,000 debts: ``schemas.simulations.MAX_BODY_BYTES``).

Installed by ``app.main`` as the outermost layer of the middleware stack (the calculations
answered directly, outside it, hand on a body over the limit: ``app.core.direct``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON, Problem, problem_response

MAX_BODY_BYTES = 1024 * 1024


def too_large(limit: int = MAX_BODY_BYTES) -> Problem:
    """413: the body is over ``limit`` bytes."""
    return Problem(
        413,
        "too-large",
        "Content Too Large",
        f"The request body is over {limit} bytes, the most the service reads.",
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit.

    An ``HTTPException``, so that FastAPI, reading the body, lets it through as it is and the
    application's handler answers it (``app.core.errors``: a problem document); one raised
    where no handler sees it is answered by :class:`BodyLimit` itself.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit).detail)


class BodyLimit:
    """ASGI middleware: a 413 problem document for a request body over ``limit`` bytes, or over
    ``paths[path]`` for a path named there."""

    def __init__(
        self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES, paths: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = limit
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope["path"], self.default)
        declared = content_length(scope)
        if declared is not None and declared > limit:
            await problem_response(too_large(limit), scope["path"])(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await problem_response(too_large(limit), scope["path"])(scope, receive, send)


def content_length(scope: Scope) -> int | None:
    """The request's declared body size (``Content-Length``), if it declares a readable one."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it before us (h11, httptools)
    return None


def document(schema: dict[str, Any], *, paths: Mapping[str, int] | None = None) -> None:
    """Add the limit to ``schema`` (an OpenAPI document): a 413 response on every operation
    that takes a body, its description naming the operation's limit."""
    larger = dict(paths or {})
    for path, operations in schema.get("paths", {}).items():
        limit = larger.get(path, MAX_BODY_BYTES)
        for operation in operations.values():
            if "requestBody" not in operation:
                continue
            own = operation.setdefault("responses", {}).get("413")
            stated = f"The request body is over {limit:,} bytes ({limit // 1024 // 1024} MiB)."
            if own is None:
                operation["responses"]["413"] = {
                    "description": stated,
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            else:  # the operation's own bounds (a simulation's debts), and the body's
                own["description"] = f"{stated} Or: {own['description']}"
