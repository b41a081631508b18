"""A party's own contact preferences, changed from their page: ``POST /s/{token}/preferences``.

The page's forms post one change at a time: opt out of a channel or back in, ask not to be
contacted at all or lift that. A collector's key can only add opt-outs and a stop
(``PATCH /v1/debts/{ref}/parties/{id}``); lifting one is the party's own request, made here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, StrictBool, model_validator

from plans.contact_rules import Channel, Role
from plans.errors import DomainError
from schemas.common import Model, given, when, with_examples
from schemas.contacts import MASKED_EXAMPLE, MaskedChannels

PreferenceKind = Literal["opt_out", "opt_in", "stop", "resume"]
_BY_CHANNEL = ("opt_out", "opt_in")


class PreferenceChange(Model):
    """One change the party asks for. ``opt_out`` and ``opt_in`` name a ``channel``; ``stop``
    (contact me no more, on any channel) and ``resume`` (lift that) name none."""

    change: PreferenceKind = Field(
        description="opt_out / opt_in of one channel; stop / resume all contact."
    )
    channel: Channel | None = Field(None, description="With opt_out and opt_in only.")

    model_config = with_examples(
        {"change": "opt_out", "channel": "sms"},
        {"change": "opt_in", "channel": "sms"},
        {"change": "stop"},
        {"change": "resume"},
        # rules required and not_allowed
        schema={
            "allOf": [
                when("change", ("opt_out", "opt_in"), given("channel")),
                when("change", ("stop", "resume"), {"properties": {"channel": {"type": "null"}}}),
            ]
        },
    )

    @model_validator(mode="after")
    def _channel_when_needed(self) -> PreferenceChange:
        if self.change in _BY_CHANNEL and self.channel is None:
            raise DomainError("channel", "required", f"{self.change} names the channel")
        if self.change not in _BY_CHANNEL and self.channel is not None:
            raise DomainError("channel", "not_allowed", f"{self.change} applies to every channel")
        return self


class PreferencesOut(Model):
    """The party's preferences after the change, addresses masked."""

    role: Role
    masked_channels: MaskedChannels
    opted_out: list[Channel]
    opted_out_at: dict[Channel, datetime] = Field(description="When each opt-out was recorded.")
    stopped: StrictBool
    stopped_at: datetime | None
    changed: StrictBool = Field(description="False when the party's preferences were already so.")

    model_config = with_examples(
        {
            "role": "debtor",
            "masked_channels": MASKED_EXAMPLE,
            "opted_out": ["sms"],
            "opted_out_at": {"sms": "2026-12-01T10:15:00Z"},
            "stopped": False,
            "stopped_at": None,
            "changed": True,
        }
    )
