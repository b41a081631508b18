"""API keys, for admins: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Query
from pydantic import Field, StrictBool

from app.core import keys
from app.core.deps import AdminKey, DbSession, forget_key
from app.core.errors import FieldError, Problem, conflict, invalid, not_found, problem_responses
from app.core.models import ApiKey, Role
from schemas import examples
from schemas.common import Model, OneLine, when, with_examples
from schemas.debts import TEAM_NAME

router = APIRouter(prefix="/v1/keys", tags=["keys"])

ERRORS = problem_responses(401, 403, 404, 422, 503)


class KeyCreate(Model):
    """A new key's role and a name saying who or what uses it, in the admin's organisation.

    A collector's or supervisor's key is a new member's of ``team`` (made if missing; the
    organisation's ``default`` team if not given); a finance or admin member works for the
    whole organisation and takes no team. A ``service`` key (a payment processor, a sender)
    belongs to the organisation, not to a member."""

    role: Role
    name: OneLine = Field(min_length=1, max_length=120, examples=["agent 7, Shenzhen team"])
    team: str | None = Field(
        None,
        min_length=1,
        max_length=120,
        pattern=TEAM_NAME,
        description="Collectors and supervisors only: their team.",
    )
    service: StrictBool = Field(False, description="A key of the organisation, not of a member.")

    # rule team_roles_only: finance and admin take no team
    model_config = with_examples(
        {"role": "collector", "name": "agent 7, Shenzhen team"},
        schema=when(
            "role",
            tuple(r.value for r in Role if not r.works_in_a_team),
            {"properties": {"team": {"type": "null"}}},
        ),
    )


class KeyOut(Model):
    """A key as listed: never its secret."""

    prefix: str
    role: Role
    name: str
    created_at: datetime
    revoked_at: datetime | None

    model_config = with_examples(examples.KEY_REVOKED)


class KeyCreated(KeyOut):
    """A new key: ``key`` is shown this once and stored only as a hash."""

    key: str

    model_config = with_examples(examples.KEY_CREATED)


class KeyList(Model):
    """Every key, revoked ones included."""

    keys: list[KeyOut]

    model_config = with_examples(examples.KEY_LIST)


def _refused(rule: str, detail: str) -> Problem:
    problem = conflict(detail, kind=rule.replace("_", "-"))
    problem.errors.append(FieldError("prefix", rule, detail))
    return problem


def _out(key: ApiKey) -> dict[str, Any]:
    return {
        "prefix": key.prefix,
        "role": key.role,
        "name": key.name,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


@router.post("", response_model=KeyCreated, status_code=201, responses=ERRORS)
def create_key(request: KeyCreate, db: DbSession, key: AdminKey) -> dict[str, Any]:
    """Create a key. Its secret is in this response only."""
    if request.team is not None and not Role(request.role).works_in_a_team:
        raise invalid(
            [
                FieldError(
                    "team",
                    "team_roles_only",
                    f"{request.role} keys work for the organisation: no team",
                )
            ]
        )
    plaintext, row = keys.create_key(
        db,
        request.role,
        request.name,
        organisation_id=key.organisation_id,
        team=request.team,
        service=request.service,
    )
    return {**_out(row), "key": plaintext}


@router.get("", response_model=KeyList, responses=ERRORS)
def list_keys(db: DbSession, key: AdminKey) -> dict[str, Any]:
    """Every key of the organisation with its role and state."""
    return {"keys": [_out(k) for k in keys.list_keys(db, key.organisation_id)]}


@router.post(
    "/{prefix}/revoke",
    response_model=KeyOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
def revoke_key(
    db: DbSession,
    key: AdminKey,
    prefix: str = Path(pattern=r"^[0-9a-f]{8}$"),
    own: bool = Query(
        False, alias="self", description="Set to revoke the calling key itself (else 409)."
    ),
) -> dict[str, Any]:
    """Revoke a key of the organisation at once; idempotent. Never the organisation's last
    active admin key (409 ``last_admin_key``), nor the caller's own without ``self=true``
    (409 ``own_key``)."""
    if prefix == key.prefix and not own:
        raise _refused("own_key", "This is your own key: pass self=true to revoke it.")
    if keys.only_active_admin(db, prefix, key.organisation_id):
        raise _refused(
            "last_admin_key", "The organisation's last active admin key cannot be revoked."
        )
    row = keys.revoke_key(db, prefix, key.organisation_id)
    if row is None:
        raise not_found(f"There is no key {prefix}.")
    forget_key(prefix)
    return _out(row)
