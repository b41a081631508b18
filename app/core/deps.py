"""FastAPI dependencies: a database session per request, and API-key authentication by role.

Use them through the annotated aliases (``DbSession``, ``CollectorKey``, ``FinanceKey``,
``AdminKey``), so every dependency of a request shares one session::

    @router.post("/v1/policies", status_code=201)
    def create(body: PolicyIn, db: DbSession, key: FinanceKey):
        version = store.create_policy(db, body.name, body.model_dump(), key.id)
        ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from anyio import Semaphore
from anyio.lowlevel import RunVar
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.db import get_sessionmaker
from app.core.errors import forbidden, unauthorized
from app.core.keys import find_key, hash_key
from app.core.models import ApiKey, Role
from app.core.settings import get_settings
from app.core.ttl import TtlCache

# At most this many requests hold a session at once: the connection pool's size (SQLAlchemy's
# QueuePool: 5 connections and 10 more on demand), well under the 40 threads of the request
# thread pool. Without the bound, a burst of writes to one row (100 debtors' clicks at once)
# fills every thread with handlers waiting for a connection or for the first writer's lock,
# while the first writer needs a thread to finish its response and commit: nothing moves
# until the pool's 30 s timeout, and then as errors. Queued here, a request waits in the event
# loop, holding no thread.
SESSIONS_AT_ONCE = 15
_sessions: RunVar[Semaphore] = RunVar("repay_sessions")


def _admission() -> Semaphore:
    try:
        return _sessions.get()
    except LookupError:  # the first request of this event loop
        _sessions.set(Semaphore(SESSIONS_AT_ONCE))
        return _sessions.get()


async def get_db() -> AsyncIterator[Session]:
    """A session for one request: committed if the handler succeeds, rolled back if it raises.

    Depend on it as :data:`DbSession` (``scope="function"``) so the commit happens before the
    response is sent: a client that got 201 can read what it wrote, and a failed commit
    becomes an error response instead of a lost write.

    A session touches the database only when first used; a request answered from caches (a
    verified key, a parsed policy) never leaves the event loop. Database work happens in the
    thread pool, as blocking I/O must, :data:`SESSIONS_AT_ONCE` requests at a time.
    """
    async with _admission():
        session = get_sessionmaker()()
        try:
            yield session
            if session.in_transaction():
                await run_in_threadpool(session.commit)
        except BaseException:
            if session.in_transaction():
                await run_in_threadpool(session.rollback)
            raise
        finally:
            # commit or rollback has already ended any transaction and returned the connection:
            # closing does no I/O, so it stays on the event loop
            session.close()


DbSession = Annotated[Session, Depends(get_db, scope="function")]

# auto_error=False: a missing key must be our 401 problem document, not FastAPI's 403.
# Declaring the scheme is also what gives /docs its "Authorize" button.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="rk_<prefix>_<secret>",
    description="An API key from `repay keys create --role collector|finance|admin`.",
)


_verified: TtlCache[ApiKey] = TtlCache(lambda: get_settings().cache_seconds)


def _snapshot(key: ApiKey) -> ApiKey:
    # A copy bound to no session: a rollback in a later request cannot expire its attributes.
    return ApiKey(
        id=key.id,
        prefix=key.prefix,
        key_hash=key.key_hash,
        role=key.role,
        name=key.name,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def forget_key(prefix: str | None = None) -> None:
    """Drop cached verifications of the key with ``prefix`` (all keys if ``None``)."""
    if prefix is None:
        _verified.clear()
    else:
        _verified.discard(lambda _, key: key.prefix == prefix)


def require_role(*roles: Role | str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that admits a valid, unrevoked key whose role includes one of ``roles``.

    Roles are hierarchical (admin ⊇ finance ⊇ collector), so the least of ``roles`` decides.
    Use as ``Depends(require_role("finance"))`` (or the ``FinanceKey`` alias); the
    dependency returns the key's :class:`~app.core.db.ApiKey` row (who acted). Raises
    ``unauthorized()`` (401) without a usable key, ``forbidden()`` (403) for too low a role.

    Examples
    --------
    >>> require_role("collector", "finance").__name__
    'require_collector'
    >>> require_role("auditor")
    Traceback (most recent call last):
    ...
    ValueError: 'auditor' is not a valid Role
    """
    if not roles:
        raise ValueError("require_role() needs at least one role")
    required = min((Role(role) for role in roles), key=lambda role: role.rank)

    async def authenticated_key(
        db: DbSession,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiKey:
        if credentials is None:
            raise unauthorized()
        # Every request presents its key; a short-lived cache of verified keys spares the
        # database a lookup per request (see Settings.cache_seconds for how long).
        cache_key = (db.get_bind(), hash_key(credentials.credentials))
        key = _verified.get(cache_key)
        if key is None:
            found = await run_in_threadpool(find_key, db, credentials.credentials)
            if found is None:
                _verified.discard(lambda k, _: k == cache_key)  # revoked: stop serving it
                raise unauthorized("The API key is unknown or revoked.")
            key = _snapshot(found)
            _verified.put(cache_key, key)
        if not Role(key.role).includes(required):
            raise forbidden(
                f"This needs the {required} role (or a higher one); "
                f"key {key.prefix} has the {key.role} role."
            )
        return key

    authenticated_key.__name__ = f"require_{required}"
    return authenticated_key


CollectorKey = Annotated[ApiKey, Depends(require_role(Role.COLLECTOR))]
FinanceKey = Annotated[ApiKey, Depends(require_role(Role.FINANCE))]
AdminKey = Annotated[ApiKey, Depends(require_role(Role.ADMIN))]
