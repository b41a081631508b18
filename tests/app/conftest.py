"""API fixtures: a migrated database, a client, and a key of each role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.core.db import get_sessionmaker
from app.core.keys import create_key
from app.finance.policies import clear_cache
from app.main import create_app

ROLES = ("collector", "finance", "admin")


@pytest.fixture
def client(migrated_url: str) -> Iterator[TestClient]:
    """A client of a fresh app on a fresh, migrated database (SQLite and PostgreSQL)."""
    clear_cache()
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def keys(client: TestClient) -> dict[str, str]:
    """A plaintext key per role."""
    made = {}
    with get_sessionmaker()() as session:
        for role in ROLES:
            made[role], _ = create_key(session, role, f"test {role}")
        session.commit()
    return made


@pytest.fixture
def auth(keys: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers per role."""
    return {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
