"""A plan's life: the states an accepted plan passes through, and why it moved.

::

    active ──(a date passes, an instalment unpaid)──> late ──> missed ──> broken
      ^                                              │          │          │
      └────────────(a payment clears the arrears)────┴──────────┘          │
    cured <──(every instalment past due paid within cure_within_days)──────┘
    any open state ──(the last money owed is paid)──> completed
    any open state ──(a decision)──> replaced | cancelled | written_off

A plan is *running* (``active``, ``late``, ``missed``, ``cured``: its schedule stands, its
reminders go), *broken* (its schedule no longer stands and any discount is revoked, but money
is still taken), or *closed* (``completed``, ``replaced``, ``cancelled``, ``written_off``: no
further transition). Running and broken plans are *open*: a debt has at most one.

Every transition has a cause: a **date** passing (late, missed, broken), a **payment**
(back to active, cured, completed) or a **decision** (replaced, cancelled, written off). The
life is a pure function of the plan's lines, its payments *with the day each became known* and
its decisions: :func:`life` replays them in order, so the state on a day depends on nothing
known later (a payment dated the 10th but recorded on the 20th did not stop the plan going late
on the 16th). Within a day, the date's own judgement comes first (what the day makes late),
then the payments known that day in the order they were recorded, then the decisions.

A break is sticky: a late payment does not "heal" a broken plan. It is cured only where the
policy allows (``cure_within_days``): every instalment past due paid within that many days of
the break puts the plan back on its schedule, its discount restored. A broken plan whose whole
recomputed balance is paid is completed.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from plans.errors import DomainError
from plans.offer import Owed
from plans.payments import (
    InstalmentStatus,
    Payment,
    PayoffTerms,
    PlanState,
    PlanStatus,
    ScheduledLine,
    plan_state,
)
from plans.policy import Policy
from plans.schedule import Waiver

RUNNING = frozenset({PlanStatus.ACTIVE, PlanStatus.LATE, PlanStatus.MISSED, PlanStatus.CURED})
OPEN = RUNNING | {PlanStatus.BROKEN}
CLOSED = frozenset(
    {PlanStatus.COMPLETED, PlanStatus.REPLACED, PlanStatus.CANCELLED, PlanStatus.WRITTEN_OFF}
)


class Cause(enum.StrEnum):
    """Why a plan moved."""

    DATE = "date"  # a day passed with an instalment unpaid
    PAYMENT = "payment"  # money was received
    DECISION = "decision"  # somebody decided: a new plan accepted, a cancellation, a write-off


class Decision(enum.StrEnum):
    """What a decision does to an open plan."""

    REPLACE = "replace"  # the debtor accepted a new plan for the same debt
    CANCEL = "cancel"  # the creditor withdrew the arrangement (e.g. a dispute upheld)
    WRITE_OFF = "write_off"  # the creditor stopped collecting what is left

    @property
    def outcome(self) -> PlanStatus:
        """The state the decision closes the plan in."""
        return {
            Decision.REPLACE: PlanStatus.REPLACED,
            Decision.CANCEL: PlanStatus.CANCELLED,
            Decision.WRITE_OFF: PlanStatus.WRITTEN_OFF,
        }[self]


# Every transition the machine may make (a day can pass several thresholds at once: a plan
# not reviewed for a month goes from active straight to broken).
ALLOWED: dict[PlanStatus, frozenset[PlanStatus]] = {
    **{s: (RUNNING | {PlanStatus.BROKEN, PlanStatus.COMPLETED} | CLOSED) - {s} for s in RUNNING},
    PlanStatus.BROKEN: frozenset({PlanStatus.CURED}) | CLOSED,
    **{s: frozenset() for s in CLOSED},
}


@dataclass(frozen=True, slots=True)
class KnownPayment:
    """A payment and the day it became known (never before it was made)."""

    payment: Payment
    known_on: date


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """A decision taken on a day."""

    on: date
    decision: Decision
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Transition:
    """A plan moved from ``before`` to ``after`` on ``on``, because of ``cause``.

    ``payment`` is the index (in :func:`life`'s order, from 0) of the payment that moved it.
    """

    on: date
    before: PlanStatus
    after: PlanStatus
    cause: Cause
    detail: str
    payment: int | None = None


@dataclass(frozen=True, slots=True)
class Life:
    """A plan's life up to a day: where it stands, since when, and every move to get there."""

    status: PlanStatus
    since: date
    broken_on: date | None  # the break that stands (None if never broken, or cured)
    transitions: tuple[Transition, ...]

    @property
    def is_open(self) -> bool:
        """Running or broken: payments are taken and it counts as the debt's arrangement."""
        return self.status in OPEN


def _judge(
    current: PlanStatus,
    broken_on: date | None,
    state: PlanState,
    settled_if_broken: bool,
    on: date,
    policy: Policy,
) -> tuple[PlanStatus, str]:
    """Where a running or broken plan stands on ``on``, and why, given ``state`` (the policy's
    rule judged on that day alone)."""
    arrears = [
        s for s in state.instalments if s.status in (InstalmentStatus.LATE, InstalmentStatus.MISSED)
    ]
    if current is PlanStatus.BROKEN:
        assert broken_on is not None
        if settled_if_broken:
            return PlanStatus.COMPLETED, "the balance after the break is paid"
        window = broken_on + timedelta(days=policy.cure_within_days)
        if policy.cure_within_days and on <= window and not arrears:
            return PlanStatus.CURED, f"every instalment past due paid by {window.isoformat()}"
        return current, ""
    if all(s.remaining_minor == 0 for s in state.instalments):
        return PlanStatus.COMPLETED, "every instalment paid"
    if state.status is PlanStatus.BROKEN:
        return PlanStatus.BROKEN, state.broken_reason or ""
    worst = max(arrears, key=lambda s: (s.days_late, -s.number), default=None)
    if worst is None:
        return (PlanStatus.CURED if current is PlanStatus.CURED else PlanStatus.ACTIVE), (
            "no instalment past due"
        )
    status = PlanStatus.MISSED if worst.status is InstalmentStatus.MISSED else PlanStatus.LATE
    return status, f"instalment {worst.number} unpaid {worst.days_late} days after its date"


def life(
    lines: Sequence[ScheduledLine],
    payments: Sequence[KnownPayment],
    decisions: Sequence[DecisionEvent] = (),
    *,
    accepted_on: date,
    through: date,
    policy: Policy,
    owed: Owed,
    waiver: Waiver,
    payoff: PayoffTerms | None = None,
) -> Life:
    """Replay a plan's payments, dates and decisions up to the end of ``through``.

    ``payments`` are in the order they were recorded; only those known by ``through`` count,
    and each counts from the day it became known. Decisions after ``through`` are ignored; one
    on a closed plan is an error.

    Examples
    --------
    >>> lines = [ScheduledLine(k, date(2027, k, 15), 50_000, 0, 0, 50_000) for k in (1, 2, 3)]
    >>> late_pay = KnownPayment(Payment(date(2027, 1, 20), 50_000), date(2027, 1, 20))
    >>> plan = life(lines, [late_pay], accepted_on=date(2026, 12, 20), through=date(2027, 2, 1),
    ...             policy=Policy(), owed=Owed(150_000, 0, 0), waiver=Waiver())
    >>> [(t.on.isoformat(), t.after.value, t.cause.value) for t in plan.transitions]
    [('2027-01-16', 'late', 'date'), ('2027-01-20', 'active', 'payment')]
    """
    if through < accepted_on:
        return Life(PlanStatus.ACTIVE, accepted_on, None, ())
    known = [(i, k) for i, k in enumerate(payments) if k.known_on <= through]
    for _, k in known:
        if k.known_on < k.payment.paid_on:
            raise DomainError("payment.known_on", "not_before_paid", "known before it was made")
    # The days on which the judgement can change: each line's first day late, first day
    # missed and first day that breaks the plan; each day a payment became known; decisions.
    days = {
        line.payment_date + timedelta(days=n)
        for line in lines
        for n in (1, policy.missed_after_days, policy.break_after_days_late)
    }
    # and the day of acceptance: a plan may be late from its first day (an offer made from an
    # as-of date in the past); every later day the judgement can change on is listed above,
    # so judging on another day (a payment's, a decision's) never finds a change of its own
    days |= {accepted_on} | {k.known_on for _, k in known} | {d.on for d in decisions}
    status, since, broken_on = PlanStatus.ACTIVE, accepted_on, None
    moves: list[Transition] = []

    def judge(on: date, paid: list[Payment], cause: Cause, payment: int | None) -> None:
        nonlocal status, since, broken_on
        raw = plan_state(lines, paid, on=on, policy=policy, owed=owed, waiver=waiver, payoff=payoff)
        settled = False
        if status is PlanStatus.BROKEN:
            as_broken = plan_state(
                lines, paid, on=on, policy=policy, owed=owed, waiver=waiver, broken=True
            )
            settled = as_broken.outstanding_minor == 0
        after, detail = _judge(status, broken_on, raw, settled, on, policy)
        if after is status:
            return
        # what made things worse is a date passing; what made them better, a payment
        worse = after in (PlanStatus.LATE, PlanStatus.MISSED, PlanStatus.BROKEN) and not (
            status is PlanStatus.MISSED and after is PlanStatus.LATE
        )
        moves.append(
            Transition(
                on,
                status,
                after,
                Cause.DATE if worse else cause,
                detail,
                None if worse else payment,
            )
        )
        if after is PlanStatus.BROKEN:
            broken_on = on
        elif after is PlanStatus.CURED:
            broken_on = None
        status, since = after, on

    for on in sorted(d for d in days if accepted_on <= d <= through):
        if status in CLOSED:
            if any(since < d.on <= through for d in decisions):
                raise DomainError("decision", "plan_closed", f"the plan is {status.value}")
            break
        # the day itself first: what its date makes late, with what was known before it
        paid = [k.payment for _, k in known if k.known_on < on]
        judge(on, paid, Cause.DATE, None)
        for i, k in known:
            if k.known_on == on and status not in CLOSED:
                paid.append(k.payment)
                judge(on, list(paid), Cause.PAYMENT, i)
        for d in decisions:
            if d.on != on:
                continue
            if status in CLOSED:
                raise DomainError("decision", "plan_closed", f"the plan is {status.value}")
            after = d.decision.outcome
            moves.append(Transition(on, status, after, Cause.DECISION, d.detail or d.decision))
            status, since = after, on
    return Life(status, since, broken_on, tuple(moves))


def plan_on(
    lines: Sequence[ScheduledLine],
    payments: Sequence[KnownPayment],
    decisions: Sequence[DecisionEvent] = (),
    *,
    accepted_on: date,
    on: date,
    policy: Policy,
    owed: Owed,
    waiver: Waiver,
    payoff: PayoffTerms | None = None,
) -> tuple[Life, PlanState]:
    """The plan's life up to ``on`` and its state that day, from what was known by then.

    The state's ``status`` is the life's; a plan broken (and not cured) keeps its discount
    revoked, whatever was paid since.

    Examples
    --------
    >>> lines = [ScheduledLine(k, date(2027, k, 15), 50_000, 0, 0, 50_000) for k in (1, 2, 3)]
    >>> paid = [KnownPayment(Payment(date(2027, 1, 15), 50_000), date(2027, 1, 15))]
    >>> _, state = plan_on(lines, paid, accepted_on=date(2026, 12, 20), on=date(2027, 2, 16),
    ...                    policy=Policy(), owed=Owed(150_000, 0, 0), waiver=Waiver())
    >>> state.status.value, state.outstanding_minor
    ('late', 100000)
    """
    lived = life(
        lines,
        payments,
        decisions,
        accepted_on=accepted_on,
        through=on,
        policy=policy,
        owed=owed,
        waiver=waiver,
        payoff=payoff,
    )
    paid = [k.payment for k in payments if k.known_on <= on]
    state = plan_state(
        lines,
        paid,
        on=on,
        policy=policy,
        owed=owed,
        waiver=waiver,
        broken=lived.broken_on is not None,
        payoff=payoff,
    )
    broken = [t for t in lived.transitions if t.after is PlanStatus.BROKEN]
    reason = broken[-1].detail if lived.broken_on is not None and broken else None
    return lived, dataclasses.replace(state, status=lived.status, broken_reason=reason)
