"""A checkpoint file of the test's own, made the service's (REPAY_AUDIT_CHECKPOINT_PATH)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import get_settings


@pytest.fixture
def checkpoint_path(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Where the service writes its audit checkpoint in this test (one after every event)."""
    path = tmp_path / "audit-checkpoint.json"
    monkeypatch.setenv("REPAY_AUDIT_CHECKPOINT_PATH", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()
