"""app/messaging/notices.py: messages queued with what causes them (reminders at acceptance and
by the daily job, payment confirmations, missed-payment notices), on SQLite and PostgreSQL.

Expected figures come from the plan itself: SMALL (tests/app/links/test_sharing.py) is 3,000.00 in
three instalments of 1,000.00 under the default policy's interest freeze, so a payment of
1,000.00 pays 1,000.00 of principal and leaves 2,000.00.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.contacts.checks import engine_party
from app.contacts.models import Party as PartyRow
from app.core.db import get_sessionmaker
from app.links.sharing import party_marker
from app.messaging import notices
from app.messaging.models import OutboxMessage
from plans.contact import Attempt, Channel, Outcome, check_contact, jurisdiction
from tests.app.links.test_sharing import SMALL, accepted_plan, saved, token_of
from tests.app.messaging.outbox_support import (
    CN_DEBTOR,
    GB_GUARANTOR,
    REF,
    THIRD,
    US_CO_DEBTOR,
    Headers,
    add,
    audit_kinds,
    content,
    rows,
)

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


def test_a_replaced_plan_gets_no_reminders_for_a_party_added_later(
    client: TestClient, auth: Headers
) -> None:
    # A debt has one open plan: a second accepted offer replaces the first (plans.lifecycle).
    # A party added later gets the reminders of the plan that stands, none of the replaced one.
    day = open_day(date.today() + timedelta(days=10))
    add(client, auth, CN_DEBTOR)
    first = plan_due_on(client, auth, day)
    second = plan_due_on(client, auth, day)
    guarantor = add(client, auth, GB_GUARANTOR)
    assert job(day) == notices.Scheduled(queued=2, dropped=0, plans=1)
    mine = rows(OutboxMessage.party_id == guarantor["id"])
    assert sorted((m.plan_id, m.channel, m.send_at) for m in mine) == [
        (second, c, at_ten(day, "Europe/London")) for c in ("email", "sms")
    ]
    assert not rows(OutboxMessage.plan_id == first, OutboxMessage.status == "pending")
    assert job(day) == notices.Scheduled(0, 0, 0)


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
    # missed (15 days late, default policy), which breaks the plan
    # (tests/app/links/test_sharing.py).
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
