"""The outbox as senders see it: claimed messages and their acknowledgement."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, StrictBool

from plans.contact_rules import Channel, Role
from schemas.common import Integer, Locale, Model, with_examples

MESSAGE_ID_PATTERN = r"^[0-9a-f]{32}$"
CLAIM_TOKEN_PATTERN = r"^[0-9a-f]{32}$"
MessageKind = Literal[
    "reminder", "confirmation", "missed", "plan_broken", "plan_replaced", "plan_completed"
]


class ClaimedMessage(Model):
    """A message a sender now holds until ``claimed_until``: send it, then acknowledge it.

    ``to`` is the party's address in clear: the one place it leaves the service besides
    ``reveal``. ``subject`` is for email (None for a text message).
    """

    id: str
    kind: MessageKind
    debt_ref: str
    plan_id: str | None
    party_id: str
    role: Role
    channel: Channel
    to: str
    locale: Locale
    subject: str | None
    body: str
    send_at: datetime
    claimed_until: datetime
    claim_token: str
    claims: Integer = Field(description="How many times it was claimed, this claim included.")


class ClaimedMessages(Model):
    """Due messages claimed by one request (none when nothing is due)."""

    messages: list[ClaimedMessage]

    model_config = with_examples(
        {
            "messages": [
                {
                    "id": "5b0c7f3e9a2d4c1b8e6f0a9d3c2b1a00",
                    "kind": "reminder",
                    "debt_ref": "CARD-2024-0012345",
                    "plan_id": "0d1c2b3a495867768594a3b2c1d0e0f1",
                    "party_id": "9453816c3865417c870bb1df1c36e462",
                    "role": "debtor",
                    "channel": "sms",
                    "to": "+8613800138000",
                    "locale": "zh-CN",
                    "subject": None,
                    "body": "您的还款计划第1期¥1,000.00将于2026年12月25日到期。\n",
                    "send_at": "2026-12-22T02:00:00Z",
                    "claimed_until": "2026-12-22T02:01:00Z",
                    "claim_token": "c0ffee00c0ffee00c0ffee00c0ffee00",
                    "claims": 1,
                }
            ]
        }
    )


class AckIn(Model):
    """The claim the acknowledgement is for."""

    claim_token: str = Field(pattern=CLAIM_TOKEN_PATTERN)

    model_config = with_examples({"claim_token": "c0ffee00c0ffee00c0ffee00c0ffee00"})


class AckOut(Model):
    """A message delivered (the same answer to every acknowledgement of the claim)."""

    id: str
    status: Literal["delivered"]
    delivered_at: datetime

    model_config = with_examples(
        {
            "id": "5b0c7f3e9a2d4c1b8e6f0a9d3c2b1a00",
            "status": "delivered",
            "delivered_at": "2026-12-22T02:00:04Z",
        }
    )


class ReplyIn(Model):
    """A reply to a message, as the gateway received it: the address it came from and its text."""

    sender: str = Field(
        min_length=3,
        max_length=320,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="The number (E.164) or email address the reply came from.",
        examples=["+8613800138000"],
    )
    text: str = Field(max_length=2000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$", examples=["TD"])

    model_config = with_examples({"sender": "+8613800138000", "text": "TD"})


class ReplyOut(Model):
    """What the reply did: ``opt_out`` if it asked to stop messages on ``channel``, ``changed``
    if the party was not opted out already."""

    message_id: str
    party_id: str
    channel: Channel
    opt_out: StrictBool
    changed: StrictBool

    model_config = with_examples(
        {
            "message_id": "5b0c7f3e9a2d4c1b8e6f0a9d3c2b1a00",
            "party_id": "9453816c3865417c870bb1df1c36e462",
            "channel": "sms",
            "opt_out": True,
            "changed": True,
        }
    )
