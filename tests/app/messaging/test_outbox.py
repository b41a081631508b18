"""app/messaging/notices.py, outbox.py and routes.py: messages queued with what causes them,
claimed and acknowledged by senders. On SQLite and PostgreSQL; the drain by four sender processes
(``repay outbox send`` to a webhook) with one SIGKILLed mid-batch on both (10,000 messages on
PostgreSQL, 1,000 on SQLite).

Expected figures come from the plan itself: SMALL (tests/app/test_sharing.py) is 3,000.00 in
three instalments of 1,000.00 under the default policy's interest freeze, so a payment of
1,000.00 pays 1,000.00 of principal and leaves 2,000.00.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, insert, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.audit.trail import verify
from app.cli import app as cli
from app.contacts.checks import engine_party
from app.contacts.models import Party as PartyRow
from app.core.db import get_engine, get_sessionmaker, make_engine, utcnow
from app.links.sharing import party_marker
from app.messaging import notices, outbox
from app.messaging.models import OutboxMessage
from plans.contact import Attempt, Channel, Outcome, Party, check_contact, jurisdiction
from tests.app.links.test_sharing import SMALL, accepted_plan, saved, token_of
from tests.app.messaging import consumer
from tests.app.messaging.receiver import Receiver, receiving, start_consumer, start_sender, wait_for

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


# ---- reminders at acceptance -------------------------------------------------------------


def test_acceptance_queues_reminders_in_permitted_hours_only(
    client: TestClient, auth: Headers
) -> None:
    parties = [add(client, auth, p) for p in (CN_DEBTOR, US_CO_DEBTOR, GB_GUARANTOR)]
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    queued = rows(OutboxMessage.plan_id == plan_id)
    dropped = audit_kinds()["message_dropped"]
    # 3 instalments x (3 days before, on the day) x 2 channels x 3 parties (no third party)
    assert len(queued) + dropped == 3 * 2 * 2 * 3
    assert len(queued) > 0
    with get_sessionmaker()() as session:
        engine = {
            p["id"]: (engine_party(r), jurisdiction(r.jurisdiction))
            for p in parties
            if (r := session.get(PartyRow, p["id"])) is not None
        }
    everything = [
        Attempt(m.party_id, Channel(m.channel), m.send_at, Outcome.MESSAGE_LEFT) for m in queued
    ]
    for m in queued:
        party, rules = engine[m.party_id]
        others = [
            a
            for a in everything
            if a != Attempt(m.party_id, Channel(m.channel), m.send_at, Outcome.MESSAGE_LEFT)
        ]
        verdict = check_contact(party, Channel(m.channel), m.send_at, history=others, rules=rules)
        assert verdict.allowed, (m.party_id, m.channel, m.send_at, verdict)
        assert m.kind == "reminder" and m.status == "pending"
        # never after the end of the payment date's hours, in the party's zone
        text = content(m)
        if party.role.value == "guarantor":
            assert "http" not in text["body"] and "/s/" not in text["body"]
            assert "£" not in text["body"]
            assert "CN¥500.00" in text["body"]  # the guaranteed amount, below what is owed
        else:
            assert "/s/" in text["body"]
        assert (text["subject"] is None) == (m.channel == "sms")
    us = [m for m in queued if m.party_id == parties[1]["id"]]
    assert us and all(
        "Reply STOP" in content(m)["body"] or "UNSUBSCRIBE" in content(m)["body"] for m in us
    )
    cn = [m for m in queued if m.party_id == parties[0]["id"]]
    assert cn and all("退订" not in content(m)["body"] for m in cn)


def test_a_third_party_gets_no_reminder(client: TestClient, auth: Headers) -> None:
    debtor, third = add(client, auth, CN_DEBTOR), add(client, auth, THIRD)
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    queued = rows(OutboxMessage.plan_id == plan_id)
    assert {m.party_id for m in queued} == {debtor["id"]}
    assert third["id"] not in {m.party_id for m in queued}


def test_no_parties_no_messages(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    assert rows(OutboxMessage.plan_id == plan_id) == []


# ---- the daily job: reminders of parties and channels added later ------------------------


def open_day(after: date) -> date:
    """The first weekday from ``after`` on that is, like the 3 days before it, a day anyone may
    be contacted in China, the US and England (and a business day of the default policy's
    calendar, so a first due date there is the payment date)."""
    rules = [jurisdiction(code).no_contact_days for code in ("CN", "US", "GB")]
    day = after
    while day.weekday() >= 5 or any(
        r.is_no_contact(day - timedelta(days=k)) for r in rules for k in range(4)
    ):
        day += timedelta(days=1)
    return day


def plan_due_on(client: TestClient, auth: Headers, day: date, ref: str = REF) -> str:
    """A plan of 3 monthly instalments of 1,000.00 (SMALL), the first paid on ``day``."""
    plan = {**SMALL, "first_due": day.isoformat()}
    plan_id = accepted_plan(client, saved(client, auth["collector"], debt_ref=ref, plan=plan))
    shown = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    assert shown["instalments"][0]["payment_date"] == day.isoformat()
    return plan_id


def job(on: date) -> notices.Scheduled:
    with get_sessionmaker().begin() as session:
        return notices.coming_reminders(session, on=on)


def at_ten(day: date, zone: str) -> datetime:
    return datetime.combine(day, wall_time(10), ZoneInfo(zone)).astimezone(UTC)


def test_the_daily_job_reminds_parties_added_after_acceptance(
    client: TestClient, auth: Headers
) -> None:
    day = open_day(date.today() + timedelta(days=10))
    debtor = add(client, auth, CN_DEBTOR)
    plan_id = plan_due_on(client, auth, day)
    at_acceptance = {m.id for m in rows(OutboxMessage.plan_id == plan_id)}
    # 3 instalments x 2 channels x (3 days before, on the day), all to the debtor
    assert len(at_acceptance) + audit_kinds()["message_dropped"] == 12
    late = [add(client, auth, p) for p in (US_CO_DEBTOR, GB_GUARANTOR)]
    events = audit_kinds()
    # Three days before: the new obligor and the guarantor, by email and text, at 10:00 in
    # their zones (each party's first message, on an open day).
    assert job(day - timedelta(days=3)) == notices.Scheduled(queued=4, dropped=0, plans=1)
    new = rows(OutboxMessage.plan_id == plan_id, OutboxMessage.id.not_in(at_acceptance))
    zones = {late[0]["id"]: "America/Los_Angeles", late[1]["id"]: "Europe/London"}
    assert sorted((m.party_id, m.channel, m.send_at, m.dedupe_key) for m in new) == sorted(
        (p, c, at_ten(day - timedelta(days=3), zones[p]), f"reminder:{plan_id}:1:3:{p}:{c}")
        for p in zones
        for c in ("email", "sms")
    )
    guarantor = [content(m)["body"] for m in new if m.party_id == late[1]["id"]]
    assert all("/s/" not in b and "CN¥500.00" in b for b in guarantor)
    assert all("/s/" in content(m)["body"] for m in new if m.party_id == late[0]["id"])
    after = audit_kinds()
    assert after - events == Counter({"reminders_scheduled": 1})
    # Idempotent: again (and through the CLI), nothing new, nothing audited.
    assert job(day - timedelta(days=3)) == notices.Scheduled(0, 0, 0)
    ran = CliRunner().invoke(cli, ["outbox", "schedule", "--on", (day - timedelta(3)).isoformat()])
    assert ran.exit_code == 0, ran.output
    assert "Queued 0 reminders, dropped 0" in ran.output
    assert audit_kinds() == after
    # The debtor's reminders are those of the acceptance, untouched.
    assert {m.id for m in rows(OutboxMessage.party_id == debtor["id"])} == at_acceptance


def test_two_daily_jobs_at_once_queue_each_reminder_once(client: TestClient, auth: Headers) -> None:
    day = open_day(date.today() + timedelta(days=10))
    add(client, auth, CN_DEBTOR)
    plan_due_on(client, auth, day)
    add(client, auth, US_CO_DEBTOR)
    results: list[notices.Scheduled] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(job(day - timedelta(days=3)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # one run queues the co-debtor's email and text, the other finds them queued
    assert sorted(r.queued for r in results) == [0, 2]


def test_a_channel_given_later_is_reminded_on_the_day(client: TestClient, auth: Headers) -> None:
    day = open_day(date.today() + timedelta(days=10))
    email_only = {**CN_DEBTOR, "channels": {"email": "zhang@example.cn"}}
    debtor = add(client, auth, email_only)
    plan_id = plan_due_on(client, auth, day)
    assert {m.channel for m in rows(OutboxMessage.plan_id == plan_id)} == {"email"}
    changed = client.patch(
        f"/v1/debts/{REF}/parties/{debtor['id']}",
        json={"channels": CN_DEBTOR["channels"]},
        headers=auth["collector"],
    )
    assert changed.status_code == 200, changed.text
    # On the payment date: the text of the day (the email of the day was queued at acceptance;
    # the text 3 days before is past by then and is not sent late).
    assert job(day) == notices.Scheduled(queued=1, dropped=0, plans=1)
    text = rows(OutboxMessage.plan_id == plan_id, OutboxMessage.channel == "sms")
    assert [(m.instalment, m.send_at) for m in text] == [(1, at_ten(day, "Asia/Shanghai"))]
    assert job(day) == notices.Scheduled(0, 0, 0)


def test_two_plans_of_a_debt_share_its_caps_and_a_drop_is_audited_once(
    client: TestClient, auth: Headers
) -> None:
    # A debt with two accepted plans due the same day: a party added later gets the first
    # plan's reminders on the day; the second plan's would be a second email and a second text
    # that local day (GB-EMAIL-DAY, GB-SMS-DAY) and cannot wait past the payment date.
    day = open_day(date.today() + timedelta(days=10))
    add(client, auth, CN_DEBTOR)
    first = plan_due_on(client, auth, day)
    second = plan_due_on(client, auth, day)
    guarantor = add(client, auth, GB_GUARANTOR)
    dropped_before = audit_kinds()["message_dropped"]
    assert job(day) == notices.Scheduled(queued=2, dropped=2, plans=2)
    mine = rows(OutboxMessage.party_id == guarantor["id"])
    assert sorted((m.plan_id, m.channel, m.send_at) for m in mine) == [
        (first, c, at_ten(day, "Europe/London")) for c in ("email", "sms")
    ]
    with get_sessionmaker()() as session:
        drops = [
            e.payload
            for e in session.scalars(select(AuditEvent).where(AuditEvent.kind == "message_dropped"))
            if e.payload["party_id"] == guarantor["id"]
        ]
    assert sorted((d["channel"], d["rule"], d["dedupe_key"]) for d in drops) == [
        ("email", "GB-EMAIL-DAY", f"reminder:{second}:1:0:{guarantor['id']}:email"),
        ("sms", "GB-SMS-DAY", f"reminder:{second}:1:0:{guarantor['id']}:sms"),
    ]
    assert audit_kinds()["message_dropped"] == dropped_before + 2
    # Dropped is decided: the next run neither queues nor audits it again.
    assert job(day) == notices.Scheduled(0, 0, 0)
    assert audit_kinds()["message_dropped"] == dropped_before + 2


def test_paid_instalments_and_finished_plans_get_no_new_reminders(
    client: TestClient, auth: Headers
) -> None:
    day = open_day(date.today() + timedelta(days=10))
    add(client, auth, CN_DEBTOR)
    paid_first = plan_due_on(client, auth, day)
    assert pay(client, auth, paid_first, "1000.00", "p1").status_code == 201
    add(client, auth, US_CO_DEBTOR, ref="CARD-2")
    completed = plan_due_on(client, auth, day, ref="CARD-2")
    assert pay(client, auth, completed, "3000.00", "p2").status_code == 201
    add(client, auth, GB_GUARANTOR)
    add(client, auth, {**GB_GUARANTOR, "guaranteed": None}, ref="CARD-2")
    # Instalment 1 of the first plan is paid, the second plan completed: nothing to remind of.
    assert job(day - timedelta(days=3)) == notices.Scheduled(0, 0, 0)


def test_a_broken_plan_gets_no_new_reminders(client: TestClient, auth: Headers) -> None:
    # Three days before the third payment date nothing was paid: instalments 1 and 2 are
    # missed (15 days late, default policy), which breaks the plan (tests/app/test_sharing.py).
    day = open_day(date.today() + timedelta(days=10))
    add(client, auth, CN_DEBTOR)
    plan_id = plan_due_on(client, auth, day)
    shown = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    third = date.fromisoformat(shown["instalments"][2]["payment_date"])
    add(client, auth, GB_GUARANTOR)
    assert job(third - timedelta(days=3)) == notices.Scheduled(0, 0, 0)
    # Judged the day before the first payment date, the same plan is active and reminded.
    assert job(day - timedelta(days=1)).plans == 1


# ---- confirmations ---------------------------------------------------------------------


def pay(client: TestClient, auth: Headers, plan_id: str, amount: str, key: str) -> Any:
    body = {"amount": amount, "date": date.today().isoformat(), "reference": "bank 1"}
    headers = {**auth["collector"], "Idempotency-Key": key}
    return client.post(f"/v1/plans/{plan_id}/payments", json=body, headers=headers)


def test_a_payment_queues_a_confirmation_with_its_figures(
    client: TestClient, auth: Headers
) -> None:
    debtor = add(client, auth, {**US_CO_DEBTOR, "role": "debtor"})
    add(client, auth, GB_GUARANTOR)
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    plan = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    second = date.fromisoformat(plan["instalments"][1]["payment_date"])
    assert pay(client, auth, plan_id, "1000.00", "p1").status_code == 201
    assert pay(client, auth, plan_id, "1000.00", "p1").status_code == 200  # a retry
    confirmations = rows(OutboxMessage.kind == "confirmation")
    assert sorted(m.channel for m in confirmations) == ["email", "sms"]
    assert {m.party_id for m in confirmations} == {debtor["id"]}  # the debtor only
    email = next(content(m) for m in confirmations if m.channel == "email")
    assert email["subject"] == "Payment received: CN¥1,000.00"
    body = email["body"]
    assert "It paid CN¥1,000.00 of principal, CN¥0.00 of interest and CN¥0.00 of fees." in body
    assert "The balance of your plan is now CN¥2,000.00." in body
    due = second.strftime("%d %b %Y").lstrip("0")
    assert f"Your next payment, CN¥1,000.00, is due on {due}." in body
    assert "UNSUBSCRIBE" in body  # US-OPT-OUT-NOTICE
    rules = jurisdiction("US")
    with get_sessionmaker()() as session:
        party = engine_party(session.get(PartyRow, debtor["id"]))  # type: ignore[arg-type]
    for m in confirmations:
        assert check_contact(party, Channel(m.channel), m.send_at, rules=rules).allowed


# ---- missed notices --------------------------------------------------------------------


def test_a_missed_instalment_is_noticed_once(client: TestClient, auth: Headers) -> None:
    debtor = add(client, auth, {**US_CO_DEBTOR, "role": "debtor"})
    offer = saved(client, auth["collector"])
    plan_id = accepted_plan(client, offer)
    plan = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    first = date.fromisoformat(plan["instalments"][0]["payment_date"])
    on = first + timedelta(days=20)  # missed after 15 days (default policy)
    with get_sessionmaker().begin() as session:
        assert notices.missed_notices(session, on=on) == 2
    again = CliRunner().invoke(cli, ["outbox", "schedule", "--on", on.isoformat()])
    assert again.exit_code == 0 and "Queued 0 missed-payment notices" in again.output
    missed = rows(OutboxMessage.kind == "missed")
    assert {m.party_id for m in missed} == {debtor["id"]}
    body = content(next(m for m in missed if m.channel == "email"))["body"]
    assert "Payment 1 of your repayment plan, CN¥1,000.00" in body
    assert "CN¥1,000.00 of it has not been received" in body
    # the party's own link to the debtor's counter-offer page (app/changes/routes/pages.py)
    token = token_of(offer)
    link = f"{offer['link']}/change?p={party_marker(token, debtor['id'])}"
    assert f"open: {link}\n" in body and "ask for a change" in body
    page = client.get("/s/" + link.split("/s/", 1)[1])  # the page, keeping the party's marker
    assert page.status_code == 200 and f'href="/s/{token}?p=' in page.text
    assert "the plan ends" in body  # the policy's missed_payment_text


# ---- claim, acknowledge, lease ---------------------------------------------------------


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
        for start in range(0, n, 2000):
            session.execute(insert(OutboxMessage), values[start : start + 2000])
    return ids


def reachable_party(client: TestClient, auth: Headers) -> dict[str, Any]:
    zone = open_zone("US", utcnow())
    return add(client, auth, {**US_CO_DEBTOR, "role": "debtor", "time_zone": zone})


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


# ---- many senders, one of them killed -------------------------------------------------


@dataclass
class Claim:
    """One ``messages_claimed`` event: who claimed which ids, until when."""

    actor: str
    ids: list[str]
    until: datetime
    at: datetime  # when it was recorded, just after the claim


def reader(url: str) -> Engine:
    """An engine that reads without a write lock (``app.core.db`` begins SQLite transactions
    IMMEDIATE), so that a consumer frozen inside a transaction does not block it."""
    return create_engine(url) if url.startswith("sqlite") else make_engine(url)


def claims_made(engine: Engine | None = None, *, actor: str | None = None) -> list[Claim]:
    query = select(AuditEvent).where(AuditEvent.kind == "messages_claimed")
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    with Session(engine or get_engine()) as session:
        return [
            Claim(
                e.actor, e.payload["ids"], datetime.fromisoformat(e.payload["claimed_until"]), e.at
            )
            for e in session.scalars(query.order_by(AuditEvent.seq))
        ]


def held_by(claims: list[Claim], engine: Engine | None = None) -> tuple[set[str], set[str]]:
    """Of these claims' messages: those still held under them (pending, the lease the one
    they took), and those delivered."""
    until = {i: c.until for c in claims for i in c.ids}
    with Session(engine or get_engine()) as session:
        found = session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.claimed_until).where(
                OutboxMessage.id.in_(until)
            )
        )
        states = list(found)
    held = {i for i, status, at in states if status == "pending" and at == until[i]}
    return held, {i for i, status, _ in states if status == "delivered"}


def delivered_count(engine: Engine) -> int:
    delivered = select(func.count()).where(OutboxMessage.status == "delivered")
    with Session(engine) as session:
        return session.scalar(delivered) or 0


def summary(log: Path) -> dict[str, int]:
    """The counts of a sender's last line ("Done: claimed 12, delivered 12, ...")."""
    done = [line for line in log.read_text().splitlines() if line.startswith("Done: ")]
    assert done, log.read_text()
    counts = done[-1].removeprefix("Done: ").split(" in ")[0]
    return {name: int(n) for name, n in (part.rsplit(" ", 1) for part in counts.split(", "))}


def acked_by_claim(claims: list[Claim], message: OutboxMessage) -> Claim:
    """The claim that acknowledged a delivered message: the one whose lease the row keeps."""
    [acker] = [c for c in claims if c.until == message.claimed_until]
    return acker


LEASE_SECONDS = 5.0


@dataclass
class Drain:
    """What four consumer processes, one SIGKILLed mid-batch, did to the outbox."""

    total: int
    actor: str  # the killed one's
    survivors: list[str]
    tallies: list[dict[str, int]]  # the survivors' own counts
    mine: list[Claim]  # the killed one's claims
    unacked: set[str]  # what it held unacknowledged when killed
    killed_at: datetime
    drained: float  # seconds from the start to the last message delivered

    def held_until(self) -> dict[str, datetime]:
        return {i: c.until for c in self.mine for i in c.ids}


def drain_killing_one(
    start: Callable[[Path], subprocess.Popen[bytes]],
    prefix: str,
    total: int,
    tmp_path: Path,
    database_url: str,
) -> Drain:
    """Start four consumers (``start``, given its log), SIGKILL the first once it has
    acknowledged part of a batch it claimed, wait for every message to be delivered, then
    SIGTERM the others. ``prefix`` is how their audit actors begin.

    The victim runs in steps of 20 ms, frozen (SIGSTOP) in between while its progress is read,
    so that it is caught inside a batch however fast it goes. It starts first and the others
    once it has claimed: on a loaded machine three quick consumers could otherwise drain
    everything while the victim, stepped, is still starting."""
    host = socket.gethostname()
    logs = [tmp_path / f"consumer-{n}.log" for n in range(4)]
    engine = reader(database_url)
    started = time.monotonic()
    victim = start(logs[0])
    consumers, survivors = [victim], []
    try:
        actor = f"{prefix}:{host}:{victim.pid}"
        deadline = time.monotonic() + 60
        while True:
            time.sleep(0.02)
            victim.send_signal(signal.SIGSTOP)
            mine = claims_made(engine, actor=actor)
            if mine and not survivors:
                survivors = [start(log) for log in logs[1:]]
                consumers += survivors
            if mine:
                held, acked = held_by(mine[-1:], engine)
                if len(acked) >= 3 and len(held) >= 10:
                    break
            assert time.monotonic() < deadline, "the victim never caught inside a batch"
            victim.send_signal(signal.SIGCONT)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
        killed_at = datetime.now(UTC)
        mine = claims_made(engine, actor=actor)
        unacked, _ = held_by(mine, engine)
        looked_at = datetime.now(UTC)
        wait_for(lambda: delivered_count(engine) == total, 60, "every message delivered")
        drained = time.monotonic() - started
        for survivor in survivors:
            survivor.send_signal(signal.SIGTERM)
        assert [s.wait(15) for s in survivors] == [0, 0, 0]
    finally:
        for process in consumers:
            process.kill()
            process.wait()
        engine.dispose()
    drain = Drain(
        total,
        actor,
        [f"{prefix}:{host}:{s.pid}" for s in survivors],
        [summary(log) for log in logs[1:]],
        mine,
        unacked,
        killed_at,
        drained,
    )
    # what was read right after the kill is the victim's own state: its leases had not run out
    assert unacked and looked_at < min(drain.held_until()[i] for i in unacked)
    return drain


def assert_each_acknowledged_once(drain: Drain, ids: list[str]) -> dict[str, OutboxMessage]:
    """Every message delivered, acknowledged by exactly one claim, and the audit trail agreeing;
    the killed consumer's unacknowledged ones taken over only after its lease. The rows."""
    delivered = {m.id: m for m in rows(OutboxMessage.status == "delivered")}
    assert sorted(delivered) == sorted(ids)
    listed: dict[str, list[Claim]] = {}
    for c in claims_made():
        for i in c.ids:
            listed.setdefault(i, []).append(c)
    acked_by: Counter[str] = Counter()
    for m in delivered.values():
        assert len(listed[m.id]) == m.claims  # each claim of a message is in the trail
        acked_by[acked_by_claim(listed[m.id], m).actor] += 1
    with get_sessionmaker()() as session:
        assert verify(session).ok
    # the survivors' own counts of acknowledgements match the rows', none refused
    assert [acked_by[a] for a in drain.survivors] == [t["delivered"] for t in drain.tallies]
    assert all(t["lost"] == 0 for t in drain.tallies)
    assert acked_by[drain.actor] > 0
    assert acked_by[drain.actor] + sum(t["delivered"] for t in drain.tallies) == drain.total
    held_until = drain.held_until()
    for i in drain.unacked:
        m = delivered[i]
        assert m.claims >= 2 and m.delivered_at is not None
        assert m.delivered_at >= held_until[i]  # not before the killed one's lease ran out
        assert acked_by_claim(listed[i], m).actor in drain.survivors
        # claimed again only once the killed one's lease had run out
        [held] = [c for c in listed[i] if c.actor == drain.actor and c.until == held_until[i]]
        again = [c for c in listed[i] if c.at > held.at]
        assert again and all(c.actor in drain.survivors for c in again)
        assert all(c.at >= held_until[i] for c in again)
    return delivered


@pytest.mark.slow
def test_four_consumer_processes_one_killed_acknowledge_each_message_once(
    client: TestClient, auth: Headers, database_url: str, tmp_path: Path
) -> None:
    """Four processes claim and acknowledge (tests/app/consumer.py, nothing sent) 10,000
    messages on PostgreSQL, 1,000 on SQLite; one SIGKILLed mid-batch. (The database fixture
    holds PostgreSQL shared for the test: ``postgres_in_use``.)"""
    total = 10_000 if database_url.startswith("postgresql") else 1_000
    ids = due_messages(reachable_party(client, auth)["id"], total)

    def start(log: Path) -> subprocess.Popen[bytes]:
        return start_consumer(log, limit=50, lease=LEASE_SECONDS)

    drain = drain_killing_one(start, consumer.ACTOR, total, tmp_path, database_url)
    delivered = assert_each_acknowledged_once(drain, ids)
    held_until = drain.held_until()
    takeover = min(
        (delivered[i].delivered_at - held_until[i]).total_seconds()  # type: ignore[operator]
        for i in drain.unacked
    )
    print(
        f"\n{total} messages, 4 consumer processes: {total / drain.drained:.0f}/s"
        f" ({drain.drained:.1f} s, starting and the lease's wait included); the killed one's"
        f" {len(drain.unacked)} unacknowledged delivered from {takeover:.2f} s after its lease"
        f" ({LEASE_SECONDS:g} s) ran out"
    )


@pytest.mark.slow
def test_four_webhook_senders_one_killed_deliver_each_message(
    client: TestClient, auth: Headers, database_url: str, tmp_path: Path
) -> None:
    """Four ``repay outbox send`` processes POST 2,000 messages (PostgreSQL; 500 on SQLite) to
    a receiver that checks every signature; one SIGKILLed mid-batch."""
    total = 2_000 if database_url.startswith("postgresql") else 500
    ids = due_messages(reachable_party(client, auth)["id"], total)
    options = ["--limit", "50", "--lease", str(LEASE_SECONDS), "--timeout", "2", "--poll", "0.1"]
    with receiving(Receiver()) as receiver:

        def start(log: Path) -> subprocess.Popen[bytes]:
            return start_sender(receiver.url, log, *options)

        drain = drain_killing_one(start, "webhook", total, tmp_path, database_url)
        receipts = list(receiver.receipts)
    assert_each_acknowledged_once(drain, ids)
    held_until = drain.held_until()
    # the others sent what the killed one held only once its lease had run out
    after_kill = [r for r in receipts if r.id in drain.unacked and r.at > drain.killed_at]
    assert {r.id for r in after_kill} == drain.unacked
    assert all(r.at >= held_until[r.id] for r in after_kill)
    # the receiver saw every message, each signature good; a message twice only if the killed
    # one held it unacknowledged (at most the one it was sending when killed)
    assert all(r.signed and r.answered == 200 for r in receipts)
    seen = Counter(r.id for r in receipts)
    assert set(seen) == set(ids)
    duplicated = {i for i, n in seen.items() if n > 1}
    assert duplicated <= drain.unacked and len(duplicated) <= 1

    first_seen: dict[str, datetime] = {}
    for r in receipts:
        first_seen.setdefault(r.id, r.at)
    others = [first_seen[i] for i in ids if i not in drain.unacked]
    sending = (max(others) - min(others)).total_seconds()
    takeover = min((r.at - held_until[r.id]).total_seconds() for r in after_kill)
    since_kill = min((r.at - drain.killed_at).total_seconds() for r in after_kill)
    print(
        f"\n{total} messages, 4 webhook senders: {len(others) / sending:.0f}/s while sending"
        f" ({drain.drained:.1f} s to the last delivered, starting included); the killed one's"
        f" {len(drain.unacked)} unacknowledged sent again {since_kill:.1f} s after the kill,"
        f" {takeover:.2f} s after its lease ({LEASE_SECONDS:g} s) ran out; duplicates:"
        f" {len(duplicated)}"
    )
