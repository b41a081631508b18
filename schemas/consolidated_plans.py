"""Consolidated offers saved, accepted and paid: several debts as one plan.

Saving a consolidated negotiation (``POST /v1/offers`` with ``negotiate.debts``) saves one offer
per debt, each with its own single-debt document, grouped under the combined offer the debtor
sees behind one link; accepting it makes one plan per debt, all at once. That group, accepted,
is a consolidated plan: money received against it is shared between the debts' plans by the
offer's allocation rule, each part recorded as a payment of its debt's plan.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from plans.allocation import AllocationRule
from plans.payments import PlanStatus
from schemas import examples
from schemas.common import Integer, IsoDate, Model, with_examples
from schemas.offer_answers import ConsolidatedOfferOut

_OFFER = examples.CONSOLIDATED_OFFER_SET["offers"][0]
_OFFER_ID = "5d9514b8397045cbb28cc42fd44b6bc2"
GROUP_ID_EXAMPLE = _GROUP_ID = "0b7e3f9a5c1d4e2f8a6b9c0d1e2f3a4b"
_PLANS = ("3c1f0e2d4b5a69788796a5b4c3d2e1f0", "7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d")
_SECOND_OFFER = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
_DEBTS = [d["debt_ref"] for d in _OFFER["debts"]]


class GroupMemberOut(Model):
    """One debt's offer in a consolidated offer, and its plan once accepted."""

    debt_ref: str
    offer_id: str = Field(description="This debt's own saved offer (GET /v1/offers/{id}).")
    plan_id: str | None = Field(description="This debt's plan, once the debtor accepted.")


class SavedGroupOut(Model):
    """A consolidated offer saved behind one link: the combined offer and each debt's own."""

    id: str = Field(
        description="The consolidated offer; once accepted, the consolidated plan"
        " (GET /v1/consolidated-plans/{id})."
    )
    allocation_rule: AllocationRule
    offer: ConsolidatedOfferOut
    debts: list[GroupMemberOut] = Field(description="In the request's order; the first leads.")

    model_config = with_examples(
        {
            "id": _GROUP_ID,
            "allocation_rule": "pro_rata",
            "offer": _OFFER,
            "debts": [
                {"debt_ref": _DEBTS[0], "offer_id": _OFFER_ID, "plan_id": None},
                {"debt_ref": _DEBTS[1], "offer_id": _SECOND_OFFER, "plan_id": None},
            ],
        }
    )


class SharedPartOut(Model):
    """One debt's part of a payment received against a consolidated plan."""

    debt_ref: str
    plan_id: str
    payment_id: Integer = Field(description="The part as a payment of the debt's own plan.")
    amount: str
    principal: str
    interest: str
    fees: str
    refunded: str = Field(description="What of this part the debt's plan hands back.")


SHARED_PAYMENT_EXAMPLE = {
    "id": 1,
    "consolidated_plan_id": _GROUP_ID,
    "amount": "861.11",
    "date": "2026-12-25",
    "reference": "WX-20261225-000123",
    "allocation_rule": "pro_rata",
    "allocations": [
        {
            "debt_ref": _DEBTS[0],
            "plan_id": _PLANS[0],
            "payment_id": 1,
            "amount": "583.33",
            "principal": "83.33",
            "interest": "350.00",
            "fees": "150.00",
            "refunded": "0.00",
        },
        {
            "debt_ref": _DEBTS[1],
            "plan_id": _PLANS[1],
            "payment_id": 2,
            "amount": "277.78",
            "principal": "277.78",
            "interest": "0.00",
            "fees": "0.00",
            "refunded": "0.00",
        },
    ],
    "refunded": "0.00",
}


class SharedPaymentOut(Model):
    """A payment received against a consolidated plan and how it was shared: each debt's part
    (by the offer's allocation rule, line by line: what was due by its date first, then the
    next payment, then the last ones), each then applied by that debt's plan (fees, interest
    and principal in its policy's order)."""

    id: Integer
    consolidated_plan_id: str
    amount: str
    date: IsoDate
    reference: str
    allocation_rule: AllocationRule
    allocations: list[SharedPartOut] = Field(description="The debts that got a part of it.")
    refunded: str = Field(description="What no debt took (every plan paid up): handed back.")

    model_config = with_examples(SHARED_PAYMENT_EXAMPLE)


class GroupDebtOut(Model):
    """One debt of a consolidated plan on a day: its own plan's state."""

    debt_ref: str
    plan_id: str
    status: PlanStatus
    paid: str
    outstanding: str


class ConsolidatedPlanOut(Model):
    """An accepted consolidated offer on a day: each debt's plan and the payments shared."""

    id: str
    currency: str
    accepted_at: datetime
    on: IsoDate
    status: PlanStatus = Field(
        description="completed once every debt's plan is; otherwise the most pressing of the"
        " debts' states (broken, missed, late, then active); a plan all of whose debts were"
        " closed otherwise takes the first of written_off, cancelled, replaced."
    )
    allocation_rule: AllocationRule
    paid: str
    outstanding: str
    debts: list[GroupDebtOut]
    payments: list[SharedPaymentOut]
    offer: ConsolidatedOfferOut

    model_config = with_examples(
        {
            "id": _GROUP_ID,
            "currency": "CNY",
            "accepted_at": "2026-11-25T12:00:00.010000Z",
            "on": "2026-12-25",
            "status": "active",
            "allocation_rule": "pro_rata",
            "paid": "861.11",
            "outstanding": "14638.89",
            "debts": [
                {
                    "debt_ref": _DEBTS[0],
                    "plan_id": _PLANS[0],
                    "status": "active",
                    "paid": "583.33",
                    "outstanding": "9916.67",
                },
                {
                    "debt_ref": _DEBTS[1],
                    "plan_id": _PLANS[1],
                    "status": "active",
                    "paid": "277.78",
                    "outstanding": "4722.22",
                },
            ],
            "payments": [SHARED_PAYMENT_EXAMPLE],
            "offer": _OFFER,
        }
    )


class GroupAcceptance(Model):
    """The debts' plans made by accepting a consolidated offer."""

    consolidated_plan_id: str
    plans: list[GroupMemberOut]
