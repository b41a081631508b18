"""The calculations answered directly: a body, a key and a policy this process knows, an answer.

A collector's calculation (negotiate, counter, a plan, a comparison) reads no row once the
key's verification and the policy version are cached: it is a pure function of the body. Yet
through FastAPI it pays for the framework's per-request machinery (the request object, the
dependency graph solved afresh, a session object made and ended, the body validated through the
route's field), which on the hot path cost more than the hello-world app's whole answer.

:class:`DirectAnswers`, wrapped around the whole middleware stack (``app.main.Service``: each
layer costs every request a call and a wrapped ``send``), answers such a request itself when it
can, and hands it to the application, unchanged, when it cannot. What a layer inside would
refuse it leaves to that layer: it answers only a ``POST`` with no query to a path of its own
(paths the routes match, none of them a share link's), and a body over its ``limit`` it stops
reading and hands on, to be refused there with the same 413. It answers when

- the key is the route's: ``Authorization: Bearer <key>`` read as FastAPI's ``HTTPBearer``
  reads it, verified and unrevoked in this process's cache (:func:`app.core.deps.known_actor`,
  a dictionary lookup, no refresh taken on: an entry due for one goes to the route, which makes
  it), with the route's role;
- the body is JSON (``Content-Type: application/json``), parsed and validated to the route's
  own body type, as the route would;
- the operation's :class:`Direct` answer has all it needs in memory (its policy version, and
  for a version named, the latest it is checked against).

Anything else goes to the route: a missing, unknown or too-low key, an invalid body, a cache to
fill or refresh, and any error the calculation raises (a named version no longer current among
them).
The route then answers exactly as it always has (its problem documents, its database work); the
body read here is handed on as it came. So what a client sees never depends on which path
answered: ``tests/app/core/test_direct.py`` holds every answer to the one without this
middleware, byte for byte, headers included. The OpenAPI document is the routes'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.access import Actor
from app.core.db import get_engine
from app.core.deps import known_actor, on_demand, required_role
from app.core.limits import MAX_BODY_BYTES, content_length
from app.core.models import Role
from app.core.responses import Json

Document = dict[str, Any]
Answer = Callable[[Any, Actor, Engine], Document | None]


@dataclass(frozen=True, slots=True)
class Direct:
    """How one ``POST`` operation is answered directly: its route's ``role`` and ``body`` field
    (validated as the route validates it), and ``answer`` (the validated body, the key's actor
    and the database its caches are keyed by in, the route's document out, or ``None`` when it
    needs what only the route can do, such as reading the database)."""

    role: Role
    body: ModelField
    answer: Answer


def answered_directly(
    routes: Sequence[BaseRoute], answers: Mapping[Any, Answer]
) -> dict[str, Direct]:
    """The :class:`Direct` of each route whose endpoint ``answers`` maps to its direct answer,
    by path: its role and body read from the route itself. A route that needs anything else (a
    parameter, a dependency other than its key and its optional session) cannot be answered
    without FastAPI, and is refused here, when the application is built."""
    table: dict[str, Direct] = {}
    for route in iter_route_contexts(routes):  # included routers flattened, as served
        if route.endpoint not in answers:
            continue
        dependant: Dependant = route.dependant
        roles = [required_role(d.call) for d in dependant.dependencies]
        others = [
            d.call
            for d, role in zip(dependant.dependencies, roles, strict=True)
            if role is None and d.call is not on_demand
        ]
        found = [role for role in roles if role is not None]
        params = [*dependant.path_params, *dependant.query_params, *dependant.header_params]
        params += dependant.cookie_params
        if (
            route.methods != {"POST"}
            or len(found) != 1
            or others
            or params
            or len(dependant.body_params) != 1
            or route.body_field is None
        ):
            raise ValueError(f"{route.path} cannot be answered directly")
        table[str(route.path)] = Direct(found[0], route.body_field, answers[route.endpoint])
    return table


def _header(scope: Scope, name: bytes) -> bytes | None:
    # the first of its name, as Starlette's Headers.get reads it
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    return content_type.split(b";", 1)[0].strip().lower() == b"application/json"


def _bearer(scope: Scope) -> str | None:
    header = _header(scope, b"authorization")
    if header is None:
        return None
    scheme, credentials = get_authorization_scheme_param(header.decode("latin-1"))
    return credentials if scheme.lower() == "bearer" and credentials else None


class DirectAnswers:
    """ASGI middleware: the requests to the paths of ``answers`` that it can answer alone,
    their bodies read up to ``limit`` bytes (a longer one is handed on as it comes)."""

    def __init__(
        self, app: ASGIApp, *, answers: Mapping[str, Direct], limit: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.answers = dict(answers)
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = self.answers.get(scope["path"]) if scope["type"] == "http" else None
        if operation is None or scope["method"] != "POST" or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.limit:
            await self.app(scope, receive, send)  # refused inside, before it is read
            return
        received: list[Message] = []
        size, complete = 0, False
        while size <= self.limit:
            message = await receive()
            received.append(message)
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                # all of it, unless a disconnect (the route sees that) or past the limit
                complete = message["type"] == "http.request" and size <= self.limit
                break
        document = None
        if complete:
            body = b"".join(m.get("body", b"") for m in received)
            document = _answer(operation, scope, body)
        if document is not None:
            # the route's own response class: the same bytes and headers as the route sends
            await Json(document)(scope, receive, send)
            return

        async def replayed() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replayed, send)


def _answer(operation: Direct, scope: Scope, body: bytes) -> Document | None:
    """The answer's document, or ``None``: the route answers."""
    credentials = _bearer(scope)
    if credentials is None or not body or not _is_json(_header(scope, b"content-type")):
        return None
    database = get_engine()
    actor = known_actor(database, credentials)
    if actor is None or not actor.rank.includes(operation.role):
        return None
    try:
        request, errors = operation.body.validate(orjson.loads(body), {}, loc=("body",))
        return None if errors else operation.answer(request, actor, database)
    except Exception:  # not JSON orjson reads, a rule broken: the route says which, as it does
        return None
