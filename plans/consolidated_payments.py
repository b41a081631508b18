"""Payments against a consolidated plan: each payment shared between the debts, each debt then
judged on its own plan by :mod:`plans.payments`.

A payment settles the consolidated plan's lines as a payment settles one plan's: the lines due
by its date oldest first, then the next instalment, then (an over-payment) the last lines first
or a refund, as the policy says. Within a line it is shared between the debts the line pays by
the offer's allocation rule (:func:`plans.allocation.shares`): pro rata to what each debt is due
on the line, or in the rule's order. A payment of exactly the line's amount pays each debt's
part of it exactly; a partial one is shared like any payment. Each debt's part of each payment
is then a payment against that debt's own plan, so its instalments' status, its break and its
payoff quote are those of a plan for it alone, made of its share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from plans.allocation import (
    AllocationRule,
    DebtAllocation,
    NamedDebt,
    PaymentSplit,
    payment_order,
    shares,
)
from plans.consolidation import ConsolidatedOffer, DebtPlan
from plans.errors import DomainError
from plans.offer import Offer
from plans.payments import (
    InstalmentState,
    Overpayment,
    Payment,
    PayoffTerms,
    PlanState,
    PlanStatus,
    ScheduledLine,
    plan_payoff,
    plan_state,
)
from plans.payoff import PayoffQuote
from plans.policy import OfferKind, Policy


@dataclass(frozen=True, slots=True)
class DebtStanding:
    """One debt of a consolidated plan on a day: its shares of the payments, its plan's state
    and what would close it that day."""

    debt_ref: str
    payments: tuple[Payment, ...]
    state: PlanState
    payoff: PayoffQuote


@dataclass(frozen=True, slots=True)
class ConsolidatedState:
    """A consolidated plan on a day: every payment shared out, and each debt's standing.

    ``status`` is ``completed`` once every debt is, ``broken`` as soon as one is, else
    ``active``.
    """

    on: date
    status: PlanStatus
    splits: tuple[PaymentSplit, ...]  # one per payment, in date order; unallocated = refunded
    debts: tuple[DebtStanding, ...]

    @property
    def paid_minor(self) -> int:
        """What the debts have been credited, all together."""
        return sum(d.state.paid_minor for d in self.debts)

    @property
    def outstanding_minor(self) -> int:
        """What the debts' plans still ask, all together."""
        return sum(d.state.outstanding_minor for d in self.debts)

    @property
    def payoff_minor(self) -> int:
        """What would close every debt on the day."""
        return sum(d.payoff.amount_minor for d in self.debts)


# a consolidated plan takes the most pressing of its debts' states, in this order
_PRESSING = (PlanStatus.BROKEN, PlanStatus.MISSED, PlanStatus.LATE, PlanStatus.CURED)
_RUNNING = (PlanStatus.ACTIVE,)
_CLOSED = (PlanStatus.WRITTEN_OFF, PlanStatus.CANCELLED, PlanStatus.REPLACED)


def group_status(statuses: Sequence[PlanStatus]) -> PlanStatus:
    """Where a consolidated plan stands, from its debts' plans: ``completed`` once every one
    is; else the most pressing state of those still open (broken, missed, late, cured, then
    active); a plan whose debts were all closed some other way takes the first of
    written_off, cancelled, replaced among them.

    Examples
    --------
    >>> group_status([PlanStatus.COMPLETED, PlanStatus.LATE]).value
    'late'
    >>> group_status([PlanStatus.COMPLETED, PlanStatus.COMPLETED]).value
    'completed'
    >>> group_status([PlanStatus.COMPLETED, PlanStatus.CANCELLED]).value
    'cancelled'
    """
    if all(s is PlanStatus.COMPLETED for s in statuses):
        return PlanStatus.COMPLETED
    for status in (*_PRESSING, *_RUNNING, *_CLOSED):
        if status in statuses:
            return status
    raise ValueError(f"no plan states: {statuses!r}")


def scheduled_lines(offer: Offer) -> list[ScheduledLine]:
    """The lines of one debt's plan that ask for money, as :mod:`plans.payments` takes them.

    Examples
    --------
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from plans.debt import Debt
    >>> from plans.instalment import instalment_plan
    >>> debt = Debt("GBP", 30_000, 0, 0, Decimal(0), date(2026, 11, 25), 90)
    >>> [x.payment_minor for x in scheduled_lines(instalment_plan(debt, policy=Policy(), term=3))]
    [10000, 10000, 10000]
    """
    return [
        ScheduledLine(
            x.number,
            x.payment_date,
            x.payment_minor,
            x.interest_minor,
            x.fees_minor,
            x.principal_minor,
        )
        for x in offer.schedule.lines
        if x.payment_minor > 0
    ]


@dataclass(frozen=True, slots=True)
class OpenLine:
    """A consolidated line as a payment finds it: its date and what each debt (by its index in
    the offer's order of debts) still has to be paid on it."""

    payment_date: date
    remaining: dict[int, int]


def open_lines(
    dates: Sequence[date], debts: Sequence[Sequence[InstalmentState] | None]
) -> list[OpenLine]:
    """The consolidated lines (their ``dates``) as each debt's own plan stands: what each
    instalment still asks, from each debt's state (``None``: a debt whose plan takes no more
    money, which no payment is then shared to).

    Examples
    --------
    >>> from plans.payments import InstalmentStatus
    >>> due = InstalmentStatus.DUE
    >>> a = [InstalmentState(1, date(2027, 1, 5), 10_000, 4_000, due, 0)]
    >>> open_lines([date(2027, 1, 5), date(2027, 2, 5)], [a, None])
    [OpenLine(payment_date=datetime.date(2027, 1, 5), remaining={0: 6000}), \
OpenLine(payment_date=datetime.date(2027, 2, 5), remaining={})]
    """
    remaining: dict[date, dict[int, int]] = {on: {} for on in dates}
    for i, instalments in enumerate(debts):
        for s in instalments or ():
            if s.remaining_minor > 0:
                remaining[s.payment_date][i] = s.remaining_minor
    return [OpenLine(on, remaining[on]) for on in dates]


def pays_off(amount_minor: int, quotes: Sequence[int | None]) -> tuple[list[int], int] | None:
    """A payment that reaches what finishes every debt still owing on its day (each debt's
    payoff quote; ``None``: a debt owing nothing, or whose plan takes no money) pays each its
    quote, so that every debt's plan is paid off (``plans.payments.PayoffTerms``); the parts
    and what is left over. ``None``: it does not reach them all (or nothing is owed), and is
    shared line by line (:func:`share_payment`).

    Examples
    --------
    >>> pays_off(100_000, [60_000, None, 39_000])
    ([60000, 0, 39000], 1000)
    >>> pays_off(98_999, [60_000, None, 39_000]) is None
    True
    """
    owed = [quote or 0 for quote in quotes]
    total = sum(owed)
    if total == 0 or amount_minor < total:
        return None
    return owed, amount_minor - total


def debt_ranks(debts: Sequence[NamedDebt], rule: AllocationRule) -> list[int]:
    """Each debt's position in the order ``rule`` pays them (``payment_order``).

    Examples
    --------
    >>> from decimal import Decimal
    >>> from plans.debt import Debt
    >>> def d(dpd: int) -> Debt:
    ...     return Debt("GBP", 100_000, 0, 0, Decimal(0), date(2026, 11, 25), dpd)
    >>> debt_ranks([NamedDebt("a", d(90)), NamedDebt("b", d(400))], AllocationRule.OLDEST_FIRST)
    [1, 0]
    """
    rank = [0] * len(debts)
    for position, i in enumerate(payment_order(debts, rule)):
        rank[i] = position
    return rank


def share_payment(
    lines: Sequence[OpenLine],
    payment: Payment,
    *,
    rule: AllocationRule,
    rank: Sequence[int],
    overpayment: Overpayment,
) -> tuple[list[int], int]:
    """One payment as the amount each debt gets (indexed as ``rank``) and the amount no debt
    takes (refunded, or the last debt's to refund).

    It settles the lines due by its date oldest first, then the next line still open, then (an
    over-payment, ``reduce_last``) the last lines first; within a line it is shared between the
    debts still owed on it by ``rule`` (:func:`plans.allocation.shares`), ties and order by
    ``rank`` (each debt's position in the rule's order). ``lines`` are not changed.

    Examples
    --------
    Two debts owed 100.00 and 200.00 on one line; 150.00 pro rata is 50.00 and 100.00:

    >>> line = OpenLine(date(2027, 1, 5), {0: 10_000, 1: 20_000})
    >>> share_payment([line], Payment(date(2027, 1, 5), 15_000), rule=AllocationRule.PRO_RATA,
    ...               rank=[0, 1], overpayment=Overpayment.REDUCE_LAST)
    ([5000, 10000], 0)
    """
    return _share(
        [(line.payment_date, dict(line.remaining)) for line in lines],
        payment,
        rule=rule,
        rank=rank,
        overpayment=overpayment,
    )


def _share(
    lines: list[tuple[date, dict[int, int]]],
    payment: Payment,
    *,
    rule: AllocationRule,
    rank: Sequence[int],
    overpayment: Overpayment,
) -> tuple[list[int], int]:
    # share_payment, taking what it pays off each line's remaining amounts (changed in place)
    if payment.amount_minor <= 0:
        raise DomainError("payment.amount", "positive", "a payment must be more than zero")
    parts = [0] * len(rank)
    left = payment.amount_minor

    def pay(k: int) -> None:
        nonlocal left
        due = lines[k][1]
        if left <= 0 or not due:
            return
        debts_on_line = sorted(due, key=lambda i: rank[i])
        given = shares(
            left,
            [due[i] for i in debts_on_line],
            order=list(range(len(debts_on_line))),
            rule=rule,
        )
        for i, part in zip(debts_on_line, given, strict=True):
            parts[i] += part
            due[i] -= part
            left -= part
            if not due[i]:
                del due[i]

    due_now = [k for k, (on, _) in enumerate(lines) if on <= payment.paid_on]
    upcoming = [k for k, (on, _) in enumerate(lines) if on > payment.paid_on]
    for k in due_now:
        pay(k)
    next_open = next((k for k in upcoming if lines[k][1]), None)
    if next_open is not None:
        pay(next_open)
    if left and overpayment is Overpayment.REDUCE_LAST:
        for k in reversed(upcoming):
            pay(k)
    return parts, left


def share_payments(
    offer: ConsolidatedOffer, payments: Sequence[Payment], *, policy: Policy
) -> list[tuple[list[int], int]]:
    """Each payment (in date order) as the amount each debt gets, in the offer's order of
    debts, and the amount refunded: each payment after those before it, from what each debt's
    own plan still asks then (:func:`open_lines`, :func:`share_payment`), or each debt's payoff
    quote when it reaches them all (:func:`pays_off`). ``app.links.groups`` shares money
    received the same way.

    Examples
    --------
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from plans.allocation import NamedDebt
    >>> from plans.consolidation import consolidated_instalment
    >>> from plans.debt import Capacity, Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000))]
    >>> offer = consolidated_instalment(debts, Capacity(30_000), policy=Policy())
    >>> share_payments(offer, [Payment(date(2026, 12, 28), 20_000)], policy=Policy())
    [([6667, 13333], 0)]
    """
    rank = debt_ranks([plan.named for plan in offer.debts], offer.rule)
    dates = [x.payment_date for x in offer.schedule.lines]
    overpayment = Overpayment(policy.overpayment)
    last = len(offer.debts) - 1
    given: list[list[Payment]] = [[] for _ in offer.debts]
    out: list[tuple[list[int], int]] = []
    for payment in sorted(payments, key=lambda p: p.paid_on):
        # each debt as its own plan stands, with its shares of the payments before
        standings = [
            _standing(plan, given[i], on=payment.paid_on, policy=policy)
            for i, plan in enumerate(offer.debts)
        ]
        finished = pays_off(
            payment.amount_minor,
            [s.payoff.amount_minor if s.state.outstanding_minor else None for s in standings],
        )
        if finished is None:
            finished = share_payment(
                open_lines(dates, [s.state.instalments for s in standings]),
                payment,
                rule=offer.rule,
                rank=rank,
                overpayment=overpayment,
            )
        parts, left = finished
        for i, part in enumerate(parts):
            # what no debt takes is the last debt's to refund, as a plan of its own would
            amount = part + (left if i == last else 0)
            if amount:
                given[i].append(Payment(payment.paid_on, amount, payment.reference))
        out.append((parts, left))
    return out


def consolidated_state(
    offer: ConsolidatedOffer, payments: Sequence[Payment], *, on: date, policy: Policy
) -> ConsolidatedState:
    """Share ``payments`` between the debts (:func:`share_payments`) and judge each debt's
    plan on ``on`` with its shares (:func:`plans.payments.plan_state`), with its payoff quote.

    Examples
    --------
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from plans.allocation import NamedDebt
    >>> from plans.consolidation import consolidated_instalment
    >>> from plans.debt import Capacity, Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000))]
    >>> offer = consolidated_instalment(debts, Capacity(30_000), policy=Policy())
    >>> state = consolidated_state(offer, [Payment(date(2026, 12, 28), 30_000)],
    ...                            on=date(2027, 1, 5), policy=Policy())
    >>> state.status.value, state.outstanding_minor, [d.payoff.amount_minor for d in state.debts]
    ('active', 270000, [90000, 180000])
    """
    ordered = sorted(payments, key=lambda p: p.paid_on)
    shared = share_payments(offer, ordered, policy=policy)
    standings: list[DebtStanding] = []
    last = len(offer.debts) - 1

    def paid(i: int, parts: Sequence[int], refunded: int) -> int:
        # what no debt takes (every debt paid up) is the last debt's to refund, as a plan of
        # its own would: one debt's state is then exactly its single plan's
        return parts[i] + (refunded if i == last else 0)

    for i, plan in enumerate(offer.debts):
        mine = [
            Payment(p.paid_on, paid(i, parts, refunded), p.reference)
            for p, (parts, refunded) in zip(ordered, shared, strict=True)
            if paid(i, parts, refunded)
        ]
        standings.append(_standing(plan, mine, on=on, policy=policy))
    # plan_state keeps the date order it is given: a debt's k-th share is its k-th result
    results = [iter(standing.state.payments) for standing in standings]
    splits = []
    for parts, refunded in shared:
        allocations = []
        for i, plan in enumerate(offer.debts):
            settled = next(results[i]).allocations if paid(i, parts, refunded) else ()
            allocations.append(
                DebtAllocation(
                    plan.named.ref,
                    parts[i],
                    sum(a.principal_minor for a in settled),
                    sum(a.interest_minor for a in settled),
                    sum(a.fees_minor for a in settled),
                )
            )
        splits.append(PaymentSplit(offer.rule, tuple(allocations), refunded))
    statuses = {d.state.status for d in standings}
    if statuses == {PlanStatus.COMPLETED}:
        status = PlanStatus.COMPLETED
    elif PlanStatus.BROKEN in statuses:
        status = PlanStatus.BROKEN
    else:
        status = PlanStatus.ACTIVE
    return ConsolidatedState(on, status, tuple(splits), tuple(standings))


def _standing(
    plan: DebtPlan, payments: Sequence[Payment], *, on: date, policy: Policy
) -> DebtStanding:
    offer = plan.offer
    lines = scheduled_lines(offer)
    arrears = offer.owed.interest_minor - offer.waiver.interest_minor
    terms = PayoffTerms(
        offer.kind in (OfferKind.SETTLEMENT, OfferKind.SETTLEMENT_PLAN),
        offer.terms.nominal_annual_rate,
        offer.as_of,
        arrears,
    )
    state = plan_state(
        lines,
        payments,
        on=on,
        policy=policy,
        owed=offer.owed,
        waiver=offer.waiver,
        payoff=terms,
    )
    quote = plan_payoff(
        lines,
        state,
        settlement=offer.kind in (OfferKind.SETTLEMENT, OfferKind.SETTLEMENT_PLAN),
        nominal_annual_rate=offer.terms.nominal_annual_rate,
        as_of=offer.as_of,
        on=max(on, offer.as_of),
        policy=policy,
        interest_arrears_minor=arrears,
    )
    return DebtStanding(plan.named.ref, tuple(payments), state, quote)
