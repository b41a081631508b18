"""The offer set: every kind ranked or rejected, the ranking, and what every offer obeys."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.calendar import is_business_day
from plans.compare import RankBy, negotiate
from plans.debt import Capacity, Debt
from plans.errors import InvalidDate
from plans.policy import (
    ArrearsTreatment,
    Component,
    DeferralInterest,
    InterestBasis,
    OfferKind,
    Policy,
)
from plans.schedule import LineKind
from tests.plans.conftest import capacities, debts

AS_OF = date(2026, 11, 25)
# 11,000.00 owed at 200 days past due: 20 % off a lump sum, 10 % off a settlement plan
DEBT = Debt("CNY", 1_000_000, 80_000, 20_000, Decimal("0.18"), AS_OF, 200)


def test_every_kind_is_ranked_or_rejected_with_a_field_and_rule() -> None:
    # 3,000.00 a month and no lump sum: no lump-sum settlement (8,800.00 needed at once)
    result = negotiate(DEBT, Capacity(300_000), policy=Policy())
    assert {o.kind for o in result.ranked} == {
        OfferKind.INSTALMENT,
        OfferKind.DEFERRAL,
        OfferKind.SETTLEMENT_PLAN,
    }
    [rejected] = result.rejected
    assert (rejected.kind, rejected.field, rejected.rule) == (
        OfferKind.SETTLEMENT,
        "capacity.lump_sum",
        "lump_sum",
    )
    assert rejected.detail


def test_all_four_kinds_when_the_debtor_has_the_lump_sum() -> None:
    result = negotiate(DEBT, Capacity(300_000, 900_000), policy=Policy())
    assert sorted(o.kind for o in result.ranked) == sorted(OfferKind)
    assert result.rejected == ()
    assert result.best is result.ranked[0]


def test_rejections_name_the_rule_that_stopped_each_kind() -> None:
    # 200.00 a month for 11,000.00: 55 months is beyond 36, and 6 settlement instalments
    # cannot carry 9,900.00
    result = negotiate(DEBT, Capacity(20_000), policy=Policy())
    assert result.ranked == () and result.best is None
    assert [(r.kind, r.field, r.rule) for r in result.rejected] == [
        (OfferKind.INSTALMENT, "term", "max_term"),
        (OfferKind.DEFERRAL, "term", "max_term"),
        (OfferKind.SETTLEMENT, "capacity.lump_sum", "lump_sum"),
        (OfferKind.SETTLEMENT_PLAN, "capacity.payment", "capacity"),
    ]


@pytest.mark.parametrize(
    ("rank_by", "metric", "descending"),
    [
        (RankBy.EXPECTED_RECOVERY, "expected_recovery_minor", True),
        (RankBy.NPV, "npv_minor", True),
        (RankBy.TOTAL_PAID, "total_paid_minor", True),
        (RankBy.DEBTOR_COST, "total_paid_minor", False),
    ],
)
def test_ranking(rank_by: RankBy, metric: str, descending: bool) -> None:
    result = negotiate(DEBT, Capacity(300_000, 900_000), policy=Policy(), rank_by=rank_by)
    assert result.ranked_by is rank_by
    values = [getattr(o.metrics, metric) for o in result.ranked]
    assert values == sorted(values, reverse=descending)
    assert len(values) == 4


def test_ranking_orders_differ_by_what_they_put_first() -> None:
    by = {
        rank: [o.kind for o in negotiate(DEBT, Capacity(300_000, 900_000), policy=Policy(),
                                           rank_by=rank).ranked]
        for rank in RankBy
    }  # fmt: skip
    # the lump sum is what the debtor pays least for; the undiscounted plans the most
    assert by[RankBy.DEBTOR_COST][0] is OfferKind.SETTLEMENT
    assert by[RankBy.TOTAL_PAID][-1] is OfferKind.SETTLEMENT
    assert by[RankBy.DEBTOR_COST] != by[RankBy.TOTAL_PAID]


def test_earliest_start_before_the_as_of_date_raises() -> None:
    capacity = Capacity(300_000, earliest_start=AS_OF - timedelta(days=1))
    with pytest.raises(InvalidDate) as info:
        negotiate(DEBT, capacity, policy=Policy())
    assert (info.value.field, info.value.rule) == ("capacity.earliest_start", "not_before_as_of")


POLICIES = [
    Policy(),
    Policy(plan_rate=None),
    Policy(arrears=ArrearsTreatment.WAIVE, holiday_country="US"),
    Policy(plan_rate=None, deferral_interest=DeferralInterest.ACCRUE, holiday_country="GB"),
    Policy(
        plan_rate=None,
        deferral_interest=DeferralInterest.WAIVE,
        waterfall=(Component.PRINCIPAL, Component.INTEREST, Component.FEES),
        max_discount_bps=2500,
        interest_basis=InterestBasis.ACTUAL_DAYS,
    ),
]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_every_ranked_offer_obeys_the_invariants(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    policy = data.draw(st.sampled_from(POLICIES))
    result = negotiate(debt, capacity, policy=policy)
    assert sorted([o.kind for o in result.ranked] + [r.kind for r in result.rejected]) == sorted(
        OfferKind
    )
    assert all(r.field and r.rule for r in result.rejected)
    for offer in result.ranked:
        lines = offer.schedule.lines
        totals = offer.schedule.totals
        for x in lines:
            assert x.payment_minor == x.interest_minor + x.fees_minor + x.principal_minor
            assert x.closing_balance_minor == (
                x.opening_balance_minor
                + x.interest_accrued_minor
                - x.payment_minor
                - x.waived_minor
            )
            assert x.closing_balance_minor == (
                x.closing_principal_minor + x.closing_interest_minor + x.closing_fees_minor
            )
            assert (
                min(x.closing_principal_minor, x.closing_interest_minor, x.closing_fees_minor) >= 0
            )
        for a, b in itertools.pairwise(lines):
            assert b.opening_balance_minor == a.closing_balance_minor
            assert a.payment_date < b.payment_date
        assert lines[0].opening_balance_minor == debt.total_minor
        assert lines[-1].closing_balance_minor == 0
        assert totals.payment_minor == sum(x.payment_minor for x in lines)
        assert totals.interest_minor == sum(x.interest_minor for x in lines)
        assert totals.fees_minor == sum(x.fees_minor for x in lines)
        assert totals.principal_minor == sum(x.principal_minor for x in lines)
        assert totals.waived_minor == sum(x.waived_minor for x in lines)
        assert totals.interest_accrued_minor == sum(x.interest_accrued_minor for x in lines)
        assert (
            debt.total_minor + totals.interest_accrued_minor
            == totals.payment_minor + totals.waived_minor
        )
        assert offer.metrics.total_paid_minor == totals.payment_minor
        for x in lines:
            if x.kind in (LineKind.INSTALMENT, LineKind.DEFERRAL):
                assert x.payment_minor <= capacity.payment_minor
            else:
                assert x.payment_minor <= capacity.lump_sum_minor
            if x.kind in (LineKind.INSTALMENT, LineKind.SETTLEMENT):
                assert is_business_day(x.payment_date, policy.holiday_country)
        if offer.terms.nominal_annual_rate == 0:
            assert offer.metrics.finance_charge_minor == 0
            assert offer.metrics.apr == 0
        assert offer.terms.discount_bps <= policy.max_discount_bps
        if offer.kind in (OfferKind.SETTLEMENT, OfferKind.SETTLEMENT_PLAN):
            cap = debt.total_minor * policy.max_discount_bps
            assert 10_000 * offer.waiver.total_minor <= cap + 5_000  # to the nearest unit
