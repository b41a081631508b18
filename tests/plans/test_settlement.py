"""Settlements: the discount by days past due, the waterfall it is taken down, and the plans.

The hand-worked debt: 10,000.00 of principal, 800.00 of interest and 200.00 of fees in
arrears (11,000.00 in all) on 25 Nov 2026; the default policy's discount table.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.calendar import is_business_day
from plans.debt import Capacity, Debt
from plans.errors import (
    DomainError,
    ExceedsCapacity,
    InvalidDate,
    LumpSumNotAvailable,
    NotAllowed,
    TermBeyondMax,
)
from plans.policy import Component, DiscountBand, Policy
from plans.schedule import LineKind, Waiver
from plans.settlement import settle_discount, settlement, settlement_plan
from tests.plans.conftest import capacities, debts

AS_OF = date(2026, 11, 25)


def debt_of(days_past_due: int = 200, *, as_of: date = AS_OF) -> Debt:
    return Debt("CNY", 1_000_000, 80_000, 20_000, Decimal("0.18"), as_of, days_past_due)


@pytest.mark.parametrize(
    ("days_past_due", "bps", "waived"),
    [
        # the default table: 0 / 30 / 90 / 180 / 360 / 720 days -> 0 / 5 / 10 / 20 / 30 / 40 %
        (0, 0, 0),
        (29, 0, 0),
        (30, 500, 55_000),
        (89, 500, 55_000),
        (90, 1000, 110_000),
        (179, 1000, 110_000),
        (180, 2000, 220_000),
        (359, 2000, 220_000),
        (360, 3000, 330_000),
        (720, 4000, 440_000),
        (1500, 4000, 440_000),
    ],
)
def test_discount_by_days_past_due(days_past_due: int, bps: int, waived: int) -> None:
    offer = settlement(debt_of(days_past_due), policy=Policy())
    assert offer.terms.discount_bps == bps
    assert offer.waiver.total_minor == waived
    assert offer.metrics.total_paid_minor == 1_100_000 - waived


def test_discount_is_capped_by_the_policys_maximum() -> None:
    # 400 days earns 30 %, capped at 25 %: 2,750.00 of 11,000.00
    offer = settlement(debt_of(400), policy=Policy(max_discount_bps=2500))
    assert offer.terms.discount_bps == 2500
    assert offer.waiver.total_minor == 275_000


@pytest.mark.parametrize(
    ("waterfall", "waiver"),
    [
        # 2,200.00 (20 %) taken down the waterfall
        (Policy().waterfall, Waiver(20_000, 80_000, 120_000)),  # fees, interest, principal
        ((Component.PRINCIPAL, Component.INTEREST, Component.FEES), Waiver(0, 0, 220_000)),
        ((Component.INTEREST, Component.PRINCIPAL, Component.FEES), Waiver(0, 80_000, 140_000)),
    ],
)  # fmt: skip
def test_discount_is_taken_down_the_waterfall(
    waterfall: tuple[Component, ...], waiver: Waiver
) -> None:
    policy = Policy(waterfall=waterfall)
    assert settle_discount(debt_of(), discount_bps=2000, policy=policy) == waiver
    offer = settlement(debt_of(), policy=policy)
    assert offer.waiver == waiver
    line = offer.schedule.lines[0]
    # the payment settles what the waiver left: 11,000.00 less the waiver, component by component
    assert (line.fees_minor, line.interest_minor, line.principal_minor) == (
        20_000 - waiver.fees_minor,
        80_000 - waiver.interest_minor,
        1_000_000 - waiver.principal_minor,
    )


def test_lump_sum_settlement_line() -> None:
    offer = settlement(debt_of(), policy=Policy(), capacity=Capacity(0, lump_sum_minor=880_000))
    (line,) = offer.schedule.lines
    assert line.kind is LineKind.SETTLEMENT
    # 14 days' window: 9 Dec 2026, a Wednesday
    assert (line.due_date, line.payment_date) == (date(2026, 12, 9), date(2026, 12, 9))
    assert offer.terms.settle_by == date(2026, 12, 9)
    assert (line.opening_balance_minor, line.payment_minor, line.waived_minor) == (
        1_100_000,
        880_000,
        220_000,
    )
    assert line.closing_balance_minor == 0
    assert offer.metrics.apr == 0 and offer.metrics.finance_charge_minor == 0


def test_lump_sum_settlement_needs_the_lump_sum() -> None:
    with pytest.raises(LumpSumNotAvailable) as info:
        settlement(debt_of(), policy=Policy(), capacity=Capacity(100_000, lump_sum_minor=879_999))
    assert (info.value.field, info.value.rule) == ("capacity.lump_sum", "lump_sum")


def test_settle_by_deadline_rolls_to_a_business_day() -> None:
    # 17 Sep 2026 + 14 days = 1 Oct, National Day: the Golden Week holiday runs to 7 Oct
    offer = settlement(debt_of(as_of=date(2026, 9, 17)), policy=Policy())
    line = offer.schedule.lines[0]
    assert (line.due_date, line.payment_date) == (date(2026, 10, 1), date(2026, 10, 8))
    assert offer.terms.settle_by == date(2026, 10, 1)


def test_settle_by_before_the_as_of_date_is_refused() -> None:
    with pytest.raises(InvalidDate) as info:
        settlement(debt_of(), policy=Policy(), settle_by=AS_OF - timedelta(days=1))
    assert (info.value.field, info.value.rule) == ("settle_by", "not_before_as_of")


@pytest.mark.parametrize(
    ("make", "allowed"),
    [
        (lambda bps: settlement(debt_of(), policy=Policy(), discount_bps=bps), 2000),
        # a plan earns half the table's discount (settlement_plan_discount_share_bps = 5000)
        (lambda bps: settlement_plan(debt_of(), policy=Policy(), discount_bps=bps), 1000),
    ],
)
def test_an_explicit_discount_above_the_allowance_is_refused(make: object, allowed: int) -> None:
    assert make(allowed).terms.discount_bps == allowed  # type: ignore[operator]
    with pytest.raises(NotAllowed) as info:
        make(allowed + 1)  # type: ignore[operator]
    assert (info.value.field, info.value.rule) == ("discount_bps", "max_discount")


def test_settlement_plan_earns_the_policys_share_in_as_few_instalments_as_fit() -> None:
    # 20 % at 200 days, half of it for a plan: 10 % = 1,100.00 off, 9,900.00 to pay;
    # at 3,000.00 a month that is ceil(3.3) = 4 instalments of 2,475.00
    offer = settlement_plan(debt_of(), policy=Policy(), capacity=Capacity(300_000))
    lines = offer.schedule.lines
    assert offer.terms.discount_bps == 1000
    assert offer.waiver == Waiver(fees_minor=20_000, interest_minor=80_000, principal_minor=10_000)
    assert [x.kind for x in lines] == [LineKind.INSTALMENT] * 4
    assert [x.payment_minor for x in lines] == [247_500] * 4
    # the whole debt is shown until the last line, where the discount is granted
    assert [x.closing_balance_minor for x in lines] == [852_500, 605_000, 357_500, 0]
    assert [x.waived_minor for x in lines] == [0, 0, 0, 110_000]
    assert all(is_business_day(x.payment_date, "CN") for x in lines)


def test_settlement_plan_uneven_split_and_down_payment() -> None:
    # 4,000.00 now from the lump sum; 5,900.00 left at 3,000.00 a month: 2 of 2,950.00
    offer = settlement_plan(debt_of(), policy=Policy(), capacity=Capacity(300_000, 400_000))
    lines = offer.schedule.lines
    assert [x.kind for x in lines] == [LineKind.DOWN_PAYMENT, *[LineKind.INSTALMENT] * 2]
    assert [x.payment_minor for x in lines] == [400_000, 295_000, 295_000]
    assert [x.closing_balance_minor for x in lines] == [700_000, 405_000, 0]
    assert lines[0].payment_date == AS_OF
    # 9,900.00 at 2,000.00 a month: 5 instalments of 1,980.00
    five = settlement_plan(debt_of(), policy=Policy(), capacity=Capacity(200_000))
    assert [x.payment_minor for x in five.schedule.lines] == [198_000] * 5


def test_settlement_plan_has_at_most_the_policys_instalments() -> None:
    # 9,900.00 at 1,000.00 a month needs 10 instalments; the policy allows 6
    with pytest.raises(ExceedsCapacity) as info:
        settlement_plan(debt_of(), policy=Policy(), capacity=Capacity(100_000))
    assert (info.value.field, info.value.rule) == ("capacity.payment", "capacity")
    offer = settlement_plan(
        debt_of(), policy=Policy(settlement_plan_max_instalments=10), capacity=Capacity(100_000)
    )
    assert [x.payment_minor for x in offer.schedule.lines] == [99_000] * 10
    with pytest.raises(TermBeyondMax) as too_many:
        settlement_plan(debt_of(), policy=Policy(), instalments=7)
    assert (too_many.value.field, too_many.value.rule) == ("instalments", "max_instalments")


def test_settlement_plan_with_instalments_above_the_capacity_is_refused() -> None:
    # 9,900.00 in 3 is 3,300.00 each, above 3,000.00
    with pytest.raises(ExceedsCapacity) as info:
        settlement_plan(debt_of(), policy=Policy(), capacity=Capacity(300_000), instalments=3)
    assert (info.value.field, info.value.rule) == ("capacity.payment", "capacity")


policies = st.builds(
    Policy,
    discount_bands=st.lists(
        st.builds(DiscountBand, st.integers(0, 1000), st.integers(0, 10_000)), max_size=4
    ).map(tuple),
    max_discount_bps=st.integers(0, 10_000),
    waterfall=st.permutations(list(Component)).map(tuple),
    holiday_country=st.sampled_from(["CN", "US", "GB", None]),
)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_discount_never_exceeds_the_policys_cap(data: st.DataObject) -> None:
    debt = data.draw(debts())
    policy = data.draw(policies)
    for offer in (settlement(debt, policy=policy), settlement_plan(debt, policy=policy)):
        assert offer.terms.discount_bps <= policy.max_discount_bps
        # the waiver is the capped share of the debt, rounded to the unit
        assert (
            10_000 * offer.waiver.total_minor <= debt.total_minor * policy.max_discount_bps + 5_000
        )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_bigger_discount_never_raises_the_total_paid(data: st.DataObject) -> None:
    debt = data.draw(debts())
    policy = data.draw(st.sampled_from([Policy(), Policy(waterfall=tuple(reversed(Component)))]))
    allowed = policy.discount_bps(days_past_due=debt.days_past_due)
    small = data.draw(st.integers(0, allowed))
    big = data.draw(st.integers(small, allowed))
    paid = [
        settlement(debt, policy=policy, discount_bps=bps).metrics.total_paid_minor
        for bps in (small, big)
    ]
    assert paid[1] <= paid[0]
    share = allowed * policy.settlement_plan_discount_share_bps // 10_000
    small, big = sorted(data.draw(st.integers(0, share)) for _ in range(2))
    plan_paid = [
        settlement_plan(debt, policy=policy, discount_bps=bps).metrics.total_paid_minor
        for bps in (small, big)
    ]
    assert plan_paid[1] <= plan_paid[0]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_settlement_invariants(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    policy = data.draw(policies)
    for make in (settlement, settlement_plan):
        try:
            offer = make(debt, policy=policy, capacity=capacity)
        except DomainError:
            continue
        lines = offer.schedule.lines
        totals = offer.schedule.totals
        assert totals.payment_minor == sum(x.payment_minor for x in lines)
        assert (
            totals.payment_minor
            == totals.interest_minor + totals.fees_minor + totals.principal_minor
        )
        assert all(
            x.payment_minor == x.interest_minor + x.fees_minor + x.principal_minor for x in lines
        )
        # the discounted total is paid, the discount waived, nothing else
        assert totals.payment_minor + totals.waived_minor == debt.total_minor
        assert totals.waived_minor == offer.waiver.total_minor == lines[-1].waived_minor
        assert lines[-1].closing_balance_minor == 0
        assert all(x.closing_balance_minor >= 0 for x in lines)
        assert all(a.payment_date < b.payment_date for a, b in itertools.pairwise(lines))
        for x in lines:
            limit = (
                capacity.payment_minor if x.kind is LineKind.INSTALMENT else capacity.lump_sum_minor
            )
            assert x.payment_minor <= limit
        if len(lines) > 1:
            assert lines[0].closing_balance_minor == debt.total_minor - lines[0].payment_minor


@settings(max_examples=60, deadline=None)
@given(
    st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    st.integers(0, 14),  # the default policy's settlement window
    st.sampled_from(["CN", "US", "GB", None]),
)
def test_settle_by_rolls_to_the_next_business_day(
    as_of: date, days: int, country: str | None
) -> None:
    deadline = as_of + timedelta(days=days)
    offer = settlement(
        debt_of(as_of=as_of), policy=Policy(holiday_country=country), settle_by=deadline
    )
    line = offer.schedule.lines[0]
    assert line.due_date == offer.terms.settle_by == deadline
    assert is_business_day(line.payment_date, country)
    # the first business day on or after the deadline: none between them
    day = deadline
    while day < line.payment_date:
        assert not is_business_day(day, country)
        day += timedelta(days=1)


def test_settle_by_beyond_the_policys_window_is_refused() -> None:
    debt = debt_of()
    with pytest.raises(NotAllowed) as info:
        settlement(debt, policy=Policy(), settle_by=debt.as_of + timedelta(days=15))
    assert (info.value.field, info.value.rule) == ("settle_by", "settlement_window")
