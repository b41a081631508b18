"""The debtor's counter-proposal for several debts: one consolidated plan, judged as one.

The proposal (a payment per period, a term, a start, a lump sum) describes one plan for all
the debts (:mod:`plans.consolidation`), shared between them by the policy's allocation rule,
and it is judged by exactly the rules one debt's proposal is (:func:`plans.counter.judge`):
accepted as it stands when the policy allows it, else the rules it breaks and the nearest
consolidated offers that are allowed (the same payment for longer, the same term for more a
period, a later start).

- A payment is the debtor's own figure, never re-levelled. Pro rata, each debt's share of it
  (by balance) is paid exactly every period until that debt is repaid, its last payment
  smaller; by an ordered rule the whole payment goes to each debt in turn, the same way.
- A term, pro rata, is every debt's level plan over that many payments (their sum is the
  combined payment); by an ordered rule, the smallest payment a period whose plan (as for a
  payment) is done within the term.

One debt alone gives exactly the single-debt counter's plans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeAlias

from plans.allocation import AllocationRule, NamedDebt, check_debts, payment_order
from plans.allocation import shares as share_out
from plans.amortisation import Balance, PlanDates, arrears_waiver
from plans.calendar import Frequency, add_periods
from plans.consolidation import (
    ConsolidatedOffer,
    Maker,
    check_first_payment_consolidated,
    consolidated_deferral,
    consolidated_plan,
    repaid,
)
from plans.counter import Choice, Plans, Proposal, Shape, Verdict, judge
from plans.debt import Capacity, Debt
from plans.errors import DomainError, TermBeyondMax
from plans.instalment import (
    Until,
    check_term,
    down_payment,
    first_due_date,
    instalment_plan,
    plan_rate,
)
from plans.money import label, round_div
from plans.offer import Offer
from plans.policy import Policy
from plans.schedule import LineKind

ConsolidatedAlternative: TypeAlias = Choice[ConsolidatedOffer]
ConsolidatedCounterResult: TypeAlias = Verdict[ConsolidatedOffer]


def counter_consolidated(
    debts: Sequence[NamedDebt],
    proposal: Proposal,
    *,
    policy: Policy,
    rule: AllocationRule = AllocationRule.PRO_RATA,
    today: date | None = None,
) -> ConsolidatedCounterResult:
    """Evaluate a debtor's proposal for ``debts`` as one plan under ``policy``.

    A proposed start may not be before any debt's as-of date, nor more than the policy's
    ``max_start_delay_days`` after the earliest. With ``today``, no plan is accepted or
    offered whose first payment would fall before it (``first_payment_not_in_past``).

    Examples
    --------
    4,000.00 and 6,000.00 at 0 %, 500.00 a month pro rata: 200.00 and 300.00 a month, both
    repaid in 20 months.

    >>> from decimal import Decimal
    >>> from plans.debt import Debt
    >>> debts = [NamedDebt(ref, Debt("CNY", amount, 0, 0, Decimal(0), date(2026, 11, 25), 60))
    ...          for ref, amount in (("a", 400_000), ("b", 600_000))]
    >>> result = counter_consolidated(debts, Proposal(payment_minor=50_000), policy=Policy())
    >>> result.accepted, len(result.offer.schedule.lines)
    (True, 20)
    >>> [a.payment_minor for a in result.offer.allocations[0]]
    [20000, 30000]
    >>> result = counter_consolidated(debts, Proposal(payment_minor=20_000), policy=Policy())
    >>> [r.rule for r in result.rejections], [a.change.value for a in result.alternatives]
    (['max_term'], ['longer_term'])
    """
    check_debts(debts)
    frequency = proposal.frequency

    def until_repaid(named: NamedDebt, share: Capacity, policy: Policy) -> Offer:
        return instalment_plan(
            named.debt,
            policy=policy,
            capacity=share,
            payment_minor=share.payment_minor,
            frequency=frequency,
            until=Until.REPAID,
        )

    def by_payment(payment: int, capacity: Capacity) -> ConsolidatedOffer:
        return _as_proposed(
            lambda: consolidated_plan(debts, capacity, policy=policy, rule=rule, make=until_repaid)
        )

    def by_term(term: int, capacity: Capacity) -> ConsolidatedOffer:
        if rule is AllocationRule.PRO_RATA or len(debts) == 1:
            return _as_proposed(
                lambda: consolidated_plan(
                    debts, capacity, policy=policy, rule=rule, make=_level(term, frequency)
                )
            )
        check_term(term, frequency, policy)
        return _within(term, debts, capacity, policy=policy, rule=rule, make=until_repaid)

    plans: Plans[ConsolidatedOffer] = Plans(
        currency=debts[0].debt.currency,
        earliest_as_of=min(d.debt.as_of for d in debts),
        latest_as_of=max(d.debt.as_of for d in debts),
        as_of_field="debts",
        by_term=by_term,
        by_payment=by_payment,
        paused=lambda capacity: _as_proposed(
            lambda: consolidated_deferral(debts, capacity, policy=policy, rule=rule)
        ),
        checked=lambda offer, today, field: check_first_payment_consolidated(
            offer, today=today, field=field
        ),
        shape=shape,
    )
    return judge(proposal, plans, policy=policy, today=today)


def shape(offer: ConsolidatedOffer) -> Shape:
    """What :func:`plans.counter.judge` weighs of a consolidated offer: its instalment dates,
    its first instalment (the payment a period it asks) and largest, its paused periods.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from plans.consolidation import consolidated_instalment
    >>> from plans.debt import Debt
    >>> debts = [NamedDebt(ref, Debt("GBP", 100_000, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref in "ab"]
    >>> shape(consolidated_instalment(debts, Capacity(30_000), policy=Policy()))
    Shape(instalments=7, payment_minor=28572, largest_payment_minor=28572, paused_periods=0)
    """
    lines = offer.schedule.lines
    instalments = [x.payment_minor for x in lines if x.kind is LineKind.INSTALMENT]
    return Shape(
        instalments=len(instalments),
        payment_minor=instalments[0] if instalments else 0,
        largest_payment_minor=offer.largest_payment_minor,
        paused_periods=sum(1 for x in lines if x.kind is LineKind.DEFERRAL),
    )


def _level(term: int, frequency: Frequency) -> Maker:
    def make(named: NamedDebt, share: Capacity, policy: Policy) -> Offer:
        # the term bounds the plan, not a payment: as one debt's counter asks it (capacity 0)
        unbounded = Capacity(0, share.lump_sum_minor, share.earliest_start, frequency)
        return instalment_plan(
            named.debt, policy=policy, capacity=unbounded, term=term, frequency=frequency
        )

    return make


def _as_proposed(make: Callable[[], ConsolidatedOffer]) -> ConsolidatedOffer:
    # The combined plan's checks name the capacity; in a counter the figure is the proposal's.
    try:
        return make()
    except DomainError as error:
        if error.field != "capacity.payment":
            raise
        raise type(error)("payment", error.rule, error.detail) from error


def _within(
    term: int,
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule,
    make: Maker,
) -> ConsolidatedOffer:
    """The plan of the smallest payment a period, paid to the debts in the rule's order, that
    is done within ``term`` instalments (a larger payment never takes longer).

    The search starts from the payment the schedules' own arithmetic gives (:func:`_modelled`:
    usually the answer, so two plans are made), then gallops away from it one minor unit, two,
    four, ... until the answer is bracketed, and bisects the bracket."""

    def plan(payment: int) -> ConsolidatedOffer | DomainError:
        paying = Capacity(
            payment, capacity.lump_sum_minor, capacity.earliest_start, capacity.frequency
        )
        try:
            offer = consolidated_plan(debts, paying, policy=policy, rule=rule, make=make)
        except DomainError as error:
            return error
        instalments = shape(offer).instalments
        if instalments > term:
            return TermBeyondMax(
                "term",
                "max_term",
                f"{label(payment, offer.currency)} a period repays the debts in {instalments}"
                f" payments, not {term}",
            )
        return offer

    balances = [repaid(d, policy) for d in debts]
    owed = max(sum(balances) - capacity.lump_sum_minor, 1)
    low = max(-(-owed // term) - 1, 0)  # at 0 % no smaller payment repays it in time
    guess = max(_modelled(term, debts, capacity, policy=policy, rule=rule, floor=low), low + 1)
    best = plan(guess)
    if isinstance(best, DomainError):
        low, step = guess, 1
        while isinstance(best, DomainError):
            if best.rule not in ("max_term", "min_instalment"):
                raise best
            if guess > 2 * owed + 1:
                raise best
            low, guess, step = guess, guess + step, step * 2
            best = plan(guess)
        high = guess
    else:
        high, step = guess, 1
        while high - step > low:
            tried = plan(high - step)
            if isinstance(tried, DomainError):
                low = high - step
                break
            high, best, step = high - step, tried, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        tried = plan(middle)
        if isinstance(tried, DomainError):
            low = middle
        else:
            high, best = middle, tried
    return best


def _modelled(
    term: int,
    debts: Sequence[NamedDebt],
    capacity: Capacity,
    *,
    policy: Policy,
    rule: AllocationRule,
    floor: int,
) -> int:
    """The smallest payment a period that repays the debts in the rule's order within ``term``
    periods, each debt's balance laid out as :func:`plans.amortisation.amortise` lays it out
    (its own dates and rates, the policy's rounding and waterfall), in integer arithmetic.

    A first guess for :func:`_within`, not its answer (the checks on the combined plan are
    left out). ``floor`` is a payment known to be too small."""
    frequency = capacity.frequency
    limit = policy.max_periods(frequency.periods_per_year)
    first_due = max(first_due_date(d.debt, capacity, frequency) for d in debts)
    order = payment_order(debts, rule)
    # each debt's down payment: its share of the lump sum, as consolidated_plan shares it
    lump_shares = share_out(
        capacity.lump_sum_minor,
        [max(repaid(d, policy) - 1, 0) for d in debts],
        order=order,
        rule=rule,
        weights=[d.debt.total_minor for d in debts],
    )
    owing: list[tuple[Debt, int, Balance]] = []
    for i in order:
        debt = debts[i].debt
        share = Capacity(0, lump_shares[i], None, frequency)
        try:
            down = down_payment(debt, share, policy, None)
        except DomainError:
            down = 0
        balance = Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor)
        if arrears_waiver(balance, policy) is not None:
            balance.interest = balance.fees = 0
        balance.settle(min(down, balance.total), policy.waterfall)
        owing.append((debt, down, balance))
    dates = PlanDates()
    # a combined line below the minimum must close a debt (consolidation._check_minimum)
    minimum = policy.min_instalment_minor(debts[0].debt.currency)

    def periods(payment: int) -> int:
        """Periods ``payment`` takes to repay the debts, or ``term + 1`` if more (or if a
        payment below the minimum leaves a debt unpaid)."""
        taken = 0
        for debt, down, owed in owing:
            start = Capacity(payment, 0, add_periods(first_due, taken, frequency), frequency)
            own_first = first_due_date(debt, start, frequency)
            annual = plan_rate(debt, policy)
            rates = dates.lines(
                limit,
                first_due=own_first,
                frequency=frequency,
                days=None,
                annual=annual,
                as_of=debt.as_of,
                policy=policy,
                after=debt.as_of if down else None,
            )[2]
            balance = Balance(owed.principal, owed.interest, owed.fees)
            for k, rate in enumerate(rates[:limit], start=1):
                balance.interest += round_div(
                    balance.principal * rate.numerator, rate.denominator, policy.rounding
                )
                if balance.total <= payment:
                    break
                balance.settle(payment, policy.waterfall)
                if (
                    taken + k >= term or payment < minimum
                ):  # not repaid by the last period of the term
                    return term + 1
            else:
                return term + 1
            taken += k
        return taken

    balances = [max(owed.total, 1) for _, _, owed in owing]
    low, high = floor, max(_at_zero_rate(balances, term), floor + 1)
    step = max(high // 64, 1)
    while periods(high) > term:
        if high > 2 * (sum(d.debt.total_minor for d in debts) + 1):
            # no payment does it here (holidays can bring two debts' lines onto one date):
            # the search gallops up from the least it could be
            return floor + 1
        low, high, step = high, high + step, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if periods(middle) > term:
            low = middle
        else:
            high = middle
    return high


def _at_zero_rate(balances: Sequence[int], term: int) -> int:
    """The smallest payment a period that repays ``balances`` one after another, each from
    the period after the one before is cleared, in ``term`` periods at 0 %.

    Examples
    --------
    >>> _at_zero_rate([600_000, 400_000], 15)  # 9 payments of 666.67 and 6 (see the tests)
    66667
    """
    low, high = 0, max(balances)  # ``high`` repays each in one period
    while high - low > 1:
        middle = (low + high) // 2
        if sum(-(-b // middle) for b in balances) <= term:
            high = middle
        else:
            low = middle
    return high
