"""The parties of a debt and the contact rules: who may be contacted, when, and the record.

A party's name and contact details are personal data: every response shows them masked
(``masked_name``, ``masked_channels``) except the one audited ``reveal`` operation, which
returns them in clear for placing a call. Numbers are E.164 (``+8613800138000``); an email
address must match a strict form of RFC 5322's ``addr-spec`` (see :data:`EMAIL_PATTERN`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StrictBool, model_validator

from plans.contact_rules import Channel, Outcome, Purpose, Role
from plans.errors import DomainError
from schemas.common import (
    EARLIEST_DATE,
    LATEST_DATE,
    Amount,
    Currency,
    Instant,
    Integer,
    Locale,
    Model,
    OneLine,
    minor,
    with_examples,
)

# ITU-T E.164: "+", a country code that does not start with 0, at most 15 digits in all.
E164_PATTERN = r"^\+[1-9]\d{6,14}$"
# RFC 5322 §3.4.1 addr-spec, strictly: a dot-atom local part (atext runs joined by single
# dots; no quoted strings, comments or folding whitespace) and a domain of DNS labels (RFC
# 1035: letters, digits, inner hyphens, at most 63 characters) ending in an alphabetic TLD
# (no address literals). email-validator is not a dependency; this is the documented subset.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
PARTY_ID_PATTERN = r"^[0-9a-f]{32}$"
DEBT_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$"

Phone = Annotated[
    str,
    Field(
        pattern=E164_PATTERN,
        description="E.164 number: +, country code, number.",
        examples=["+8613800138000"],
    ),
]
Email = Annotated[
    str,
    Field(
        max_length=254,
        pattern=EMAIL_PATTERN,
        description="An email address (RFC 5322 addr-spec, dot-atom form).",
        examples=["zhang.xiaoming@example.cn"],
    ),
]
DebtRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=DEBT_REF_PATTERN,
        description="The creditor's reference of the debt.",
        examples=["CARD-2024-0012345"],
    ),
]
PartyId = Annotated[
    str,
    Field(
        pattern=PARTY_ID_PATTERN,
        description="A party's id.",
        examples=["7f3c2a9e4b1d4e8f9a0b1c2d3e4f5a6b"],
    ),
]
Jurisdiction = Literal["CN", "US", "GB"]

PARTY_ID = "7f3c2a9e4b1d4e8f9a0b1c2d3e4f5a6b"
CHANNELS_EXAMPLE = {"phone": "+8613800138000", "sms": "+8613800138000"}
MASKED_EXAMPLE = {"phone": "+86 *********00", "email": None, "sms": "+86 *********00"}


def _check_zone(value: str | None, where: str) -> None:
    if value is None:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DomainError(where, "iana_zone", f"{value!r} is not an IANA time zone") from exc


def _check_at(value: datetime | None, where: str) -> None:
    # The engine looks up to 400 days ahead of it: keep every instant it reaches a datetime.
    # The day as written (before its UTC offset) is what the contract's pattern bounds.
    if value is not None and not EARLIEST_DATE <= value.date() <= LATEST_DATE:
        raise DomainError(where, "range", f"must be from {EARLIEST_DATE} to {LATEST_DATE}")


class Channels(Model):
    """The channels a party gave: a phone number, an email address, a number for text messages."""

    phone: Phone | None = None
    email: Email | None = None
    sms: Phone | None = None

    model_config = with_examples(CHANNELS_EXAMPLE, {"email": "john.smith@example.com"})


class MaskedChannels(Model):
    """The channels given, masked: a number keeps its country code and last 2 digits, an
    email address its first letter and its domain."""

    phone: str | None
    email: str | None
    sms: str | None

    model_config = with_examples(MASKED_EXAMPLE)


class Guaranteed(Model):
    """What a guarantor answers for (omitted: the whole debt)."""

    amount: Amount
    currency: Currency

    model_config = with_examples({"amount": "5000.00", "currency": "CNY"})

    @model_validator(mode="after")
    def _decimals(self) -> Guaranteed:
        minor(self.amount, self.currency, field="amount")
        return self


class PartyIn(Model):
    """A party of the debt to add. ``jurisdiction`` defaults to the debt's recorded one
    (``PUT /v1/debts/{ref}``), else that of its parties already listed, else CN;
    ``guaranteed`` is for a guarantor only."""

    role: Role
    name: OneLine = Field(min_length=1, max_length=200, examples=["张小明"])
    channels: Channels
    locale: Locale = Locale.ZH_CN
    time_zone: OneLine = Field(
        max_length=64, description="IANA time zone of the party.", examples=["Asia/Shanghai"]
    )
    jurisdiction: Jurisdiction | None = Field(
        None, description="Whose contact rules apply: CN, US or GB."
    )
    guaranteed: Guaranteed | None = None

    model_config = with_examples(
        {
            "role": "debtor",
            "name": "张小明",
            "channels": CHANNELS_EXAMPLE,
            "locale": "zh-CN",
            "time_zone": "Asia/Shanghai",
            "jurisdiction": "CN",
        },
        {
            "role": "guarantor",
            "name": "John Smith",
            "channels": {"phone": "+12125550123", "email": "john.smith@example.com"},
            "locale": "en",
            "time_zone": "America/New_York",
            "jurisdiction": "US",
            "guaranteed": {"amount": "5000.00", "currency": "USD"},
        },
        # the role's combinations (rule guarantor_only): only a guarantor has ``guaranteed``
        schema={
            "if": {"properties": {"role": {"const": Role.GUARANTOR.value}}},
            "else": {"properties": {"guaranteed": {"type": "null"}}},
        },
    )

    @model_validator(mode="after")
    def _valid(self) -> PartyIn:
        _check_zone(self.time_zone, "time_zone")
        if not (self.channels.phone or self.channels.email or self.channels.sms):
            raise DomainError("channels", "one_channel", "give at least one phone, email or sms")
        if self.guaranteed is not None and self.role is not Role.GUARANTOR:
            raise DomainError("guaranteed", "guarantor_only", "only a guarantor has one")
        return self


class PartyPatch(Model):
    """Changes to a party; omitted fields stay. ``opted_out`` is the full list of channels the
    party asked not to be used, ``stopped`` their request not to be contacted at all. Both
    only grow through this API: lifting them needs the party's own request (on their page,
    ``POST /s/{token}/preferences``), so removing an opt-out or setting ``stopped`` back to
    false is a 409."""

    name: OneLine | None = Field(None, min_length=1, max_length=200)
    channels: Channels | None = None
    locale: Locale | None = None
    time_zone: OneLine | None = Field(None, max_length=64, examples=["Asia/Shanghai"])
    jurisdiction: Jurisdiction | None = None
    guaranteed: Guaranteed | None = None
    opted_out: list[Channel] | None = Field(None, max_length=3)
    stopped: StrictBool | None = None

    model_config = with_examples({"opted_out": ["sms"]}, {"stopped": True})

    @model_validator(mode="after")
    def _valid(self) -> PartyPatch:
        _check_zone(self.time_zone, "time_zone")
        return self


class PartyOut(Model):
    """A party as every response shows it: name and contact details masked."""

    id: str
    debt_ref: str
    role: Role
    masked_name: str = Field(description="The name with all but its initials masked.")
    masked_channels: MaskedChannels
    locale: Locale
    time_zone: str
    jurisdiction: Jurisdiction
    guaranteed: Guaranteed | None
    opted_out: list[Channel]
    opted_out_at: dict[Channel, datetime] = Field(description="When each opt-out was recorded.")
    stopped: StrictBool
    stopped_at: datetime | None
    created_at: datetime
    updated_at: datetime

    model_config = with_examples(
        {
            "id": PARTY_ID,
            "debt_ref": "CARD-2024-0012345",
            "role": "debtor",
            "masked_name": "张*明",
            "masked_channels": MASKED_EXAMPLE,
            "locale": "zh-CN",
            "time_zone": "Asia/Shanghai",
            "jurisdiction": "CN",
            "guaranteed": None,
            "opted_out": ["sms"],
            "opted_out_at": {"sms": "2026-11-25T09:30:00Z"},
            "stopped": False,
            "stopped_at": None,
            "created_at": "2026-11-25T09:00:00Z",
            "updated_at": "2026-11-25T09:30:00Z",
        }
    )


class PartyList(Model):
    """The parties of a debt the key may see."""

    debt_ref: str
    parties: list[PartyOut]

    model_config = with_examples({"debt_ref": "CARD-2024-0012345", "parties": []})


class RevealedParty(Model):
    """A party's name and contact details in clear, for placing a call. Audited."""

    id: str
    debt_ref: str
    name: str
    channels: Channels

    model_config = with_examples(
        {
            "id": PARTY_ID,
            "debt_ref": "CARD-2024-0012345",
            "name": "张小明",
            "channels": CHANNELS_EXAMPLE,
        }
    )


class RuleOut(Model):
    """A contact rule as cited: stable id, a sentence, its source, the rules' version."""

    id: str
    text: str
    source: str
    policy_version: str

    model_config = with_examples(
        {
            "id": "CN-HOURS",
            "text": "No contact between 22:00 and 08:00 in the party's local time.",
            "source": "GB/T 45251-2025",
            "policy_version": "contact-2026-11-25",
        }
    )


class ContactCheckIn(Model):
    """May this party of the debt be contacted on this channel at this time (default now)?"""

    debt_ref: DebtRef
    party_id: PartyId
    channel: Channel
    at: Instant | None = Field(None, description="With a UTC offset; default now.")
    purpose: Purpose = Purpose.COLLECTION

    model_config = with_examples(
        {
            "debt_ref": "CARD-2024-0012345",
            "party_id": PARTY_ID,
            "channel": "phone",
            "at": "2026-11-25T23:00:00+08:00",
            "purpose": "collection",
        }
    )

    @model_validator(mode="after")
    def _valid(self) -> ContactCheckIn:
        _check_at(self.at, "at")
        return self


class ContactCheckOut(Model):
    """Allowed, with what the message must meet (``requires``); or refused, with the rule
    and the earliest permitted time in the party's zone (None: waiting does not help)."""

    allowed: StrictBool
    policy_version: str
    requires: list[RuleOut]
    rule: RuleOut | None
    next_permitted: datetime | None

    model_config = with_examples(
        {
            "allowed": False,
            "policy_version": "contact-2026-11-25",
            "requires": [],
            "rule": {
                "id": "CN-HOURS",
                "text": "No contact between 22:00 and 08:00 in the party's local time.",
                "source": "GB/T 45251-2025",
                "policy_version": "contact-2026-11-25",
            },
            "next_permitted": "2026-11-26T08:00:00+08:00",
        }
    )


class ContactAttemptIn(Model):
    """An attempt made (a call placed, a message sent): recorded only if the rules allow it."""

    debt_ref: DebtRef
    party_id: PartyId
    channel: Channel
    at: Instant = Field(description="When, with a UTC offset.")
    outcome: Outcome
    purpose: Purpose = Purpose.COLLECTION

    model_config = with_examples(
        {
            "debt_ref": "CARD-2024-0012345",
            "party_id": PARTY_ID,
            "channel": "phone",
            "at": "2026-11-26T10:00:00+08:00",
            "outcome": "no_answer",
        }
    )

    @model_validator(mode="after")
    def _valid(self) -> ContactAttemptIn:
        _check_at(self.at, "at")
        return self


class ContactAttemptOut(Model):
    """An attempt as recorded."""

    id: Integer
    debt_ref: str
    party_id: str
    channel: Channel
    at: datetime
    outcome: Outcome
    purpose: Purpose
    policy_version: str
    requires: list[RuleOut]
    created_at: datetime

    model_config = with_examples(
        {
            "id": 1,
            "debt_ref": "CARD-2024-0012345",
            "party_id": PARTY_ID,
            "channel": "phone",
            "at": "2026-11-26T02:00:00Z",
            "outcome": "no_answer",
            "purpose": "collection",
            "policy_version": "contact-2026-11-25",
            "requires": [],
            "created_at": "2026-11-26T02:00:05Z",
        }
    )
