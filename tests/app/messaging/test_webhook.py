"""app/messaging/webhook.py and ``repay outbox send``: signed POSTs to a real receiver on
127.0.0.1 (a thread running ``http.server``), retries, refusals, leases and a graceful stop; on
SQLite and PostgreSQL. Backoff is tested with an injected sleep and clock: no test waits for it.

Known answers: HMAC-SHA256 values are those of ``openssl dgst -sha256 -hmac`` (see the
doctests in app/messaging/webhook.py); ``Retry-After`` forms are RFC 9110 §10.2.3's.
"""

from __future__ import annotations

import random
import signal
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.audit.trail import verify
from app.cli import app as cli
from app.core.db import get_sessionmaker, make_engine, utcnow
from app.messaging import webhook
from app.messaging.models import OutboxMessage
from app.messaging.webhook import Sender, sign, verify_signature
from tests.app.messaging.outbox_support import due_messages, reachable_party, rows
from tests.app.messaging.receiver import (
    OK,
    SECRET,
    Answer,
    Receiver,
    receiving,
    start_sender,
    wait_for,
)

Headers = dict[str, dict[str, str]]


class FakeTime:
    """A clock that only moves when slept on: backoff without waiting."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def sender(url: str, fake: FakeTime | None = None, **options: Any) -> Sender:
    said: list[str] = []
    made = Sender(
        url,
        SECRET,
        sleep=fake.sleep if fake else None,
        clock=fake.clock if fake else utcnow,
        rng=random.Random(8),
        say=said.append,
        **options,
    )
    made.said = said  # type: ignore[attr-defined]
    return made


# ---- signatures -----------------------------------------------------------------------


def test_a_signature_binds_the_body_the_secret_and_the_time() -> None:
    body = b'{"id":"a","to":"+12125550123"}'
    header = sign(SECRET, body, timestamp=1_796_000_000)
    # printf '1796000000.{"id":"a","to":"+12125550123"}' | openssl dgst -sha256 -hmac "$SECRET"
    assert header == (
        "t=1796000000,v1=a51747977b4266ae5523ab5999304bf5181953b98878f53f8757ad657312be47"
    )
    at = 1_796_000_000
    assert verify_signature(SECRET, body, header, now=at + 299)
    assert verify_signature(SECRET, body, header, now=at - 299)  # a clock a little behind
    assert not verify_signature(SECRET, body, header, now=at + 301)
    assert verify_signature(SECRET, body, header, now=at + 500, tolerance=600)
    assert not verify_signature(SECRET, body + b" ", header, now=at)
    assert not verify_signature(SECRET + "x", body, header, now=at)
    assert not verify_signature(SECRET, body, None, now=at)
    assert not verify_signature(SECRET, body, "t=1796000000", now=at)
    assert not verify_signature(SECRET, body, header.replace("t=1796000000", "t=1796000001"))
    # a secret being rotated: the old and the new signature side by side
    rotated = f"{header},v1={'0' * 64}"
    assert verify_signature(SECRET, body, rotated, now=at)
    assert verify_signature(SECRET.encode(), body, header, now=at)


# ---- delivery ------------------------------------------------------------------------------


def test_each_message_is_posted_signed_once_and_acknowledged(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    ids = due_messages(party["id"], 3)
    with receiving(Receiver()) as receiver:
        made = sender(receiver.url, lease=timedelta(seconds=30), timeout=2)
        total = made.run(once=True)
    assert (total.claimed, total.delivered, total.retried) == (3, 3, 0)
    assert receiver.seen() == Counter(ids)
    for r in receiver.receipts:
        assert r.signed and r.headers["Idempotency-Key"] == r.id
        assert r.headers["Content-Type"] == "application/json"
        assert r.body["to"] == "+12125550123" and r.body["body"] == f"message {r.id}\n"
        assert r.body["claims"] == 1 and "claim_token" not in r.body
    delivered = rows(OutboxMessage.status == "delivered")
    assert sorted(m.id for m in delivered) == sorted(ids)
    said = "\n".join(made.said)  # type: ignore[attr-defined]
    assert "delivered 3" in said and "127.0.0.1" in said
    assert "+12125550123" not in said and SECRET not in said and "T0-secret-path" not in said


def test_503_with_retry_after_and_a_dropped_connection_are_retried(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    ids = due_messages(party["id"], 2)

    def flaky(_id: str, seen: int) -> Answer:
        # each message: a 503 asking for 7 s, then a dropped connection, then accepted
        return [(503, {"Retry-After": "7"}), None, OK][seen]

    fake = FakeTime()
    with receiving(Receiver(flaky)) as receiver:
        made = sender(receiver.url, fake, lease=timedelta(seconds=60), timeout=2)
        total = made.run(once=True)
    assert (total.claimed, total.delivered, total.retried, total.failed) == (2, 2, 4, 0)
    assert receiver.delivered() == Counter(ids) and receiver.seen() == Counter(ids * 3)
    # per message: Retry-After honoured to the second, then a jittered backoff of the second
    # attempt, within [0, 2 * BASE_DELAY]
    assert fake.slept[0] == 7.0 and fake.slept[2] == 7.0
    for jittered in (fake.slept[1], fake.slept[3]):
        assert 0 <= jittered <= 2 * webhook.BASE_DELAY
    assert len(fake.slept) == 4
    assert len(rows(OutboxMessage.status == "delivered")) == 2


def test_a_refusal_is_not_retried_and_the_message_comes_back_in_an_hour(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    fake = FakeTime()
    with receiving(Receiver(lambda _id, _seen: (422, {}))) as receiver:
        made = sender(receiver.url, fake, lease=timedelta(seconds=60), timeout=2)
        total = made.run(once=True)
    assert (total.claimed, total.rejected, total.retried) == (1, 1, 0)
    assert len(receiver.receipts) == 1 and fake.slept == []
    [row] = rows(OutboxMessage.id == message_id)
    assert row.status == "pending" and row.claim_token is None
    assert row.send_at == fake.now + timedelta(hours=1)
    with get_sessionmaker()() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "message_rejected")
        ).all()
        assert verify(session).ok
    assert event.payload == {
        "id": message_id,
        "status": 422,
        "claims": 1,
        "due_again_at": (fake.now + timedelta(hours=1)).isoformat(),
    }
    assert event.actor == made.actor
    assert "+12125550123" not in str(event.payload)


def test_a_wrong_secret_is_refused_by_the_receiver_and_nothing_is_lost(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    with receiving(Receiver()) as receiver:
        wrong = Sender(receiver.url, "not-the-receivers-secret", say=lambda _: None)
        assert wrong.run(once=True).rejected == 1
    assert [r.answered for r in receiver.receipts] == [401]
    [row] = rows(OutboxMessage.id == message_id)
    assert row.status == "pending"  # kept for when the secret is fixed


def test_attempts_used_up_leave_the_message_to_its_lease(client: TestClient, auth: Headers) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    fake = FakeTime()
    with receiving(Receiver(lambda _id, _seen: (500, {}))) as receiver:
        made = sender(receiver.url, fake, lease=timedelta(seconds=60), timeout=2, attempts=4)
        total = made.run(once=True)
    assert (total.failed, total.retried) == (1, 3) and len(receiver.receipts) == 4
    # full jitter under a doubling cap: attempt k waits within [0, BASE_DELAY * 2 ** (k - 1)]
    assert len(fake.slept) == 3
    for k, slept in enumerate(fake.slept, start=1):
        assert 0 <= slept <= webhook.BASE_DELAY * 2 ** (k - 1)
    [row] = rows(OutboxMessage.id == message_id)
    assert row.status == "pending" and row.claimed_until == fake.now - sum(
        (timedelta(seconds=s) for s in fake.slept), timedelta()
    ) + timedelta(seconds=60)


def test_nothing_is_sent_that_could_not_be_acknowledged_within_the_lease(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    due_messages(party["id"], 2)
    fake = FakeTime()
    answers = iter([(429, {"Retry-After": "120"})])  # the first request: past the lease

    def busy(_id: str, _seen: int) -> Answer:
        return next(answers, OK)

    # and the other message is then not sent before that time either
    with receiving(Receiver(busy)) as receiver:
        made = sender(receiver.url, fake, lease=timedelta(seconds=30), timeout=5)
        total = made.run(once=True)
    assert (total.claimed, total.deferred, total.delivered) == (2, 2, 0)
    assert len(receiver.receipts) == 1
    for row in rows():
        assert row.status == "pending" and row.claim_token is None
        assert row.send_at == fake.now + timedelta(seconds=120)
    # a clock that jumps past the lease between attempts: no retry is sent, and the message
    # waits for its lease to run out; the next, never sent, is given back at once
    fake.now += timedelta(seconds=121)

    def stalled_once(seconds: float) -> None:
        # the first sleep overruns: 25 s, past the lease (30 s) less timeout and margin (6 s)
        fake.sleep(25 if not fake.slept else seconds)

    with receiving(Receiver(lambda _id, _seen: None)) as receiver:
        made = sender(receiver.url, fake, lease=timedelta(seconds=30), timeout=5, attempts=2)
        made.sleep = stalled_once
        total = made.run(once=True)
    # the first: sent once, then out of time; the second given back unsent, claimed again,
    # sent twice (its two attempts); neither claimable again before its lease ends
    assert (total.claimed, total.failed, total.released) == (3, 2, 1)
    assert sorted(receiver.seen().values()) == [1, 2]
    for row in rows():
        assert row.status == "pending" and row.claim_token is not None


def test_the_lease_must_leave_time_to_acknowledge() -> None:
    with pytest.raises(ValueError, match="lease"):
        Sender("http://127.0.0.1:9/x", SECRET, lease=timedelta(seconds=10), timeout=9.5)
    with pytest.raises(ValueError, match="at least 16"):
        Sender("http://127.0.0.1:9/x", "short")


# ---- the command --------------------------------------------------------------------------


def test_send_once_from_the_command_line(
    client: TestClient, auth: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    party = reachable_party(client, auth)
    ids = due_messages(party["id"], 4)
    runner = CliRunner()
    missing = runner.invoke(cli, ["outbox", "send", "--once", "--webhook", "http://127.0.0.1:9"])
    assert missing.exit_code == 2 and "REPAY_WEBHOOK_SECRET" in missing.output
    with receiving(Receiver()) as receiver:
        monkeypatch.setenv("REPAY_WEBHOOK_URL", receiver.url)
        monkeypatch.setenv("REPAY_WEBHOOK_SECRET", SECRET)
        from app.core.settings import get_settings

        get_settings.cache_clear()
        try:
            result = runner.invoke(cli, ["outbox", "send", "--once", "--limit", "3"])
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
    assert result.exit_code == 0, result.output
    assert receiver.delivered() == Counter(ids)
    assert "claimed 4, delivered 4" in result.stderr
    for secret in (SECRET, "T0-secret-path", "+12125550123"):
        assert secret not in result.output


def test_sigterm_finishes_the_message_in_hand_and_gives_the_rest_back(
    client: TestClient, auth: Headers, tmp_path: Path
) -> None:
    party = reachable_party(client, auth)
    due_messages(party["id"], 20)
    log = tmp_path / "sender.log"
    with receiving(Receiver(delay=0.3)) as receiver:
        process = start_sender(receiver.url, log, "--limit", "20", "--lease", "30")
        try:
            # stopped while the third request waits for its answer
            wait_for(lambda: len(receiver.seen()) >= 3, 30, "three messages sent")
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0, log.read_text()
        finally:
            process.kill()
    sent = set(receiver.delivered())
    delivered = {m.id for m in rows(OutboxMessage.status == "delivered")}
    assert delivered == sent and 3 <= len(sent) < 20  # the one in hand was acknowledged
    rest = rows(OutboxMessage.status == "pending")
    assert len(rest) == 20 - len(sent)
    assert all(m.claim_token is None and m.claimed_until is None for m in rest)  # given back
    output = log.read_text()
    assert f"delivered {len(sent)}" in output and f"released {20 - len(sent)}" in output


def test_a_database_outage_is_waited_out_not_fatal() -> None:
    unreachable = sessionmaker(bind=make_engine("postgresql://repay@127.0.0.1:1/x"))
    fake = FakeTime()
    made = sender("http://127.0.0.1:9/x", fake, maker=unreachable)

    def sleep_then_stop(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.slept) == 2:
            made.stop.set()

    made.sleep = sleep_then_stop
    assert made.run(poll=3.0) == webhook.Tally()
    assert fake.slept == [3.0, 3.0]
    said = made.said  # type: ignore[attr-defined]
    assert sum(line.startswith("Database unavailable (OperationalError)") for line in said) == 2
    made.stop.clear()
    with pytest.raises(OperationalError):  # --once: a cron job's failure, to be seen
        made.run(once=True)


def test_a_stop_asked_for_between_attempts_gives_the_message_back(
    client: TestClient, auth: Headers
) -> None:
    party = reachable_party(client, auth)
    [message_id] = due_messages(party["id"], 1)
    senders: list[Sender] = []

    def stopped_meanwhile(_id: str, _seen: int) -> Answer:
        senders[0].stop.set()  # SIGTERM while the request is in flight
        return (503, {"Retry-After": "0"})

    with receiving(Receiver(stopped_meanwhile)) as receiver:
        senders.append(sender(receiver.url, FakeTime(), lease=timedelta(seconds=60), timeout=2))
        total = senders[0].run(once=True)
    assert (total.claimed, total.released, total.retried) == (1, 1, 0)
    assert len(receiver.receipts) == 1
    [row] = rows(OutboxMessage.id == message_id)
    assert row.status == "pending" and row.claim_token is None  # another may take it at once
