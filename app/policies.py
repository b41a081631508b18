"""Policy versions as the engine uses them: resolved from a reference, parsed once.

Versions are immutable, so a parsed version is cached for the life of the process; only "which
version is the latest" is asked of the database on each request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app import storage
from app.db import PolicyVersion
from app.errors import not_found
from plans.policy import Policy
from schemas.policies import PolicyBody, PolicyRef

DEFAULT_POLICY_NAME = "default"


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    """A policy version ready for the engine, and how offers name it."""

    id: int
    name: str
    version: int
    body: PolicyBody
    engine: Policy

    @property
    def used(self) -> dict[str, Any]:
        """The ``policy`` object every offer carries."""
        return {"id": self.id, "name": self.name, "version": self.version}


# Keyed by database too: two databases (tests, tenants) may both have a policy 1, version 1.
_cache: dict[tuple[str, int, int], ResolvedPolicy] = {}
_lock = threading.Lock()


def _database(db: Session) -> str:
    return str(db.get_bind().url)


def _resolved(db: Session, row: PolicyVersion) -> ResolvedPolicy:
    key = (_database(db), row.policy_id, row.version)
    cached = _cache.get(key)
    if cached is None:
        body = PolicyBody.model_validate(row.body)
        cached = ResolvedPolicy(row.policy_id, row.policy.name, row.version, body, body.to_engine())
        with _lock:
            _cache[key] = cached
    return cached


def default_policy_id(db: Session) -> int:
    """The id of the policy named "default", created with the engine's defaults if missing."""
    for policy, _ in storage.list_policies(db):
        if policy.name == DEFAULT_POLICY_NAME:
            return policy.id
    try:
        return storage.create_policy(db, DEFAULT_POLICY_NAME, _DEFAULT_BODY, None).policy_id
    except storage.Conflict:  # created meanwhile by a concurrent request
        return default_policy_id(db)


# Stored in full, defaults spelled out: the version must mean the same after defaults change.
_DEFAULT_BODY: dict[str, Any] = PolicyBody().model_dump(mode="json")


def resolve(db: Session, ref: PolicyRef | None) -> ResolvedPolicy:
    """The policy version a request names (the default policy's latest if none)."""
    policy_id = ref.id if ref is not None else default_policy_id(db)
    version = ref.version if ref is not None else None
    cached = None if version is None else _cache.get((_database(db), policy_id, version))
    if cached is not None:
        return cached
    row = storage.get_policy_version(db, policy_id, version)
    if row is None:
        which = f"version {version} of policy {policy_id}" if version else f"policy {policy_id}"
        raise not_found(f"There is no {which}.")
    return _resolved(db, row)


def version_out(db: Session, row: PolicyVersion) -> dict[str, Any]:
    """A stored version as ``schemas.policies.PolicyVersionOut``."""
    return {
        "id": row.policy_id,
        "name": row.policy.name,
        "version": row.version,
        "created_at": row.created_at,
        "body": _resolved(db, row).body,
    }


def clear_cache() -> None:
    """Forget parsed versions (tests that drop and recreate a database reuse its ids)."""
    with _lock:
        _cache.clear()
