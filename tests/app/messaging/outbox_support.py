"""What the messaging tests share: parties to message (one per jurisdiction and role), and the
outbox's rows made and read directly. Used by tests/app/messaging/ and
tests/app/contacts/test_preferences.py.

Figures come from the plan itself: SMALL (tests/app/links/test_sharing.py) is 3,000.00 in three
instalments of 1,000.00 under the default policy's interest freeze.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from app.audit.models import AuditEvent
from app.contacts.models import Party as PartyRow
from app.core.db import get_sessionmaker, utcnow
from app.messaging import outbox
from app.messaging.models import OutboxMessage
from plans.contact import Channel, Party, check_contact, jurisdiction

Headers = dict[str, dict[str, str]]
REF = "CARD-1"
CN_DEBTOR = {
    "role": "debtor",
    "name": "张小明",
    "channels": {"phone": "+8613800138000", "email": "zhang@example.cn", "sms": "+8613800138000"},
    "locale": "zh-CN",
    "time_zone": "Asia/Shanghai",
    "jurisdiction": "CN",
}
US_CO_DEBTOR = {
    "role": "co_debtor",
    "name": "John Smith",
    "channels": {"email": "john@example.com", "sms": "+12125550123"},
    "locale": "en",
    "time_zone": "America/Los_Angeles",
    "jurisdiction": "US",
}
GB_GUARANTOR = {
    "role": "guarantor",
    "name": "Jane Doe",
    "channels": {"email": "jane@example.co.uk", "sms": "+447700900123"},
    "locale": "en",
    "time_zone": "Europe/London",
    "jurisdiction": "GB",
    "guaranteed": {"amount": "500.00", "currency": "CNY"},
}
THIRD = {
    "role": "third_party",
    "name": "Li Si",
    "channels": {"sms": "+8613900139000"},
    "locale": "zh-CN",
    "time_zone": "Asia/Shanghai",
}


def add(client: TestClient, auth: Headers, body: dict[str, Any], ref: str = REF) -> Any:
    made = client.post(f"/v1/debts/{ref}/parties", json=body, headers=auth["collector"])
    assert made.status_code == 201, made.text
    return made.json()


def rows(*where: Any) -> list[OutboxMessage]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(OutboxMessage).where(*where)))


def content(message: OutboxMessage) -> dict[str, Any]:
    return outbox.content_of(message)


def audit_kinds() -> Counter[str]:
    with get_sessionmaker()() as session:
        return Counter(session.scalars(select(AuditEvent.kind)))


def open_zone(code: str, at: datetime) -> str:
    """A fixed-offset zone in which ``at`` is inside ``code``'s permitted hours (any day)."""
    rules = jurisdiction(code)
    for hours in range(-12, 15):
        zone = f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT"
        party = Party("p", "debtor", zone, channels={"sms", "email"})
        ok = all(
            check_contact(party, c, at + timedelta(minutes=m), rules=rules).allowed
            for c in (Channel.SMS, Channel.EMAIL)
            for m in (0, 10)
        )
        if ok:
            return zone
    pytest.skip(f"no zone has {code}'s permitted hours now")


def due_messages(party_id: str, n: int, *, at: datetime | None = None) -> list[str]:
    """``n`` messages due at ``at`` (default a minute ago), inserted directly."""
    at = at or utcnow() - timedelta(minutes=1)
    ids = [uuid.uuid4().hex for _ in range(n)]
    values = [
        {
            "id": i,
            "kind": "confirmation",
            "debt_ref": REF,
            "plan_id": None,
            "party_id": party_id,
            "channel": "sms",
            "locale": "en",
            "instalment": None,
            "content_sealed": outbox.sealed_content(i, None, f"message {i}\n"),
            "send_at": at,
            "status": "pending",
            "dedupe_key": f"test:{i}",
            "claims": 0,
            "created_at": at,
        }
        for i in ids
    ]
    with get_sessionmaker().begin() as session:
        party = session.get(PartyRow, party_id)
        assert party is not None
        for value in values:
            value["debt_id"] = party.debt_id
        for start in range(0, n, 2000):
            session.execute(insert(OutboxMessage), values[start : start + 2000])
    return ids


def reachable_party(client: TestClient, auth: Headers) -> dict[str, Any]:
    zone = open_zone("US", utcnow())
    return add(client, auth, {**US_CO_DEBTOR, "role": "debtor", "time_zone": zone})
