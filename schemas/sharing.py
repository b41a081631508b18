"""Offers saved for a debt and shared with the debtor; accepted plans; payments; the audit.

A saved offer is recomputed by the service from the request that describes it (never taken
from the client as a finished document), pinned to the policy version it came from, and shared
through a capability link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictBool, Tag, TypeAdapter

from plans.lifecycle import Cause
from plans.payments import PlanStatus
from plans.policy import OfferKind
from schemas import examples
from schemas.common import Amount, Integer, IsoDate, Locale, Model, OneLine, with_examples
from schemas.consolidated_plans import GroupAcceptance, SavedGroupOut
from schemas.offer_answers import AffordabilityOut, OfferOut, OwedOut, PolicyUsed, WaiverOut
from schemas.offers import (
    CAPACITY_EXAMPLE,
    DEBT_EXAMPLE,
    DEBTS_EXAMPLE,
    ConsolidatedNegotiateRequest,
    NegotiateRequest,
    StatementIn,
)
from schemas.plan_requests import PlanRequest

DEBT_REF = Field(
    min_length=1,
    max_length=100,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$",
    description="The creditor's reference of the debt.",
    examples=["CARD-2024-0012345"],
)


class Debtor(Model):
    """Who the offer is for. Only a masked form of the name is ever shown on the page."""

    name: OneLine = Field(min_length=1, max_length=200, examples=["张小明"])


SAVE_FROM_NEGOTIATE = {
    "debt_ref": "CARD-2024-0012345",
    "debtor": {"name": "张小明"},
    "locale": "zh-CN",
    "negotiate": {"debt": DEBT_EXAMPLE, "capacity": CAPACITY_EXAMPLE},
    "kind": "instalment",
}
SAVE_A_PLAN = {
    "debt_ref": "CARD-2024-0012345",
    "debtor": {"name": "John Smith"},
    "locale": "en",
    "plan": {"kind": "instalment", "debt": DEBT_EXAMPLE, "term": 8},
}


class _SaveOffer(Model):
    debt_ref: str = DEBT_REF
    debtor: Debtor
    locale: Locale = Field(Locale.ZH_CN, description="The page's default language.")


class SaveNegotiated(_SaveOffer):
    """The offer ``negotiate`` makes for this debt and capacity: of ``kind`` if given, else the
    best ranked."""

    negotiate: NegotiateRequest
    kind: OfferKind | None = None
    plan: None = Field(None, description="No explicit plan: omitted, or null.")

    model_config = with_examples(SAVE_FROM_NEGOTIATE)


SAVE_CONSOLIDATED = {
    "debtor": {"name": "张小明"},
    "locale": "zh-CN",
    "negotiate": {"debts": DEBTS_EXAMPLE, "capacity": {"payment": "900.00"}},
    "kind": "instalment",
}


class SaveConsolidated(Model):
    """The consolidated offer ``negotiate`` makes for these debts and capacity: of ``kind`` if
    given, else the best ranked. Each debt is the organisation's by its ``ref`` (a new one is
    opened for the key's team, as ``debt_ref`` opens one); each gets its own saved offer, all
    behind one link."""

    debtor: Debtor
    locale: Locale = Field(Locale.ZH_CN, description="The page's default language.")
    negotiate: ConsolidatedNegotiateRequest
    kind: OfferKind | None = None
    plan: None = Field(None, description="No explicit plan: omitted, or null.")

    model_config = with_examples(SAVE_CONSOLIDATED)


def _kind_required(schema: dict[str, Any]) -> None:
    # Inside a saved offer the plan's ``kind`` chooses its shape, so it is required there
    # (each plan endpoint alone still defaults it).
    schema["oneOf"] = [{"allOf": [branch], "required": ["kind"]} for branch in schema["oneOf"]]


class SavePlanned(_SaveOffer):
    """One explicit plan (``POST /v1/plans/{kind}``'s request) for this debt."""

    plan: PlanRequest = Field(json_schema_extra=_kind_required)

    negotiate: None = Field(None, description="No negotiation: omitted, or null.")
    kind: None = Field(None, description="The plan's own kind says what it is: omitted, or null.")

    model_config = with_examples(SAVE_A_PLAN)


def _save_shape(value: Any) -> str:
    # The body's own keys choose its shape: with ``plan`` it is an explicit plan (a ``negotiate``
    # beside it is then an unknown field, 422 extra_forbidden); a negotiation of ``debts`` is a
    # consolidated one; else one debt's negotiation.
    if isinstance(value, dict):
        if value.get("plan") is not None:
            return "shape:plan"
        asked = value.get("negotiate")
        return "shape:debts" if isinstance(asked, dict) and "debts" in asked else "shape:negotiate"
    if isinstance(value, SaveConsolidated):
        return "shape:debts"
    return "shape:plan" if isinstance(value, SavePlanned) else "shape:negotiate"


# An offer to save and share, in one of three shapes: JSON Schema ``oneOf`` (each shape refuses
# the others' fields), chosen by whether the body has ``plan``, or ``negotiate.debts``.
SaveOffer = Annotated[
    Annotated[SaveNegotiated, Tag("shape:negotiate")]
    | Annotated[SavePlanned, Tag("shape:plan")]
    | Annotated[SaveConsolidated, Tag("shape:debts")],
    Discriminator(_save_shape),
]
SAVE_OFFER: TypeAdapter[SaveNegotiated | SavePlanned | SaveConsolidated] = TypeAdapter(SaveOffer)


class SavedStatementOut(Model):
    """The income and expenditure statement an offer was negotiated from, as the collector gave
    it, and what it leaves: the debtor's page shows both back to the debtor, who can put a
    wrong figure right by asking for a change."""

    given: StatementIn
    affordability: AffordabilityOut = Field(
        description="As negotiate answered it, ``fits`` holding this offer's fit alone (none"
        " for a settlement paid at once)."
    )


class SavedOfferOut(Model):
    """A saved offer, its link and state."""

    id: str
    debt_ref: str
    kind: OfferKind
    status: Literal["offered", "accepted", "revoked", "superseded"]
    expired: StrictBool
    link: str = Field(description="The debtor's page; a capability URL: keep it private.")
    token: str = Field(
        description="The link's last segment, the {token} of the /s/ operations: as private."
    )
    expires_at: datetime
    created_at: datetime
    plan_id: str | None
    policy: PolicyUsed
    offer: OfferOut
    statement: SavedStatementOut | None = Field(
        None,
        description="Present when the offer was negotiated from an income and expenditure"
        " statement (capacity.statement).",
    )
    consolidated: SavedGroupOut | None = Field(
        None,
        description="Present when this debt's offer is part of a consolidated offer (saved from"
        " negotiate.debts): the combined offer, behind this same link, and every debt's own.",
    )

    model_config = with_examples(examples.SAVED_OFFER)


class Acceptance(Model):
    """The offer accepted: the plan it became."""

    plan_id: str
    offer_id: str
    accepted_at: datetime
    status: Literal["accepted"]
    consolidated: GroupAcceptance | None = Field(
        None,
        description="A consolidated offer accepted: every debt's plan, all made at once (plan_id"
        " is the first debt's).",
    )

    model_config = with_examples(examples.ACCEPTANCE)


class PaymentIn(Model):
    """Money received against a plan."""

    amount: Amount
    date: IsoDate
    reference: OneLine = Field(min_length=1, max_length=200, examples=["WX-20261215-000123"])

    model_config = with_examples(
        {"amount": "1250.00", "date": "2026-12-15", "reference": "WX-20261215-000123"}
    )


class PlanDecisionIn(Model):
    """Close an open plan by a decision: ``cancel`` (the arrangement withdrawn, e.g. a dispute
    upheld) or ``write_off`` (collection of what is left stopped; supervisors, finance and
    admins only). A new plan replaces an old one by being accepted, never by this."""

    decision: Literal["cancel", "write_off"]
    reason: OneLine = Field(min_length=1, max_length=400, examples=["dispute upheld"])

    model_config = with_examples({"decision": "cancel", "reason": "dispute upheld"})


class AllocationOut(Model):
    """What a payment paid on one line."""

    number: Integer
    interest: str
    fees: str
    principal: str


class PaymentOut(Model):
    """A payment and how it was applied."""

    id: Integer
    plan_id: str
    amount: str
    date: IsoDate
    reference: str
    allocations: list[AllocationOut]
    overpaid: str = Field(description="Beyond what was due by its date and the next instalment.")
    overpayment: Literal["reduce_last", "refund"]
    refunded: str
    balance_after: str

    model_config = with_examples(examples.PAYMENT)


class InstalmentOut(Model):
    """One line's state."""

    number: Integer
    payment_date: IsoDate
    due: str
    paid: str
    remaining: str
    status: Literal["paid", "partly_paid", "due", "late", "missed"]
    days_late: Integer


class RevocationOut(Model):
    """A broken plan's discount withdrawn, recomputed from the original debt."""

    owed_before: OwedOut
    waiver_revoked: WaiverOut
    credited: list[dict[str, Any]]
    owed_after: OwedOut


class TransitionOut(Model):
    """One move of the plan's recorded life (``plans.lifecycle``)."""

    on: IsoDate
    from_status: PlanStatus
    to_status: PlanStatus
    cause: Cause = Field(
        description="date: a day passed with an instalment unpaid; payment: money received;"
        " decision: a new plan accepted (replace), a cancellation or a write-off."
    )
    detail: str


class PlanOut(Model):
    """An accepted plan on a day: its state and every move of its life up to that day, from
    what was known by then (a later payment or decision never changes an earlier day)."""

    id: str
    offer_id: str
    debt_ref: str
    currency: str
    accepted_at: datetime
    on: IsoDate
    status: PlanStatus = Field(
        description="active, late (an instalment past its date), missed (past the policy's"
        " missed_after_days), broken (the policy's break rule met; any discount revoked),"
        " cured (a break put right within cure_within_days), completed, replaced (by a new"
        " plan for the debt), cancelled or written_off."
    )
    since: IsoDate = Field(description="The day the plan took its status.")
    transitions: list[TransitionOut]
    replaces: str | None = Field(description="The plan this one replaced, if any.")
    replaced_by: str | None = Field(description="The plan that replaced this one, if any.")
    still_owed: OwedOut = Field(
        description="What the plan still asks on the day, no waiver applied: a new offer for"
        " the debt (a reschedule) must start from exactly these amounts."
    )
    broken_reason: str | None
    paid: str
    refunded: str
    outstanding: str
    next_due: InstalmentOut | None
    instalments: list[InstalmentOut]
    payments: list[PaymentOut]
    revocation: RevocationOut | None
    offer: OfferOut

    model_config = with_examples(examples.PLAN)


class PayoffOut(Model):
    """What closes the plan on a date."""

    plan_id: str
    on: IsoDate
    principal: str
    interest: str
    accrued_interest: str
    fees: str
    waived: str
    amount: str
    day_count: str
    days: Integer
    valid_until: IsoDate | None = Field(
        description=(
            "The last day the same amount closes the plan if nothing more is paid: the day"
            " itself where interest accrues daily; otherwise the day before the next payment"
            " date or the plan's break, whichever is first. Null: only a payment changes it"
            " (a settlement after its last payment date, a broken plan's recomputed balance)."
        ),
        examples=["2026-12-14"],
    )

    model_config = with_examples(examples.PAYOFF)


class AuditEventOut(Model):
    """One event of the trail."""

    seq: Integer
    at: datetime
    kind: str
    offer_id: str | None
    plan_id: str | None
    actor: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditList(Model):
    """Events in order."""

    events: list[AuditEventOut]

    model_config = with_examples(examples.AUDIT_LIST)


class AuditCheckpoint(Model):
    """A signed checkpoint of the chain's head, as the service wrote it outside the database."""

    events: int = Field(ge=0, description="How many events the chain held.")
    hash: str = Field(description="The hash of its last event (64 zeros for none).")
    at: datetime = Field(description="When the checkpoint was written.")


class AuditVerification(Model):
    """Whether the chain is intact, and where it breaks.

    A **rewrite** (``rewritten_seq``: an event whose content no longer matches its keyed hash,
    or that does not follow the event before it), a **gap** (``missing_seq``) and a
    **truncation** (``truncated``: fewer events than the last checkpoint counted, or the event
    at its count no longer the one checkpointed) are named apart; ``first_broken_seq`` and
    ``reason`` name the first break in the chain (``reason``, else the truncation or the
    checkpoint's problem).
    """

    ok: bool = Field(description="No break, no truncation, and a checkpoint that reads.")
    events: int = Field(description="Events checked in order, up to the first broken one.")
    first_broken_seq: int | None
    reason: str | None
    rewritten_seq: int | None = Field(
        description="The first event changed after it was written: its content does not match"
        " its keyed hash, or it does not follow the event before it."
    )
    missing_seq: int | None = Field(description="The first number missing inside the chain.")
    truncated: bool = Field(
        description="The chain is shorter than the last checkpoint, or its event at the"
        " checkpoint's count is not the one checkpointed."
    )
    truncation: str | None = Field(description="How the chain differs from the checkpoint.")
    checkpoint: AuditCheckpoint | None = Field(
        description="The last checkpoint the chain was compared with; null when none is"
        " configured (REPAY_AUDIT_CHECKPOINT_PATH) or written yet."
    )
    checkpoint_problem: str | None = Field(
        description="The configured checkpoint cannot be read, or is not signed under the"
        " service's key."
    )
    legacy_events: int = Field(
        ge=0,
        description="Events written before the chain was keyed (migration 0010), checked under"
        " the plain SHA-256 rule.",
    )

    model_config = with_examples(examples.AUDIT_VERIFICATION)
