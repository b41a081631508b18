"""Counter-proposals: accepted as they stand, or refused with reasons and the nearest offers.

The debt throughout: 10,000.00 on 25 Nov 2026 under the default policy (interest frozen,
36 months at most, a start at most 45 days away), so every figure is a division by hand.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from plans.counter import Change, Proposal, counter_offer
from plans.daycount import DayCount
from plans.debt import Debt
from plans.errors import DomainError, InvalidDate
from plans.policy import DeferralInterest, InterestBasis, OfferKind, Policy
from plans.schedule import LineKind

AS_OF = date(2026, 11, 25)
DEBT = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), AS_OF, 60)


@pytest.mark.parametrize(
    ("proposal", "instalments", "level"),
    [
        # 10,000.00 / 1,250.00 = 8 payments
        (Proposal(payment_minor=125_000), 8, 125_000),
        (Proposal(term=8), 8, 125_000),
        # 10 × 1,000.00 = 10,000.00: the payment and the term agree
        (Proposal(payment_minor=100_000, term=10), 10, 100_000),
    ],
)
def test_a_feasible_proposal_is_accepted_as_is(
    proposal: Proposal, instalments: int, level: int
) -> None:
    result = counter_offer(DEBT, proposal, policy=Policy())
    assert result.accepted
    assert result.rejections == () and result.alternatives == ()
    assert result.offer is not None
    assert result.offer.kind is OfferKind.INSTALMENT
    assert (result.offer.terms.instalments, result.offer.terms.instalment_minor) == (
        instalments,
        level,
    )
    assert [x.payment_minor for x in result.offer.schedule.lines] == [level] * instalments


def test_a_payment_is_answered_with_exactly_the_plan_proposed() -> None:
    # Issue 17: "I can pay 300 a month until it is paid" on 1,000.00 was "accepted" as 4 x 250.
    # The plan the debtor proposed is 300, 300, 300 and the 100 left.
    debt = Debt("CNY", 100_000, 0, 0, Decimal("0.18"), AS_OF, 60)
    result = counter_offer(debt, Proposal(payment_minor=30_000), policy=Policy())
    assert result.accepted and result.offer is not None
    assert [x.payment_minor for x in result.offer.schedule.lines] == [30_000] * 3 + [10_000]
    assert result.offer.terms.instalment_minor == 30_000


def test_a_payment_with_interest_is_never_re_levelled() -> None:
    # 1,000.00 at 1 % a month, 300.00 a month: numpy-financial's fv(0.01, 3, -300, 1000) is
    # -121.271, the balance after three payments; the fourth pays it with a month's interest,
    # 121.27 + 1.21 = 122.48. (Re-levelled, it was four payments of about 256.28.)
    policy = Policy(plan_rate=None, holiday_country=None)
    debt = Debt("CNY", 100_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 60)
    result = counter_offer(debt, Proposal(payment_minor=30_000), policy=policy)
    assert result.accepted and result.offer is not None
    lines = result.offer.schedule.lines
    assert [x.payment_minor for x in lines] == [30_000] * 3 + [12_248]
    assert [x.interest_minor for x in lines] == [1_000, 710, 417, 121]


def test_a_proposed_start_within_the_policy_is_kept() -> None:
    start = AS_OF + timedelta(days=45)  # Sat 9 Jan 2027, the latest the policy allows
    result = counter_offer(DEBT, Proposal(payment_minor=125_000, start=start), policy=Policy())
    assert result.accepted and result.offer is not None
    assert result.offer.terms.first_due == start
    assert result.offer.schedule.lines[0].payment_date == date(2027, 1, 11)  # the Monday


def test_too_short_a_term_for_the_payment_gets_both_nearest_alternatives() -> None:
    # 1,000.00 a month repays 10,000.00 in 10 payments, not 6
    result = counter_offer(DEBT, Proposal(payment_minor=100_000, term=6), policy=Policy())
    assert not result.accepted and result.offer is None
    assert [(r.field, r.rule) for r in result.rejections] == [("payment", "capacity")]
    alternatives = {a.change: a.offer for a in result.alternatives}
    assert set(alternatives) == {Change.HIGHER_PAYMENT, Change.LONGER_TERM}
    # the same 6 payments: 10,000.00 / 6 = 1,666.666... -> 1,666.67, the last 1,666.65
    higher = alternatives[Change.HIGHER_PAYMENT]
    assert [x.payment_minor for x in higher.schedule.lines] == [166_667] * 5 + [166_665]
    # the same payment for longer: 10 of 1,000.00
    longer = alternatives[Change.LONGER_TERM]
    assert [x.payment_minor for x in longer.schedule.lines] == [100_000] * 10


def test_a_payment_too_small_for_the_maximum_term_gets_the_longest_plan() -> None:
    # 200.00 a month needs 50 months; the policy allows 36: the payment is what falls short
    result = counter_offer(DEBT, Proposal(payment_minor=20_000), policy=Policy())
    assert not result.accepted
    assert [(r.field, r.rule) for r in result.rejections] == [("payment", "max_term")]
    [alternative] = result.alternatives
    assert alternative.change is Change.LONGER_TERM
    # 10,000.00 / 36 = 277.777... -> 277.78, the last 10,000.00 - 35 × 277.78 = 277.70
    payments = [x.payment_minor for x in alternative.offer.schedule.lines]
    assert payments == [27_778] * 35 + [27_770]


def test_a_later_start_via_a_deferral() -> None:
    # A plan rate at the 24 % cap counted in actual days over 360 charges about
    # 24 % × 365 / 360 = 24.33 % a year: its 年化利率 (a CN debt by default) is above the cap;
    # with a two-month pause whose interest is waived, the same payment fits under it.
    policy = Policy(
        plan_rate=None,
        day_count=DayCount.ACT_360,
        interest_basis=InterestBasis.ACTUAL_DAYS,
        deferral_interest=DeferralInterest.WAIVE,
    )
    debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.24"), AS_OF, 60)
    result = counter_offer(debt, Proposal(payment_minor=125_000), policy=policy)
    assert not result.accepted
    assert [(r.field, r.rule) for r in result.rejections] == [("annual_rate", "rate_cap")]
    [alternative] = result.alternatives
    assert alternative.change is Change.LATER_START
    offer = alternative.offer
    assert offer.kind is OfferKind.DEFERRAL and offer.terms.deferral_periods == 2
    lines = offer.schedule.lines
    assert [x.kind for x in lines[:2]] == [LineKind.DEFERRAL] * 2
    assert all(x.payment_minor <= 125_000 for x in lines)
    assert offer.metrics.annual_rate.disclosed_percent <= policy.rate_cap * 100


@pytest.mark.parametrize(
    "proposal",
    [
        Proposal(payment_minor=125_000, start=date(2027, 3, 1)),
        Proposal(term=8, start=date(2027, 3, 1)),
    ],
)
def test_a_start_beyond_the_policys_delay_moves_to_the_latest_allowed(proposal: Proposal) -> None:
    # 1 Mar 2027 is 96 days away; the policy allows 45: Sat 9 Jan 2027
    result = counter_offer(DEBT, proposal, policy=Policy())
    assert not result.accepted and result.offer is None
    assert [(r.field, r.rule) for r in result.rejections] == [("start", "max_start_delay")]
    [alternative] = result.alternatives
    assert alternative.change is Change.EARLIER_START
    assert alternative.offer.terms.first_due == date(2027, 1, 9)
    assert alternative.offer.schedule.lines[0].payment_date == date(2027, 1, 11)
    assert [x.payment_minor for x in alternative.offer.schedule.lines] == [125_000] * 8


def test_a_proposal_with_neither_payment_nor_term_is_an_error() -> None:
    with pytest.raises(DomainError) as info:
        counter_offer(DEBT, Proposal(start=date(2026, 12, 15)), policy=Policy())
    assert (info.value.field, info.value.rule) == ("proposal", "required")


def test_a_start_before_the_as_of_date_is_an_error() -> None:
    proposal = Proposal(payment_minor=125_000, start=AS_OF - timedelta(days=1))
    with pytest.raises(InvalidDate) as info:
        counter_offer(DEBT, proposal, policy=Policy())
    assert (info.value.field, info.value.rule) == ("start", "not_before_as_of")
