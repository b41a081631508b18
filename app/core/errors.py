"""Every error leaves the service as an RFC 9457 problem document, from this one place.

Engine errors (``plans.errors.DomainError``) carry the field and the rule; request validation
errors carry pydantic's location and error type; both become ``errors: [{field, rule,
detail}]`` in an ``application/problem+json`` body. Routers raise :class:`Problem` for HTTP
concerns (401, 403, 404, 409) and never reword an engine error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://repay.example/problems/"


class Conflict(Exception):
    """The row would break a uniqueness rule (a policy name already taken)."""


class NotFound(LookupError):
    """The row the operation refers to does not exist."""


@dataclass
class FieldError:
    """One broken rule: where (a dotted path into the request) and which rule."""

    field: str
    rule: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "detail": self.detail}


@dataclass
class Problem(Exception):
    """An HTTP error with an RFC 9457 body. ``kind`` becomes the problem ``type`` URI."""

    status: int
    kind: str
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # False where the path is itself a secret (a share link's token): not echoed as `instance`
    echo_path: bool = True
    # RFC 9457 §3.2 extension members (a refused contact's rule and next permitted time);
    # never replace a standard member
    extensions: dict[str, Any] = field(default_factory=dict)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": TYPE_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = [e.as_dict() for e in self.errors]
        for name, value in self.extensions.items():
            doc.setdefault(name, value)
        return doc


def unauthorized(
    detail: str = "A valid API key is required: Authorization: Bearer <key>.",
) -> Problem:
    return Problem(
        401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "not-found", "Not Found", detail)


def no_such_link() -> Problem:
    """404 for a share link: the same bytes for unknown, revoked and expired tokens alike, and
    no ``instance``, which would echo the token (the capability) and tell one link from another.
    """
    return Problem(404, "not-found", "Not Found", "There is no such offer.", echo_path=False)


def conflict(detail: str, kind: str = "conflict") -> Problem:
    return Problem(409, kind, "Conflict", detail)


# ---- the one place errors become responses ---------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "detail"],
                "properties": {
                    "field": {"type": "string", "description": "Dotted path into the request."},
                    "rule": {"type": "string", "description": "Stable id of the broken rule."},
                    "detail": {"type": "string"},
                },
            },
        },
    },
    "example": {
        "type": TYPE_BASE + "invalid-input",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "The request breaks 1 rule.",
        "errors": [
            {
                "field": "debt.principal",
                "rule": "max_decimals",
                "detail": "CNY allows at most 2 decimal places",
            }
        ],
    },
}

_DESCRIPTIONS = {
    401: "No valid API key.",
    403: "The key's role may not do this.",
    404: "Not found.",
    409: "Conflicts with the current state.",
    413: "The request is too large.",
    422: "The request breaks a rule: the field and the rule are named.",
    429: "Too many requests: retry after the Retry-After header's seconds.",
    503: "The database is unavailable; retry later.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem documents with these statuses."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _pydantic_field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    # a header is named as one ("header.Idempotency-Key"): it is not a field of the body
    if parts and parts[0] in ("body", "query", "path"):
        parts = parts[1:]
    # pydantic names the branch of a union it tried ("function-after[...]", a tag); a client
    # wants the path through its own document; a request's shape ("shape:plan") is not a field
    return (
        ".".join(p for p in parts if not p.startswith(("function-", "tagged-union", "shape:")))
        or "body"
    )


def field_error(error: Mapping[str, Any]) -> FieldError:
    from plans.errors import DomainError
    from schemas.common import PATTERN_RULES

    kind, loc = str(error.get("type")), tuple(error.get("loc", ()))
    # FastAPI locates a body that is not JSON by a character offset, ("body", 12): no field
    offset = kind == "json_invalid" and len(loc) == 2 and isinstance(loc[1], int)
    where = "body" if offset else _pydantic_field(loc)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, DomainError):
        # A schema validator that checks several fields together (a start against the as-of
        # date) raises the engine's error, which names the field and the rule itself.
        field = cause.field if where == "body" else f"{where}.{cause.field}"
        return FieldError(field, cause.rule, cause.detail)
    pattern = (error.get("ctx") or {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern in PATTERN_RULES:
        # the contract's pattern says it; the rule names it
        return FieldError(where, PATTERN_RULES[pattern], "must not contain control characters")
    return FieldError(where, kind, str(error.get("msg")))


def problem_response(problem: Problem, path: str) -> JSONResponse:
    """``problem`` as its ``application/problem+json`` response to a request for ``path``.

    Also for the middlewares that answer before the router (``app.core.routing``,
    ``app.core.limits``).
    """
    from fastapi.responses import JSONResponse

    # a share link's path is its token, the capability: never echoed (app.links.routes.links)
    echo = problem.echo_path and not path.startswith("/s/")
    return JSONResponse(
        problem.body(path if echo else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers or None,
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into ``application/problem+json``."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from sqlalchemy.exc import DBAPIError, OperationalError
    from starlette.exceptions import HTTPException

    from plans.errors import DomainError

    def respond(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem, str(request.url.path))

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return respond(request, exc)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return respond(request, invalid([FieldError(exc.field, exc.rule, exc.detail)]))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(request, invalid([field_error(e) for e in exc.errors()]))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return respond(request, conflict(str(exc)))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return respond(request, not_found(str(exc)))

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        return respond(request, unavailable())

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return respond(request, unavailable())
        raise exc

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI answers a body it cannot decode (not UTF-8, say) with an undocumented
            # 400, but a body that decodes and is not JSON with 422 json_invalid: both are
            # the same broken rule, so both are the documented 422.
            detail = f"The body is not JSON: {exc.__cause__}"
            return respond(request, invalid([FieldError("body", "json_invalid", detail)]))
        titles = {404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large"}
        kind = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            exc.status_code, "http-error"
        )
        problem = Problem(
            exc.status_code,
            kind,
            titles.get(exc.status_code, "HTTP Error"),
            str(exc.detail),
            headers=dict(exc.headers or {}),
        )
        return respond(request, problem)


def invalid(errors: list[FieldError]) -> Problem:
    """422: the request breaks these rules."""
    count = len(errors)
    return Problem(
        422,
        "invalid-input",
        "Unprocessable Content",
        f"The request breaks {count} rule{'s' if count != 1 else ''}: "
        + "; ".join(f"{e.field}: {e.detail}" for e in errors[:5]),
        errors,
    )


def unavailable() -> Problem:
    """503: the database cannot be reached; safe to retry."""
    return Problem(
        503,
        "unavailable",
        "Service Unavailable",
        "The database is unavailable. Nothing was changed; retry shortly.",
        headers={"Retry-After": "1"},
    )
