"""Change requests exactly once, and at most five a day, under real concurrency (SQLite and
PostgreSQL): bursts at a uvicorn subprocess, as in ``tests/app/test_concurrency.py``, whose
fixtures and helpers these reuse."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from app.audit.models import AuditEvent
from app.changes.change_requests import MAX_REQUESTS_PER_DAY
from app.changes.models import ChangeRequest
from tests.app.test_concurrency import bearer, burst, count, keys, live, save_body  # noqa: F401


def _token(live: str, key: str) -> str:  # noqa: F811
    made = httpx.post(f"{live}/v1/offers", json=save_body(), headers=bearer(key))
    assert made.status_code == 201, made.text
    return str(made.json()["link"]).rsplit("/", 1)[1]


def test_a_double_submit_at_once_is_one_request(live: str, keys: dict[str, str]) -> None:  # noqa: F811
    token = _token(live, keys["collector"])
    body = {"json": {"payment": "500.00", "choice": "as_proposed"}}
    responses = asyncio.run(burst(live, [("POST", f"/s/{token}/change/requests", body)] * 20))
    assert Counter(r.status_code for r in responses) == {201: 20}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(ChangeRequest) == 1
    assert count(AuditEvent, AuditEvent.kind == "change_requested") == 1


def test_ten_different_requests_at_once_make_five(live: str, keys: dict[str, str]) -> None:  # noqa: F811
    token = _token(live, keys["collector"])
    # 3,000.00 owed: each of 300.00 .. 390.00 a month fits as proposed (at most 10 months)
    requests = [
        (
            "POST",
            f"/s/{token}/change/requests",
            {"json": {"payment": f"{p}.00", "choice": "as_proposed"}},
        )
        for p in range(300, 400, 10)
    ]
    responses = asyncio.run(burst(live, requests))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: MAX_REQUESTS_PER_DAY, 429: 10 - MAX_REQUESTS_PER_DAY}, statuses
    assert count(ChangeRequest) == MAX_REQUESTS_PER_DAY
    verified = httpx.get(f"{live}/v1/audit/verify", headers=bearer(keys["finance"])).json()
    assert verified["ok"] is True
