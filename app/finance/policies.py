"""Policy versions as the engine uses them: resolved from a reference, parsed once.

Versions are immutable, so a parsed version is cached for the life of the process; only "which
version is the latest" is asked of the database on each request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.access import Actor
from app.core.deps import SessionOnDemand
from app.core.errors import Conflict, not_found
from app.core.models import Role
from app.core.settings import get_settings
from app.core.ttl import TtlCache
from app.finance import store
from app.finance.models import PolicyVersion
from plans.contact_rules import Jurisdiction
from plans.errors import DomainError
from plans.policy import Policy
from schemas.message_rules import MessagesBody
from schemas.policies import PolicyBody, PolicyRef

DEFAULT_POLICY_NAME = "default"


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    """A policy version ready for the engine, and how offers name it."""

    id: int
    organisation_id: int
    name: str
    version: int
    body: PolicyBody
    engine: Policy
    contact: Mapping[str, Jurisdiction]

    @property
    def used(self) -> dict[str, Any]:
        """The ``policy`` object every offer carries."""
        return {"id": self.id, "name": self.name, "version": self.version}


# Keyed by database too: two databases (tests, tenants) may both have a policy 1, version 1.
_cache: dict[tuple[object, int, int], ResolvedPolicy] = {}
_lock = threading.Lock()


def _once_committed(db: Session, remember: Callable[[], None]) -> None:
    # What a transaction reads may be its own writes (the default policy it just created):
    # other requests must not be told of them before they can see them, nor ever if they are
    # rolled back (a cached id of a policy that does not exist is a 404 until a restart).
    event.listen(db, "after_commit", lambda _session: remember(), once=True)


def _database(db: Session) -> object:
    # the engine object: one per database URL per process (rendering the URL costs more)
    return db.get_bind()


def _resolved(db: Session, row: PolicyVersion) -> ResolvedPolicy:
    key = (_database(db), row.policy_id, row.version)
    cached = _cache.get(key)
    if cached is None:
        body = PolicyBody.model_validate(row.body)
        name = row.policy.name
        cached = ResolvedPolicy(
            row.policy_id,
            row.policy.organisation_id,
            name,
            row.version,
            body,
            body.to_engine(),
            # a verdict names the policy version whose rules it applied
            body.contact.to_engine(f"{name}@{row.version}"),
        )
        parsed = cached

        def remember() -> None:
            with _lock:
                _cache[key] = parsed

        _once_committed(db, remember)
    return cached


_default_ids: dict[tuple[object, int], int] = {}
_latest: TtlCache[int] = TtlCache(lambda: get_settings().cache_seconds)


def default_policy_id(db: Session, organisation_id: int) -> int:
    """The id of the organisation's policy named "default", created with the engine's
    defaults if missing."""
    key = (_database(db), organisation_id)
    if key in _default_ids:
        return _default_ids[key]
    found = _find_or_create_default(db, organisation_id)
    _once_committed(db, lambda: _default_ids.__setitem__(key, found))
    return found


def _find_or_create_default(db: Session, organisation_id: int) -> int:
    for policy, _ in store.list_policies(db, organisation_id):
        if policy.name == DEFAULT_POLICY_NAME:
            return policy.id
    try:
        return store.create_policy(
            db, DEFAULT_POLICY_NAME, _DEFAULT_BODY, None, organisation_id=organisation_id
        ).policy_id
    except Conflict:  # created meanwhile by a concurrent request
        return _find_or_create_default(db, organisation_id)


# Stored in full, defaults spelled out: the version must mean the same after defaults change.
_DEFAULT_BODY: dict[str, Any] = PolicyBody().model_dump(mode="json")


def resolve(
    db: Session, ref: PolicyRef | None, organisation_id: int, *, fresh: bool = False
) -> ResolvedPolicy:
    """The policy version a request of an organisation names (its default policy's latest if
    none); ``fresh`` asks the database which version is the latest instead of the cache.
    Another organisation's policy answers as one that does not exist."""
    policy_id = ref.id if ref is not None else default_policy_id(db, organisation_id)
    version = ref.version if ref is not None else None
    database = _database(db)
    if version is None and not fresh:
        version = _latest.get((database, policy_id))
    cached = None if version is None else _cache.get((database, policy_id, version))
    if cached is not None and cached.organisation_id == organisation_id:
        return cached
    row = store.get_policy_version(db, policy_id, version, organisation_id=organisation_id)
    if row is None:
        which = f"version {version} of policy {policy_id}" if version else f"policy {policy_id}"
        raise not_found(f"There is no {which}.")
    if ref is None or ref.version is None:
        latest = row.version
        _once_committed(db, lambda: _latest.put((database, policy_id), latest))
    else:
        # A version named that is newer than the latest this process knows was published
        # through another process: it is the latest at least, so an older one named next is
        # refused (check_current) now rather than once the cached latest expires.
        known = _latest.peek((database, policy_id))
        if known is not None and row.version > known:
            newer = row.version
            _once_committed(db, lambda: _latest.put((database, policy_id), newer))
    return _resolved(db, row)


def cached(
    database: object, ref: PolicyRef | None, organisation_id: int, *, refresh: bool = True
) -> ResolvedPolicy | None:
    """The version a request names, if this process already knows it (no database I/O);
    ``database`` is the engine the caches are keyed by (``SessionOnDemand.database``). With
    ``refresh`` a latest version just expired is this caller's to refresh (``None``, once);
    without, a refresh due is left to a caller that will (``TtlCache.current``)."""
    policy_id = ref.id if ref is not None else _default_ids.get((database, organisation_id))
    if policy_id is None:
        return None
    version = ref.version if ref is not None and ref.version is not None else None
    if version is None:
        latest = (database, policy_id)
        version = _latest.get(latest) if refresh else _latest.current(latest)
    found = None if version is None else _cache.get((database, policy_id, version))
    return found if found is not None and found.organisation_id == organisation_id else None


def known_for_offer(
    database: object, ref: PolicyRef | None, key: Actor, *, field: str = "policy.version"
) -> ResolvedPolicy | None:
    """What :func:`resolve_for_offer_async` answers, if this process knows it without I/O and
    without taking on a refresh due; ``None``: ask it."""
    policy = cached(database, ref, key.organisation_id, refresh=False)
    if policy is None or ref is None or ref.version is None:
        return policy
    latest = cached(database, PolicyRef(id=ref.id), key.organisation_id, refresh=False)
    if latest is None:
        return None
    check_current(policy, latest.version, key, field=field)
    return policy


def contact_rules(db: Session, code: str, organisation_id: int) -> Jurisdiction:
    """The contact rules in force for jurisdiction ``code`` in an organisation: its default
    policy's latest version's (the rules of law and of the house apply now, whichever offer a
    plan came from)."""
    rules = resolve(db, None, organisation_id).contact
    if code not in rules:
        raise DomainError(
            "jurisdiction", "unknown", f"the policy has no contact rules for {code!r}"
        )
    return rules[code]


def message_rules(db: Session, organisation_id: int) -> MessagesBody:
    """The messages section in force in an organisation: its default policy's latest
    version's, like :func:`contact_rules` (what a message says of its sender is the house's
    now, whichever offer a plan came from)."""
    return resolve(db, None, organisation_id).body.messages


async def resolve_async(
    db: SessionOnDemand, ref: PolicyRef | None, organisation_id: int
) -> ResolvedPolicy:
    """:func:`resolve` for async handlers: from memory when possible (no session is made),
    else in the thread pool."""
    policy = cached(db.database, ref, organisation_id)
    if policy is not None:
        return policy
    session = await db.open()
    # cached() missing "the latest" means this request is the one to refresh it
    return await run_in_threadpool(resolve, session, ref, organisation_id, fresh=True)


def check_current(policy: ResolvedPolicy, latest: int, key: Actor, *, field: str) -> None:
    """Refuse an offer from a version older than the policy's ``latest`` unless ``key`` is a
    finance or admin key: a collector or supervisor offers what finance publishes now."""
    if policy.version < latest and not key.rank.includes(Role.FINANCE):
        raise DomainError(
            field,
            "current_policy_version",
            f"version {policy.version} of policy {policy.id} is not its latest ({latest}):"
            " only a finance or admin key may make an offer from an earlier version",
        )


def resolve_for_offer(
    db: Session, ref: PolicyRef | None, key: Actor, *, field: str = "policy.version"
) -> ResolvedPolicy:
    """:func:`resolve` for an offer made by ``key``: a version named is checked by
    :func:`check_current` (``field`` names it in the request)."""
    policy = resolve(db, ref, key.organisation_id)
    if ref is not None and ref.version is not None:
        latest = resolve(db, PolicyRef(id=ref.id), key.organisation_id).version
        check_current(policy, latest, key, field=field)
    return policy


async def resolve_for_offer_async(
    db: SessionOnDemand, ref: PolicyRef | None, key: Actor, *, field: str = "policy.version"
) -> ResolvedPolicy:
    """:func:`resolve_for_offer` for async handlers (:func:`resolve_async`)."""
    policy = await resolve_async(db, ref, key.organisation_id)
    if ref is not None and ref.version is not None:
        latest = await resolve_async(db, PolicyRef(id=ref.id), key.organisation_id)
        check_current(policy, latest.version, key, field=field)
    return policy


def forget_latest(db: Session, policy_id: int) -> None:
    """A new version was published here: the next request without a version must see it."""
    database = _database(db)
    _latest.discard(lambda key, _: key == (database, policy_id))


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
        _default_ids.clear()
    _latest.clear()
