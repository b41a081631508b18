"""Engine, sessions and the declarative base (SQLAlchemy 2, typed).

Two backends are supported: SQLite (a file under ``var/`` by default, for one machine) and
PostgreSQL (through psycopg 3). The schema itself is owned by the Alembic migrations in
``app/migrations``; each capability's ``models`` module declares its own tables on
:class:`Base`, and together they must match the migrations (a test compares the two).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import (
    DeclarativeBase,
    Session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

from app.core.settings import get_settings

# Deterministic constraint names, so migrations can refer to them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive
    UTC and marked UTC again when read. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (compact, indexable later); JSON text elsewhere.
JSONBody = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every model; its ``metadata`` is what Alembic compares against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # busy_timeout first: switching to WAL itself needs a lock another process may hold.
    cursor.execute("PRAGMA busy_timeout = 30000")
    # WAL: readers never block the writer nor each other (the API reads while the CLI writes).
    cursor.execute("PRAGMA journal_mode = WAL")
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
    # SQLAlchemy's SQLite recipe for serialisable transactions: no implicit BEGIN from the
    # driver; the engine's "begin" event issues BEGIN IMMEDIATE instead.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock when a transaction begins, not at its first write: a transaction that
    # read and then writes (an acceptance, the audit chain's last hash) can then never have
    # read something another writer changed meanwhile. pysqlite's own BEGIN is disabled in
    # _sqlite_pragmas (isolation_level None) so that this one is the only one.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class _NoRowValues(logging.Filter):
    """SQLAlchemy at DEBUG logs every row it fetches, a debtor's name among them: not here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Row %r"


# A log is no place for what the rows hold (debtors' names) nor for what the statements carry:
# SQL is logged, if asked, without its values (``hide_parameters`` below), rows not at all.
logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRowValues())


def make_engine(url: str) -> Engine:
    """A new engine for ``url``, configured for the backend.

    Neither backend logs the values a statement binds (``hide_parameters``), nor do error
    messages carry them. SQLite: usable from FastAPI's thread pool, WAL journal, foreign keys
    on, and a 30 s busy timeout (writers queue instead of failing); the file's directory is
    created if missing.
    PostgreSQL: the psycopg 3 driver (``postgresql://`` is rewritten to
    ``postgresql+psycopg://``) and ``pool_pre_ping`` so a restarted server costs no request.

    Examples
    --------
    >>> from sqlalchemy import text
    >>> engine = make_engine("sqlite://")
    >>> with engine.connect() as connection:
    ...     connection.execute(text("PRAGMA foreign_keys")).scalar()
    1
    >>> make_engine("postgresql://repay@db.example/repay").url.drivername
    'postgresql+psycopg'
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database not in {"", ":memory:"} and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if backend in {"postgresql", "postgres"}:
        if parsed.drivername in {"postgresql", "postgres"}:
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite or postgresql")


_engines: dict[str, Engine] = {}
_sessionmakers: dict[str, sessionmaker[Session]] = {}
_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine for ``get_settings().database_url``, created on first use."""
    url = get_settings().database_url
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def get_sessionmaker() -> sessionmaker[Session]:
    """The session factory bound to :func:`get_engine`.

    Objects are not expired on commit: ``get_db`` commits when the handler returns, and the
    response is built from those objects afterwards.
    """
    engine = get_engine()
    url = get_settings().database_url
    with _lock:
        if url not in _sessionmakers:
            _sessionmakers[url] = sessionmaker(engine, expire_on_commit=False)
        return _sessionmakers[url]


def reset_engine() -> None:
    """Dispose every cached engine and forget it (tests switch databases with this)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _sessionmakers.clear()


def database_ready(session: Session) -> bool:
    """Whether the database answers ``SELECT 1`` (for a readiness probe)."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        # Leave the session usable for whoever reports the failure.
        session.rollback()
        return False
    return True
