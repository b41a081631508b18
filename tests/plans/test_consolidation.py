"""Consolidated plans: one payment shared between several debts, and one plan for them all.

Pro rata is the UK debt-management convention: National Debtline's "Pro-rata offers of
payment" (https://www.nationaldebtline.org/S/steps/step4/Pages/Step_4_03.aspx) has the debtor
list the non-priority debts, add them up, and offer each creditor the amount available times
what that creditor is owed, divided by the total owed; StepChange describes a debt management
plan as sharing what is left after priority payments and living costs "fairly between your
creditors" (https://www.stepchange.org/debt-info/how-debt-management-plans-work.aspx), and
Advice NI calls the shares worked out by the amount owed to each creditor "pro rata payments"
(https://www.adviceni.net/content/what-debt-management-plan-dmp). The worked examples below
are those pages' own, to the penny, with the largest remainder deciding the pennies that
independent rounding leaves over or short.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.allocation import AllocationRule, NamedDebt, payment_order, shares, split_payment
from plans.calendar import Frequency
from plans.consolidation import (
    MAKERS,
    ConsolidatedOffer,
    consolidated_deferral,
    consolidated_instalment,
    consolidated_settlement,
    consolidated_settlement_plan,
    negotiate_consolidated,
)
from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError, LumpSumNotAvailable, NotAllowed
from plans.instalment import instalment_plan
from plans.offer import Owed
from plans.policy import ArrearsTreatment, Component, DeferralInterest, OfferKind, Policy
from plans.schedule import LineKind
from plans.settlement import settlement, settlement_plan
from tests.plans.conftest import capacities, debts

AS_OF = date(2026, 11, 25)
PRO_RATA = AllocationRule.PRO_RATA
AVALANCHE = AllocationRule.HIGHEST_RATE_FIRST
OLDEST = AllocationRule.OLDEST_FIRST


def named(ref: str, amount: int, *, rate: str = "0", dpd: int = 90, **parts: int) -> NamedDebt:
    """A GBP debt of ``amount`` pence of principal (or the ``principal``/``interest``/``fees``
    given), on 25 Nov 2026."""
    principal = parts.get("principal", amount)
    debt = Debt(
        "GBP",
        principal,
        parts.get("interest", 0),
        parts.get("fees", 0),
        Decimal(rate),
        AS_OF,
        dpd,
    )
    return NamedDebt(ref, debt)


def paid(split_or_line: object) -> list[int]:
    allocations = getattr(split_or_line, "allocations", split_or_line)
    return [a.payment_minor for a in allocations]  # type: ignore[attr-defined]


THREE = [named("a", 100_000), named("b", 200_000), named("c", 300_000)]


# --- one payment, split -------------------------------------------------------------------


def test_pro_rata_three_debts_to_the_penny() -> None:
    # 500.00 over 1,000.00 / 2,000.00 / 3,000.00 (6,000.00 in all):
    #   a: 50,000 × 100,000 / 600,000 =  8,333.33p -> floor  8,333, remainder 0.33
    #   b: 50,000 × 200,000 / 600,000 = 16,666.67p -> floor 16,666, remainder 0.67
    #   c: 50,000 × 300,000 / 600,000 = 25,000.00p -> floor 25,000, remainder 0
    # floors sum to 49,999p: the one penny left goes to the largest remainder, b.
    # 83.33 + 166.67 + 250.00 = 500.00
    split = split_payment(50_000, THREE, policy=Policy())
    assert paid(split) == [8_333, 16_667, 25_000]
    assert split.unallocated_minor == 0


def test_pro_rata_money_advice_hub_example() -> None:
    # Money Advice Hub, "Informal offers: how to calculate a pro-rata payment"
    # (https://www.moneyadvicehub.org.uk/debtipedia/your-debt/debt-options/informal-offers):
    # £100.00 a month over a credit card £500, a personal loan £1,000, a catalogue £233 and a
    # store card £200 (£1,933): £25.87, £51.73, £12.05 and £10.35.
    #   card      10,000 × 500 / 1,933 = 2,586.65p -> 2,586, remainder 0.653
    #   loan      10,000 × 1,000 / 1,933 = 5,173.31p -> 5,173, remainder 0.306
    #   catalogue 10,000 × 233 / 1,933 = 1,205.38p -> 1,205, remainder 0.380
    #   store     10,000 × 200 / 1,933 = 1,034.66p -> 1,034, remainder 0.661
    # floors 9,998p; the two pennies left go to the store card (0.661) and the card (0.653).
    debts = [
        named("card", 50_000),
        named("loan", 100_000),
        named("catalogue", 23_300),
        named("store", 20_000),
    ]
    assert paid(split_payment(10_000, debts, policy=Policy())) == [2_587, 5_173, 1_205, 1_035]


def test_pro_rata_where_rounding_each_share_loses_a_penny() -> None:
    # Angel Advance, "Offers to creditors": £160 over a bank loan £4,550, a credit card £6,700
    # and a store card £1,200 (£12,450), each share rounded alone: £58.47 + £86.10 + £15.42 =
    # £159.99, a penny short of what the debtor pays.
    #   loan  16,000 × 4,550 / 12,450 = 5,847.39p -> 5,847, remainder 0.39
    #   card  16,000 × 6,700 / 12,450 = 8,610.44p -> 8,610, remainder 0.44
    #   store 16,000 × 1,200 / 12,450 = 1,542.17p -> 1,542, remainder 0.17
    # floors 15,999p; the penny goes to the card: £58.47 + £86.11 + £15.42 = £160.00.
    debts = [named("loan", 455_000), named("card", 670_000), named("store", 120_000)]
    assert paid(split_payment(16_000, debts, policy=Policy())) == [5_847, 8_611, 1_542]


def test_pro_rata_a_single_penny_goes_to_the_largest_remainder() -> None:
    # 1p over 1,000 / 2,000 / 3,000: remainders 1/6, 2/6, 3/6 of a penny: c takes it.
    assert paid(split_payment(1, THREE, policy=Policy())) == [0, 0, 1]


def test_pro_rata_share_goes_down_each_debts_own_waterfall() -> None:
    # a owes 10.00 of fees, 50.00 of interest and 940.00 of principal (1,000.00): its 83.33
    # share pays the fees, then the interest, then 23.33 of principal (the default waterfall).
    debts = [named("a", 0, principal=94_000, interest=5_000, fees=1_000), *THREE[1:]]
    first = split_payment(50_000, debts, policy=Policy()).allocations[0]
    assert (first.fees_minor, first.interest_minor, first.principal_minor) == (1_000, 5_000, 2_333)
    # with principal first, the same share is all principal
    waterfall = (Component.PRINCIPAL, Component.INTEREST, Component.FEES)
    first = split_payment(50_000, debts, policy=Policy(waterfall=waterfall)).allocations[0]
    assert (first.fees_minor, first.interest_minor, first.principal_minor) == (0, 0, 8_333)


def test_highest_rate_first_ties_by_ref() -> None:
    # a 1,000.00 at 18 %, b 2,000.00 at 24 %, c 3,000.00 at 24 %: b and c tie on the rate and
    # b comes first by ref. 2,500.00 clears b (2,000.00) and pays 500.00 to c; a gets nothing.
    debts = [
        named("a", 100_000, rate="0.18"),
        named("b", 200_000, rate="0.24"),
        named("c", 300_000, rate="0.24"),
    ]
    assert payment_order(debts, AVALANCHE) == [1, 2, 0]
    assert paid(split_payment(250_000, debts, policy=Policy(), rule=AVALANCHE)) == [
        0,
        200_000,
        50_000,
    ]


def test_oldest_first_ties_by_ref() -> None:
    # a 400 days past due, b 95, c 400: a and c tie and a comes first by ref. 3,500.00 clears
    # a (1,000.00) and pays 2,500.00 to c; b gets nothing.
    debts = [
        named("a", 100_000, dpd=400),
        named("b", 200_000, dpd=95),
        named("c", 300_000, dpd=400),
    ]
    assert payment_order(debts, OLDEST) == [0, 2, 1]
    assert paid(split_payment(350_000, debts, policy=Policy(), rule=OLDEST)) == [
        100_000,
        0,
        250_000,
    ]


@pytest.mark.parametrize("rule", list(AllocationRule))
def test_an_over_payment_clears_everything_and_the_rest_is_left(rule: AllocationRule) -> None:
    # 7,000.00 against 6,000.00 owed: each debt is paid off; 1,000.00 is not allocated.
    split = split_payment(700_000, THREE, policy=Policy(), rule=rule)
    assert paid(split) == [100_000, 200_000, 300_000]
    assert split.unallocated_minor == 100_000


def test_split_of_what_is_still_owed() -> None:
    # After a has been paid off, the 500.00 goes to b and c only: 200.00 and 300.00.
    owed = [Owed(0, 0, 0), Owed(200_000, 0, 0), Owed(300_000, 0, 0)]
    assert paid(split_payment(50_000, THREE, policy=Policy(), owed=owed)) == [0, 20_000, 30_000]


def test_capped_pro_rata_shares_pass_the_excess_on() -> None:
    # weights 1:1 but a can take only 1.00: b takes the other 4.00
    assert shares(500, [100, 1_000], order=[0, 1], rule=PRO_RATA, weights=[1, 1]) == [100, 400]


@pytest.mark.parametrize(
    ("debts", "rule"),
    [
        ([], "min_debts"),
        ([named("a", 100)] * 2, "unique_ref"),
        ([named(str(i), 100) for i in range(11)], "max_debts"),
        (
            [
                named("a", 100),
                NamedDebt("b", dataclasses.replace(named("b", 100).debt, currency="EUR")),
            ],
            "one_currency",
        ),
    ],
)
def test_bad_debts_name_the_rule(debts: list[NamedDebt], rule: str) -> None:
    with pytest.raises(DomainError) as caught:
        split_payment(100, debts, policy=Policy())
    assert caught.value.rule == rule


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 10**9), min_size=1, max_size=10),
    st.integers(0, 10**10),
    st.sampled_from(list(AllocationRule)),
)
def test_a_split_always_adds_up(balances: list[int], amount: int, rule: AllocationRule) -> None:
    debts = [named(f"d{i}", max(b, 1)) for i, b in enumerate(balances)]
    owed = [Owed(b, 0, 0) for b in balances]
    split = split_payment(amount, debts, policy=Policy(), rule=rule, owed=owed)
    assert split.allocated_minor + split.unallocated_minor == amount
    assert split.allocated_minor == min(amount, sum(balances))
    for allocation, balance in zip(split.allocations, balances, strict=True):
        assert 0 <= allocation.payment_minor <= balance
        parts = allocation.principal_minor + allocation.interest_minor + allocation.fees_minor
        assert parts == allocation.payment_minor
    if rule is PRO_RATA and amount <= sum(balances) and sum(balances):
        for allocation, balance in zip(split.allocations, balances, strict=True):
            # largest remainder: each share within a unit of its exact proportion
            assert abs(allocation.payment_minor * sum(balances) - amount * balance) < sum(balances)


# --- consolidated offers, by hand ---------------------------------------------------------

HAND = Policy(holiday_country=None)


def test_pro_rata_instalments_by_hand() -> None:
    # 600.00 a month over 1,000.00 / 2,000.00 / 3,000.00: shares 100.00 / 200.00 / 300.00, each
    # debt cleared by ten level payments (interest frozen, the default plan rate), together
    # 600.00 a month for ten months.
    offer = consolidated_instalment(THREE, Capacity(60_000), policy=HAND)
    assert [x.payment_minor for x in offer.schedule.lines] == [60_000] * 10
    assert all(paid(shared) == [10_000, 20_000, 30_000] for shared in offer.allocations)
    last = offer.schedule.lines[-1].payment_date
    assert [d.outcome.cleared_on for d in offer.debts] == [last] * 3
    assert [d.outcome.paid_minor for d in offer.debts] == [100_000, 200_000, 300_000]
    assert offer.metrics.total_paid_minor == 600_000
    assert offer.largest_payment_minor == 60_000


def test_pro_rata_instalments_with_pennies_by_hand() -> None:
    # 500.00 a month: shares 83.33 / 166.67 / 250.00 (as the split above). Each debt gets the
    # single-debt engine's shortest plan within its share:
    #   a: 1,000.00 / 12 = 83.333 -> 83.33, eleven of them leave 83.37 > 83.33 for the last;
    #      83.34 is above the share, so 13 payments: 1,000.00 / 13 = 76.92, last 76.96
    #   b: 2,000.00 / 12 = 166.667 -> 166.67, last 2,000.00 - 11 × 166.67 = 166.63
    #   c: 3,000.00 / 12 = 250.00 exactly
    offer = consolidated_instalment(THREE, Capacity(50_000), policy=HAND)
    payments = [x.payment_minor for x in offer.schedule.lines]
    assert payments == [7_692 + 16_667 + 25_000] * 11 + [7_692 + 16_663 + 25_000, 7_696]
    assert paid(offer.allocations[-1]) == [7_696]
    lines = offer.schedule.lines
    assert [d.outcome.cleared_on for d in offer.debts] == [
        lines[12].payment_date,
        lines[11].payment_date,
        lines[11].payment_date,
    ]


def test_highest_rate_first_instalments_by_hand() -> None:
    # 600.00 a month, b (24 %) then c (24 %, after b by ref) then a (18 %), interest frozen:
    #   b: 2,000.00 in the fewest payments of at most 600.00: 4 of 500.00 (months 1-4)
    #   c: 3,000.00: 5 of 600.00 (months 5-9)
    #   a: 1,000.00: 2 of 500.00 (months 10-11)
    debts = [
        named("a", 100_000, rate="0.18"),
        named("b", 200_000, rate="0.24"),
        named("c", 300_000, rate="0.24"),
    ]
    offer = consolidated_instalment(debts, Capacity(60_000), policy=HAND, rule=AVALANCHE)
    lines = offer.schedule.lines
    assert [x.payment_minor for x in lines] == [50_000] * 4 + [60_000] * 5 + [50_000] * 2
    assert [[a.debt_ref for a in shared] for shared in offer.allocations] == [["b"]] * 4 + [
        ["c"]
    ] * 5 + [["a"]] * 2
    assert [d.outcome.cleared_on for d in offer.debts] == [
        lines[10].payment_date,
        lines[3].payment_date,
        lines[8].payment_date,
    ]


def test_oldest_first_instalments_by_hand() -> None:
    # a 400 days past due, then c 200, then b 95: 2 × 500.00, 5 × 600.00, 4 × 500.00.
    debts = [
        named("a", 100_000, dpd=400),
        named("b", 200_000, dpd=95),
        named("c", 300_000, dpd=200),
    ]
    offer = consolidated_instalment(debts, Capacity(60_000), policy=HAND, rule=OLDEST)
    assert [x.payment_minor for x in offer.schedule.lines] == (
        [50_000] * 2 + [60_000] * 5 + [50_000] * 4
    )


def test_waiting_debt_accrues_its_own_rate() -> None:
    # Contractual rates (plan_rate=None), 600.00 a month, highest rate first:
    #   b 1,200.00 at 24 % (2 % a month): two payments would be 622.18 each, above 600.00, so
    #     three: 416.11, 416.11 and 416.10 (25 Dec, 25 Jan, 25 Feb).
    #   a 1,200.00 at 12 % waits; its plan is the single-debt plan whose first instalment is
    #     on 25 Mar 2027: four whole months at 1 % on 1,200.00 = 48.00 on its first line.
    debts = [named("a", 120_000, rate="0.12"), named("b", 120_000, rate="0.24")]
    policy = Policy(plan_rate=None, holiday_country=None)
    offer = consolidated_instalment(debts, Capacity(60_000), policy=policy, rule=AVALANCHE)
    assert [x.payment_minor for x in offer.debts[1].offer.schedule.lines] == [
        41_611,
        41_611,
        41_610,
    ]
    a_plan = offer.debts[0].offer
    assert a_plan.terms.first_due == date(2027, 3, 25)
    assert a_plan.schedule.lines[0].interest_accrued_minor == 4_800
    later = instalment_plan(
        debts[0].debt, policy=policy, capacity=Capacity(60_000), first_due=date(2027, 3, 25)
    )
    assert a_plan.schedule == later.schedule


def test_consolidated_deferral_by_hand() -> None:
    # The default policy pauses 2 months (interest frozen), then 300.00 a month pro rata:
    # 100.00 to a (1,000.00) and 200.00 to b (2,000.00), ten months.
    offer = consolidated_deferral(THREE[:2], Capacity(30_000), policy=HAND)
    kinds = [x.kind for x in offer.schedule.lines]
    assert kinds == [LineKind.DEFERRAL] * 2 + [LineKind.INSTALMENT] * 10
    assert [x.payment_minor for x in offer.schedule.lines] == [0, 0] + [30_000] * 10
    assert paid(offer.allocations[2]) == [10_000, 20_000]


def test_consolidated_settlement_by_hand() -> None:
    # a 1,000.00 at 30 days past due: 5 % off, pays 950.00; b 2,000.00 at 200 days: 20 % off,
    # pays 1,600.00 (the default discount table). One lump sum of 2,550.00 on one date.
    debts = [named("a", 100_000, dpd=30), named("b", 200_000, dpd=200)]
    offer = consolidated_settlement(debts, Capacity(0, lump_sum_minor=255_000), policy=HAND)
    (line,) = offer.schedule.lines
    assert (line.payment_minor, line.waived_minor) == (255_000, 45_000)
    assert [(a.payment_minor, a.waived_minor) for a in offer.allocations[0]] == [
        (95_000, 5_000),
        (160_000, 40_000),
    ]
    with pytest.raises(LumpSumNotAvailable):
        consolidated_settlement(debts, Capacity(0, lump_sum_minor=254_999), policy=HAND)


def test_consolidated_settlement_needs_one_window() -> None:
    late = NamedDebt("b", dataclasses.replace(THREE[1].debt, as_of=AS_OF + timedelta(days=15)))
    with pytest.raises(NotAllowed) as caught:
        consolidated_settlement([THREE[0], late], Capacity(0, lump_sum_minor=10**7), policy=HAND)
    assert caught.value.rule == "settlement_window"


def test_consolidated_settlement_plan_by_hand() -> None:
    # 200 days past due: 20 % off, half of it for a plan: 10 %. a settles for 900.00, b for
    # 1,800.00; 900.00 a month shared by those amounts: 300.00 and 600.00, three months.
    debts = [named("a", 100_000, dpd=200), named("b", 200_000, dpd=200)]
    offer = consolidated_settlement_plan(debts, Capacity(90_000), policy=HAND)
    assert [x.payment_minor for x in offer.schedule.lines] == [90_000] * 3
    assert all(paid(shared) == [30_000, 60_000] for shared in offer.allocations)
    assert [a.waived_minor for a in offer.allocations[-1]] == [10_000, 20_000]


def test_an_error_names_its_debt() -> None:
    debts = [named("a", 100_000, rate="0.36"), named("b", 100_000)]
    with pytest.raises(DomainError) as caught:
        consolidated_instalment(debts, Capacity(50_000), policy=Policy(plan_rate=None))
    assert (caught.value.field, caught.value.rule) == ("annual_rate", "rate_cap")
    assert "debt 'a'" in caught.value.detail


# --- properties -------------------------------------------------------------------------

SINGLE = {
    OfferKind.INSTALMENT: instalment_plan,
    OfferKind.DEFERRAL: deferral_plan,
    OfferKind.SETTLEMENT: settlement,
    OfferKind.SETTLEMENT_PLAN: settlement_plan,
}

POLICIES = st.sampled_from(
    [
        Policy(),
        Policy(plan_rate=None, rate_cap=Decimal("0.24")),
        Policy(plan_rate=None, arrears=ArrearsTreatment.WAIVE, holiday_country="GB"),
        Policy(
            plan_rate=Decimal("0.1"),
            deferral_interest=DeferralInterest.WAIVE,
            allow_down_payment=False,
        ),
        Policy(min_settlement_pct=Decimal(85), min_down_payment_pct=Decimal(10)),
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_one_debt_is_the_single_debt_plan(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    policy = data.draw(POLICIES)
    kind = data.draw(st.sampled_from(list(OfferKind)))
    rule = data.draw(st.sampled_from(list(AllocationRule)))
    try:
        single = SINGLE[kind](debt, policy=policy, capacity=capacity)
    except DomainError as error:
        with pytest.raises(type(error)) as caught:
            MAKERS[kind]([NamedDebt("only", debt)], capacity, policy=policy, rule=rule)
        assert caught.value.rule == error.rule
        return
    offer = MAKERS[kind]([NamedDebt("only", debt)], capacity, policy=policy, rule=rule)
    assert offer.schedule == single.schedule
    assert offer.metrics == single.metrics
    assert offer.waiver == single.waiver
    assert offer.owed == single.owed
    assert offer.debts[0].offer == single
    for line, shared in zip(offer.schedule.lines, offer.allocations, strict=True):
        (only,) = shared
        assert (only.payment_minor, only.principal_minor, only.interest_minor) == (
            line.payment_minor,
            line.principal_minor,
            line.interest_minor,
        )


@st.composite
def several(draw: st.DrawFn) -> tuple[list[NamedDebt], Capacity]:
    """2 to 5 debts of one currency within a few days of each other, and a capacity."""
    code = draw(st.sampled_from(["GBP", "CNY", "JPY", "KWD"]))
    scale = {"JPY": 1, "KWD": 1000}.get(code, 100)
    base = draw(st.dates(date(2025, 1, 1), date(2027, 12, 31)))
    count = draw(st.integers(2, 5))
    made = []
    for i in range(count):
        principal = draw(st.integers(50, 500_000)) * scale
        debt = Debt(
            code,
            principal,
            draw(st.integers(0, principal // 4)),
            draw(st.integers(0, principal // 10)),
            Decimal(draw(st.integers(0, 2400))) / 10_000,
            base + timedelta(days=draw(st.integers(0, 10))),
            draw(st.integers(0, 1500)),
        )
        made.append(NamedDebt(f"r{i}", debt))
    total = sum(d.debt.total_minor for d in made)
    payment = draw(st.integers(max(1, total // 40), max(2, total)))
    lump = draw(st.sampled_from([0, total // 10, total // 2, total]))
    latest = max(d.debt.as_of for d in made)
    start = latest + timedelta(days=draw(st.integers(0, 40)))
    frequency = draw(st.sampled_from(list(Frequency)))
    return made, Capacity(payment, lump, start, frequency)


def check_offer(offer: ConsolidatedOffer, debts: list[NamedDebt], capacity: Capacity) -> None:
    """The relations a consolidated offer always keeps."""
    columns = ("payment", "principal", "interest", "fees", "waived", "interest_accrued")
    for line, shared in zip(offer.schedule.lines, offer.allocations, strict=True):
        for column in columns:
            total = sum(getattr(a, f"{column}_minor") for a in shared)
            assert total == getattr(line, f"{column}_minor"), (line.number, column)
        if line.kind in (LineKind.INSTALMENT, LineKind.DEFERRAL) and capacity.payment_minor:
            assert line.payment_minor <= capacity.payment_minor
    if offer.kind is OfferKind.SETTLEMENT:
        assert offer.metrics.total_paid_minor <= capacity.lump_sum_minor
    for named_debt, plan in zip(debts, offer.debts, strict=True):
        mine = [
            (line, a)
            for line, shared in zip(offer.schedule.lines, offer.allocations, strict=True)
            for a in shared
            if a.debt_ref == named_debt.ref
        ]
        paid_minor = sum(a.payment_minor for _, a in mine)
        waived = sum(a.waived_minor for _, a in mine)
        accrued = sum(a.interest_accrued_minor for _, a in mine)
        # what it owes (with the plan's interest), less what is waived, is what it is paid
        assert paid_minor == named_debt.debt.total_minor + accrued - waived
        assert plan.outcome.paid_minor == paid_minor
        assert plan.outcome.waived_minor == waived
        moving = [line for line, a in mine if a.payment_minor or a.waived_minor]
        assert plan.outcome.cleared_on == moving[-1].payment_date
    assert offer.schedule.lines[-1].closing_balance_minor == 0


@settings(max_examples=120, deadline=None)
@given(several(), st.sampled_from(list(OfferKind)), st.sampled_from(list(AllocationRule)), POLICIES)
def test_consolidated_offers_add_up_and_fit(
    drawn: tuple[list[NamedDebt], Capacity],
    kind: OfferKind,
    rule: AllocationRule,
    policy: Policy,
) -> None:
    debts_drawn, capacity = drawn
    try:
        offer = MAKERS[kind](debts_drawn, capacity, policy=policy, rule=rule)
    except DomainError:
        return
    check_offer(offer, debts_drawn, capacity)


def test_the_property_is_not_vacuous() -> None:
    # A spread of realistic cases succeeds for every kind and rule.
    debts = [
        named("card", 0, principal=250_000, interest=12_000, fees=3_000, rate="0.2", dpd=200),
        named("loan", 0, principal=800_000, interest=20_000, fees=0, rate="0.1", dpd=95),
        named("overdraft", 60_000, rate="0.3", dpd=400),
    ]
    for kind, make in MAKERS.items():
        # a lump-sum settlement needs the lump sum; the plans take some of it as a down payment
        capacity = {
            OfferKind.SETTLEMENT: Capacity(80_000, 1_000_000),
            OfferKind.SETTLEMENT_PLAN: Capacity(250_000, 20_000),
        }.get(kind, Capacity(80_000, 20_000))
        for rule in AllocationRule:
            check_offer(make(debts, capacity, policy=Policy(), rule=rule), debts, capacity)


def test_negotiate_ranks_consolidated_offers_and_names_rejections() -> None:
    # 300.00 a month, no lump sum: instalments and a deferral; no lump sum to settle with, and
    # a settlement plan (5 % off at 90 days) needs 9.5 months of a's 100.00 share, above 6.
    result = negotiate_consolidated(THREE[:2], Capacity(30_000), policy=HAND)
    assert [o.kind for o in result.ranked] == [OfferKind.INSTALMENT, OfferKind.DEFERRAL]
    assert [(r.kind, r.rule) for r in result.rejected] == [
        (OfferKind.SETTLEMENT, "lump_sum"),
        (OfferKind.SETTLEMENT_PLAN, "capacity"),
    ]
    assert result.best is result.ranked[0]
    late = negotiate_consolidated(THREE[:2], Capacity(30_000), policy=HAND, today=date(2027, 1, 1))
    assert {r.rule for r in late.rejected} >= {"first_payment_not_in_past"}


def test_a_lump_sum_one_debt_cannot_take_goes_to_the_next() -> None:
    # Oldest first, 1,500.00 of lump sum: a's down payment can be at most 999.99 (an
    # instalment plan leaves something to repay), so b takes the other 500.01.
    debts = [named("a", 100_000, dpd=400), named("b", 200_000, dpd=95)]
    offer = consolidated_instalment(debts, Capacity(60_000, 150_000), policy=HAND, rule=OLDEST)
    assert [d.offer.terms.down_payment_minor for d in offer.debts] == [99_999, 50_001]
