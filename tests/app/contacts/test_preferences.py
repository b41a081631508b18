"""app/contacts/preferences.py and ``POST /s/{token}/preferences``: the page reads for the
party whose link it is, lists what was delivered to them, and lets them opt out and back in. On
SQLite and PostgreSQL.

Figures come from the plan itself: SMALL (tests/app/links/test_sharing.py) is 3,000.00 in three
instalments of 1,000.00, so a reminder of the second says "payment 2 of 3, CN¥1,000.00".
Delivery times are pinned (2026-12-01 02:05 UTC is 10:05 in Shanghai, 18:05 the day before
in Los Angeles), so the page's text does not depend on today.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from app.audit import trail
from app.audit.models import AuditEvent
from app.contacts import preferences
from app.contacts.models import Party as PartyRow
from app.core.db import get_sessionmaker, utcnow
from app.links.models import SavedOffer
from app.links.pages import render_not_found
from app.links.sharing import party_marker
from app.links.web import HideTokens
from app.messaging import outbox
from app.messaging.models import OutboxMessage
from app.offers.summaries import day
from plans.contact import Channel
from schemas.common import Locale
from schemas.preferences import PreferenceChange
from tests.app.links.test_pages import Page
from tests.app.links.test_sharing import accepted_plan, pay, saved, token_of
from tests.app.messaging.outbox_support import (
    CN_DEBTOR,
    GB_GUARANTOR,
    REF,
    THIRD,
    US_CO_DEBTOR,
    add,
    content,
    reachable_party,
    rows,
)

Headers = dict[str, dict[str, str]]
DELIVERED = datetime(2026, 12, 1, 2, 5, tzinfo=UTC)
FORM = {"content-type": "application/x-www-form-urlencoded"}


def deliver(message_ids: list[str], at: datetime = DELIVERED) -> None:
    """Mark messages delivered, as a sender's acknowledgement does."""
    with get_sessionmaker().begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids))
            .values(status="delivered", delivered_at=at)
        )


def one(party_id: str, **where: Any) -> OutboxMessage:
    found = [
        m
        for m in rows(OutboxMessage.party_id == party_id)
        if all(getattr(m, k) == v for k, v in where.items())
    ]
    assert found, (party_id, where)
    return sorted(found, key=lambda m: m.send_at)[0]


def inserted(party_id: str, channel: str, *, kind: str = "confirmation") -> str:
    """A message due a minute ago, written directly (as app.messaging.notices would queue it)."""
    at = utcnow() - timedelta(minutes=1)
    message_id = uuid.uuid4().hex
    with get_sessionmaker().begin() as session:
        party = session.get(PartyRow, party_id)
        assert party is not None
        session.execute(
            insert(OutboxMessage),
            [
                {
                    "id": message_id,
                    "kind": kind,
                    "debt_id": party.debt_id,
                    "debt_ref": REF,
                    "plan_id": None,
                    "party_id": party_id,
                    "channel": channel,
                    "locale": "en",
                    "instalment": None,
                    "content_sealed": outbox.sealed_content(message_id, None, "secret body\n"),
                    "send_at": at,
                    "status": "pending",
                    "dedupe_key": f"test:{message_id}",
                    "claims": 0,
                    "created_at": at,
                }
            ],
        )
    return message_id


def contact_section(html: str) -> str:
    start = html.index('<section id="contact"')
    return html[start : html.index("</section>", start)]


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def events(kind: str) -> list[AuditEvent]:
    with get_sessionmaker()() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by("seq"))
        )


def party(client: TestClient, auth: Headers, party_id: str) -> Any:
    return client.get(f"/v1/debts/{REF}/parties/{party_id}", headers=auth["collector"]).json()


# ---- the links in the messages -----------------------------------------------------------


def test_each_obligor_gets_a_link_of_their_own(client: TestClient, auth: Headers) -> None:
    debtor, co = add(client, auth, CN_DEBTOR), add(client, auth, US_CO_DEBTOR)
    guarantor = add(client, auth, GB_GUARANTOR)
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    plan_id = accepted_plan(client, offer)
    assert pay(client, auth["collector"], plan_id, "1000.00", "p1").status_code == 201
    for who in (debtor, co):
        marker = party_marker(token, who["id"])
        own = f"/s/{token}?p={marker}\n"
        bodies = [content(m)["body"] for m in rows(OutboxMessage.party_id == who["id"])]
        assert bodies and all(own in b for b in bodies)
    confirmations = rows(OutboxMessage.kind == "confirmation")
    assert {m.party_id for m in confirmations} == {debtor["id"]}
    # a guarantor's reminders carry no link at all
    assert all(
        "/s/" not in content(m)["body"] for m in rows(OutboxMessage.party_id == guarantor["id"])
    )
    assert party_marker(token, debtor["id"]) != party_marker(token, co["id"])
    # the link the collector shares has no marker
    assert "?" not in offer["link"]


# ---- what the page lists -----------------------------------------------------------------


def test_the_page_lists_what_was_delivered_to_its_reader_only(
    client: TestClient, auth: Headers
) -> None:
    debtor, co = add(client, auth, CN_DEBTOR), add(client, auth, US_CO_DEBTOR)
    guarantor = add(client, auth, GB_GUARANTOR)
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    plan_id = accepted_plan(client, offer)
    plan = client.get(f"/v1/plans/{plan_id}", headers=auth["collector"]).json()
    second = date.fromisoformat(plan["instalments"][1]["payment_date"])
    reminder = one(debtor["id"], channel="email", instalment=2)
    pending = one(debtor["id"], channel="sms", instalment=3)
    co_reminder = one(co["id"], channel="sms", instalment=2)
    deliver([reminder.id, co_reminder.id, one(guarantor["id"], channel="email").id])
    assert pay(client, auth["collector"], plan_id, "1000.00", "p1").status_code == 201
    confirmation = one(debtor["id"], kind="confirmation", channel="sms")
    deliver([confirmation.id], DELIVERED + timedelta(hours=1))
    cancelled = one(debtor["id"], channel="sms", instalment=2)
    with get_sessionmaker().begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == cancelled.id)
            .values(status="cancelled", cancelled_reason="paid")
        )

    html = client.get(f"/s/{token}?lang=en").text  # the shared link: the debtor's page
    section = contact_section(html)
    items = [a for a in Page(section).attrs if "data-kind" in a]
    assert [(a["data-kind"], a["data-channel"]) for a in items] == [
        ("confirmation", "sms"),  # newest first
        ("reminder", "email"),
    ]
    today = day(date.today(), Locale.EN)
    assert f"Payment confirmed: CN¥1,000.00 received on {today}" in section
    assert f"Reminder: payment 2 of 3, CN¥1,000.00 due on {day(second, Locale.EN)}" in section
    assert "1 Dec 2026 10:05 (UTC+08:00) · Email" in text_of(section)  # the debtor's zone
    assert "1 Dec 2026 11:05 (UTC+08:00) · SMS" in text_of(section)
    assert pending.id not in html and "secret body" not in html
    # addresses masked; nobody else's channels, names or messages
    for clear in ("+8613800138000", "zhang@example.cn", "张小明", "+12125550123", "+447700900123"):
        assert clear not in html
    assert "z***@example.cn" in section and "+86 *********00" in section
    assert "j***@example.com" not in section and "+1 ********23" not in section
    chinese = contact_section(client.get(f"/s/{token}?lang=zh-CN").text)
    assert f"还款提醒：第2期（共3期）¥1,000.00，{day(second, Locale.ZH_CN)}到期" in chinese
    assert "2026年12月1日 10:05 (UTC+08:00) · 电子邮件" in text_of(chinese)
    assert "2026年12月1日 11:05 (UTC+08:00) · 短信" in text_of(chinese)

    marker = party_marker(token, co["id"])
    own = client.get(f"/s/{token}?p={marker}")  # the co-debtor's link: their language, zone
    assert own.status_code == 200 and 'lang="en"' in own.text
    section = contact_section(own.text)
    items = [a for a in Page(section).attrs if "data-kind" in a]
    assert [(a["data-kind"], a["data-channel"]) for a in items] == [("reminder", "sms")]
    assert "30 Nov 2026 18:05 (UTC-08:00) · SMS" in text_of(section)
    assert "j***@example.com" in section and "z***@example.cn" not in section
    # every link on the co-debtor's page keeps the marker: the language switch, the forms
    forms = [a["action"] for a in Page(own.text).attrs if "action" in a]
    assert forms and all(f"p={marker}" in str(f) for f in forms)


def test_a_third_partys_messages_are_never_on_the_page(client: TestClient, auth: Headers) -> None:
    add(client, auth, CN_DEBTOR)
    third = add(client, auth, THIRD)
    token = token_of(saved(client, auth["collector"]))
    # none is ever queued for a third party (tests/app/messaging/test_notices.py); one written
    # there by hand, delivered
    deliver([inserted(third["id"], "sms")])
    section = contact_section(client.get(f"/s/{token}?lang=en").text)
    assert "We have not sent you any messages." in section and "data-kind" not in section
    assert "+86 *********00" in section  # the debtor's own number, masked (the third's ends 00 too)
    assert 'data-channel="email"' in section  # the debtor's channels, not the third party's


def test_a_marker_of_nobody_is_the_links_404(client: TestClient, auth: Headers) -> None:
    debtor = add(client, auth, CN_DEBTOR)
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    removed = add(client, auth, US_CO_DEBTOR)
    assert (
        client.delete(f"/v1/debts/{REF}/parties/{removed['id']}", headers=auth["collector"])
    ).status_code == 204
    other = saved(client, auth["collector"], debt_ref="CARD-2")
    unknown = client.get(f"/s/{'A' * 32}?lang=en")
    for marker in (
        "A" * 22,
        party_marker(token, debtor["id"])[:-1],  # a link cut short
        party_marker(token_of(other), debtor["id"]),  # another token's
        party_marker(token, removed["id"]),  # a party removed since
        "雪" * 22,
        "",
    ):
        page = client.get(f"/s/{token}", params={"p": marker, "lang": "en"})
        assert page.status_code == 404, marker
        assert page.content == unknown.content == render_not_found(Locale.EN).encode()
        posted = client.post(
            f"/s/{token}/preferences", params={"p": marker}, json={"change": "stop"}
        )
        assert posted.status_code == 404 and "instance" not in posted.json()
    assert party(client, auth, debtor["id"])["stopped"] is False


def test_with_nobody_on_file_no_messages_and_no_forms(client: TestClient, auth: Headers) -> None:
    add(
        client, auth, {**US_CO_DEBTOR}
    )  # a co-debtor, but no debtor: the shared link reads for none
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    section = contact_section(client.get(f"/s/{token}?lang=en").text)
    assert "We have not sent you any messages." in section
    assert "<form" not in section
    refused = client.post(f"/s/{token}/preferences", json={"change": "stop"})
    assert refused.status_code == 409 and refused.json()["type"].endswith("/no-party")
    from_page = client.post(
        f"/s/{token}/preferences?lang=en",
        content="change=stop",
        headers=FORM,
        follow_redirects=False,
    )
    assert from_page.status_code == 303
    assert from_page.headers["location"] == f"/s/{token}?lang=en#contact"
    assert events("contact_preference_changed") == []


# ---- changes -----------------------------------------------------------------------------


def test_an_opt_out_from_the_page_cancels_what_is_queued_on_that_channel(
    client: TestClient, auth: Headers
) -> None:
    debtor = reachable_party(client, auth)  # a debtor whose permitted hours are now
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    sms, email = inserted(debtor["id"], "sms"), inserted(debtor["id"], "email")
    posted = client.post(
        f"/s/{token}/preferences?lang=en",
        content="change=opt_out&channel=sms",
        headers=FORM,
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/s/{token}?lang=en#contact"
    with get_sessionmaker().begin() as session:
        claimed = outbox.claim(session)
    assert [m["id"] for m in claimed] == [email]
    [row] = rows(OutboxMessage.id == sms)
    assert (row.status, row.cancelled_reason) == ("cancelled", "opted_out")
    section = contact_section(client.get(f"/s/{token}?lang=en").text)
    assert 'data-channel="sms" data-opted-out' in section
    assert "Allow SMS again" in section and "Stop email" in section


def test_only_the_party_lifts_an_opt_out_or_a_stop(client: TestClient, auth: Headers) -> None:
    debtor = add(client, auth, CN_DEBTOR)
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    url = f"/v1/debts/{REF}/parties/{debtor['id']}"
    out = client.post(f"/s/{token}/preferences", json={"change": "opt_out", "channel": "sms"})
    assert out.status_code == 200, out.text
    assert out.json()["opted_out"] == ["sms"] and out.json()["changed"] is True
    stop = client.post(f"/s/{token}/preferences", json={"change": "stop"})
    assert stop.json()["stopped"] is True
    # the collector's key still cannot reverse either
    lifted = client.patch(url, json={"opted_out": []}, headers=auth["collector"])
    assert lifted.status_code == 409
    assert lifted.json()["errors"][0]["rule"] == "opt_out_reversible_only_by_party"
    resumed = client.patch(url, json={"stopped": False}, headers=auth["admin"])
    assert resumed.status_code == 409
    assert resumed.json()["errors"][0]["rule"] == "stop_reversible_only_by_party"
    # the party can, from the page
    for body in ("change=opt_in&channel=sms", "change=resume"):
        back = client.post(
            f"/s/{token}/preferences", content=body, headers=FORM, follow_redirects=False
        )
        assert back.status_code == 303 and back.headers["location"] == f"/s/{token}#contact"
    now = party(client, auth, debtor["id"])
    assert (now["opted_out"], now["stopped"]) == ([], False)
    again = client.post(f"/s/{token}/preferences", json={"change": "resume"})
    assert again.status_code == 200 and again.json()["changed"] is False  # not audited
    changes = events("contact_preference_changed")
    assert [(e.actor, e.payload["change"], e.payload["via"]) for e in changes] == [
        (f"party:{debtor['id']}", change, "shared_link")
        for change in ("opt_out", "stop", "opt_in", "resume")
    ]
    assert changes[0].payload["opted_out"] == ["sms"] and changes[0].offer_id == offer["id"]
    assert changes[-1].payload == {
        "debt_ref": REF,
        "party_id": debtor["id"],
        "role": "debtor",
        "change": "resume",
        "channel": None,
        "via": "shared_link",
        "opted_out": [],
        "stopped": False,
    }
    assert "+8613800138000" not in str([e.payload for e in changes])
    with get_sessionmaker()() as session:
        assert trail.verify(session).ok


def test_a_co_debtors_link_changes_the_co_debtors_preferences_only(
    client: TestClient, auth: Headers
) -> None:
    debtor, co = add(client, auth, CN_DEBTOR), add(client, auth, US_CO_DEBTOR)
    token = token_of(saved(client, auth["collector"]))
    marker = party_marker(token, co["id"])
    posted = client.post(
        f"/s/{token}/preferences?p={marker}&lang=en",
        content="change=opt_out&channel=email",
        headers=FORM,
        follow_redirects=False,
    )
    assert posted.headers["location"] == f"/s/{token}?p={marker}&lang=en#contact"
    assert party(client, auth, co["id"])["opted_out"] == ["email"]
    assert party(client, auth, debtor["id"])["opted_out"] == []
    [event] = events("contact_preference_changed")
    assert (event.actor, event.payload["via"]) == (f"party:{co['id']}", "party_link")
    # accepting from the co-debtor's page comes back to the co-debtor's page
    accepted = client.post(f"/s/{token}/accept?p={marker}", headers=FORM, follow_redirects=False)
    assert accepted.headers["location"] == f"/s/{token}?p={marker}"
    # a marker the accept form does not check goes back encoded (the page then 404s on it)
    odd = client.post(
        f"/s/{token}/accept",
        params={"p": "x\r\nSet-Cookie: a=1"},
        headers=FORM,
        follow_redirects=False,
    )
    assert odd.headers["location"] == f"/s/{token}?p=x%0D%0ASet-Cookie%3A+a%3D1"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"change": "opt_out"}, "channel", "required"),
        ({"change": "stop", "channel": "sms"}, "channel", "not_allowed"),
        ({"change": "opt_out", "channel": "fax"}, "channel", "enum"),
        ({"change": "leave"}, "change", "literal_error"),
        ({}, "change", "missing"),
    ],
)
def test_a_change_that_breaks_a_rule_is_a_422_naming_it(
    client: TestClient, auth: Headers, body: dict[str, str], field: str, rule: str
) -> None:
    add(client, auth, CN_DEBTOR)
    token = token_of(saved(client, auth["collector"]))
    for response in (
        client.post(f"/s/{token}/preferences", json=body),
        client.post(
            f"/s/{token}/preferences",
            content="&".join(f"{k}={v}" for k, v in body.items()),
            headers=FORM,
        ),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert {"field": field, "rule": rule} in [
            {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
        ]
    not_json = client.post(
        f"/s/{token}/preferences", content=b"\xff", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["rule"] == "json_invalid"


def test_access_logs_hide_the_token_and_the_marker() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "POST",
            "/s/SECRETTOKEN123456/preferences?p=MARKER_x-1&lang=en",
            "1.1",
            303,
        ),
        None,
    )
    assert HideTokens().filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5000 - "POST /s/…/preferences?p=…&lang=en HTTP/1.1" 303'
    )


def test_a_collectors_change_meanwhile_loses_no_opt_out(client: TestClient, auth: Headers) -> None:
    """The party's change and a collector's PATCH of the same party queue on its row: the
    collector's change is judged against the party's committed opt-out, never an older copy
    (which would have let the PATCH write back a list without it)."""
    debtor = add(client, auth, CN_DEBTOR)
    offer = saved(client, auth["collector"])
    url = f"/v1/debts/{REF}/parties/{debtor['id']}"
    answers: list[Any] = []
    with get_sessionmaker()() as session:
        saved_offer = session.get(SavedOffer, offer["id"])
        assert saved_offer is not None
        who = preferences.reader(session, saved_offer, token_of(offer), None)
        change = PreferenceChange(change="opt_out", channel=Channel.SMS)
        preferences.change(session, saved_offer, who, change)  # holds the row, uncommitted
        collector = threading.Thread(
            target=lambda: answers.append(
                client.patch(url, json={"opted_out": ["email"]}, headers=auth["collector"])
            )
        )
        collector.start()
        collector.join(0.5)
        assert collector.is_alive()  # waiting for the party's transaction
        session.commit()
    collector.join(30)
    # the collector's full list, read before the party's opt-out, would drop it: refused
    assert answers[0].status_code == 409, answers[0].text
    assert answers[0].json()["errors"][0]["rule"] == "opt_out_reversible_only_by_party"
    assert party(client, auth, debtor["id"])["opted_out"] == ["sms"]
