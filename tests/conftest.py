"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

``database_url``  an empty database, once per backend (parametrised "sqlite", "postgresql").
``app_database_url``  the same, with DATABASE_URL pointing at it and the settings and engine
caches reset, so ``get_settings()``/``get_engine()`` (and the CLI) use it.
``migrated_url``  the same, migrated to head.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, user ``postgres`` or ``root``). Each
test session (each xdist worker) gets its own database, emptied before every test and dropped
at the end. An unreachable server skips those tests, or fails them when CI=true. A test using
it holds the server shared (``postgres_in_use``); the one that restarts it holds it alone.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from app.core.db import reset_engine
from app.core.migrate import upgrade
from app.core.settings import get_settings

PG_SERVER = "postgresql://{user}@127.0.0.1:5432/{database}"
PG_USERS = ("postgres", "root")
# One per machine, as the server is: held shared by every test using PostgreSQL, exclusively by
# one that restarts it (tests/app/test_faults.py), so no other test (another xdist worker,
# another checkout) sees the outage.
PG_LOCK = Path(tempfile.gettempdir()) / "repay-test-postgres.lock"


@contextmanager
def postgres_in_use(*, exclusive: bool = False, timeout: float = 300.0) -> Iterator[None]:
    """Hold the machine's PostgreSQL for a test: shared, or exclusively (to restart it)."""
    with PG_LOCK.open("a") as handle:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{PG_LOCK} held elsewhere for {timeout} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _connect(database: str) -> tuple[psycopg.Connection[tuple[object, ...]], str]:
    failures = []
    for user in PG_USERS:
        try:
            url = PG_SERVER.format(user=user, database=database)
            return psycopg.connect(url, autocommit=True, connect_timeout=5), user
        except psycopg.OperationalError as exc:
            failures.append(f"{user}: {str(exc).strip()}")
    raise ConnectionError("; ".join(failures))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this session's own, dropped at the end: its URL."""
    try:
        admin, user = _connect("test")
    except ConnectionError as exc:
        reason = f"PostgreSQL on 127.0.0.1:5432 is unreachable ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # xdist workers run at the same time, and so might two checkouts: both go in the name.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"repay_test_{worker}_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PG_SERVER.format(user=user, database=name)
    finally:
        reset_engine()
        # a connection of its own: the server may have restarted since (tests/app/test_faults.py)
        admin, _ = _connect("test")
        with admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _empty_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        # A session leaked by an earlier test would make this wait forever; fail instead.
        connection.execute("SET lock_timeout = '10s'")
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'repay.db'}"
        return
    url: str = request.getfixturevalue("postgres_database")
    with postgres_in_use():
        _empty_postgres(url)
        yield url


@pytest.fixture
def app_database_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``database_url``, made the application's database (DATABASE_URL, caches reset)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_engine()
    yield database_url
    reset_engine()
    get_settings.cache_clear()


@pytest.fixture
def migrated_url(app_database_url: str) -> str:
    """``app_database_url``, migrated to the latest schema."""
    upgrade(app_database_url)
    return app_database_url
