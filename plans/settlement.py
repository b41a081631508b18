"""Settlements: the debt closed for less, paid at once or in a few short instalments.

The discount comes from the policy's table by days past due, capped by its maximum; a plan of
instalments earns a smaller share of it. The discount is applied down the policy's waterfall
(fees, then interest, then principal by default), and the schedule shows it in the waived
column: at once for a lump sum, on the last line for a plan, since it is granted only when
the plan is completed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from plans.amortisation import Balance, PlanDates, line
from plans.calendar import Frequency, next_business_day
from plans.debt import Capacity, Debt, check_amount
from plans.errors import (
    BelowMinInstalment,
    ExceedsCapacity,
    InvalidDate,
    LumpSumNotAvailable,
    NotAllowed,
    TermBeyondMax,
)
from plans.instalment import check_min_down_payment, finish, first_due_date, plan_days, plan_rate
from plans.money import at_least_percent, label, round_div
from plans.offer import Offer, Terms
from plans.policy import Component, OfferKind, Policy
from plans.schedule import Line, LineKind, Schedule, Waiver


def settle_discount(debt: Debt, *, discount_bps: int, policy: Policy) -> Waiver:
    """The waiver of ``discount_bps`` of the whole debt, taken down the policy's waterfall.

    Examples
    --------
    >>> debt = Debt("CNY", 1_000_000, 80_000, 20_000, Decimal("0.18"), date(2026, 11, 25), 200)
    >>> settle_discount(debt, discount_bps=2000, policy=Policy())  # 20 % of 11,000.00
    Waiver(fees_minor=20000, interest_minor=80000, principal_minor=120000)
    """
    amount = round_div(debt.total_minor * discount_bps, 10_000, policy.rounding)
    owed = {
        Component.FEES: debt.fees_minor,
        Component.INTEREST: debt.interest_minor,
        Component.PRINCIPAL: debt.principal_minor,
    }
    taken = dict.fromkeys(Component, 0)
    for component in policy.waterfall:
        taken[component] = min(amount, owed[component])
        amount -= taken[component]
    return Waiver(
        fees_minor=taken[Component.FEES],
        interest_minor=taken[Component.INTEREST],
        principal_minor=taken[Component.PRINCIPAL],
    )


def _discount(debt: Debt, policy: Policy, requested: int | None, share_bps: int) -> int:
    allowed = round_div(
        policy.discount_bps(days_past_due=debt.days_past_due) * share_bps, 10_000, policy.rounding
    )
    if requested is None:
        return allowed
    if requested < 0:
        raise NotAllowed("discount_bps", "non_negative", "must be 0 or more")
    if requested > allowed:
        raise NotAllowed(
            "discount_bps",
            "max_discount",
            f"{requested} bps exceeds the {allowed} bps the policy allows at"
            f" {debt.days_past_due} days past due",
        )
    return requested


def check_min_settlement(debt: Debt, amount_minor: int, policy: Policy) -> None:
    """Refuse a settlement asking less than the policy's ``min_settlement_pct`` of the balance.

    Examples
    --------
    >>> debt = Debt("CNY", 1_000_000, 80_000, 20_000, Decimal("0.18"), date(2026, 11, 25), 200)
    >>> check_min_settlement(debt, 770_000, Policy(min_settlement_pct=Decimal(70)))
    >>> check_min_settlement(debt, 769_999, Policy(min_settlement_pct=Decimal(70)))
    Traceback (most recent call last):
    ...
    plans.errors.NotAllowed: discount_bps: ... this one asks 7699.99 CNY [min_settlement_pct]
    """
    least = at_least_percent(debt.total_minor, policy.min_settlement_pct)
    if amount_minor < least:
        raise NotAllowed(
            "discount_bps",
            "min_settlement_pct",
            f"the policy asks a settlement of at least {policy.min_settlement_pct} % of the"
            f" {label(debt.total_minor, debt.currency)} owed, {label(least, debt.currency)};"
            f" this one asks {label(amount_minor, debt.currency)}",
        )


def _payable(debt: Debt, waiver: Waiver) -> Balance:
    return Balance(
        debt.principal_minor - waiver.principal_minor,
        debt.interest_minor - waiver.interest_minor,
        debt.fees_minor - waiver.fees_minor,
    )


def _settlement_lines(
    debt: Debt,
    waiver: Waiver,
    amounts: list[tuple[LineKind, date, date, int]],
    policy: Policy,
) -> list[Line]:
    # Lines show the whole debt until the last, where the conditional discount is waived.
    payable = _payable(debt, waiver)
    lines: list[Line] = []
    for k, (kind, due_on, paid_on, amount) in enumerate(amounts):
        opening = payable.total + waiver.total_minor
        parts = payable.settle(amount, policy.waterfall)
        last = k == len(amounts) - 1
        shown = Balance(
            payable.principal + (0 if last else waiver.principal_minor),
            payable.interest + (0 if last else waiver.interest_minor),
            payable.fees + (0 if last else waiver.fees_minor),
        )
        lines.append(
            line(
                k + 1,
                kind,
                due_on,
                paid_on,
                opening=opening,
                payment=amount,
                parts=parts,
                waived=waiver.total_minor if last else 0,
                accrued=0,
                balance=shown,
            )
        )
    return lines


def settlement(
    debt: Debt,
    *,
    policy: Policy,
    capacity: Capacity | None = None,
    discount_bps: int | None = None,
    settle_by: date | None = None,
) -> Offer:
    """A lump sum that closes the debt at a discount if paid by ``settle_by``.

    The deadline defaults to the policy's settlement window after the as-of date and rolls to
    the next business day. The debtor's stated lump sum must cover it.

    Examples
    --------
    >>> debt = Debt("CNY", 1_000_000, 80_000, 20_000, Decimal("0.18"), date(2026, 11, 25), 200)
    >>> offer = settlement(debt, policy=Policy(), capacity=Capacity(0, lump_sum_minor=900_000))
    >>> offer.metrics.total_paid_minor, offer.waiver.total_minor, offer.terms.settle_by
    (880000, 220000, datetime.date(2026, 12, 9))
    """
    bps = _discount(debt, policy, discount_bps, 10_000)
    latest = debt.as_of + timedelta(days=policy.settlement_window_days)
    deadline = settle_by or latest
    if deadline < debt.as_of:
        raise InvalidDate("settle_by", "not_before_as_of", "must not be before the as-of date")
    if deadline > latest:
        raise NotAllowed(
            "settle_by",
            "settlement_window",
            f"a settlement must be paid within {policy.settlement_window_days} days of"
            f" {debt.as_of.isoformat()}",
        )
    waiver = settle_discount(debt, discount_bps=bps, policy=policy)
    amount = debt.total_minor - waiver.total_minor
    check_min_settlement(debt, amount, policy)
    if capacity is not None and capacity.lump_sum_minor < amount:
        raise LumpSumNotAvailable(
            "capacity.lump_sum",
            "lump_sum",
            f"settling needs {label(amount, debt.currency)} at once; the debtor has"
            f" {label(capacity.lump_sum_minor, debt.currency)}",
        )
    paid_on = next_business_day(deadline, policy.holiday_country)
    lines = _settlement_lines(
        debt, waiver, [(LineKind.SETTLEMENT, deadline, paid_on, amount)], policy
    )
    frequency = capacity.frequency if capacity else Frequency.MONTHLY
    terms = Terms(
        frequency=frequency,
        first_due=deadline,
        instalments=1,
        instalment_minor=amount,
        nominal_annual_rate=Decimal(0),
        discount_bps=bps,
        settle_by=deadline,
    )
    return finish(
        OfferKind.SETTLEMENT,
        debt,
        schedule=Schedule.of(debt.currency, lines),
        terms=terms,
        waiver=waiver,
        capacity=capacity,
        policy=policy,
    )


def settlement_plan(
    debt: Debt,
    *,
    policy: Policy,
    capacity: Capacity | None = None,
    instalments: int | None = None,
    discount_bps: int | None = None,
    frequency: Frequency | None = None,
    dates: PlanDates | None = None,
) -> Offer:
    """The discounted total in a few short instalments, for a smaller discount.

    The lump sum, if any, is taken as a down payment now; the rest is split into equal
    instalments (the last absorbing the residue), as few as fit the capacity, at most the
    policy's maximum.

    Examples
    --------
    >>> debt = Debt("CNY", 1_000_000, 80_000, 20_000, Decimal("0.18"), date(2026, 11, 25), 200)
    >>> offer = settlement_plan(debt, policy=Policy(), capacity=Capacity(300_000))
    >>> [x.payment_minor for x in offer.schedule.lines], offer.waiver.total_minor
    ([247500, 247500, 247500, 247500], 110000)
    """
    frequency = frequency or (capacity.frequency if capacity else Frequency.MONTHLY)
    bps = _discount(debt, policy, discount_bps, policy.settlement_plan_discount_share_bps)
    waiver = settle_discount(debt, discount_bps=bps, policy=policy)
    amount = debt.total_minor - waiver.total_minor
    check_min_settlement(debt, amount, policy)
    down = min(capacity.lump_sum_minor, amount) if capacity and policy.allow_down_payment else 0
    if down and down >= amount:
        # Cash for the whole plan now: the lump-sum settlement waives more for the same act.
        raise NotAllowed(
            "capacity.lump_sum",
            "lump_sum_covers",
            "the lump sum covers the discounted total: the lump-sum settlement is the offer",
        )
    check_min_down_payment(debt, down, policy, field="capacity.lump_sum")
    rest = amount - down
    limit = policy.settlement_plan_max_instalments
    minimum = policy.min_instalment_minor(debt.currency)
    if instalments is not None:
        if not 1 <= instalments <= limit:
            raise TermBeyondMax(
                "instalments",
                "max_instalments",
                f"a settlement plan has 1 to {limit} instalments",
            )
        count = instalments
    else:
        count = 1
        if rest and capacity is not None:
            if capacity.payment_minor == 0:
                # a debtor who can pay nothing a period cannot pay instalments either
                raise ExceedsCapacity(
                    "capacity.payment",
                    "capacity",
                    f"the discounted {label(rest, debt.currency)} needs instalments and the"
                    " debtor can pay nothing a period",
                )
            count = -(-rest // capacity.payment_minor)
        if rest == 0:
            count = 0
        if count > limit:
            raise ExceedsCapacity(
                "capacity.payment",
                "capacity",
                f"the discounted {label(amount, debt.currency)} needs more than {limit} instalments"
                f" of {label(capacity.payment_minor if capacity else 0, debt.currency)}",
            )
    parts = _level_parts(rest, count) if count else []
    if (
        capacity is not None
        and capacity.payment_minor
        and parts
        and max(parts) > capacity.payment_minor
    ):
        raise ExceedsCapacity(
            "capacity.payment", "capacity", "an instalment exceeds the stated capacity"
        )
    if len(parts) > 1 and min(parts[:-1]) < minimum:
        raise BelowMinInstalment(
            "instalments", "min_instalment", "instalments would fall below the policy's minimum"
        )
    days = plan_days(capacity, frequency)
    first_due = first_due_date(debt, capacity, frequency, days=days)
    due, paid_on, _ = (dates or PlanDates()).lines(
        len(parts),
        first_due=first_due,
        frequency=frequency,
        days=days,
        annual=plan_rate(debt, policy),  # its rates are unused: the plans' own key shares them
        as_of=debt.as_of,
        policy=policy,
        after=debt.as_of if down else None,
    )
    events: list[tuple[LineKind, date, date, int]] = []
    if down:
        events.append((LineKind.DOWN_PAYMENT, debt.as_of, debt.as_of, down))
    events += [(LineKind.INSTALMENT, d, p, a) for d, p, a in zip(due, paid_on, parts, strict=True)]
    check_amount(amount, field="amount")
    terms = Terms(
        frequency=frequency,
        first_due=first_due,
        instalments=len(parts),
        instalment_minor=parts[0] if parts else 0,
        nominal_annual_rate=Decimal(0),
        down_payment_minor=down,
        discount_bps=bps,
    )
    return finish(
        OfferKind.SETTLEMENT_PLAN,
        debt,
        schedule=Schedule.of(debt.currency, _settlement_lines(debt, waiver, events, policy)),
        terms=terms,
        waiver=waiver,
        capacity=capacity,
        policy=policy,
    )


def _level_parts(total: int, count: int) -> list[int]:
    # Level parts rounded up to the unit so that the last, absorbing the residue, is the
    # smallest: no instalment is ever above the first one quoted.
    part = -(-total // count)
    parts = [part] * (count - 1)
    return (
        [*parts, total - part * (count - 1)]
        if total - part * (count - 1) > 0
        else (_fallback_parts(total, count))
    )


def _fallback_parts(total: int, count: int) -> list[int]:
    # Only for amounts of a few minor units split many ways, where rounding up would leave
    # nothing for the last part: then floor parts, the last taking the remainder.
    part = total // count
    return [part] * (count - 1) + [total - part * (count - 1)]
