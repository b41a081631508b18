"""app/core/keys.py, app/core/db.py and the migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from datetime import UTC

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import database_ready, get_engine, get_sessionmaker, make_engine
from app.core.keys import create_key, find_key, list_keys, organisation_named, revoke_key
from app.core.migrate import alembic_config, upgrade
from app.core.models import ApiKey, Role
from app.core.settings import get_settings
from app.models import Base

TABLES = {"api_keys", "policies", "policy_versions"}


@pytest.fixture
def session(migrated_url: str) -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


# --- migrations -------------------------------------------------------------------------


def test_migrations_create_the_schema_the_models_describe(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert MigrationContext.configure(connection).get_current_revision() == head
            # Autogenerate finds nothing to do: the models and the migrations agree.
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # idempotent
    command.downgrade(alembic_config(database_url), "base")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert not TABLES & set(inspect(connection).get_table_names())
        upgrade(database_url)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_the_app_uses_the_configured_database(migrated_url: str) -> None:
    assert get_settings().database_url == migrated_url
    backend = get_engine().dialect.name
    assert backend == ("sqlite" if migrated_url.startswith("sqlite") else "postgresql")
    if backend == "postgresql":
        assert get_engine().url.drivername == "postgresql+psycopg"
    else:
        with get_engine().connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_database_ready(session: Session) -> None:
    assert database_ready(session)
    unreachable = make_engine("postgresql://nobody@127.0.0.1:1/none")
    with Session(unreachable) as down:
        assert not database_ready(down)


# --- API keys ---------------------------------------------------------------------------


def test_a_created_key_is_found_by_its_plaintext(session: Session) -> None:
    plaintext, key = create_key(session, Role.FINANCE, "reconciliation")
    session.commit()
    with get_sessionmaker()() as other:
        found = find_key(other, plaintext)
        assert found is not None
        assert (found.id, found.role, found.name) == (key.id, "finance", "reconciliation")
        assert found.created_at.tzinfo == UTC


def test_the_key_format(session: Session) -> None:
    plaintext, key = create_key(session, "collector", "agent")
    scheme, prefix, secret = plaintext.split("_", 2)
    assert (scheme, prefix) == ("rk", key.prefix)
    assert len(prefix) == 8 and int(prefix, 16) >= 0
    # token_urlsafe(32): 32 random bytes, 43 base64url characters, 256 bits.
    assert len(secret) == 43


@pytest.mark.parametrize(
    "attempt",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret, right prefix
        lambda k: k + "x",
        lambda k: k.replace("rk_", "xk_", 1),
        lambda k: "rk_" + k.split("_", 2)[1],
        lambda k: "",
        lambda k: "Bearer " + k,
    ],
)
def test_near_misses_are_not_keys(session: Session, attempt: Callable[[str], str]) -> None:
    plaintext, _ = create_key(session, "admin", "ops")
    assert find_key(session, attempt(plaintext)) is None


def test_a_revoked_key_is_not_found(session: Session) -> None:
    plaintext, key = create_key(session, "collector", "leaver")
    session.commit()
    assert revoke_key(session, key.prefix) is key
    session.commit()
    assert key.revoked_at is not None
    assert find_key(session, plaintext) is None
    first_revocation = key.revoked_at
    again = revoke_key(session, key.prefix)  # idempotent
    assert again is not None and again.revoked_at == first_revocation
    assert revoke_key(session, "00000000") is None
    assert [k.prefix for k in list_keys(session)] == [key.prefix]  # the row stays


def test_the_row_holds_a_peppered_hash_not_the_key(session: Session) -> None:
    plaintext, key = create_key(session, "collector", "agent")
    session.commit()
    row = session.execute(text("SELECT * FROM api_keys WHERE id = :id"), {"id": key.id}).one()
    secret = plaintext.split("_", 2)[2]
    assert all(secret not in str(value) for value in row)
    # RFC 2104 HMAC with SHA-256, keyed by the pepper: computed here with the stdlib.
    pepper = get_settings().key_pepper.encode()
    expected = hmac.new(pepper, plaintext.encode(), hashlib.sha256).hexdigest()
    assert row._mapping["key_hash"] == expected
    assert hashlib.sha256(plaintext.encode()).hexdigest() != expected  # peppered, not bare


def test_an_unknown_role_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="auditor"):
        create_key(session, "auditor", "x")


def test_the_database_refuses_an_unknown_role(session: Session) -> None:
    organisation = organisation_named(session).id
    session.add(
        ApiKey(
            prefix="deadbeef",
            key_hash="0" * 64,
            role="auditor",
            name="x",
            organisation_id=organisation,
        )
    )
    with pytest.raises(IntegrityError, match=r"ck_api_keys_role|CHECK constraint"):
        session.flush()


def test_roles_are_hierarchical() -> None:
    allowed = {(held, needed) for held in Role for needed in Role if held.includes(needed)}
    assert allowed == {
        (Role.COLLECTOR, Role.COLLECTOR),
        (Role.SUPERVISOR, Role.COLLECTOR),
        (Role.SUPERVISOR, Role.SUPERVISOR),
        (Role.FINANCE, Role.COLLECTOR),
        (Role.FINANCE, Role.SUPERVISOR),
        (Role.FINANCE, Role.FINANCE),
        (Role.ADMIN, Role.COLLECTOR),
        (Role.ADMIN, Role.SUPERVISOR),
        (Role.ADMIN, Role.FINANCE),
        (Role.ADMIN, Role.ADMIN),
    }
