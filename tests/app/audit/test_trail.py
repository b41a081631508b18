"""The anchored audit trail (``app/audit/trail.py``, ``GET /v1/audit/verify``, ``repay audit
verify``), on SQLite and on PostgreSQL: keyed hashes, a table the database will not let change,
and a chain compared with its last signed checkpoint, so that a rewrite and a truncation are
each named, by the endpoint and offline alike."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from app.audit import trail
from app.cli import app as cli
from app.core.db import get_engine, get_sessionmaker
from app.core.settings import get_settings
from tests.app.audit.attacker import EVENTS, behind_the_triggers, plain_hash, rewrite, truncate
from tests.app.links.test_sharing import audited_history

Headers = dict[str, dict[str, str]]


def verified(client: TestClient, auth: Headers) -> dict[str, Any]:
    response = client.get("/v1/audit/verify", headers=auth["finance"])
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def offline(*args: str) -> tuple[int, dict[str, Any]]:
    """``repay audit verify`` run against the same database and key: exit code and JSON."""
    result = CliRunner().invoke(cli, ["audit", "verify", *args])
    return result.exit_code, json.loads(result.stdout)


def test_an_intact_trail_verifies_with_every_field_saying_so(
    client: TestClient, auth: Headers, checkpoint_path: Path
) -> None:
    audited_history(client, auth)
    answer = verified(client, auth)
    head = answer.pop("checkpoint")
    assert answer == {
        "ok": True,
        "events": 8,
        "first_broken_seq": None,
        "reason": None,
        "rewritten_seq": None,
        "missing_seq": None,
        "truncated": False,
        "truncation": None,
        "checkpoint_problem": None,
        "legacy_events": 0,
    }
    assert head["events"] == 8
    assert offline() == (0, {**answer, "checkpoint": head})


def test_each_hash_is_an_hmac_under_a_key_derived_from_the_secret(
    client: TestClient, auth: Headers
) -> None:
    audited_history(client, auth)
    # RFC 5869 HKDF-SHA256 of the service's secret, info "repay audit chain v1" (README), then
    # RFC 2104 HMAC-SHA256: what the database does not hold the key to.
    key = HKDF(hashes.SHA256(), 32, salt=None, info=b"repay audit chain v1").derive(
        get_settings().secret_key
    )
    with get_engine().connect() as connection:
        rows = connection.execute(select(EVENTS).order_by(EVENTS.c.seq)).all()
    assert len(rows) == 8
    for row in rows:
        message = json.dumps(
            {
                "seq": row.seq,
                "at": row.at.isoformat(timespec="microseconds"),
                "kind": row.kind,
                "offer_id": row.offer_id,
                "plan_id": row.plan_id,
                "actor": row.actor,
                "payload": row.payload,
                "prev_hash": row.prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        assert row.hash == hmac.new(key, message, hashlib.sha256).hexdigest()
        assert row.hash != plain_hash(row)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET payload = '{}' WHERE seq = 2",
        "UPDATE audit_events SET kind = 'nothing'",
        "DELETE FROM audit_events WHERE seq = 8",
        "DELETE FROM audit_events",  # SQLite's truncate optimisation is off under a trigger
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(
    client: TestClient, auth: Headers, statement: str
) -> None:
    audited_history(client, auth)
    refused = pytest.raises(DBAPIError, match="the audit trail is append-only")
    with refused, get_engine().begin() as connection:
        connection.execute(text(statement))
    assert verified(client, auth)["ok"] is True


def test_postgresql_refuses_to_truncate_the_trail(client: TestClient, auth: Headers) -> None:
    if get_engine().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite's DELETE is refused above)")
    audited_history(client, auth)
    refused = pytest.raises(DBAPIError, match="TRUNCATE refused")
    with refused, get_engine().begin() as connection:
        connection.execute(text("TRUNCATE audit_events"))


def test_a_changed_event_breaks_the_chain_there(client: TestClient, auth: Headers) -> None:
    audited_history(client, auth)
    with behind_the_triggers() as connection:
        connection.execute(
            text('UPDATE audit_events SET payload = \'{"amount": "1.00"}\' WHERE seq = 5')
        )
    answer = verified(client, auth)
    assert (answer["ok"], answer["events"], answer["first_broken_seq"]) == (False, 5, 5)
    assert answer["reason"] == "its content does not match its hash"
    assert (answer["rewritten_seq"], answer["missing_seq"], answer["truncated"]) == (5, None, False)


def test_a_deleted_event_breaks_the_chain_after_it(client: TestClient, auth: Headers) -> None:
    audited_history(client, auth)
    with behind_the_triggers() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    answer = verified(client, auth)
    assert (answer["ok"], answer["first_broken_seq"]) == (False, 5)
    assert answer["reason"] == "event 4 is missing"
    assert (answer["missing_seq"], answer["rewritten_seq"]) == (4, None)


def test_a_rewrite_with_recomputed_hashes_is_named(client: TestClient, auth: Headers) -> None:
    audited_history(client, auth)
    with behind_the_triggers() as connection:
        rewrite(connection, 3, {"debt_ref": "CARD-9"})
    answer = verified(client, auth)
    # the chain links up again under the plain rule, but event 3's keyed hash does not hold
    assert (answer["ok"], answer["rewritten_seq"], answer["first_broken_seq"]) == (False, 3, 3)
    assert answer["reason"] == "its content does not match its hash"
    assert answer["truncated"] is False and answer["checkpoint"] is None


def test_verify_names_a_truncation_and_a_rewrite(
    client: TestClient, auth: Headers, checkpoint_path: Path
) -> None:
    audited_history(client, auth)  # 8 events, a checkpoint after each
    assert json.loads(checkpoint_path.read_text())["events"] == 8
    with behind_the_triggers() as connection:
        truncate(connection, after=6)
        rewrite(connection, 3, {"debt_ref": "CARD-9"})
    answer = verified(client, auth)
    assert answer["ok"] is False
    assert (answer["rewritten_seq"], answer["first_broken_seq"]) == (3, 3)
    assert answer["truncated"] is True
    assert answer["truncation"].endswith("counted 8 events; the chain ends at event 6")
    assert answer["checkpoint"]["events"] == 8 and answer["checkpoint_problem"] is None
    # offline, from the database and the key: the same answer, and exit 1
    assert offline() == (1, answer)
    assert offline("--checkpoint", str(checkpoint_path)) == (1, answer)


def test_a_truncation_alone_is_named_and_not_written_over(
    client: TestClient, auth: Headers, checkpoint_path: Path
) -> None:
    audited_history(client, auth)
    checkpointed = json.loads(checkpoint_path.read_text())
    with behind_the_triggers() as connection:
        truncate(connection, after=6)
    answer = verified(client, auth)
    assert (answer["ok"], answer["truncated"], answer["first_broken_seq"]) == (False, True, None)
    assert answer["rewritten_seq"] is None and answer["events"] == 6
    assert answer["reason"] == answer["truncation"]
    # The service goes on: three new events, validly keyed, make the chain as long as before and
    # longer. Its event 8 is not the one checkpointed, and the checkpoint is kept as evidence.
    with get_sessionmaker().begin() as session:
        for n in range(3):
            trail.record(session, "test_event", actor="test", payload={"n": n})
    answer = verified(client, auth)
    assert (answer["ok"], answer["truncated"], answer["rewritten_seq"]) == (False, True, None)
    assert answer["truncation"].startswith("event 8 is not the one checkpointed on ")
    assert json.loads(checkpoint_path.read_text()) == checkpointed


def test_a_checkpoint_changed_by_hand_is_refused(
    client: TestClient, auth: Headers, checkpoint_path: Path
) -> None:
    audited_history(client, auth)
    document = json.loads(checkpoint_path.read_text())
    checkpoint_path.write_text(json.dumps({**document, "events": 6}))
    answer = verified(client, auth)
    assert answer["ok"] is False and answer["checkpoint"] is None
    assert answer["checkpoint_problem"].endswith(
        "is not signed under this service's key: written elsewhere, or changed since"
    )
    assert answer["reason"] == answer["checkpoint_problem"]
