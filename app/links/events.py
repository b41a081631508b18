"""What happens to a shared offer's plan that other rooms act on, published on the bus.

Links publishes; it never imports who listens (``app.messaging`` queues reminders,
confirmations and missed-payment notices from these). Each event carries the rows and the
engine's results its handlers need, so a handler reads nothing the publisher already had; the
handlers run in the publisher's transaction (``app.core.events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.finance.policies import ResolvedPolicy
from app.links.models import AcceptedPlan, PlanPayment
from plans.lifecycle import Decision
from plans.payments import InstalmentState, PaymentResult, PlanState


@dataclass(frozen=True, slots=True)
class PlanAccepted:
    """The debtor accepted an offer: ``plan`` is new, its reminders are to be queued."""

    plan: AcceptedPlan


@dataclass(frozen=True, slots=True)
class PaymentRecorded:
    """A payment was recorded against ``plan`` (once per Idempotency-Key): what it paid
    (``result``) and the plan as it stands after it (``state``)."""

    plan: AcceptedPlan
    payment: PlanPayment
    result: PaymentResult
    state: PlanState


@dataclass(frozen=True, slots=True)
class InstalmentMissed:
    """An instalment of ``plan`` counts as missed on ``on`` (the policy's days past due have
    run without it being paid in full): ``instalment`` is its status that day, ``state`` the
    plan's and ``policy`` the version the plan's offer was made under."""

    plan: AcceptedPlan
    on: date
    instalment: InstalmentState
    state: PlanState
    policy: ResolvedPolicy


@dataclass(frozen=True, slots=True)
class PlanBroken:
    """``plan`` broke on ``on`` (its policy's break rule was met: ``reason``); ``state`` is the
    plan that day, with any discount it carried revoked (``state.revocation``)."""

    plan: AcceptedPlan
    on: date
    reason: str
    state: PlanState


@dataclass(frozen=True, slots=True)
class PlanCompleted:
    """``plan`` was paid in full on ``on``: nothing more is owed (``state`` that day)."""

    plan: AcceptedPlan
    on: date
    state: PlanState


@dataclass(frozen=True, slots=True)
class PlanReplaced:
    """``plan`` was replaced on ``on`` by ``by`` (the debtor accepted a new offer for the same
    debt): its reminders not yet sent are to be withdrawn."""

    plan: AcceptedPlan
    by: AcceptedPlan
    on: date


@dataclass(frozen=True, slots=True)
class PlanClosed:
    """``plan`` was closed on ``on`` by a creditor's ``decision`` (cancelled or written off):
    its reminders not yet sent are to be withdrawn."""

    plan: AcceptedPlan
    on: date
    decision: Decision
