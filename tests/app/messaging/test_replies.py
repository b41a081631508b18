"""app/messaging/replies.py: a reply to a text message that asks to opt out (回T退订, Reply
STOP) opts its party out of text messages, through the party's own preferences
(app/contacts/preferences.py), and the queued texts are then cancelled when claimed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.contacts.models import Party as PartyRow
from app.core.db import get_sessionmaker
from app.messaging.models import OutboxMessage
from tests.app.links.test_sharing import accepted_plan, saved
from tests.app.messaging.outbox_support import (
    CN_DEBTOR,
    Headers,
    add,
    audit_kinds,
    rows,
)


def a_text_to(client: TestClient, auth: Headers) -> tuple[str, str]:
    debtor = add(client, auth, CN_DEBTOR)
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    texts = rows(OutboxMessage.plan_id == plan_id, OutboxMessage.channel == "sms")
    assert texts
    return debtor["id"], texts[0].id


def reply(client: TestClient, auth: Headers, message_id: str, sender: str, text: str) -> Any:
    return client.post(
        f"/v1/outbox/{message_id}/replies",
        json={"sender": sender, "text": text},
        headers=auth["finance"],
    )


def opted_out(party_id: str) -> dict[str, str]:
    with get_sessionmaker()() as session:
        row = session.get(PartyRow, party_id)
        assert row is not None
        return dict(row.opted_out)


def test_replying_td_opts_the_party_out_of_text_messages(client: TestClient, auth: Headers) -> None:
    party_id, message_id = a_text_to(client, auth)
    answered = reply(client, auth, message_id, "+86 138 0013 8000", "TD")
    assert answered.status_code == 200, answered.text
    assert answered.json() == {
        "message_id": message_id,
        "party_id": party_id,
        "channel": "sms",
        "opt_out": True,
        "changed": True,
    }
    assert set(opted_out(party_id)) == {"sms"}
    assert audit_kinds()["contact_preference_changed"] == 1
    again = reply(client, auth, message_id, "+8613800138000", "退订").json()
    assert again["opt_out"] and not again["changed"]
    assert audit_kinds()["contact_preference_changed"] == 1


def test_another_reply_changes_nothing(client: TestClient, auth: Headers) -> None:
    party_id, message_id = a_text_to(client, auth)
    answered = reply(client, auth, message_id, "+8613800138000", "明天还款")
    assert answered.json()["opt_out"] is False
    assert opted_out(party_id) == {}


def test_a_reply_from_another_number_is_refused(client: TestClient, auth: Headers) -> None:
    party_id, message_id = a_text_to(client, auth)
    answered = reply(client, auth, message_id, "+8613900139000", "T")
    assert answered.status_code == 409
    assert opted_out(party_id) == {}
    unknown = reply(client, auth, "0" * 32, "+8613800138000", "T")
    assert unknown.status_code == 404
