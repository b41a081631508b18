"""The debtor's requests for a change to their plan, and the collectors' decisions on them.

Through their link (``/s/{token}/change``) a debtor proposes what they can pay a period, and
optionally from when and a lump sum now. The service runs the counter-offer engine
(``plans.counter``) on what is owed now, and the debtor may ask for the plan as proposed or for
one of the nearest alternatives: that is a change request, which a collector answers by making
a new offer (``offered``, naming it) or by declining it.

The debtor's fields are decimal strings checked by the service itself (the form and the JSON
body break the same rules, with the same names): ``number``, ``non_negative``, ``positive``,
``max_decimals`` for amounts; ``date``, ``not_in_past``, ``max_start_delay`` for the start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from schemas import examples
from schemas.common import Integer, IsoDate, Model, MultiLine, given, when, with_examples
from schemas.offer_answers import ConsolidatedOfferOut as ConsolidatedOffer
from schemas.offer_answers import CounterAnswer, OfferOut

Choice = Literal["as_proposed", "longer_term", "higher_payment", "later_start", "earlier_start"]
Status = Literal["open", "offered", "declined"]

# The page's forms send what the debtor typed; the same fields as JSON are declared as the
# service reads them (app.changes.change_requests): a number, a date as YYYY-MM-DD.
# (blanks at either end are the ASCII ones the service strips: app.changes.change_requests.BLANKS)
NUMBER_PATTERN = r"^[ \t\n\r\v\f]*[0-9]+(\.[0-9]+)?[ \t\n\r\v\f]*$"
LUMP_SUM_PATTERN = r"^[ \t\n\r\v\f]*([0-9]+(\.[0-9]+)?)?[ \t\n\r\v\f]*$"
DAY_PATTERN = (
    r"^[ \t\n\r\v\f]*((19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))?"
    r"[ \t\n\r\v\f]*$"
)
_PAYMENT = Field(
    max_length=40,
    json_schema_extra={"pattern": NUMBER_PATTERN},
    description="What the debtor can pay each period, in the plan's currency (e.g. 500.00).",
    examples=["500.00"],
)
_START = Field(
    None,
    max_length=40,
    json_schema_extra={"pattern": DAY_PATTERN},
    description="The first payment's date (ISO 8601); omitted: one period from today.",
    examples=["2027-01-15"],
)
_LUMP_SUM = Field(
    None,
    json_schema_extra={"pattern": LUMP_SUM_PATTERN},
    max_length=40,
    description="Cash the debtor can pay now, as a down payment; omitted: none.",
    examples=["0"],
)

PROPOSAL_EXAMPLE = {"payment": "500.00", "start": None, "lump_sum": "0.00", "frequency": "monthly"}
OWED_EXAMPLE = {
    "currency": "CNY",
    "as_of": "2026-11-25",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "total": "10500.00",
}
REQUEST_EXAMPLE = {
    "id": "0f5c1be2a1d84c0c9a3a1d2e7c6b5a40",
    "debt_ref": "CARD-2024-0012345",
    "offer_id": examples.SAVED_OFFER["id"],
    "plan_id": None,
    "status": "open",
    "choice": "as_proposed",
    "proposal": {**PROPOSAL_EXAMPLE, "payment": "1312.50"},
    "owed": OWED_EXAMPLE,
    "offer": examples.INSTALMENT_OFFER,
    "created_at": "2026-11-25T15:02:11.120331Z",
    "decision": None,
}


def _plan_shape(value: object) -> str:
    # a consolidated offer names its allocation rule; one debt's does not
    if isinstance(value, dict):
        return "shape:debts" if "allocation_rule" in value else "shape:debt"
    return "shape:debts" if isinstance(value, ConsolidatedOffer) else "shape:debt"


# The plan asked for: one debt's offer, or (through a consolidated offer's link) the
# consolidated offer for all its debts; ``oneOf`` the two.
AskedPlan = Annotated[
    Annotated[OfferOut, Tag("shape:debt")] | Annotated[ConsolidatedOffer, Tag("shape:debts")],
    Discriminator(_plan_shape),
]


class ProposalIn(Model):
    """What the debtor proposes: a payment a period, and optionally a start and a lump sum."""

    payment: str = _PAYMENT
    start: str | None = _START
    lump_sum: str | None = _LUMP_SUM

    model_config = with_examples({"payment": "500.00"}, {"payment": "800.00", "start": None})


class ChoiceIn(ProposalIn):
    """The same proposal, and which of the plans it was answered with the debtor asks for."""

    choice: Choice = Field(
        description="``as_proposed`` (the proposal fits the rules) or an alternative's change."
    )

    model_config = with_examples({"payment": "1312.50", "choice": "as_proposed"})


class ProposalOut(Model):
    """The proposal as the engine read it (amounts in the plan's currency)."""

    payment: str
    start: IsoDate | None
    lump_sum: str
    frequency: str = Field(description="The plan's own frequency: a change keeps it.")


class OwedNowOut(Model):
    """What is owed on ``as_of``: on an accepted plan, what it still asks for today (principal
    and fees unpaid, interest due and accrued to date; the plan's waivers kept, or lost if it
    broke); on an offer not yet accepted, the offer's own debt."""

    currency: str
    as_of: IsoDate
    principal: str
    interest: str
    fees: str
    total: str

    model_config = with_examples(OWED_EXAMPLE)


class Evaluation(Model):
    """The engine's answer to a proposal: the plan as proposed, or why not and the nearest
    plans the policy allows; and how many requests the link may still make today. Through a
    consolidated offer's link, ``owed`` is all its debts' and ``result`` a consolidated one
    (each plan for all the debts, each line shared between them by the allocation rule)."""

    owed: OwedNowOut
    proposal: ProposalOut
    result: CounterAnswer
    requests_left_today: Integer = Field(ge=0)

    model_config = with_examples(
        {
            "owed": OWED_EXAMPLE,
            "proposal": {**PROPOSAL_EXAMPLE, "payment": "600.00"},
            "result": examples.COUNTER_RESULT,
            "requests_left_today": 5,
        }
    )


class DecisionOut(Model):
    """What a collector did with a request."""

    decision: Literal["offered", "declined"]
    offer_id: str | None = Field(description="The new saved offer, for ``offered``.")
    reason: str | None
    decided_at: datetime
    decided_by: str = Field(description="The key's role and public prefix.")


class ChangeRequestOut(Model):
    """A change request: the plan the debtor asked for, recomputed by the service."""

    id: str
    debt_ref: str
    offer_id: str = Field(description="The saved offer whose link the debtor used.")
    plan_id: str | None = Field(description="Its accepted plan, if it was accepted.")
    status: Status
    choice: Choice
    proposal: ProposalOut
    owed: OwedNowOut
    offer: AskedPlan = Field(
        description="The plan asked for, as the engine's offer document (a consolidated offer's"
        " through its group's link: then ``offer_id`` and ``debt_ref`` are its lead debt's)."
    )
    created_at: datetime
    decision: DecisionOut | None

    model_config = with_examples(REQUEST_EXAMPLE)


class ChangeRequestList(Model):
    """Change requests, newest first."""

    requests: list[ChangeRequestOut]

    model_config = with_examples({"requests": [REQUEST_EXAMPLE]})


class DecisionIn(Model):
    """A collector's decision: a new offer was made (name it), or the request is declined."""

    decision: Literal["offered", "declined"]
    offer_id: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="Required for ``offered``: a saved offer for the same debt.",
    )
    reason: MultiLine | None = Field(None, max_length=1000, description="Shown to collectors only.")

    model_config = with_examples(
        {"decision": "offered", "offer_id": examples.SAVED_OFFER["id"]},
        {"decision": "declined", "reason": "The debtor asked for less than the minimum."},
        # rules required and not_with_declined: ``offered`` names the offer, ``declined`` none
        schema={
            "allOf": [
                when("decision", ("offered",), given("offer_id")),
                when("decision", ("declined",), {"properties": {"offer_id": {"type": "null"}}}),
            ]
        },
    )


class Receipt(Model):
    """The debtor's copy of a request: what was asked for, and where it stands."""

    id: str
    status: Status
    choice: Choice
    created_at: datetime
    offer: AskedPlan

    model_config = with_examples(
        {
            "id": REQUEST_EXAMPLE["id"],
            "status": "open",
            "choice": "as_proposed",
            "created_at": REQUEST_EXAMPLE["created_at"],
            "offer": examples.INSTALMENT_OFFER,
        }
    )
