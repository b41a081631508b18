"""Payments against a consolidated plan: shared line by line, each debt judged on its share."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from plans.allocation import AllocationRule, NamedDebt
from plans.consolidated_payments import (
    consolidated_state,
    debt_ranks,
    open_lines,
    scheduled_lines,
    share_payment,
    share_payments,
)
from plans.consolidation import MAKERS, consolidated_instalment
from plans.debt import Capacity
from plans.errors import DomainError
from plans.payments import (
    InstalmentStatus,
    Overpayment,
    Payment,
    PayoffTerms,
    PlanStatus,
    plan_state,
)
from plans.policy import OfferKind, Policy
from tests.plans.conftest import capacities, debts
from tests.plans.test_consolidation import HAND, THREE, named, several

PLAN = consolidated_instalment(THREE, Capacity(60_000), policy=HAND)  # 10 × 100/200/300
DATES = [x.payment_date for x in PLAN.schedule.lines]


def test_the_lines_amount_pays_each_debts_part() -> None:
    [(parts, refunded)] = share_payments(PLAN, [Payment(DATES[0], 60_000)], policy=HAND)
    assert (parts, refunded) == ([10_000, 20_000, 30_000], 0)


def test_a_partial_payment_is_shared_by_what_each_debt_is_due_on_the_line() -> None:
    # line 2 asks 100.00 / 200.00 / 300.00; 300.00 paid: 50.00 / 100.00 / 150.00
    payments = [Payment(DATES[0], 60_000), Payment(DATES[1], 30_000)]
    state = consolidated_state(PLAN, payments, on=DATES[1] + timedelta(days=20), policy=HAND)
    assert [a.payment_minor for a in state.splits[1].allocations] == [5_000, 10_000, 15_000]
    # 20 days late is missed (15 days) but not broken (30 days): each debt's own rule
    for standing in state.debts:
        second = standing.state.instalments[1]
        assert second.status is InstalmentStatus.MISSED
        assert second.paid_minor * 2 == second.due_minor
    assert state.status is PlanStatus.ACTIVE
    later = consolidated_state(PLAN, payments, on=DATES[1] + timedelta(days=30), policy=HAND)
    assert later.status is PlanStatus.BROKEN
    assert {d.state.status for d in later.debts} == {PlanStatus.BROKEN}


def test_an_over_payment_reduces_the_last_lines_or_is_refunded() -> None:
    # 6,600.00 on the first date against 6,000.00: every line paid, 600.00 back
    state = consolidated_state(PLAN, [Payment(DATES[0], 660_000)], on=DATES[0], policy=HAND)
    assert state.splits[0].unallocated_minor == 60_000
    assert state.status is PlanStatus.COMPLETED
    assert state.payoff_minor == 0
    # refunding instead: 6,600.00 still reaches what finishes every debt that day (1,000.00 +
    # 2,000.00 + 3,000.00: interest frozen), so each is paid off and 600.00 goes back; 5,000.00
    # does not, so line 1 and the next (1,200.00) are kept and 3,800.00 goes back
    refund = Policy(holiday_country=None, overpayment="refund")
    state = consolidated_state(PLAN, [Payment(DATES[0], 660_000)], on=DATES[0], policy=refund)
    assert state.splits[0].unallocated_minor == 60_000
    assert state.status is PlanStatus.COMPLETED
    state = consolidated_state(PLAN, [Payment(DATES[0], 500_000)], on=DATES[0], policy=refund)
    assert state.splits[0].unallocated_minor == 380_000
    assert [a.payment_minor for a in state.splits[0].allocations] == [20_000, 40_000, 60_000]


def test_an_ordered_plan_pays_the_debt_whose_turn_it_is() -> None:
    debts = [
        named("a", 100_000, rate="0.18"),
        named("b", 200_000, rate="0.24"),
        named("c", 300_000, rate="0.24"),
    ]
    offer = consolidated_instalment(
        debts, Capacity(60_000), policy=HAND, rule=AllocationRule.HIGHEST_RATE_FIRST
    )
    first = offer.schedule.lines[0].payment_date
    [(parts, _)] = share_payments(offer, [Payment(first, 50_000)], policy=HAND)
    assert parts == [0, 50_000, 0]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_one_debt_is_judged_as_its_single_plan(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    kind = data.draw(st.sampled_from(list(OfferKind)))
    try:
        offer = MAKERS[kind]([NamedDebt("only", debt)], capacity, policy=Policy())
    except DomainError:
        return
    lines = offer.schedule.lines
    payments = [
        Payment(
            lines[0].payment_date + timedelta(days=data.draw(st.integers(0, 400))),
            data.draw(st.integers(1, max(1, offer.metrics.total_paid_minor))),
        )
        for _ in range(data.draw(st.integers(0, 4)))
    ]
    on = lines[-1].payment_date + timedelta(days=data.draw(st.integers(-200, 200)))
    on = max(on, offer.as_of)
    single = offer.debts[0].offer
    # as the service judges one debt's plan: its payoff quote paid pays it off
    terms = PayoffTerms(
        single.kind in (OfferKind.SETTLEMENT, OfferKind.SETTLEMENT_PLAN),
        single.terms.nominal_annual_rate,
        single.as_of,
        single.owed.interest_minor - single.waiver.interest_minor,
    )
    expected = plan_state(
        scheduled_lines(single),
        payments,
        on=on,
        policy=Policy(),
        owed=single.owed,
        waiver=single.waiver,
        payoff=terms,
    )
    state = consolidated_state(offer, payments, on=on, policy=Policy())
    assert state.debts[0].state == expected


@settings(max_examples=60, deadline=None)
@given(several(), st.sampled_from(list(AllocationRule)), st.data())
def test_shares_add_up_to_each_payment(
    drawn: tuple[list[NamedDebt], Capacity], rule: AllocationRule, data: st.DataObject
) -> None:
    debts_drawn, capacity = drawn
    try:
        offer = MAKERS[OfferKind.INSTALMENT](debts_drawn, capacity, policy=Policy(), rule=rule)
    except DomainError:
        return
    first = offer.schedule.lines[0].payment_date
    payments = [
        Payment(
            first + timedelta(days=data.draw(st.integers(0, 300))),
            data.draw(st.integers(1, offer.metrics.total_paid_minor + 100)),
        )
        for _ in range(data.draw(st.integers(1, 4)))
    ]
    state = consolidated_state(offer, payments, on=first + timedelta(days=400), policy=Policy())
    for payment, split in zip(sorted(payments, key=lambda p: p.paid_on), state.splits, strict=True):
        assert split.allocated_minor + split.unallocated_minor == payment.amount_minor
        for allocation in split.allocations:
            parts = allocation.principal_minor + allocation.interest_minor + allocation.fees_minor
            assert parts == allocation.payment_minor  # each debt's plan took its share whole
    credited = sum(s.allocated_minor for s in state.splits)
    assert state.paid_minor == credited
    assert state.outstanding_minor == offer.metrics.total_paid_minor - credited


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_payment_shared_from_each_debts_own_state_is_shared_as_from_the_offer(
    data: st.DataObject,
) -> None:
    # How the service records a payment: from what each debt's own plan still asks (its state
    # after the payments before), never from a replay of the whole group. Both must agree.
    rule = data.draw(st.sampled_from(list(AllocationRule)))
    debts_, capacity = data.draw(several())
    try:
        offer = consolidated_instalment(debts_, capacity, policy=Policy(), rule=rule)
    except DomainError:
        return
    dates = [x.payment_date for x in offer.schedule.lines]
    total = offer.schedule.totals.payment_minor
    amounts = data.draw(st.lists(st.integers(1, max(1, total // 3)), min_size=1, max_size=4))
    days = sorted(
        data.draw(st.lists(st.integers(0, 400), min_size=len(amounts), max_size=len(amounts)))
    )
    payments = [
        Payment(offer.as_of + timedelta(days=d), a) for d, a in zip(days, amounts, strict=True)
    ]
    expected = share_payments(offer, payments, policy=Policy())
    rank = debt_ranks([p.named for p in offer.debts], rule)
    for k, payment in enumerate(payments):
        before = consolidated_state(offer, payments[:k], on=payment.paid_on, policy=Policy())
        lines = open_lines(dates, [standing.state.instalments for standing in before.debts])
        got = share_payment(
            lines, payment, rule=rule, rank=rank, overpayment=Overpayment.REDUCE_LAST
        )
        assert got == tuple(expected[k])
