"""app/messaging/outbox.py and routes.py: messages claimed and acknowledged by senders, their
leases, and what is cancelled or waits rather than be sent; on SQLite and PostgreSQL. The drain
by four processes with one killed is tests/app/messaging/test_drain.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.cli import app as cli
from app.core.db import get_sessionmaker, utcnow
from app.messaging import outbox
from app.messaging.models import OutboxMessage
from tests.app.messaging.outbox_support import (
    CN_DEBTOR,
    REF,
    Headers,
    add,
    due_messages,
    reachable_party,
    rows,
)

# ---- claim, acknowledge, lease ---------------------------------------------------------


def test_claim_ack_and_an_idempotent_second_ack(client: TestClient, auth: Headers) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    assert client.get("/v1/outbox", headers=auth["collector"]).status_code == 403
    claimed = client.get("/v1/outbox?limit=10", headers=auth["finance"])
    assert claimed.status_code == 200, claimed.text
    [message] = claimed.json()["messages"]
    assert message["id"] == message_id
    assert message["to"] == "+12125550123"  # the address, in clear, for the sender
    assert message["body"] == f"message {message_id}\n" and message["claims"] == 1
    assert client.get("/v1/outbox", headers=auth["finance"]).json() == {"messages": []}
    url = f"/v1/outbox/{message_id}/ack"
    wrong = client.post(url, json={"claim_token": "0" * 32}, headers=auth["finance"])
    assert wrong.status_code == 409
    first = client.post(url, json={"claim_token": message["claim_token"]}, headers=auth["admin"])
    again = client.post(url, json={"claim_token": message["claim_token"]}, headers=auth["admin"])
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["status"] == "delivered"
    missing = client.post(
        f"/v1/outbox/{'a' * 32}/ack", json={"claim_token": "0" * 32}, headers=auth["finance"]
    )
    assert missing.status_code == 404
    with get_sessionmaker()() as session:
        claims = [
            e.payload
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind == "messages_claimed")
            )
        ]
    assert claims == [
        {"ids": [message_id], "cancelled": [], "claimed_until": claims[0]["claimed_until"]}
    ]
    assert "+12125550123" not in str(claims)


def test_an_unacknowledged_claim_comes_back_after_its_lease(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    now = utcnow()
    with get_sessionmaker().begin() as session:
        [first] = outbox.claim(session, now=now, lease=timedelta(seconds=60))
    with get_sessionmaker().begin() as session:
        assert outbox.claim(session, now=now + timedelta(seconds=59)) == []
    with get_sessionmaker().begin() as session:
        [second] = outbox.claim(session, now=now + timedelta(seconds=61))
    assert second["id"] == first["id"] == message_id and second["claims"] == 2
    assert second["claim_token"] != first["claim_token"]
    with get_sessionmaker().begin() as session, pytest.raises(Exception, match="claim"):
        outbox.acknowledge(session, message_id, first["claim_token"])
    with get_sessionmaker().begin() as session:
        assert (
            outbox.acknowledge(session, message_id, second["claim_token"])["status"] == "delivered"
        )


def test_a_message_to_a_party_who_opted_out_since_is_cancelled(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    with get_sessionmaker().begin() as session:
        [first] = outbox.claim(session, lease=timedelta(seconds=1))
    url = f"/v1/debts/{REF}/parties/{party['id']}"
    changed = client.patch(url, json={"opted_out": ["sms"]}, headers=auth["collector"])
    assert changed.status_code == 200, changed.text
    time.sleep(1.1)  # the first claim's lease runs out
    assert client.get("/v1/outbox", headers=auth["finance"]).json() == {"messages": []}
    [row] = rows(OutboxMessage.id == message_id)
    assert (row.status, row.cancelled_reason) == ("cancelled", "opted_out")
    late = client.post(
        f"/v1/outbox/{message_id}/ack",
        json={"claim_token": first["claim_token"]},
        headers=auth["finance"],
    )
    assert late.status_code == 409


def test_a_message_outside_permitted_hours_waits(client: TestClient, auth: Headers) -> None:
    party = add(client, auth, CN_DEBTOR)
    night = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    # due a minute before that night, whatever today's date: the test must not age
    [message_id] = due_messages(party["id"], 1, at=night - timedelta(minutes=1))
    with get_sessionmaker().begin() as session:
        assert outbox.claim(session, now=night) == []
    [row] = rows(OutboxMessage.id == message_id)
    assert row.status == "pending"
    assert row.send_at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 08:00 there


def test_drain_dry_run_masks_addresses_and_claims_nothing(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    result = CliRunner().invoke(cli, ["outbox", "drain", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert message_id in result.stdout and "+1 ********23" in result.stdout
    assert "+12125550123" not in result.output
    [row] = rows(OutboxMessage.id == message_id)
    assert row.claims == 0 and row.claim_token is None
