"""The collectors' side of the debtors' change requests: list, read, decide."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from app.changes import change_requests
from app.core.deps import CollectorKey, DbSession
from app.core.errors import problem_responses
from schemas.changes import REQUEST_EXAMPLE, ChangeRequestList, ChangeRequestOut, DecisionIn

router = APIRouter(prefix="/v1/change-requests", tags=["changes"])

ERRORS = problem_responses(401, 403, 404, 422, 503)
RequestId = Path(
    pattern=r"^[0-9a-f]{32}$",
    description="A change request's id.",
    examples=[REQUEST_EXAMPLE["id"]],
)


@router.get("", response_model=ChangeRequestList, responses=ERRORS)
def list_requests(
    db: DbSession,
    key: CollectorKey,
    debt_ref: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$",
            description="Only the requests for this debt.",
            examples=["CARD-2024-0012345"],
        ),
    ] = None,
    status: Literal["open", "offered", "declined"] | None = None,
) -> dict[str, Any]:
    """Change requests, newest first; a collector sees those made on the offers it created,
    finance and admin keys see all."""
    rows = change_requests.list_requests(db, key, debt_ref=debt_ref, status=status)
    return {"requests": [change_requests.request_json(db, row) for row in rows]}


@router.get("/{request_id}", response_model=ChangeRequestOut, responses=ERRORS)
def read_request(db: DbSession, key: CollectorKey, request_id: str = RequestId) -> dict[str, Any]:
    """One change request: what the debtor proposed, what was owed, the plan asked for."""
    return change_requests.request_json(db, change_requests.request_for(db, request_id, key))


@router.post(
    "/{request_id}/decision",
    response_model=ChangeRequestOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def decide(
    body: DecisionIn, db: DbSession, key: CollectorKey, request_id: str = RequestId
) -> dict[str, Any]:
    """Record what was done with a request: ``offered`` names the new saved offer (for the
    same debt), ``declined`` names none. Once: the same decision again returns the request,
    another one is a 409. Audited."""
    return change_requests.decide(db, request_id, body, key)
