"""Consolidated plans: several debts of one debtor negotiated as one plan.

Each debt keeps its own plan, made by the single-debt engine (:mod:`plans.instalment`,
:mod:`plans.deferral`, :mod:`plans.settlement`) with that debt's own as-of date, rate (or the
policy's plan rate), arrears, waterfall and days past due; what the consolidation decides is
how the debtor's capacity is shared between them, by the policy's allocation rule
(:mod:`plans.allocation`):

- ``pro_rata``: every debt is paid at once, each from its pro-rata share of the capacity per
  period (by balance; for a settlement in instalments, by what each debt settles for) and of
  the lump sum. This is how a UK debt management plan shares the debtor's available income.
- ``highest_rate_first`` and ``oldest_first``: the debts are paid one after another in the
  rule's order, each from the whole capacity, the next starting the period after the one
  before is cleared. While it waits, a debt accrues the plan's interest as any plan whose
  first instalment is later does. A deferral pauses the first debt; the next ones wait anyway.

The consolidated schedule has one line per payment date: the debts' lines on that date added
up, and the allocation to each debt beside it, so the allocations add up to the line to the
minor unit and, per debt, to what that debt owes less what is waived. A debt that has no line
on a date carries its balance through it. One debt alone makes exactly its single-debt plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import TypeVar

from plans.allocation import AllocationRule, DebtAllocation, NamedDebt, check_debts, payment_order
from plans.allocation import shares as share_out
from plans.annual_rates import rate_jurisdiction
from plans.calendar import Frequency, add_periods
from plans.compare import RankBy
from plans.debt import MAX_AMOUNT_MINOR, Capacity
from plans.deferral import deferral_plan
from plans.errors import (
    BelowMinInstalment,
    DomainError,
    ExceedsCapacity,
    InvalidDate,
    LumpSumNotAvailable,
    NotAllowed,
    TermBeyondMax,
)
from plans.instalment import first_due_date, instalment_plan
from plans.money import label, round_div
from plans.offer import Metrics, Offer, Owed, Rejection, measure
from plans.policy import ArrearsTreatment, OfferKind, Policy
from plans.schedule import Line, LineKind, Schedule, Waiver
from plans.settlement import (
    check_min_settlement,
    settle_discount,
    settlement,
    settlement_plan,
)


@dataclass(frozen=True, slots=True)
class DebtOutcome:
    """What one debt owed, what the plan pays it, what it waives, and when it is cleared."""

    debt_ref: str
    owed_minor: int
    interest_accrued_minor: int  # plan interest added while it is repaid
    paid_minor: int
    waived_minor: int
    first_payment_on: date | None
    cleared_on: date | None  # the payment date of its last allocation


@dataclass(frozen=True, slots=True)
class DebtPlan:
    """One debt's part of a consolidated offer: its own single-debt offer and its outcome."""

    named: NamedDebt
    offer: Offer
    outcome: DebtOutcome


@dataclass(frozen=True, slots=True)
class ConsolidatedOffer:
    """One offer for several debts.

    ``schedule`` is the combined table (its lines obey :func:`plans.schedule.check_schedule`);
    ``allocations[k]`` shares ``schedule.lines[k]`` between the debts that have a line on its
    date. ``metrics`` measure the combined cash flows as any offer's are measured.
    """

    kind: OfferKind
    rule: AllocationRule
    currency: str
    as_of: date  # the earliest of the debts' as-of dates
    frequency: Frequency
    capacity_minor: int
    owed: Owed
    schedule: Schedule
    allocations: tuple[tuple[DebtAllocation, ...], ...]
    waiver: Waiver
    metrics: Metrics
    debts: tuple[DebtPlan, ...]

    @property
    def largest_payment_minor(self) -> int:
        """The most any regular payment (not a down payment or a lump sum) asks."""
        return max((x.payment_minor for x in self.schedule.lines if x.kind in _REGULAR), default=0)


_T = TypeVar("_T")
# makes one debt's part of a consolidated plan from its share of the capacity
Maker = Callable[[NamedDebt, Capacity, Policy], Offer]
_REGULAR = (LineKind.INSTALMENT, LineKind.DEFERRAL)
_KIND_RANK = {LineKind.INSTALMENT: 0, LineKind.SETTLEMENT: 1, LineKind.DEFERRAL: 2}


def consolidated_instalment(
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule = AllocationRule.PRO_RATA,
) -> ConsolidatedOffer:
    """One instalment plan for all ``debts`` whose payment per period fits ``capacity``.

    Pro rata, each debt gets the shortest instalment plan that fits its share of the capacity
    (and takes its share of the lump sum as a down payment, when the policy takes one); by an
    ordered rule, each debt in turn gets the whole capacity.

    Examples
    --------
    Three debts of 1,000.00, 2,000.00 and 3,000.00 and 600.00 a month: pro rata 100.00,
    200.00 and 300.00 a month, all cleared in ten months.

    >>> from plans.debt import Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000), ("c", 300_000))]
    >>> offer = consolidated_instalment(debts, Capacity(60_000), policy=Policy())
    >>> {x.payment_minor for x in offer.schedule.lines}, len(offer.schedule.lines)
    ({60000}, 10)
    >>> [a.payment_minor for a in offer.allocations[0]]
    [10000, 20000, 30000]
    """
    return _consolidate(OfferKind.INSTALMENT, debts, capacity, policy=policy, rule=rule)


def consolidated_deferral(
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule = AllocationRule.PRO_RATA,
) -> ConsolidatedOffer:
    """The policy's pause for all ``debts``, then instalments that fit ``capacity``.

    Pro rata every debt pauses and then repays from its share of the capacity; by an ordered
    rule the first debt pauses and the next ones follow it, each from the whole capacity.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000))]
    >>> offer = consolidated_deferral(debts, Capacity(30_000), policy=Policy())
    >>> [(x.kind.value, x.payment_minor) for x in offer.schedule.lines[:3]]
    [('deferral', 0), ('deferral', 0), ('instalment', 30000)]
    """
    return _consolidate(OfferKind.DEFERRAL, debts, capacity, policy=policy, rule=rule)


def consolidated_settlement(
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule = AllocationRule.PRO_RATA,
) -> ConsolidatedOffer:
    """One lump sum that settles every debt, each at the discount its own days past due earn.

    All debts are settled by one deadline: the earliest of their settlement windows. The
    debtor's lump sum must cover the total; ``rule`` is recorded (everything is paid at once).

    Examples
    --------
    >>> from plans.debt import Debt
    >>> debts = [NamedDebt("a", Debt("GBP", 100_000, 0, 0, Decimal(0), date(2026, 11, 25), 30)),
    ...          NamedDebt("b", Debt("GBP", 200_000, 0, 0, Decimal(0), date(2026, 11, 25), 200))]
    >>> offer = consolidated_settlement(debts, Capacity(0, lump_sum_minor=300_000),
    ...                                 policy=Policy())
    >>> [(a.debt_ref, a.payment_minor, a.waived_minor) for a in offer.allocations[0]]
    [('a', 95000, 5000), ('b', 160000, 40000)]
    """
    return _consolidate(OfferKind.SETTLEMENT, debts, capacity, policy=policy, rule=rule)


def consolidated_settlement_plan(
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule = AllocationRule.PRO_RATA,
) -> ConsolidatedOffer:
    """Every debt settled at its own (smaller) discount, in a few instalments that fit.

    Pro rata the capacity and the lump sum are shared by what each debt settles for; by an
    ordered rule the debts are settled one after another. Either way the plan has at most the
    policy's ``settlement_plan_max_instalments`` payment dates after any down payment.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 200))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000))]
    >>> offer = consolidated_settlement_plan(debts, Capacity(90_000), policy=Policy())
    >>> [x.payment_minor for x in offer.schedule.lines], offer.waiver.total_minor
    ([90000, 90000, 90000], 30000)
    """
    return _consolidate(OfferKind.SETTLEMENT_PLAN, debts, capacity, policy=policy, rule=rule)


MAKERS: dict[OfferKind, Callable[..., ConsolidatedOffer]] = {
    OfferKind.INSTALMENT: consolidated_instalment,
    OfferKind.DEFERRAL: consolidated_deferral,
    OfferKind.SETTLEMENT: consolidated_settlement,
    OfferKind.SETTLEMENT_PLAN: consolidated_settlement_plan,
}


@dataclass(frozen=True, slots=True)
class ConsolidatedComparison:
    """Feasible consolidated offers best first, and the kinds rejected with their reasons."""

    ranked: tuple[ConsolidatedOffer, ...]
    rejected: tuple[Rejection, ...]
    ranked_by: RankBy

    @property
    def best(self) -> ConsolidatedOffer | None:
        """The first-ranked offer, if any offer was feasible."""
        return self.ranked[0] if self.ranked else None


def negotiate_consolidated(
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule = AllocationRule.PRO_RATA,
    rank_by: RankBy = RankBy.EXPECTED_RECOVERY,
    today: date | None = None,
) -> ConsolidatedComparison:
    """Every consolidated offer the policy allows for these debts and capacity, ranked as
    :func:`plans.compare.negotiate` ranks one debt's (ties by NPV, then by kind).

    An input error (debts in two currencies, a start before an as-of date) is raised, not a
    reason to reject every kind. With ``today``, an offer whose first payment would fall
    before it is rejected (``first_payment_not_in_past``).

    Examples
    --------
    >>> from plans.debt import Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000))]
    >>> result = negotiate_consolidated(debts, Capacity(30_000), policy=Policy())
    >>> [o.kind.value for o in result.ranked]
    ['instalment', 'deferral']
    >>> [(r.kind.value, r.rule) for r in result.rejected]
    [('settlement', 'lump_sum'), ('settlement_plan', 'capacity')]
    """
    check_debts(debts)
    for named in debts:
        capacity.start(named.debt)
    field = "capacity.earliest_start" if capacity.earliest_start else "debt.as_of"
    offers: list[ConsolidatedOffer] = []
    rejected: list[Rejection] = []
    for kind, make in MAKERS.items():
        try:
            offer = make(debts, capacity, policy=policy, rule=rule)
            if today is not None:
                check_first_payment_consolidated(offer, today=today, field=field)
            offers.append(offer)
        except DomainError as error:
            rejected.append(Rejection.of(kind, error))
    kinds = list(OfferKind)

    def key(offer: ConsolidatedOffer) -> tuple[int, int, int]:
        m = offer.metrics
        primary = {
            RankBy.EXPECTED_RECOVERY: -m.expected_recovery_minor,
            RankBy.NPV: -m.npv_minor,
            RankBy.TOTAL_PAID: -m.total_paid_minor,
            RankBy.DEBTOR_COST: m.total_paid_minor,
        }[rank_by]
        return primary, -m.npv_minor, kinds.index(offer.kind)

    return ConsolidatedComparison(tuple(sorted(offers, key=key)), tuple(rejected), rank_by)


def check_first_payment_consolidated(
    offer: ConsolidatedOffer, *, today: date, field: str
) -> ConsolidatedOffer:
    """``offer`` if its first payment (besides a down payment) is not due before ``today``, as
    :func:`plans.offer.check_first_payment` asks of one debt's offer.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", 100_000, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref in "ab"]
    >>> offer = consolidated_instalment(debts, Capacity(20_000), policy=Policy())
    >>> check_first_payment_consolidated(offer, today=date(2026, 12, 26), field="x")
    Traceback (most recent call last):
    ...
    plans.errors.InvalidDate: x: ... [first_payment_not_in_past]
    """
    first = next(
        (x.due_date for x in offer.schedule.lines if x.kind is not LineKind.DOWN_PAYMENT), None
    )
    if first is not None and first < today:
        raise InvalidDate(
            field,
            "first_payment_not_in_past",
            f"the first payment would be due on {first.isoformat()}, before today"
            f" ({today.isoformat()}) in the debts' time zone",
        )
    return offer


def consolidated_plan(
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule,
    make: Maker,
) -> ConsolidatedOffer:
    """One instalment plan for all ``debts``, each debt's part made by ``make`` from its share
    of ``capacity`` (pro rata) or from the whole of it in turn (an ordered rule), then combined
    and checked as :func:`consolidated_instalment` is. ``make(named, share, policy)`` gets the
    policy without a minimum instalment when there are several debts: the minimum applies to
    the combined line.

    Examples
    --------
    Each debt's share paid exactly until it is repaid (the debtor's own figure, never
    re-levelled): 1,000.00 and 2,000.00 at 700.00 a month, pro rata 233.33 and 466.67.

    >>> from plans.debt import Debt
    >>> from plans.instalment import Until
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000))]
    >>> offer = consolidated_plan(debts, Capacity(70_000), policy=Policy(),
    ...     rule=AllocationRule.PRO_RATA, make=lambda named, share, policy: instalment_plan(
    ...         named.debt, policy=policy, capacity=share, until=Until.REPAID))
    >>> [x.payment_minor for x in offer.schedule.lines]
    [70000, 70000, 70000, 70000, 20000]
    """
    return _consolidate(OfferKind.INSTALMENT, debts, capacity, policy=policy, rule=rule, make=make)


def _consolidate(
    kind: OfferKind,
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule,
    make: Maker | None = None,
) -> ConsolidatedOffer:
    currency = check_debts(debts)
    rule = AllocationRule(rule)
    # The capacity is shared, so a debt's part of an instalment may be below the policy's
    # minimum; the minimum applies to what the debtor pays, the combined line (_check_minimum).
    inner = (
        policy
        if len(debts) == 1
        else dataclasses.replace(policy, min_instalment=((currency, Decimal(0)),))
    )
    if kind is OfferKind.SETTLEMENT:
        offers = _settlements(debts, capacity, policy)
    else:
        offers = _plans(kind, debts, capacity, inner, rule, make)
    return _assemble(kind, debts, offers, capacity, policy=policy, rule=rule, currency=currency)


def _plans(
    kind: OfferKind,
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    policy: Policy,
    rule: AllocationRule,
    make: Maker | None = None,
) -> list[Offer]:
    frequency = capacity.frequency
    first_due = max(first_due_date(d.debt, capacity, frequency) for d in debts)
    order = payment_order(debts, rule)
    settling = kind is OfferKind.SETTLEMENT_PLAN
    # What each debt repays: what it settles for in a settlement plan, its balance otherwise.
    amounts = [
        _named_error(i, d, partial(_settles_for, d, policy)) if settling else d.debt.total_minor
        for i, d in enumerate(debts)
    ]
    lump = capacity.lump_sum_minor
    if settling and policy.allow_down_payment and lump >= sum(amounts):
        raise NotAllowed(
            "capacity.lump_sum",
            "lump_sum_covers",
            "the lump sum covers the discounted total: the lump-sum settlement is the offer",
        )
    # A down payment leaves each debt something to pay in instalments (as the single-debt
    # engine's does), so what one debt cannot take of the lump sum is left for the next.
    caps = [a - 1 for a in amounts] if settling else [max(repaid(d, policy) - 1, 0) for d in debts]
    lump_shares = share_out(lump, caps, order=order, rule=rule, weights=amounts)
    offers: list[Offer | None] = [None] * len(debts)
    if rule is AllocationRule.PRO_RATA:
        pay = share_out(
            capacity.payment_minor,
            [MAX_AMOUNT_MINOR] * len(debts),
            order=order,
            rule=rule,
            weights=amounts,
        )
        for i, named in enumerate(debts):
            share = Capacity(pay[i], lump_shares[i], first_due, frequency)
            maker = partial(_make, kind) if make is None else make
            offers[i] = _named_error(i, named, partial(maker, named, share, policy))
        return [o for o in offers if o is not None]
    periods = 0
    for position, i in enumerate(order):
        named = debts[i]
        start = add_periods(first_due, periods, frequency)
        # a deferral pauses the first debt only; the next ones wait for it anyway
        own = kind if position == 0 or settling else OfferKind.INSTALMENT
        lump_i = lump_shares[i] if own is not OfferKind.DEFERRAL else 0
        share = Capacity(capacity.payment_minor, lump_i, start, frequency)
        maker = partial(_make, own) if make is None else make
        offer = _named_error(i, named, partial(maker, named, share, policy))
        offers[i] = offer
        periods += sum(1 for x in offer.schedule.lines if x.kind in _REGULAR)
    limit = (
        policy.settlement_plan_max_instalments
        if settling
        else policy.max_periods(frequency.periods_per_year)
    )
    if periods > limit:
        if settling:
            raise ExceedsCapacity(
                "capacity.payment",
                "capacity",
                f"settling the debts one after another needs {periods} instalments; a"
                f" settlement plan has at most {limit}",
            )
        raise TermBeyondMax(
            "term",
            "max_term",
            f"repaying the debts one after another takes {periods} {frequency} payments, more"
            f" than the policy's {policy.max_term_months} months ({limit} payments)",
        )
    return [o for o in offers if o is not None]


def repaid(named: NamedDebt, policy: Policy) -> int:
    """What an instalment plan repays of the debt: arrears the policy waives are not
    (:mod:`plans.instalment`)."""
    debt = named.debt
    return debt.principal_minor if policy.arrears is ArrearsTreatment.WAIVE else debt.total_minor


def _settles_for(named: NamedDebt, policy: Policy) -> int:
    # plans.settlement's rule for a settlement plan: the policy's discount at the debt's days
    # past due, the plan's share of it, taken down the waterfall (settle_discount).
    bps = round_div(
        policy.discount_bps(days_past_due=named.debt.days_past_due)
        * policy.settlement_plan_discount_share_bps,
        10_000,
        policy.rounding,
    )
    waiver = settle_discount(named.debt, discount_bps=bps, policy=policy)
    amount = named.debt.total_minor - waiver.total_minor
    check_min_settlement(named.debt, amount, policy)  # refused before the lump sum, as for one
    return amount


def _make(kind: OfferKind, named: NamedDebt, capacity: Capacity, policy: Policy) -> Offer:
    if kind is OfferKind.INSTALMENT:
        return instalment_plan(named.debt, policy=policy, capacity=capacity)
    if kind is OfferKind.DEFERRAL:
        return deferral_plan(named.debt, policy=policy, capacity=capacity)
    return settlement_plan(named.debt, policy=policy, capacity=capacity)


def _settlements(debts: Sequence[NamedDebt], capacity: Capacity, policy: Policy) -> list[Offer]:
    window = timedelta(days=policy.settlement_window_days)
    deadline = min(d.debt.as_of for d in debts) + window
    latest_as_of = max(d.debt.as_of for d in debts)
    if deadline < latest_as_of:
        raise NotAllowed(
            "settle_by",
            "settlement_window",
            f"the debts' as-of dates are more than {policy.settlement_window_days} days apart:"
            " no one date is within every settlement window",
        )
    # Each debt is settled on its own terms; the lump sum is checked against them all.
    unbounded = Capacity(capacity.payment_minor, MAX_AMOUNT_MINOR, None, capacity.frequency)
    offers = [
        _named_error(
            i,
            d,
            partial(settlement, d.debt, policy=policy, capacity=unbounded, settle_by=deadline),
        )
        for i, d in enumerate(debts)
    ]
    total = sum(o.metrics.total_paid_minor for o in offers)
    if capacity.lump_sum_minor < total:
        currency = debts[0].debt.currency
        raise LumpSumNotAvailable(
            "capacity.lump_sum",
            "lump_sum",
            f"settling needs {label(total, currency)} at once; the debtor has"
            f" {label(capacity.lump_sum_minor, currency)}",
        )
    return offers


def _named_error(index: int, named: NamedDebt, make: Callable[[], _T]) -> _T:
    """``make()``, its error saying which debt it is about."""
    try:
        return make()
    except DomainError as error:
        field = error.field
        if field.startswith("debt."):
            field = f"debts[{index}].{field.removeprefix('debt.')}"
        raise type(error)(field, error.rule, f"debt {named.ref!r}: {error.detail}") from error


def _assemble(
    kind: OfferKind,
    debts: Sequence[NamedDebt],
    offers: Sequence[Offer],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule,
    currency: str,
) -> ConsolidatedOffer:
    lines, allocations = combine_schedules(
        [(d.ref, d.debt.principal_minor, d.debt.interest_minor, d.debt.fees_minor) for d in debts],
        [o.schedule for o in offers],
    )
    schedule = Schedule.of(currency, lines)
    if len(debts) > 1:
        _check_capacity(schedule, capacity, currency)
        _check_minimum(schedule, allocations, offers, debts, policy, currency)
    as_of = min(d.debt.as_of for d in debts)
    waived_accrued = sum(
        o.schedule.totals.interest_accrued_minor - o.metrics.finance_charge_minor for o in offers
    )
    metrics = measure(
        kind,
        schedule,
        as_of=as_of,
        frequency=capacity.frequency,
        capacity_minor=capacity.payment_minor,
        policy=policy,
        waived_interest_accrued_minor=waived_accrued,
        jurisdiction=rate_jurisdiction(debts[0].debt.jurisdiction, policy.holiday_country),
    )
    plans = tuple(
        DebtPlan(named, offer, outcome(named.ref, offer))
        for named, offer in zip(debts, offers, strict=True)
    )
    return ConsolidatedOffer(
        kind=kind,
        rule=rule,
        currency=currency,
        as_of=as_of,
        frequency=capacity.frequency,
        capacity_minor=capacity.payment_minor,
        owed=Owed(
            sum(d.debt.principal_minor for d in debts),
            sum(d.debt.interest_minor for d in debts),
            sum(d.debt.fees_minor for d in debts),
        ),
        schedule=schedule,
        allocations=allocations,
        waiver=Waiver(
            sum(o.waiver.fees_minor for o in offers),
            sum(o.waiver.interest_minor for o in offers),
            sum(o.waiver.principal_minor for o in offers),
        ),
        metrics=metrics,
        debts=plans,
    )


def combine_schedules(
    debts: Sequence[tuple[str, int, int, int]], schedules: Sequence[Schedule]
) -> tuple[list[Line], tuple[tuple[DebtAllocation, ...], ...]]:
    """Add up the debts' schedules into one line per payment date, with the allocations.

    ``debts`` are (ref, principal, interest, fees) as each schedule starts from. A debt with no
    line on a date carries its balance through it, so every combined line still satisfies
    ``closing = opening + accrued - payment - waived`` and opens where the one before closed.

    Examples
    --------
    >>> a = Line(1, LineKind.INSTALMENT, date(2027, 1, 1), date(2027, 1, 1), 100, 100, 0, 0,
    ...          100, 0, 0, 0, 0, 0, 0)
    >>> lines, allocations = combine_schedules(
    ...     [("a", 100, 0, 0), ("b", 50, 0, 0)], [Schedule.of("GBP", [a]), Schedule.of("GBP", [])]
    ... )
    >>> lines[0].opening_balance_minor, lines[0].closing_balance_minor, allocations[0]
    (150, 50, (DebtAllocation(debt_ref='a', payment_minor=100, principal_minor=100, \
interest_minor=0, fees_minor=0, waived_minor=0, interest_accrued_minor=0),))
    """
    carried = [(p, i, f) for _, p, i, f in debts]
    by_date: dict[date, list[tuple[int, Line]]] = {}
    for index, schedule in enumerate(schedules):
        for x in schedule.lines:
            by_date.setdefault(x.payment_date, []).append((index, x))
    lines: list[Line] = []
    allocations: list[tuple[DebtAllocation, ...]] = []
    for number, paid_on in enumerate(sorted(by_date), start=1):
        group = by_date[paid_on]
        opening = sum(sum(c) for c in carried)
        for index, x in group:
            carried[index] = (
                x.closing_principal_minor,
                x.closing_interest_minor,
                x.closing_fees_minor,
            )
        kinds = sorted({x.kind for _, x in group}, key=lambda k: _KIND_RANK.get(k, 3))
        lines.append(
            Line(
                number=number,
                kind=kinds[0],
                due_date=min(x.due_date for _, x in group),
                payment_date=paid_on,
                opening_balance_minor=opening,
                payment_minor=sum(x.payment_minor for _, x in group),
                interest_minor=sum(x.interest_minor for _, x in group),
                fees_minor=sum(x.fees_minor for _, x in group),
                principal_minor=sum(x.principal_minor for _, x in group),
                waived_minor=sum(x.waived_minor for _, x in group),
                interest_accrued_minor=sum(x.interest_accrued_minor for _, x in group),
                closing_balance_minor=sum(sum(c) for c in carried),
                closing_principal_minor=sum(c[0] for c in carried),
                closing_interest_minor=sum(c[1] for c in carried),
                closing_fees_minor=sum(c[2] for c in carried),
            )
        )
        allocations.append(
            tuple(
                DebtAllocation(
                    debt_ref=debts[index][0],
                    payment_minor=x.payment_minor,
                    principal_minor=x.principal_minor,
                    interest_minor=x.interest_minor,
                    fees_minor=x.fees_minor,
                    waived_minor=x.waived_minor,
                    interest_accrued_minor=x.interest_accrued_minor,
                )
                for index, x in sorted(group, key=lambda entry: entry[0])
            )
        )
    return lines, tuple(allocations)


def outcome(ref: str, offer: Offer) -> DebtOutcome:
    """What one debt's plan does for it: owed, paid, waived, first paid and cleared.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> debt = Debt("GBP", 30_000, 0, 0, Decimal(0), date(2026, 11, 25), 90)
    >>> outcome("a", instalment_plan(debt, policy=Policy(), term=3)).cleared_on
    datetime.date(2027, 2, 25)
    """
    moving = [x for x in offer.schedule.lines if x.payment_minor or x.waived_minor]
    paying = [x for x in offer.schedule.lines if x.payment_minor]
    totals = offer.schedule.totals
    return DebtOutcome(
        debt_ref=ref,
        owed_minor=offer.owed.total_minor,
        interest_accrued_minor=totals.interest_accrued_minor,
        paid_minor=totals.payment_minor,
        waived_minor=totals.waived_minor,
        first_payment_on=paying[0].payment_date if paying else None,
        cleared_on=moving[-1].payment_date if moving else None,
    )


def _check_capacity(schedule: Schedule, capacity: Capacity, currency: str) -> None:
    # Each debt's plan fits its share; dates rolled over a long holiday could still bring two
    # debts' payments onto one day, which the combined line must not let through.
    regular = [x.payment_minor for x in schedule.lines if x.kind in _REGULAR]
    if capacity.payment_minor and regular and max(regular) > capacity.payment_minor:
        raise ExceedsCapacity(
            "capacity.payment",
            "capacity",
            f"a combined instalment of {label(max(regular), currency)} exceeds the stated"
            f" capacity of {label(capacity.payment_minor, currency)}",
        )


def _check_minimum(
    schedule: Schedule,
    allocations: Sequence[Sequence[DebtAllocation]],
    offers: Sequence[Offer],
    debts: Sequence[NamedDebt],
    policy: Policy,
    currency: str,
) -> None:
    # As for one debt, a line that only closes a balance may be below the minimum.
    closing = {
        (named.ref, outcome(named.ref, offer).cleared_on)
        for named, offer in zip(debts, offers, strict=True)
    }
    minimum = policy.min_instalment_minor(currency)
    for x, shared in zip(schedule.lines, allocations, strict=True):
        if x.kind is not LineKind.INSTALMENT or x.payment_minor >= minimum:
            continue
        if any((a.debt_ref, x.payment_date) in closing for a in shared):
            continue
        raise BelowMinInstalment(
            "capacity.payment",
            "min_instalment",
            f"a combined instalment of {label(x.payment_minor, currency)} is below the policy's"
            f" minimum of {label(minimum, currency)}",
        )
