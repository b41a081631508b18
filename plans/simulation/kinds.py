"""The four offer kinds for a chunk of debts: instalment, deferral, settlement, settlement plan.

It is numpy across debts, not a loop over the scalar engine: the rules of
:mod:`plans.instalment`, :mod:`plans.deferral`, :mod:`plans.settlement` and
:func:`plans.offer.measure` applied to arrays, with :func:`plans.portfolio.instalment_payments`
laying out the plans. ``tests/plans/test_simulation.py`` holds the two paths to each other
debt by debt, against :func:`plans.compare.negotiate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from plans.money import Rounding
from plans.policy import ArrearsTreatment, Component, DeferralInterest, OfferKind, Policy
from plans.portfolio import shortest_terms
from plans.simulation.layout import fitting_plans
from plans.simulation.metrics import measure
from plans.simulation.offers import (
    CAPACITY,
    LUMP_SUM,
    LUMP_SUM_COVERS,
    MAX_TERM,
    MIN_DEFERRAL,
    MIN_INSTALMENT,
    Offers,
    reject,
)
from plans.simulation.portfolio import Debts
from plans.simulation.timeline import Dates
from plans.simulation.units import (
    MONTH_RATE_SCALE,
    PERIODS_PER_YEAR,
    RATE_SCALE,
    Int64Array,
    put_columns,
)


def _round_div(numerator: Int64Array, denominator: int, rounding: Rounding) -> Int64Array:
    # plans.money.round_div for non-negative numerators
    quotient, remainder = np.divmod(numerator, denominator)
    twice = 2 * remainder
    up = (twice > denominator) | (
        (twice == denominator)
        & ((quotient % 2 == 1) if rounding is Rounding.HALF_EVEN else np.True_)
    )
    result: Int64Array = quotient + up
    return result


def _mul_div(
    amount: Int64Array, factor: Int64Array | int, divisor: int, rounding: Rounding
) -> Int64Array:
    """``amount × factor / divisor`` rounded, exactly, without int64 overflow.

    ``amount = q·divisor + r``, so the product is ``q·factor + r·factor / divisor``: both
    parts stay far inside int64 for amounts up to ``MAX_AMOUNT_MINOR`` and factors up to 10^7.
    """
    quotient = amount // divisor
    remainder = amount - quotient * divisor
    result: Int64Array = quotient * factor + _round_div(remainder * factor, divisor, rounding)
    return result


def _settle(
    amount: Int64Array, owed: dict[Component, Int64Array], waterfall: Sequence[Component]
) -> dict[Component, Int64Array]:
    """What is left of each component after ``amount`` is paid down the waterfall."""
    left = amount.copy()
    after = {}
    for component in waterfall:
        take = np.minimum(left, owed[component])
        after[component] = owed[component] - take
        left -= take
    return after


def _plan_rate_ppm(debts: Debts, policy: Policy) -> Int64Array:
    if policy.plan_rate is None:
        return debts.rate_ppm
    return np.full(len(debts), int(policy.plan_rate * RATE_SCALE), dtype=np.int64)


def _instalment(debts: Debts, policy: Policy, dates: Dates) -> Offers:
    """plans.instalment.instalment_plan with the debtor's capacity, for every debt."""
    count = len(debts)
    limit = policy.max_periods(PERIODS_PER_YEAR)
    offers = Offers.empty(count, np.arange(limit + 1, dtype=np.int64), dates)
    rule = offers.rule
    annual = _plan_rate_ppm(debts, policy)  # capped on the plan's APR, in measure
    minimum = debts.minimum(policy)
    total = debts.total
    down = debts.lump_sum if policy.allow_down_payment else np.zeros(count, dtype=np.int64)
    # plans.instalment.down_payment: leave at least one unit of what the plan repays
    repaid = debts.principal if policy.arrears is ArrearsTreatment.WAIVE else total
    down = np.minimum(down, np.maximum(repaid - 1, 0))
    bound = debts.capacity
    reject(rule, (bound < minimum) & (bound < total - down), MIN_INSTALMENT)

    # The search's view of the balance, as plans.instalment.instalment_plan builds it.
    waive = (policy.arrears is ArrearsTreatment.WAIVE) & ((debts.interest > 0) | (debts.fees > 0))
    arrears = np.where(waive, 0, debts.interest + debts.fees)
    principal = debts.principal - np.where(down > 0, np.maximum(0, down - arrears), 0)
    arrears = np.where(down > 0, np.maximum(0, arrears - down), arrears)
    # The first due date is a whole nominal period away: its rate is every other line's.
    rate = annual / MONTH_RATE_SCALE  # float(Fraction(annual) / 12), correctly rounded
    alive = np.flatnonzero(rule == 0)
    term = np.full(count, limit + 1, dtype=np.int64)
    term[alive] = shortest_terms(
        bound[alive],
        principal=principal[alive],
        arrears=arrears[alive],
        first_rate=rate[alive],
        rate=rate[alive],
        limit=limit,
    )
    reject(rule, term > limit, MAX_TERM)

    # What the plan lays out: arrears waived (if the policy says so), then the down payment.
    owed = {
        Component.PRINCIPAL: debts.principal,
        Component.INTEREST: np.where(waive, 0, debts.interest),
        Component.FEES: np.where(waive, 0, debts.fees),
    }
    waived = np.where(waive, debts.interest + debts.fees, 0)
    paid_down = np.minimum(
        down, owed[Component.PRINCIPAL] + owed[Component.INTEREST] + owed[Component.FEES]
    )
    after = _settle(paid_down, owed, policy.waterfall)
    alive = np.flatnonzero(rule == 0)
    plans = fitting_plans(
        (
            after[Component.PRINCIPAL][alive],
            after[Component.INTEREST][alive],
            after[Component.FEES][alive],
        ),
        annual[alive],
        term[alive],
        limit=limit,
        capacity=bound[alive],
        minimum=minimum[alive],
        policy=policy,
        into=offers.flows[1:],
        columns=alive,
    )
    rule[alive] = plans.rule
    ok = plans.rule == 0
    rows = alive[ok]
    offers.flows[0, rows] = paid_down[rows]
    offers.instalments[rows] = plans.lines[ok]
    offers.instalment_minor[rows] = plans.level[ok]
    offers.down_payment_minor[rows] = down[rows]
    offers.waived_minor[rows] = waived[rows]
    finance_charge = np.zeros(count, dtype=np.int64)
    finance_charge[rows] = plans.accrued[ok]
    measure(
        offers, OfferKind.INSTALMENT, policy, dates, finance_charge=finance_charge, annual=annual
    )
    return offers


def _deferral(debts: Debts, policy: Policy, dates: Dates) -> Offers:
    """plans.deferral.deferral_plan with the policy's pause, no token payment, and the
    debtor's capacity for the instalments that follow."""
    count = len(debts)
    limit = policy.max_periods(PERIODS_PER_YEAR)
    pause = policy.deferral_periods
    offers = Offers.empty(count, np.arange(limit + 1, dtype=np.int64), dates)
    rule = offers.rule
    if pause < 1:
        rule[:] = MIN_DEFERRAL
        return offers
    annual = _plan_rate_ppm(debts, policy)  # capped on the plan's APR, in measure
    if pause >= limit:
        reject(rule, np.ones(count, dtype=np.bool_), MAX_TERM)
        return offers
    waive = (policy.arrears is ArrearsTreatment.WAIVE) & ((debts.interest > 0) | (debts.fees > 0))
    waived = np.where(waive, debts.interest + debts.fees, 0)
    interest = np.where(waive, 0, debts.interest)
    fees = np.where(waive, 0, debts.fees)
    # Each pause period accrues a nominal month on a principal nothing is paid off.
    accrued = pause * _mul_div(debts.principal, annual, MONTH_RATE_SCALE, policy.rounding)
    principal = debts.principal
    treatment = policy.deferral_interest
    if treatment is DeferralInterest.CAPITALISE:
        principal = principal + accrued
    elif treatment is DeferralInterest.ACCRUE:
        interest = interest + accrued
    else:
        waived = waived + accrued
    rate = annual / MONTH_RATE_SCALE
    alive = np.flatnonzero(rule == 0)
    term = np.full(count, limit - pause + 1, dtype=np.int64)
    term[alive] = shortest_terms(
        debts.capacity[alive],
        principal=principal[alive],
        arrears=interest[alive] + fees[alive],
        first_rate=rate[alive],
        rate=rate[alive],
        limit=limit - pause,
    )
    reject(rule, term > limit - pause, MAX_TERM)
    alive = np.flatnonzero(rule == 0)
    minimum = debts.minimum(policy)
    plans = fitting_plans(
        (principal[alive], interest[alive], fees[alive]),
        annual[alive],
        term[alive],
        limit=limit - pause,
        capacity=debts.capacity[alive],
        minimum=minimum[alive],
        policy=policy,
        into=offers.flows[1 + pause :],
        columns=alive,
    )
    rule[alive] = plans.rule
    ok = plans.rule == 0
    rows = alive[ok]
    # a pause that leaves nothing owed (no principal, arrears waived) has no instalments
    repaid = (principal + interest + fees)[rows] == 0
    offers.instalments[rows] = np.where(repaid, 0, plans.lines[ok])
    offers.instalment_minor[rows] = plans.level[ok]
    offers.waived_minor[rows] = waived[rows]
    finance_charge = np.zeros(count, dtype=np.int64)
    paused = 0 if treatment is DeferralInterest.WAIVE else 1
    finance_charge[rows] = plans.accrued[ok] + paused * accrued[rows]
    measure(offers, OfferKind.DEFERRAL, policy, dates, finance_charge=finance_charge, annual=annual)
    return offers


def _discounts(debts: Debts, policy: Policy, share_bps: int) -> tuple[Int64Array, Int64Array]:
    """Each debt's settlement discount in bps and in minor units (plans.settlement rules)."""
    bands = sorted(policy.discount_bands, key=lambda b: b.min_days_past_due)
    bps = np.zeros(len(debts), dtype=np.int64)
    for band in bands:
        bps[debts.days_past_due >= band.min_days_past_due] = band.discount_bps
    np.minimum(bps, policy.max_discount_bps, out=bps)
    if share_bps != 10_000:
        bps = _round_div(bps * share_bps, 10_000, policy.rounding)
    # The waiver is taken down the waterfall but never exceeds the debt: its total is the
    # discount itself.
    return bps, _mul_div(debts.total, bps, 10_000, policy.rounding)


def _settlement(debts: Debts, policy: Policy, dates: Dates) -> Offers:
    """plans.settlement.settlement: the discounted debt at once, if the lump sum covers it."""
    offers = Offers.empty(len(debts), np.array([dates.settle], dtype=np.int64), dates)
    bps, discount = _discounts(debts, policy, 10_000)
    amount = debts.total - discount
    reject(offers.rule, debts.lump_sum < amount, LUMP_SUM)
    rows = np.flatnonzero(offers.rule == 0)
    offers.flows[0, rows] = amount[rows]
    offers.instalments[rows] = 1
    offers.instalment_minor[rows] = amount[rows]
    offers.waived_minor[rows] = discount[rows]
    offers.discount_bps[rows] = bps[rows]
    measure(offers, OfferKind.SETTLEMENT, policy, dates)
    return offers


def _settlement_plan(debts: Debts, policy: Policy, dates: Dates) -> Offers:
    """plans.settlement.settlement_plan: the smaller discount, the lump sum down, and the
    fewest equal instalments that fit the capacity."""
    limit = policy.settlement_plan_max_instalments
    count = len(debts)
    offers = Offers.empty(count, np.arange(limit + 1, dtype=np.int64), dates)
    rule = offers.rule
    bps, discount = _discounts(debts, policy, policy.settlement_plan_discount_share_bps)
    amount = debts.total - discount
    down = (
        np.minimum(debts.lump_sum, amount) if policy.allow_down_payment else np.zeros_like(amount)
    )
    # cash for the whole plan now: the lump-sum settlement is the offer
    reject(rule, (down > 0) & (down >= amount), LUMP_SUM_COVERS)
    rest = amount - down
    capacity = debts.capacity
    # As many as the capacity needs, none if the lump sum pays all; no capacity, no plan.
    reject(rule, (capacity == 0) & (rest > 0), CAPACITY)
    parts = np.where(capacity > 0, -(-rest // np.maximum(capacity, 1)), 1)
    parts = np.where(rest == 0, 0, parts)
    reject(rule, parts > limit, CAPACITY)
    parts = np.minimum(parts, limit)
    safe = np.maximum(parts, 1)
    # Level parts rounded up, the last absorbing the residue; if that leaves the last at zero
    # or less, rounded down instead (plans.settlement._level_parts).
    level = -(-rest // safe)
    last = rest - level * (safe - 1)
    low = last <= 0
    level = np.where(low, rest // safe, level)
    last = rest - level * (safe - 1)
    largest = np.where(safe > 1, np.maximum(level, last), last)
    reject(rule, (parts > 0) & (capacity > 0) & (largest > capacity), CAPACITY)
    reject(rule, (parts > 1) & (level < debts.minimum(policy)), MIN_INSTALMENT)
    rows = np.flatnonzero(rule == 0)
    offers.flows[0, rows] = down[rows]
    position = np.arange(1, limit + 1, dtype=np.int64)[:, None]
    parts_r, level_r, last_r = parts[rows], level[rows], last[rows]
    put_columns(
        offers.flows[1:],
        rows,
        np.where(position < parts_r, level_r, np.where(position == parts_r, last_r, 0)),
    )
    offers.instalments[rows] = parts_r
    offers.instalment_minor[rows] = np.where(
        parts_r > 1, level_r, np.where(parts_r == 1, last_r, 0)
    )
    offers.down_payment_minor[rows] = down[rows]
    offers.waived_minor[rows] = discount[rows]
    offers.discount_bps[rows] = bps[rows]
    measure(offers, OfferKind.SETTLEMENT_PLAN, policy, dates)
    return offers


MAKERS: dict[OfferKind, Callable[[Debts, Policy, Dates], Offers]] = {
    OfferKind.INSTALMENT: _instalment,
    OfferKind.DEFERRAL: _deferral,
    OfferKind.SETTLEMENT: _settlement,
    OfferKind.SETTLEMENT_PLAN: _settlement_plan,
}

# Fields each kind never reads: a grid point that changes only these reuses the kind's offers.
_SETTLEMENT_FIELDS = (
    "discount_bands",
    "max_discount_bps",
    "settlement_window_days",
    "settlement_plan_max_instalments",
    "settlement_plan_discount_share_bps",
)
_PLAN_FIELDS = (
    "max_term_months",
    "plan_rate",
    "rate_cap",
    "arrears",
    "day_count",
    "deferral_periods",
    "deferral_max_periods",
    "deferral_interest",
)
_UNREAD: dict[OfferKind, tuple[str, ...]] = {
    OfferKind.INSTALMENT: (*_SETTLEMENT_FIELDS, *_PLAN_FIELDS[5:]),
    OfferKind.DEFERRAL: (*_SETTLEMENT_FIELDS, "allow_down_payment"),
    OfferKind.SETTLEMENT: (
        *_PLAN_FIELDS,
        "min_instalment",
        "allow_down_payment",
        "settlement_plan_discount_share_bps",
    ),
    OfferKind.SETTLEMENT_PLAN: (*_PLAN_FIELDS, "settlement_window_days"),
}
_DEFAULT = Policy()


def relevant(policy: Policy, kind: OfferKind) -> Policy:
    """``policy`` with the fields ``kind`` never reads set to the defaults: a cache key."""
    changes: dict[str, Any] = {name: getattr(_DEFAULT, name) for name in _UNREAD[kind]}
    changes["survival"] = ((kind, policy.survival_curve(kind)),)
    changes["payoff_interest_waiver_bps"] = _DEFAULT.payoff_interest_waiver_bps
    changes["payoff_fee_waiver_bps"] = _DEFAULT.payoff_fee_waiver_bps
    changes["max_start_delay_days"] = _DEFAULT.max_start_delay_days
    return replace(policy, **changes)
