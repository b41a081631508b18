"""Exactly once under real concurrency, on SQLite and on PostgreSQL.

The bursts go to a real uvicorn server in a subprocess (its own thread pool and connection
pool, as in production) from one ``httpx.AsyncClient``. The interleavings that a burst hits
only by luck (a newer offer or a revocation racing an acceptance; two payments at once) are
then forced, step by step, with two sessions of this process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import trail
from app.audit.models import AuditEvent
from app.core.access import Actor, actor_of
from app.core.db import get_sessionmaker
from app.core.errors import Problem
from app.core.keys import create_key
from app.core.models import ApiKey
from app.finance.policies import clear_cache
from app.links import plans, sharing
from app.links.models import AcceptedPlan, SavedOffer
from schemas.sharing import SAVE_OFFER, PaymentIn
from tests.app.live import server_process

DEBT = {
    "currency": "CNY",
    "principal": "3000.00",
    "nominal_annual_rate": "0.18",
    "days_past_due": 95,
}


def save_body(debt_ref: str = "CARD-1", term: int = 3) -> dict[str, Any]:
    debt = {**DEBT, "as_of": date.today().isoformat()}
    return {
        "debt_ref": debt_ref,
        "debtor": {"name": "John Smith"},
        "plan": {"kind": "instalment", "debt": debt, "term": term},
    }


def count(model: Any, *where: Any) -> int:
    with get_sessionmaker()() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def keys(migrated_url: str) -> dict[str, str]:
    clear_cache()
    made = {}
    with get_sessionmaker()() as session:
        for role in ("collector", "finance"):
            made[role], _ = create_key(session, role, f"test {role}")
        session.commit()
    return made


@pytest.fixture
def live(migrated_url: str, keys: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A uvicorn subprocess on the migrated database: its base URL."""
    log = tmp_path / "server.log"
    try:
        with server_process(migrated_url, log) as base_url:
            yield base_url
    finally:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text[-4000:]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def burst(base_url: str, requests: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """Send every request at once; the responses in the same order."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        return await asyncio.gather(
            *(http.request(method, path, **kwargs) for method, path, kwargs in requests)
        )


def test_a_hundred_concurrent_acceptances_make_one_plan(
    live: str, keys: dict[str, str], database_url: str
) -> None:
    made = httpx.post(f"{live}/v1/offers", json=save_body(), headers=bearer(keys["collector"]))
    assert made.status_code == 201, made.text
    token = made.json()["link"].rsplit("/", 1)[1]
    started = time.monotonic()
    responses = asyncio.run(burst(live, [("POST", f"/s/{token}/accept", {})] * 100))
    elapsed = time.monotonic() - started
    statuses = Counter(r.status_code for r in responses)
    print(f"\n[{database_url.split(':')[0]}] 100 concurrent accepts in {elapsed:.2f} s: {statuses}")
    assert statuses == {201: 1, 409: 99}, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/already-accepted")
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert count(AcceptedPlan) == 1
    assert count(AuditEvent, AuditEvent.kind == "offer_accepted") == 1
    plan = httpx.get(f"{live}/v1/plans/{winner['plan_id']}", headers=bearer(keys["finance"]))
    assert plan.status_code == 200 and plan.json()["status"] == "active"
    verified = httpx.get(f"{live}/v1/audit/verify", headers=bearer(keys["finance"])).json()
    assert verified["ok"] is True and verified["events"] == 2  # saved, accepted


def test_twenty_concurrent_saves_with_one_idempotency_key_make_one_offer(
    live: str, keys: dict[str, str]
) -> None:
    # a fresh database: the first requests also race to create the default policy
    headers = {**bearer(keys["collector"]), "Idempotency-Key": "save-once"}
    request = ("POST", "/v1/offers", {"json": save_body(), "headers": headers})
    responses = asyncio.run(burst(live, [request] * 20))
    assert Counter(r.status_code for r in responses) == {201: 20}, [r.text for r in responses]
    assert len({(r.json()["id"], r.json()["link"]) for r in responses}) == 1
    assert count(SavedOffer) == 1
    assert count(AuditEvent, AuditEvent.kind == "offer_saved") == 1
    verified = httpx.get(f"{live}/v1/audit/verify", headers=bearer(keys["finance"])).json()
    assert verified["ok"] is True


# ---- forced interleavings ------------------------------------------------------------------


def key_row(session: Session, plaintext: str) -> Actor:
    prefix = plaintext.split("_")[1]
    found = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    assert found is not None
    return actor_of(session, found)


def second_transaction(work: Callable[[Session], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``work`` and commit, in a thread with a session of its own; started, not joined.
    The list receives what it returned or raised."""
    outcome: list[Any] = []

    def run() -> None:
        with get_sessionmaker()() as session:
            try:
                outcome.append(work(session))
                session.commit()
            except Exception as exc:  # reported to the test through ``outcome``
                outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.5)  # long enough to reach the point where it waits for the first one
    return thread, outcome


def open_offer(keys: dict[str, str], debt_ref: str = "CARD-1") -> tuple[str, str]:
    """Save an offer as the collector: its id and token."""
    with get_sessionmaker()() as session:
        saved = sharing.save_offer(
            session,
            SAVE_OFFER.validate_python(save_body(debt_ref)),
            key_row(session, keys["collector"]),
            None,
        )
        session.commit()
    return saved["id"], saved["link"].rsplit("/", 1)[1]


def status_of(offer_id: str) -> str:
    with get_sessionmaker()() as session:
        offer = session.get(SavedOffer, offer_id)
        assert offer is not None
        return offer.status


def test_a_newer_offer_saved_during_an_acceptance_does_not_undo_it(
    migrated_url: str, keys: dict[str, str]
) -> None:
    offer_id, token = open_offer(keys)
    with get_sessionmaker()() as first:
        sharing.accept(first, token)  # not committed yet
        thread, outcome = second_transaction(
            lambda s: sharing.save_offer(
                s,
                SAVE_OFFER.validate_python(save_body(term=2)),
                key_row(s, keys["collector"]),
                None,
            )
        )
        first.commit()
    thread.join(timeout=15)
    assert not isinstance(outcome[0], Exception), outcome
    assert status_of(offer_id) == "accepted"  # not "superseded": it has a plan
    assert status_of(outcome[0]["id"]) == "offered"
    with get_sessionmaker()() as session:
        saved = session.scalars(select(AuditEvent).where(AuditEvent.kind == "offer_saved"))
        assert [e.payload["supersedes"] for e in saved] == [[], []]
        assert trail.verify(session).ok


def test_a_revocation_during_an_acceptance_is_refused(
    migrated_url: str, keys: dict[str, str]
) -> None:
    offer_id, token = open_offer(keys)
    with get_sessionmaker()() as first:
        sharing.accept(first, token)
        thread, outcome = second_transaction(
            lambda s: sharing.revoke_offer(s, offer_id, key_row(s, keys["collector"]))
        )
        first.commit()
    thread.join(timeout=15)
    assert isinstance(outcome[0], Problem) and outcome[0].status == 409, outcome
    assert status_of(offer_id) == "accepted"


def test_two_payments_at_once_are_allocated_one_after_the_other(
    migrated_url: str, keys: dict[str, str]
) -> None:
    _, token = open_offer(keys)
    with get_sessionmaker()() as session:
        plan_id = sharing.accept(session, token)["plan_id"]
        session.commit()
    today = date.today()

    def payment(session: Session, idempotency_key: str) -> dict[str, Any]:
        body = PaymentIn(amount="1000.00", date=today, reference=idempotency_key)
        key = key_row(session, keys["finance"])
        document, _ = plans.record_payment(session, plan_id, body, key, idempotency_key)
        return document

    with get_sessionmaker()() as first:
        one = payment(first, "pay-1")
        thread, outcome = second_transaction(lambda s: payment(s, "pay-2"))
        first.commit()
    thread.join(timeout=15)
    two = outcome[0]
    assert not isinstance(two, Exception), outcome
    # three lines of 1,000.00: the first payment pays line 1, the second, line 2
    assert [a["number"] for a in one["allocations"]] == [1]
    assert [a["number"] for a in two["allocations"]] == [2]
    assert two["balance_after"] == "1000.00"
    with get_sessionmaker()() as session:
        recorded = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "payment_recorded").order_by(AuditEvent.seq)
        )
        assert [e.payload["allocations"][0]["number"] for e in recorded] == [1, 2]
