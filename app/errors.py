"""Every error leaves the service as an RFC 9457 problem document, from this one place.

Engine errors (``plans.errors.DomainError``) carry the field and the rule; request validation
errors carry pydantic's location and error type; both become ``errors: [{field, rule,
detail}]`` in an ``application/problem+json`` body. Routers raise :class:`Problem` for HTTP
concerns (401, 403, 404, 409) and never reword an engine error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://repay.example/problems/"


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


def conflict(detail: str, kind: str = "conflict") -> Problem:
    return Problem(409, kind, "Conflict", detail)
