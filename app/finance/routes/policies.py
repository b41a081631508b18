"""The finance team's policies: immutable, numbered versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from app.audit import trail
from app.core.access import Actor, actor
from app.core.deps import DbSession, FinanceKey
from app.core.errors import not_found, problem_responses
from app.finance import store
from app.finance.policies import forget_latest, version_out
from schemas.policies import PolicyChange, PolicyCreate, PolicyList, PolicyVersionOut

router = APIRouter(prefix="/v1/policies", tags=["policies"])

ERRORS = problem_responses(401, 403, 404, 422, 503)
PolicyId = Path(ge=1, le=2**31 - 1, description="The policy's id.", examples=[1])
Version = Path(ge=1, le=2**31 - 1, description="A version number, from 1.", examples=[1])


@router.get("", response_model=PolicyList, responses=ERRORS)
def list_policies(db: DbSession, key: FinanceKey) -> dict[str, Any]:
    """Every policy with its latest version."""
    return {
        "policies": [
            version_out(db, latest) for _, latest in store.list_policies(db, key.organisation_id)
        ]
    }


@router.post(
    "",
    response_model=PolicyVersionOut,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422, 503),
)
def create_policy(request: PolicyCreate, db: DbSession, key: FinanceKey) -> dict[str, Any]:
    """A new policy and its version 1. The body is checked by the engine before it is stored."""
    request.body.to_engine()
    row = store.create_policy(
        db, request.name, _stored(request.body), key.id, organisation_id=key.organisation_id
    )
    _audited(db, "policy_created", row, key)
    return version_out(db, row)


@router.get("/{policy_id}", response_model=PolicyVersionOut, responses=ERRORS)
def latest_version(db: DbSession, key: FinanceKey, policy_id: int = PolicyId) -> dict[str, Any]:
    """The latest version of a policy."""
    return _version(db, policy_id, None, key)


@router.post(
    "/{policy_id}/versions", response_model=PolicyVersionOut, status_code=201, responses=ERRORS
)
def add_version(
    request: PolicyChange, db: DbSession, key: FinanceKey, policy_id: int = PolicyId
) -> dict[str, Any]:
    """A change to a policy: stored as the next version; earlier versions never change."""
    request.body.to_engine()
    row = store.add_policy_version(
        db, policy_id, _stored(request.body), key.id, organisation_id=key.organisation_id
    )
    _audited(db, "policy_version_added", row, key)
    forget_latest(db, policy_id)
    return version_out(db, row)


@router.get("/{policy_id}/versions/{version}", response_model=PolicyVersionOut, responses=ERRORS)
def one_version(
    db: DbSession, key: FinanceKey, policy_id: int = PolicyId, version: int = Version
) -> dict[str, Any]:
    """One version of a policy, exactly as it was published."""
    return _version(db, policy_id, version, key)


def _version(db: DbSession, policy_id: int, version: int | None, key: Actor) -> dict[str, Any]:
    row = store.get_policy_version(db, policy_id, version, organisation_id=key.organisation_id)
    if row is None:
        which = f"version {version} of policy {policy_id}" if version else f"policy {policy_id}"
        raise not_found(f"There is no {which}.")
    return version_out(db, row)


def _audited(db: DbSession, kind: str, row: Any, key: Actor) -> None:
    trail.record(
        db,
        kind,
        actor=actor(key),
        payload={"policy_id": row.policy_id, "version": row.version, "body": row.body},
        organisation_id=key.organisation_id,
    )


def _stored(body: Any) -> dict[str, Any]:
    # The whole body, defaults included: a version must mean the same thing after the
    # engine's defaults change.
    stored: dict[str, Any] = body.model_dump(mode="json")
    return stored
