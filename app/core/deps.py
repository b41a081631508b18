"""FastAPI dependencies: a database session per request, and API-key authentication by role.

Use them through the annotated aliases (``DbSession``, ``CollectorKey``, ``FinanceKey``,
``AdminKey``), so every dependency of a request shares one session::

    @router.post("/v1/policies", status_code=201)
    def create(body: PolicyIn, db: DbSession, key: FinanceKey):
        version = store.create_policy(db, body.name, body.model_dump(), key.id, ...)
        ...

A handler that usually needs no database (a calculation, once the key and the policy version
are cached) takes ``DbOnDemand`` instead and opens the session only if a cache misses::

    @router.post("/v1/offers/negotiate")
    async def negotiate(request: NegotiateRequest, db: DbOnDemand, key: CollectorKey):
        policy = await resolve_for_offer_async(db, request.policy, key)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from anyio import Semaphore
from anyio.lowlevel import RunVar
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.access import Actor, actor_of
from app.core.db import get_engine, get_sessionmaker
from app.core.errors import forbidden, unauthorized
from app.core.keys import find_key
from app.core.models import Role
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


class SessionOnDemand:
    """A request's database session, made when first asked for (:meth:`open`).

    A request answered from this process's caches (a verified key, a resolved policy version:
    the calculations) makes no session, checks out no connection and takes no place among
    :data:`SESSIONS_AT_ONCE`. Caches are keyed by :attr:`database`, which needs none.
    """

    __slots__ = ("_admitted", "_session")

    def __init__(self) -> None:
        self._session: Session | None = None
        self._admitted: Semaphore | None = None

    @property
    def database(self) -> Engine:
        """The engine every session of this request is bound to (no I/O)."""
        return get_engine()

    @property
    def opened(self) -> bool:
        """Whether this request has made its session."""
        return self._session is not None

    async def open(self) -> Session:
        """The request's one session, made now if it was not yet (after waiting for a place
        among :data:`SESSIONS_AT_ONCE`)."""
        if self._session is None:
            admission = _admission()
            await admission.acquire()
            self._admitted = admission
            self._session = get_sessionmaker()()
        return self._session

    async def _end(self, *, commit: bool) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if session.in_transaction():
                await run_in_threadpool(session.commit if commit else session.rollback)
        finally:
            # commit or rollback has already ended any transaction and returned the connection:
            # closing does no I/O, so it stays on the event loop
            session.close()
            if self._admitted is not None:
                self._admitted.release()
                self._admitted = None


async def on_demand() -> AsyncIterator[SessionOnDemand]:
    """The request's :class:`SessionOnDemand`: its session, if one was made, is committed if
    the handler succeeds and rolled back if it raises, before the response is sent."""
    lazy = SessionOnDemand()
    try:
        yield lazy
    except BaseException:
        await lazy._end(commit=False)
        raise
    await lazy._end(commit=True)


# scope="function": the commit happens before the response is sent, so a client that got 201
# can read what it wrote, and a failed commit becomes an error response, not a lost write.
DbOnDemand = Annotated[SessionOnDemand, Depends(on_demand, scope="function")]


async def get_db(lazy: DbOnDemand) -> Session:
    """A session for one request: committed if the handler succeeds, rolled back if it raises.

    Depend on it as :data:`DbSession`; the key check and the handler share it (FastAPI
    resolves :func:`on_demand` once per request). Handlers that may be answered from caches
    alone (the calculations) depend on :data:`DbOnDemand` instead and open it only on a miss.
    Database work happens in the thread pool, as blocking I/O must, :data:`SESSIONS_AT_ONCE`
    requests at a time.
    """
    return await lazy.open()


DbSession = Annotated[Session, Depends(get_db)]

# auto_error=False: a missing key must be our 401 problem document, not FastAPI's 403.
# Declaring the scheme is also what gives /docs its "Authorize" button.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="rk_<prefix>_<secret>",
    description="An API key from `repay keys create --role collector|supervisor|finance|admin`.",
)


_verified: TtlCache[Actor] = TtlCache(lambda: get_settings().cache_seconds)


def _verified_actor(db: Session, plaintext: str) -> Actor | None:
    # The actor is a plain value, bound to no session: a rollback in a later request cannot
    # expire it, and a cached one carries the member's team as it was when verified.
    key = find_key(db, plaintext)
    return None if key is None else actor_of(db, key)


def known_actor(database: Engine, plaintext: str) -> Actor | None:
    """The actor of the key presented as ``plaintext`` if this process verified it within the
    cache's time (Settings.cache_seconds), or is verifying it again: a dictionary lookup, no
    I/O. ``None`` when it must be verified (again) through :func:`require_role`, which takes
    on the refresh (so a key revoked is refused within the same bound on every path)."""
    return _verified.current((database, plaintext))


def forget_key(prefix: str | None = None) -> None:
    """Drop cached verifications of the key with ``prefix`` (all keys if ``None``)."""
    if prefix is None:
        _verified.clear()
    else:
        _verified.discard(lambda _, key: key.prefix == prefix)


_ROLES: dict[Callable[..., object], Role] = {}


def required_role(dependency: Callable[..., object] | None) -> Role | None:
    """The role a dependency made by :func:`require_role` admits at least; ``None`` for any
    other."""
    return None if dependency is None else _ROLES.get(dependency)


def require_role(*roles: Role | str) -> Callable[..., Awaitable[Actor]]:
    """A dependency that admits a valid, unrevoked key whose role includes one of ``roles``.

    Roles are hierarchical (admin ⊇ finance ⊇ supervisor ⊇ collector), so the least of
    ``roles`` decides. Use as ``Depends(require_role("finance"))`` (or the ``FinanceKey``
    alias); the dependency returns the :class:`~app.core.access.Actor` who acts (the key, its
    organisation, team and member). Which debts it reaches is ``app.core.access.can``'s. Raises
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
        db: DbOnDemand,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        if credentials is None:
            raise unauthorized()
        # Every request presents its key; on a warm cache its check is this dictionary lookup
        # (keyed by the key as presented: it is in this process's memory while it is served
        # anyway). A miss, or the first request after an entry expires, asks the database.
        # Revocation bound: see Settings.cache_seconds.
        cache_key = (db.database, credentials.credentials)
        key = _verified.get(cache_key)
        if key is None:
            session = await db.open()
            found = await run_in_threadpool(_verified_actor, session, credentials.credentials)
            if found is None:
                _verified.discard(lambda k, _: k == cache_key)  # revoked: stop serving it
                raise unauthorized("The API key is unknown or revoked.")
            key = found
            _verified.put(cache_key, key)
        if not Role(key.role).includes(required):
            raise forbidden(
                f"This needs the {required} role (or a higher one); "
                f"key {key.prefix} has the {key.role} role."
            )
        return key

    authenticated_key.__name__ = f"require_{required}"
    _ROLES[authenticated_key] = required
    return authenticated_key


CollectorKey = Annotated[Actor, Depends(require_role(Role.COLLECTOR))]
SupervisorKey = Annotated[Actor, Depends(require_role(Role.SUPERVISOR))]
FinanceKey = Annotated[Actor, Depends(require_role(Role.FINANCE))]
AdminKey = Annotated[Actor, Depends(require_role(Role.ADMIN))]
