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


class Clock:
    """A monotonic clock that moves only when told (``app.core.ttl``'s caches read it)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The caches' clock, frozen until advanced; their time is ``REPAY_CACHE_SECONDS``' 2 s."""
    from app.core import ttl
    from app.core.settings import get_settings

    monkeypatch.setenv("REPAY_CACHE_SECONDS", "2")
    get_settings.cache_clear()
    frozen = Clock()
    monkeypatch.setattr(ttl, "time", frozen)
    return frozen
