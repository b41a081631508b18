"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

``database_url``  an empty database, once per backend (parametrised "sqlite", "postgresql").
``app_database_url``  the same, with DATABASE_URL pointing at it and the settings and engine
caches reset, so ``get_settings()``/``get_engine()`` (and the CLI) use it.
``migrated_url``  the same, migrated to head.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, user ``postgres`` or ``root``). Each
test session (each xdist worker) gets its own database, emptied before every test and dropped
at the end. An unreachable server skips those tests, or fails them when CI=true.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from app.db import reset_engine
from app.migrate import upgrade
from app.settings import get_settings

PG_SERVER = "postgresql://{user}@127.0.0.1:5432/{database}"
PG_USERS = ("postgres", "root")


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
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty database: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'repay.db'}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


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
