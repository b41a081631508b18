"""app/core/keys.py, app/core/db.py and the migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import database_ready, get_engine, get_sessionmaker, make_engine
from app.core.errors import Conflict, NotFound
from app.core.keys import create_key, find_key, list_keys, revoke_key
from app.core.migrate import alembic_config, upgrade
from app.core.models import ApiKey, Role
from app.core.settings import get_settings
from app.finance.models import PolicyVersion
from app.finance.store import add_policy_version, create_policy, get_policy_version, list_policies
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
    session.add(ApiKey(prefix="deadbeef", key_hash="0" * 64, role="auditor", name="x"))
    with pytest.raises(IntegrityError, match=r"ck_api_keys_role|CHECK constraint"):
        session.flush()


def test_roles_are_hierarchical() -> None:
    allowed = {(held, needed) for held in Role for needed in Role if held.includes(needed)}
    assert allowed == {
        (Role.COLLECTOR, Role.COLLECTOR),
        (Role.FINANCE, Role.COLLECTOR),
        (Role.FINANCE, Role.FINANCE),
        (Role.ADMIN, Role.COLLECTOR),
        (Role.ADMIN, Role.FINANCE),
        (Role.ADMIN, Role.ADMIN),
    }


# --- policies ---------------------------------------------------------------------------


def test_a_policy_starts_at_version_1_and_grows(session: Session) -> None:
    _, author = create_key(session, "finance", "author")
    first = create_policy(session, "retail", {"max_term_months": 24}, author.id)
    second = add_policy_version(session, first.policy_id, {"max_term_months": 36}, author.id)
    session.commit()
    assert (first.version, second.version) == (1, 2)
    assert second.created_by == author.id
    assert second.created_at.tzinfo == UTC
    assert second.created_at - first.created_at < timedelta(minutes=1)
    with get_sessionmaker()() as other:
        latest = get_policy_version(other, first.policy_id)
        original = get_policy_version(other, first.policy_id, 1)
        assert latest is not None and latest.body == {"max_term_months": 36}
        assert original is not None and original.body == {"max_term_months": 24}
        assert get_policy_version(other, first.policy_id, 3) is None
        assert get_policy_version(other, first.policy_id + 1000) is None


def test_a_duplicate_name_is_a_conflict_and_the_session_survives(session: Session) -> None:
    create_policy(session, "retail", {}, None)
    session.commit()
    with pytest.raises(Conflict, match="retail"):
        create_policy(session, "retail", {"other": True}, None)
    # No exception reached the database, so the same transaction carries on.
    create_policy(session, "business", {}, None)
    session.commit()
    assert [(p.name, v.version) for p, v in list_policies(session)] == [
        ("business", 1),
        ("retail", 1),
    ]


def test_list_policies_pairs_each_policy_with_its_latest_version(session: Session) -> None:
    retail = create_policy(session, "retail", {"v": 1}, None)
    create_policy(session, "business", {"v": 1}, None)
    for v in (2, 3):
        add_policy_version(session, retail.policy_id, {"v": v}, None)
    session.commit()
    listed = [(p.name, v.version, v.body) for p, v in list_policies(session)]
    assert listed == [("business", 1, {"v": 1}), ("retail", 3, {"v": 3})]


def test_a_version_of_a_missing_policy_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        add_policy_version(session, 12345, {}, None)


def test_versions_are_immutable(session: Session) -> None:
    version = create_policy(session, "retail", {"v": 1}, None)
    session.commit()
    version.version = 7
    with pytest.raises(TypeError, match="immutable"):
        session.flush()


def test_concurrent_writers_get_consecutive_versions(migrated_url: str) -> None:
    factory = get_sessionmaker()
    with factory.begin() as session:
        policy_id = create_policy(session, "contended", {"writer": 0}, None).policy_id
    writers = 10
    start = threading.Barrier(writers)

    def write(writer: int) -> int:
        start.wait()  # all at once, to make the race likely
        with factory.begin() as session:
            return add_policy_version(session, policy_id, {"writer": writer}, None).version

    with ThreadPoolExecutor(writers) as pool:
        returned = list(pool.map(write, range(1, writers + 1)))
    assert sorted(returned) == list(range(2, writers + 2))
    with factory() as session:
        stored = session.scalars(
            select(PolicyVersion.version)
            .where(PolicyVersion.policy_id == policy_id)
            .order_by(PolicyVersion.version)
        ).all()
    assert stored == list(range(1, writers + 2))
