"""The policy's guardrails in the engine: a least down payment and a least settlement, as a
percentage of the balance owed, and no first payment before today.

The rules live where the offers are made (``plans/instalment.py``, ``plans/settlement.py``,
``plans/offer.py``) and are applied by ``plans/compare.py`` and ``plans/counter.py``; they are
tested together here because they are one feature of the policy (``plans/policy.py``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.compare import Comparison, negotiate
from plans.counter import Proposal, counter_offer
from plans.debt import Capacity, Debt
from plans.errors import DomainError, InvalidDate, NotAllowed
from plans.instalment import instalment_plan
from plans.offer import check_first_payment, first_payment_date
from plans.policy import OfferKind, Policy
from plans.schedule import LineKind
from plans.settlement import settlement, settlement_plan
from tests.plans.conftest import capacities, debts

AS_OF = date(2026, 11, 25)
# 10,000.00 principal, 350.00 interest and 150.00 fees: 10,500.00 owed, 95 days past due
# (the policy's default table: 10 % off a lump sum, half of it, 5 %, off a settlement plan)
DEBT = Debt("CNY", 1_000_000, 35_000, 15_000, Decimal("0.18"), AS_OF, 95)
TEN_PCT_DOWN = Policy(min_down_payment_pct=Decimal(10))  # at least 1,050.00 down


def rules(result: Comparison) -> dict[OfferKind, tuple[str, str]]:
    return {r.kind: (r.field, r.rule) for r in result.rejected}


# ---- min_down_payment_pct -----------------------------------------------------------------


def test_the_defaults_ask_no_down_payment() -> None:
    offer = instalment_plan(DEBT, policy=Policy(), term=8)
    assert offer.terms.down_payment_minor == 0


def test_an_explicit_down_payment_below_the_minimum_is_refused() -> None:
    # 10 % of 10,500.00 = 1,050.00; 1,049.99 is one fen short
    with pytest.raises(NotAllowed) as refused:
        instalment_plan(DEBT, policy=TEN_PCT_DOWN, term=8, down_payment_minor=104_999)
    assert (refused.value.field, refused.value.rule) == ("down_payment", "min_down_payment_pct")
    assert "1050.00 CNY" in refused.value.detail


def test_an_explicit_plan_without_a_down_payment_is_refused_not_given_one() -> None:
    with pytest.raises(NotAllowed) as refused:
        instalment_plan(DEBT, policy=TEN_PCT_DOWN, term=8)
    assert (refused.value.field, refused.value.rule) == ("down_payment", "min_down_payment_pct")


def test_a_down_payment_at_the_minimum_makes_the_plan() -> None:
    offer = instalment_plan(DEBT, policy=TEN_PCT_DOWN, term=8, down_payment_minor=105_000)
    # 10,500.00 - 1,050.00 = 9,450.00 over 8 under the interest freeze: 1,181.25 each
    assert offer.terms.down_payment_minor == 105_000
    assert offer.terms.instalment_minor == 118_125
    assert offer.schedule.lines[0].kind is LineKind.DOWN_PAYMENT


def test_negotiate_rejects_plans_the_lump_sum_cannot_start() -> None:
    # 1,000.00 cash now, 1,050.00 needed down: no instalment plan, no settlement plan (its
    # down payment is the lump sum too); the deferral takes no down payment and is made
    result = negotiate(DEBT, Capacity(125_000, lump_sum_minor=100_000), policy=TEN_PCT_DOWN)
    assert rules(result)[OfferKind.INSTALMENT] == ("capacity.lump_sum", "min_down_payment_pct")
    assert rules(result)[OfferKind.SETTLEMENT_PLAN] == (
        "capacity.lump_sum",
        "min_down_payment_pct",
    )
    assert [o.kind for o in result.ranked] == [OfferKind.DEFERRAL]


def test_negotiate_makes_the_plan_when_the_lump_sum_meets_the_minimum() -> None:
    result = negotiate(DEBT, Capacity(125_000, lump_sum_minor=105_000), policy=TEN_PCT_DOWN)
    made = {o.kind: o for o in result.ranked}
    # 9,450.00 left at most 1,250.00 a month: 8 payments (7 would need 1,350.00)
    assert made[OfferKind.INSTALMENT].terms.down_payment_minor == 105_000
    assert made[OfferKind.INSTALMENT].terms.instalments == 8


def test_a_policy_asking_a_down_payment_must_allow_one() -> None:
    with pytest.raises(DomainError) as refused:
        Policy(min_down_payment_pct=Decimal(5), allow_down_payment=False)
    assert (refused.value.field, refused.value.rule) == (
        "policy.min_down_payment_pct",
        "needs_down_payment",
    )
    with pytest.raises(DomainError, match="range"):
        Policy(min_down_payment_pct=Decimal(100))  # all of it down is a payoff


# ---- min_settlement_pct -------------------------------------------------------------------


def test_a_settlement_below_the_minimum_is_refused() -> None:
    # the policy's 10 % off leaves 9,450.00 = 90 % of 10,500.00, below 92 % (9,660.00)
    policy = Policy(min_settlement_pct=Decimal(92))
    with pytest.raises(NotAllowed) as refused:
        settlement(DEBT, policy=policy)
    assert (refused.value.field, refused.value.rule) == ("discount_bps", "min_settlement_pct")
    # 8 % off asks 10,500.00 - 840.00 = 9,660.00: exactly 92 %
    assert settlement(DEBT, policy=policy, discount_bps=800).metrics.total_paid_minor == 966_000
    # 8.01 % off: 10,500.00 x 0.0801 = 841.05 waived, 9,658.95 asked, under 9,660.00
    with pytest.raises(NotAllowed, match=r"9658\.95 CNY"):
        settlement(DEBT, policy=policy, discount_bps=801)


def test_a_settlement_plan_below_the_minimum_is_refused() -> None:
    # 5 % off a settlement plan: 9,975.00 = 95 %; a minimum of 96 % (10,080.00) refuses it
    assert settlement_plan(DEBT, policy=Policy(min_settlement_pct=Decimal(95)), instalments=3)
    with pytest.raises(NotAllowed) as refused:
        settlement_plan(DEBT, policy=Policy(min_settlement_pct=Decimal(96)), instalments=3)
    assert refused.value.rule == "min_settlement_pct"


def test_negotiate_makes_no_settlement_below_the_minimum() -> None:
    # 92 %: the lump sum (90 %) is rejected, the settlement plan (95 %) is made
    capacity = Capacity(500_000, lump_sum_minor=0)
    result = negotiate(DEBT, capacity, policy=Policy(min_settlement_pct=Decimal(92)))
    assert rules(result)[OfferKind.SETTLEMENT] == ("discount_bps", "min_settlement_pct")
    assert OfferKind.SETTLEMENT_PLAN in {o.kind for o in result.ranked}


# ---- first_payment_not_in_past ------------------------------------------------------------


def test_a_first_payment_before_today_is_refused_and_today_is_fine() -> None:
    offer = instalment_plan(DEBT, policy=Policy(), term=3)  # due 25 Dec 2026, Jan, Feb 2027
    assert first_payment_date(offer) == date(2026, 12, 25)
    assert check_first_payment(offer, today=date(2026, 12, 25), field="first_due") is offer
    with pytest.raises(InvalidDate) as refused:
        check_first_payment(offer, today=date(2026, 12, 26), field="first_due")
    assert (refused.value.field, refused.value.rule) == ("first_due", "first_payment_not_in_past")


def test_an_as_of_date_in_the_past_and_its_down_payment_are_fine() -> None:
    # the down payment is due at once, dated the as-of date (25 Nov); the first instalment
    # (25 Dec) is what must not be past
    offer = instalment_plan(DEBT, policy=Policy(), term=3, down_payment_minor=100_000)
    assert offer.schedule.lines[0].due_date == AS_OF
    assert check_first_payment(offer, today=date(2026, 12, 4), field="first_due") is offer


def test_negotiate_rejects_offers_dated_before_today_naming_the_date_given() -> None:
    # today 10 Dec 2026: the lump sum's default deadline, 25 Nov + 14 days = 9 Dec, is past;
    # the plans' first payments (25 Dec) are not
    capacity = Capacity(125_000, lump_sum_minor=2_000_000)
    result = negotiate(DEBT, capacity, policy=Policy(), today=date(2026, 12, 10))
    assert rules(result)[OfferKind.SETTLEMENT] == ("debt.as_of", "first_payment_not_in_past")
    assert OfferKind.INSTALMENT in {o.kind for o in result.ranked}
    # a start given names it: from 1 Dec, first payments on 1 Jan 2027
    started = Capacity(125_000, earliest_start=date(2026, 12, 1))
    later = negotiate(DEBT, started, policy=Policy(), today=date(2027, 1, 2))
    assert rules(later)[OfferKind.INSTALMENT] == (
        "capacity.earliest_start",
        "first_payment_not_in_past",
    )


def test_a_counter_proposal_starting_before_today_is_refused() -> None:
    proposal = Proposal(payment_minor=125_000, start=date(2026, 12, 1))
    with pytest.raises(InvalidDate) as refused:
        counter_offer(DEBT, proposal, policy=Policy(), today=date(2026, 12, 4))
    assert (refused.value.field, refused.value.rule) == ("start", "first_payment_not_in_past")
    fine = counter_offer(DEBT, proposal, policy=Policy(), today=date(2026, 12, 1))
    assert fine.accepted


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    down_pct=st.integers(0, 99),
    settle_pct=st.integers(0, 100),
    late=st.integers(0, 60),
)
def test_every_offer_negotiate_makes_keeps_both_minimums_and_today(
    data: st.DataObject, down_pct: int, settle_pct: int, late: int
) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    policy = Policy(min_down_payment_pct=Decimal(down_pct), min_settlement_pct=Decimal(settle_pct))
    today = debt.as_of + timedelta(days=late)
    try:
        result = negotiate(debt, capacity, policy=policy, today=today)
    except DomainError:
        return  # an input error (a start out of reach), not an offer
    total = debt.total_minor
    for offer in result.ranked:
        if offer.kind in (OfferKind.INSTALMENT, OfferKind.SETTLEMENT_PLAN):
            assert offer.terms.down_payment_minor * 100 >= total * down_pct
        if offer.kind in (OfferKind.SETTLEMENT, OfferKind.SETTLEMENT_PLAN):
            assert offer.metrics.total_paid_minor * 100 >= total * settle_pct
        first = first_payment_date(offer)
        assert first is None or first >= today
