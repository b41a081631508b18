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
