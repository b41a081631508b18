"""Payments while PostgreSQL restarts: acknowledged means stored exactly once; refused means a
retryable 503 (or no connection at all), never a 500.

A payment processor posts payments one after another to a real uvicorn server (a subprocess
with its own connection pool), each with an Idempotency-Key of its own, and retries a refused
one with the same key. Meanwhile the machine's PostgreSQL cluster is restarted
(``pg_ctlcluster ... restart``: every connection of every database is cut; the data stays).

PostgreSQL only. It restarts the whole server, so it holds it exclusively
(``tests.conftest.postgres_in_use``): other tests of the server, in other xdist workers or
checkouts, wait until it is done. Skipped without PostgreSQL or ``pg_ctlcluster`` locally;
fails instead under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from app.core.db import get_sessionmaker
from app.core.keys import create_key
from app.finance.policies import clear_cache
from tests.app.links.test_sharing import SMALL
from tests.app.live import server_process
from tests.conftest import _empty_postgres, postgres_in_use

CLUSTERS = Path("/etc/postgresql")
BUDGET_SECONDS = 45  # the whole test, restart included
RETRY_PAUSE = 0.2


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The session's PostgreSQL database (no SQLite here), emptied, and the server held alone."""
    url: str = request.getfixturevalue("postgres_database")
    with postgres_in_use(exclusive=True):
        _empty_postgres(url)
        yield url


def restart_command() -> list[str]:
    versions = sorted(os.listdir(CLUSTERS)) if CLUSTERS.is_dir() else []
    if not versions or shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        reason = "needs pg_ctlcluster, a cluster under /etc/postgresql and root"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "restart"]


def wait_for_postgres(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False)
        if ready.returncode == 0:
            return True
        time.sleep(0.1)
    return False


class Restart(threading.Thread):
    """Restarts the cluster once ``go`` is set; records how long it took."""

    def __init__(self, command: list[str]) -> None:
        super().__init__(daemon=True)
        self.command = command
        self.go = threading.Event()
        self.started_at = self.finished_at = 0.0
        self.result: subprocess.CompletedProcess[bytes] | None = None

    def run(self) -> None:
        self.go.wait(timeout=BUDGET_SECONDS)
        self.started_at = time.monotonic()
        self.result = subprocess.run(self.command, capture_output=True, timeout=30, check=False)
        self.finished_at = time.monotonic()


class Processor(threading.Thread):
    """One payment processor's loop: each payment with a key of its own, retried with the
    same key after a 503 or a connection error, until acknowledged."""

    def __init__(self, name: str, base_url: str, plan_id: str, key: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.name, self.base_url, self.plan_id, self.stop = name, base_url, plan_id, stop
        self.headers = {"Authorization": f"Bearer {key}"}
        self.attempts: Counter[str] = Counter()
        self.acknowledged: dict[str, Decimal] = {}
        self.outcomes: Counter[str] = Counter()  # 201, 200 (a replay), 503, connection errors
        self.unexpected: list[str] = []
        self.last_acknowledged_at = 0.0

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            number = 0
            while not self.stop.is_set():
                number += 1
                key = f"{self.name}-{number}"
                # 1.00 to 1.06: distinct amounts; the 3,000.00 plan is never over-paid
                amount = Decimal("1.00") + Decimal(number % 7) / 100
                if not self.pay(http, key, amount):
                    return

    def pay(self, http: httpx.Client, key: str, amount: Decimal) -> bool:
        body = {"amount": str(amount), "date": date.today().isoformat(), "reference": key}
        headers = {**self.headers, "Idempotency-Key": key}
        path = f"/v1/plans/{self.plan_id}/payments"
        deadline = time.monotonic() + BUDGET_SECONDS
        while time.monotonic() < deadline:
            self.attempts[key] += 1
            try:
                response = http.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:
                self.outcomes[f"connection error ({type(exc).__name__})"] += 1
            else:
                self.outcomes[str(response.status_code)] += 1
                if response.status_code in (200, 201):
                    self.acknowledged[key] = amount
                    self.last_acknowledged_at = time.monotonic()
                    return True
                retryable = (
                    response.status_code == 503
                    and response.headers.get("content-type") == "application/problem+json"
                    and response.headers.get("retry-after") == "1"
                    and response.json().get("status") == 503
                )
                if not retryable:
                    self.unexpected.append(f"{key}: {response.status_code} {response.text}")
                    return False
            time.sleep(RETRY_PAUSE)
        self.unexpected.append(f"{key}: not acknowledged in {BUDGET_SECONDS} s")
        return False


def test_payments_survive_a_database_restart(migrated_url: str, tmp_path: Path) -> None:
    command = restart_command()
    clear_cache()
    with get_sessionmaker()() as session:
        processor_key, _ = create_key(session, "finance", "payment processor")
        collector_key, _ = create_key(session, "collector", "agent")
        session.commit()
    log = tmp_path / "server.log"
    restart = Restart(command)
    stop = threading.Event()
    began = time.monotonic()
    processors: list[Processor] = []
    try:
        with server_process(migrated_url, log) as base_url:
            made = httpx.post(
                f"{base_url}/v1/offers",
                json={"debt_ref": "CARD-1", "debtor": {"name": "A"}, "plan": SMALL},
                headers={"Authorization": f"Bearer {collector_key}"},
            )
            token = made.json()["link"].rsplit("/", 1)[1]
            plan_id = httpx.post(f"{base_url}/s/{token}/accept").json()["plan_id"]
            # four processors at once: some transactions are cut mid-way, not only between
            processors = [
                Processor(f"p{n}", base_url, plan_id, processor_key, stop) for n in range(4)
            ]
            for processor in processors:
                processor.start()
            restart.start()
            time.sleep(1.0)  # the loops are running, the connection pool is warm
            restart.go.set()
            restart.join(timeout=30)
            time.sleep(2.0)  # and after the restart, they carry on
            stop.set()
            for processor in processors:
                processor.join(timeout=BUDGET_SECONDS)
            assert restart.result is not None and restart.result.returncode == 0, restart.result
            headers = {"Authorization": f"Bearer {processor_key}"}
            plan = httpx.get(f"{base_url}/v1/plans/{plan_id}", headers=headers).json()
            verified = httpx.get(f"{base_url}/v1/audit/verify", headers=headers).json()
    finally:
        stop.set()
        restart.go.set()
        restart.join(timeout=30)
        assert wait_for_postgres(30), "PostgreSQL did not come back"
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-4000:]
    attempts = sum((p.attempts for p in processors), Counter[str]())
    outcomes = sum((p.outcomes for p in processors), Counter[str]())
    acknowledged = {k: v for p in processors for k, v in p.acknowledged.items()}
    retried = sum(1 for n in attempts.values() if n > 1)
    print(
        f"\npayments attempted {len(attempts)} ({attempts.total()} requests),"
        f" acknowledged {len(acknowledged)}, retried {retried}; outcomes {dict(outcomes)};"
        f" restart {restart.finished_at - restart.started_at:.2f} s;"
        f" test {time.monotonic() - began:.1f} s"
    )
    assert [u for p in processors for u in p.unexpected] == []  # never a 500, nor anything else
    assert len(acknowledged) == len(attempts)  # every payment went through in the end
    assert outcomes["503"] + sum(n for o, n in outcomes.items() if o.startswith("connection")), (
        "the restart refused nothing: it did not happen during the loop"
    )
    assert all(p.last_acknowledged_at > restart.finished_at for p in processors)  # recovered
    # every acknowledged payment is stored exactly once, and nothing else is
    with psycopg.connect(migrated_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT idempotency_key, count(*), sum(amount_minor) FROM plan_payments"
            " WHERE plan_id = %s GROUP BY idempotency_key",
            (plan_id,),
        ).fetchall()
        events = connection.execute(
            "SELECT count(*) FROM audit_events WHERE kind = 'payment_recorded'"
        ).fetchone()
    stored = {key: (n, Decimal(total) / 100) for key, n, total in rows}
    assert stored == {key: (1, amount) for key, amount in acknowledged.items()}
    assert events == (len(acknowledged),)  # audited once each, in the same transaction
    assert Decimal(plan["paid"]) == sum(acknowledged.values())
    assert verified["ok"] is True, verified
