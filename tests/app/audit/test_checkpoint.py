"""The signed checkpoint of the audit chain's head (``app/audit/checkpoint.py``): its file, the
interval the service writes it at, and ``repay audit checkpoint``."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from app.cli import app as cli
from app.core.db import get_engine
from app.core.settings import get_settings
from tests.app.audit.attacker import EVENTS, behind_the_triggers, rewrite
from tests.app.links.test_sharing import audited_history

Headers = dict[str, dict[str, str]]


def last_hash(seq: int) -> str:
    with get_engine().connect() as connection:
        found: str = connection.scalar(select(EVENTS.c.hash).where(EVENTS.c.seq == seq))
    return found


def said(result: Result) -> str:
    """What a command told on stderr, as one line (rich wraps it at the terminal's width)."""
    return " ".join(result.stderr.split())


def test_the_checkpoint_file_is_the_head_signed(
    client: TestClient, auth: Headers, checkpoint_path: Path
) -> None:
    audited_history(client, auth)
    document = json.loads(checkpoint_path.read_text())
    assert set(document) == {"format", "events", "hash", "at", "signature"}
    assert (document["format"], document["events"]) == ("repay-audit-checkpoint/1", 8)
    assert document["hash"] == last_hash(8)
    # RFC 5869 HKDF-SHA256, info "repay audit checkpoint v1" (README), RFC 2104 HMAC-SHA256 of
    # the canonical JSON of the four other fields
    key = HKDF(hashes.SHA256(), 32, salt=None, info=b"repay audit checkpoint v1").derive(
        get_settings().secret_key
    )
    signed = {k: document[k] for k in ("at", "events", "format", "hash")}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    assert document["signature"] == hmac.new(key, message, hashlib.sha256).hexdigest()


def test_the_service_checkpoints_every_n_events(
    client: TestClient, auth: Headers, checkpoint_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPAY_AUDIT_CHECKPOINT_EVERY", "3")
    get_settings.cache_clear()
    audited_history(client, auth)  # 8 events, one per request: checkpoints at 3 and 6
    document = json.loads(checkpoint_path.read_text())
    assert (document["events"], document["hash"]) == (6, last_hash(6))
    assert client.get("/v1/audit/verify", headers=auth["finance"]).json()["ok"] is True


def test_repay_audit_checkpoint_writes_the_head_of_a_trail_that_verifies(
    client: TestClient, auth: Headers, tmp_path: Path
) -> None:
    audited_history(client, auth)  # no REPAY_AUDIT_CHECKPOINT_PATH: nothing written meanwhile
    runner = CliRunner()
    target = tmp_path / "cron-checkpoint.json"
    made = runner.invoke(cli, ["audit", "checkpoint", "--to", str(target)])
    assert made.exit_code == 0, made.stderr
    document = json.loads(target.read_text())
    assert json.loads(made.stdout) == document
    assert (document["events"], document["hash"]) == (8, last_hash(8))
    again = runner.invoke(cli, ["audit", "checkpoint", "--to", str(target)])
    assert again.exit_code == 0 and "holds a checkpoint of as many events" in said(again)
    with behind_the_triggers() as connection:
        rewrite(connection, 8, {"amount": "1.00"})
    refused = runner.invoke(cli, ["audit", "checkpoint", "--to", str(target)])
    assert refused.exit_code == 1 and "no checkpoint written" in said(refused)
    assert json.loads(target.read_text()) == document
    verified = runner.invoke(cli, ["audit", "verify", "--checkpoint", str(target)])
    assert verified.exit_code == 1
    answer = json.loads(verified.stdout)
    assert (answer["rewritten_seq"], answer["truncated"]) == (8, True)


def test_repay_audit_checkpoint_needs_a_place(client: TestClient) -> None:
    made = CliRunner().invoke(cli, ["audit", "checkpoint"])
    assert made.exit_code == 2 and "REPAY_AUDIT_CHECKPOINT_PATH" in said(made)
