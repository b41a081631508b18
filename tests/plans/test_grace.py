"""Grace periods before the instalments: interest-only and interest-free (plans/grace.py).

The hand-worked example of tests/plans/test_deferral.py: 12,000.00 at 12 % nominal on 15 Jan
2026, two grace months from a regular first period (1 % a month), then 10 instalments of
npf.pmt(0.01, 10, -12000) = 1,266.98. Each shape is checked against the deferral it is a case
of (plans/deferral.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.debt import Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError
from plans.grace import GraceInterest, grace_plan
from plans.policy import DeferralInterest, Policy
from plans.schedule import LineKind
from tests.plans.conftest import debts

AS_OF = date(2026, 1, 15)
TWELVE = Policy(plan_rate=Decimal("0.12"), holiday_country=None)
LEVEL = round(float(npf.pmt(0.01, 10, -12_000)) * 100)  # 126698


def debt_of(principal: int = 1_200_000, interest: int = 0, fees: int = 0) -> Debt:
    return Debt("CNY", principal, interest, fees, Decimal("0.12"), AS_OF, 45)


def test_interest_only_pays_each_periods_interest_and_keeps_the_principal() -> None:
    offer = grace_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=GraceInterest.INTEREST_ONLY
    )
    grace, first = offer.schedule.lines[:2], offer.schedule.lines[2]
    assert [x.kind for x in grace] == [LineKind.DEFERRAL] * 2
    assert [(x.interest_accrued_minor, x.payment_minor, x.interest_minor) for x in grace] == [
        (12_000, 12_000, 12_000)
    ] * 2
    assert [x.closing_principal_minor for x in grace] == [1_200_000] * 2
    assert first.kind is LineKind.INSTALMENT and first.payment_minor == LEVEL
    assert offer.terms.deferral_periods == 2 and offer.terms.instalments == 10
    assert offer.terms.grace_interest == "interest_only"
    # interest is paid as it runs, on the principal owed: the APR is the plan's 12 %
    assert abs(offer.metrics.apr - Decimal("0.12")) <= Decimal("0.00001")


def test_interest_only_is_a_deferral_that_accrues_with_the_interest_as_its_token_payment() -> None:
    grace = grace_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=GraceInterest.INTEREST_ONLY
    )
    deferral = deferral_plan(
        debt_of(),
        policy=TWELVE,
        periods=2,
        term=10,
        deferral_payment_minor=12_000,
        interest=DeferralInterest.ACCRUE,
    )
    assert grace.schedule.lines == deferral.schedule.lines


def test_interest_free_accrues_nothing_and_waives_nothing() -> None:
    offer = grace_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=GraceInterest.INTEREST_FREE
    )
    grace = offer.schedule.lines[:2]
    assert [(x.interest_accrued_minor, x.payment_minor, x.waived_minor) for x in grace] == [
        (0, 0, 0)
    ] * 2
    assert offer.waiver.total_minor == 0
    assert offer.schedule.lines[2].payment_minor == LEVEL
    # the same instalments as a deferral that waives the pause's interest, which shows it
    # accrued and waived instead
    waived = deferral_plan(
        debt_of(), policy=TWELVE, periods=2, term=10, interest=DeferralInterest.WAIVE
    )
    assert offer.schedule.lines[2:] == waived.schedule.lines[2:]
    assert [x.waived_minor for x in waived.schedule.lines[:2]] == [12_000, 12_000]


def test_folded_arrears_are_paid_first_by_the_waterfall_as_during_a_deferral() -> None:
    # 50.00 of fees owed: the first grace payment (120.00 of interest) settles them first, the
    # rest of the period's interest stays owed and is paid first when instalments start.
    offer = grace_plan(
        debt_of(fees=5_000),
        policy=TWELVE,
        periods=2,
        term=10,
        interest=GraceInterest.INTEREST_ONLY,
    )
    first = offer.schedule.lines[0]
    assert (first.fees_minor, first.interest_minor, first.principal_minor) == (5_000, 7_000, 0)
    assert first.closing_interest_minor == 5_000
    assert all(x.closing_principal_minor == 1_200_000 for x in offer.schedule.lines[:2])


@pytest.mark.parametrize(
    ("periods", "term", "field", "rule"),
    [
        (4, 10, "grace.periods", "max_grace"),
        (0, 10, "grace.periods", "min_grace"),
        (2, None, "term", "required"),
        (2, 35, "term", "max_term"),
    ],
)
def test_refusals_name_field_and_rule(
    periods: int, term: int | None, field: str, rule: str
) -> None:
    with pytest.raises(DomainError) as caught:
        grace_plan(
            debt_of(),
            policy=TWELVE,
            periods=periods,
            term=term,
            interest=GraceInterest.INTEREST_FREE,
        )
    assert (caught.value.field, caught.value.rule) == (field, rule)


@settings(max_examples=60, deadline=None)
@given(
    debts(currency="CNY"),
    st.integers(1, 3),
    st.integers(1, 30),
    st.sampled_from(list(GraceInterest)),
)
def test_lines_sum_to_totals_and_the_principal_waits(
    debt: Debt, periods: int, term: int, interest: GraceInterest
) -> None:
    policy = Policy(plan_rate=None, holiday_country=None, min_instalment=(), rate_cap=Decimal(1))
    offer = grace_plan(debt, policy=policy, periods=periods, term=term, interest=interest)
    lines, totals = offer.schedule.lines, offer.schedule.totals
    assert sum(x.payment_minor for x in lines) == totals.payment_minor
    assert sum(x.interest_accrued_minor for x in lines) == totals.interest_accrued_minor
    assert totals.payment_minor == (
        debt.total_minor + totals.interest_accrued_minor - totals.waived_minor
    )
    assert totals.principal_minor == debt.principal_minor
    grace = [x for x in lines if x.kind is LineKind.DEFERRAL]
    assert len(grace) == periods
    assert all(x.principal_minor == 0 for x in grace)
    assert all(x.closing_principal_minor == debt.principal_minor for x in grace)
    if interest is GraceInterest.INTEREST_FREE:
        assert all(x.interest_accrued_minor == 0 and x.payment_minor == 0 for x in grace)
    assert lines[-1].closing_balance_minor == 0
