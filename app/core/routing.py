"""Which route a path names, and the answers for the paths and methods no route takes.

FastAPI matches a path by its template alone and validates the parameters afterwards: left to
itself, ``GET /v1/offers/negotiate`` reaches ``GET /v1/offers/{offer_id}`` and is refused as a
malformed id (a 422, not a 405), and a 405 names the methods of the first route whose template
matches, not of every route at that path. Here a path parameter matches only what its declared
type and pattern accept, so a path belongs to the route it looks like:

- a path no route takes is a 404 problem document;
- a method none of the path's routes has is a 405 problem document whose ``Allow`` names every
  method of every route at that path (RFC 9110 §15.5.6);
- a query parameter the API's operation does not declare is a 422 naming it (rule
  ``unknown_parameter``), never silently dropped; the debtor's pages (``/s/``) let unknown ones
  pass, as messengers add their own to a shared link (WeChat's ``from=singlemessage``);
- anything else goes on to the router, which finds the same route.

The table is read from the application's own routes, so a new route is covered the day it is
added. Installed by ``app.main`` as an ASGI middleware.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl

from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from pydantic import TypeAdapter, ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import FieldError, Problem, invalid, not_found, problem_response


@dataclass(frozen=True, slots=True)
class Template:
    """One route: its path template, its methods and what each path parameter accepts."""

    path: str
    methods: frozenset[str]
    regex: re.Pattern[str]
    params: Mapping[str, TypeAdapter[Any]]
    query: frozenset[str] = frozenset()

    def takes(self, path: str) -> bool:
        """Whether ``path`` is this route's: the template matches and every parameter's type
        and pattern accept its segment."""
        found = self.regex.match(path)
        if found is None:
            return False
        for name, adapter in self.params.items():
            try:
                # as FastAPI reads a path parameter: from a string ("7" is an integer)
                adapter.validate_strings(found[name])
            except ValidationError:
                return False
        return True


def templates(routes: Sequence[BaseRoute]) -> list[Template]:
    """Every HTTP route of ``routes`` (included routers flattened) as a :class:`Template`."""
    found: list[Template] = []
    for context in iter_route_contexts(routes):
        methods, regex = context.methods, getattr(context, "path_regex", None)
        if not methods or regex is None:
            continue  # a websocket or a mount: none here
        dependant = getattr(context, "dependant", None)
        params: dict[str, TypeAdapter[Any]] = {}
        for param in dependant.path_params if dependant is not None else ():
            info = param.field_info
            params[param.alias] = TypeAdapter(cast(Any, Annotated[info.annotation, info]))
        query = frozenset(_query_names(dependant)) if dependant is not None else frozenset()
        found.append(Template(str(context.path_format), frozenset(methods), regex, params, query))
    return found


def taking(table: Iterable[Template], path: str) -> list[Template]:
    """The routes that take ``path``."""
    return [template for template in table if template.takes(path)]


def fixed_paths(table: Sequence[Template]) -> dict[str, list[Template]]:
    """The routes that take each path without parameters (``/v1/offers/negotiate``), found
    once: such a path is most requests, and the answer for it never changes, so a request for
    it is a dictionary lookup instead of trying every route's pattern. A fixed path may also
    be taken by a template with parameters (when their types accept its segments), so each is
    found by :func:`taking` over the whole table, as any other path is.

    Examples
    --------
    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> @app.get("/v1/items/{item_id}")
    ... def item(item_id: str) -> None: ...
    >>> @app.post("/v1/items/search")
    ... def search() -> None: ...
    >>> table = templates(app.routes)
    >>> sorted(sorted(t.methods) for t in fixed_paths(table)["/v1/items/search"])
    [['GET'], ['POST']]
    >>> "/v1/items/{item_id}" in fixed_paths(table)
    False
    """
    return {t.path: taking(table, t.path) for t in table if "{" not in t.path}


def allowed(table: Iterable[Template], path: str) -> frozenset[str] | None:
    """The methods of every route that takes ``path``; ``None`` when no route does."""
    return methods_of(taking(table, path))


def methods_of(found: Sequence[Template]) -> frozenset[str] | None:
    """The methods of ``found`` together; ``None`` when no route takes the path."""
    return frozenset().union(*(t.methods for t in found)) if found else None


def unknown_query(found: Iterable[Template], method: str, query: str) -> str | None:
    """The first query parameter none of ``found`` (the routes that take the path) declares
    for ``method``, if any."""
    declared: set[str] = set()
    for template in found:
        if method in template.methods:
            declared |= template.query
    for name, _value in parse_qsl(query, keep_blank_values=True):
        if name not in declared:
            return name
    return None


def method_not_allowed(method: str, allow: Iterable[str]) -> Problem:
    """405 naming the methods the path does take, in the ``Allow`` header and the detail."""
    listed = ", ".join(sorted(allow))
    return Problem(
        405,
        "method-not-allowed",
        "Method Not Allowed",
        f"{method} is not a method of this path; it takes {listed}.",
        headers={"Allow": listed},
    )


class KnownRoutes:
    """ASGI middleware: a 404 for a path no route takes, a 405 with a complete ``Allow`` for a
    method none of the path's routes has; every other request goes on to the router.

    ``routes`` is the application's live list, read once at the first request (every router is
    included by then).
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes
        self.table: list[Template] | None = None
        self.fixed: dict[str, list[Template]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.table is None:
            self.table = templates(self.routes)
            self.fixed = fixed_paths(self.table)
        # as the router matches it: without the prefix a proxy mounts the service under
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        found = self.fixed.get(path)
        if found is None:
            found = taking(self.table, path)  # each route's pattern is tried once a request
        allow = methods_of(found)
        if allow is None:
            answer = problem_response(not_found("There is nothing at this path."), path)
        elif scope["method"] not in allow:
            answer = problem_response(method_not_allowed(scope["method"], allow), path)
        elif (
            scope.get("query_string")
            and path.startswith("/v1/")
            and (name := unknown_query(found, scope["method"], _query(scope))) is not None
        ):
            answer = problem_response(
                invalid([FieldError(f"query.{name}", "unknown_parameter", "is not a parameter")]),
                path,
            )
        else:
            await self.app(scope, receive, send)
            return
        await answer(scope, receive, send)


def _query(scope: Scope) -> str:
    raw: bytes = scope["query_string"]
    return raw.decode("latin-1")


def _query_names(dependant: Dependant) -> Iterable[str]:
    """The query parameters of an operation, its dependencies' included."""
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)
