"""app/finance/store.py: policies and their immutable, numbered versions, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import get_sessionmaker
from app.core.errors import Conflict, NotFound
from app.core.keys import create_key
from app.finance.models import PolicyVersion
from app.finance.store import add_policy_version, create_policy, get_policy_version, list_policies


@pytest.fixture
def session(migrated_url: str) -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


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
