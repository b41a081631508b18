"""A debt by the creditor's reference: its terms, its jurisdiction, its parties and offers.

A debt belongs to one organisation and is known there by the creditor's reference, the
``debt_ref`` its offers carry. ``PUT /v1/debts/{ref}`` records its terms (what is owed on an as-of
date, as an offer request states it) and the jurisdiction whose contact rules its parties
default to; ``GET`` shows that with where it is worked (team, collector), the parties (masked)
and the offers made for it; ``POST /v1/debts/{ref}/assignment`` moves it to another team or
collector.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from plans.policy import OfferKind
from schemas.common import Integer, Model, with_examples
from schemas.contacts import PARTY_ID, Jurisdiction, PartyOut
from schemas.offers import DEBT_EXAMPLE, DebtIn

DEBT_REF_EXAMPLE = "CARD-2024-0012345"
OFFER_ID = "3b9d0c1e2f4a4b5c8d7e6f5a4b3c2d1e"


class DebtRecordIn(Model):
    """The debt's terms and the jurisdiction whose contact rules apply to its parties."""

    jurisdiction: Jurisdiction = Field(
        description="CN, US or GB: the default for parties added without one."
    )
    terms: DebtIn

    model_config = with_examples({"jurisdiction": "CN", "terms": DEBT_EXAMPLE})


class DebtOffer(Model):
    """An offer saved for the debt, and its plan once accepted."""

    id: str
    kind: OfferKind
    status: Literal["offered", "accepted", "superseded", "revoked"]
    plan_id: str | None
    created_at: datetime

    model_config = with_examples(
        {
            "id": OFFER_ID,
            "kind": "instalment",
            "status": "accepted",
            "plan_id": "9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a5f",
            "created_at": "2026-11-25T09:30:00Z",
        }
    )


TEAM_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,119}$"


class Assignment(Model):
    """Where a debt is worked: a team of its organisation, and optionally one of its
    collectors (``member_id``; null: the team as a whole)."""

    team: str = Field(min_length=1, max_length=120, pattern=TEAM_NAME)
    member_id: Integer | None = Field(None, ge=1, le=2**31 - 1)

    model_config = with_examples({"team": "shenzhen-2", "member_id": None})


class AssignedOut(Model):
    """Where a debt is worked now."""

    team: str | None
    member_id: Integer | None
    member: str | None = Field(description="The member's name, if the debt is assigned to one.")

    model_config = with_examples({"team": "shenzhen-2", "member_id": 7, "member": "agent 7"})


class DebtOut(Model):
    """A debt: ``terms`` and ``jurisdiction`` as recorded (``terms`` null when only its
    parties or offers are known), its parties masked, its offers newest first."""

    ref: str
    jurisdiction: Jurisdiction | None = Field(
        description="As recorded; else that of its first party; null when neither is known."
    )
    terms: DebtIn | None
    assigned: AssignedOut
    parties: list[PartyOut]
    offers: list[DebtOffer]
    created_at: datetime | None
    updated_at: datetime | None

    model_config = with_examples(
        {
            "ref": DEBT_REF_EXAMPLE,
            "jurisdiction": "CN",
            "terms": DEBT_EXAMPLE,
            "assigned": {"team": "shenzhen-2", "member_id": 7, "member": "agent 7"},
            "parties": [
                {
                    "id": PARTY_ID,
                    "debt_ref": DEBT_REF_EXAMPLE,
                    "role": "debtor",
                    "masked_name": "张*明",
                    "masked_channels": {
                        "phone": "+86 *********00",
                        "email": None,
                        "sms": "+86 *********00",
                    },
                    "locale": "zh-CN",
                    "time_zone": "Asia/Shanghai",
                    "jurisdiction": "CN",
                    "guaranteed": None,
                    "opted_out": [],
                    "opted_out_at": {},
                    "stopped": False,
                    "stopped_at": None,
                    "created_at": "2026-11-25T09:30:00Z",
                    "updated_at": "2026-11-25T09:30:00Z",
                }
            ],
            "offers": [
                {
                    "id": OFFER_ID,
                    "kind": "instalment",
                    "status": "offered",
                    "plan_id": None,
                    "created_at": "2026-11-25T09:35:00Z",
                }
            ],
            "created_at": "2026-11-25T09:00:00Z",
            "updated_at": "2026-11-25T09:00:00Z",
        }
    )
