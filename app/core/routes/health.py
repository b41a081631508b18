"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.db import database_ready
from app.core.deps import DbSession
from app.core.errors import problem_responses, unavailable
from app.core.responses import Json
from schemas.common import Model, with_examples

router = APIRouter(tags=["health"])


class Health(Model):
    """The service's state."""

    status: str

    model_config = with_examples({"status": "ok"}, {"status": "ready"})


@router.get(
    "/healthz",
    response_model=Health,
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def healthz() -> Json:
    """The process is up."""
    return Json({"status": "ok"})


@router.get("/readyz", response_model=Health, responses=problem_responses(503))
def readyz(db: DbSession) -> Json:
    """The process is up and its database answers."""
    if not database_ready(db):
        raise unavailable()
    return Json({"status": "ready"})
