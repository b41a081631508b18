from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.calendar import Frequency, add_periods
from plans.debt import Debt
from plans.errors import DomainError
from plans.instalment import instalment_plan
from plans.money import Rounding
from plans.policy import ArrearsTreatment, Component, Policy
from plans.portfolio import instalment_payments, instalment_schedules

AS_OF = date(2026, 11, 25)


def scalar_lines(
    debt: Debt, term: int, policy: Policy, frequency: Frequency
) -> list[tuple[int, ...]]:
    offer = instalment_plan(
        debt,
        policy=policy,
        term=term,
        frequency=frequency,
        first_due=add_periods(debt.as_of, 1, frequency),
    )
    return [
        (x.payment_minor, x.interest_minor, x.fees_minor, x.principal_minor,
         x.interest_accrued_minor, x.closing_balance_minor)
        for x in offer.schedule.lines
    ]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1_000, 10**9),
            st.integers(0, 10**7),
            st.integers(0, 10**6),
            st.integers(0, 240_000),
            st.integers(1, 36),
        ),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN]),
    st.sampled_from([ArrearsTreatment.FOLD, ArrearsTreatment.WAIVE]),
    st.permutations(list(Component)).map(tuple),  # principal first too: each takes its due
    st.sampled_from(list(Frequency)),
)
def test_vectorised_path_equals_the_scalar_path(
    rows: list[tuple[int, int, int, int, int]],
    rounding: Rounding,
    arrears: ArrearsTreatment,
    waterfall: tuple[Component, ...],
    frequency: Frequency,
) -> None:
    policy = Policy(
        plan_rate=None,
        rate_cap=Decimal("0.25"),
        max_term_months=36,
        rounding=rounding,
        arrears=arrears,
        waterfall=waterfall,
        holiday_country=None,
        min_instalment=(("CNY", Decimal(0)),),  # the vectorised path lays out, it does not judge
    )
    terms = [min(t, policy.max_periods(frequency.periods_per_year)) for *_, t in rows]
    arrays = instalment_schedules(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [str(Decimal(r[3]) / 1_000_000) for r in rows],
        terms,
        policy=policy,
        frequency=frequency,
    )
    for i, (principal, interest, fees, rate_micro, _) in enumerate(rows):
        debt = Debt("CNY", principal, interest, fees, Decimal(rate_micro) / 1_000_000, AS_OF, 90)
        expected = scalar_lines(debt, terms[i], policy, frequency)
        got = list(
            zip(
                arrays.payment_minor[i].tolist(),
                arrays.interest_minor[i].tolist(),
                arrays.fees_minor[i].tolist(),
                arrays.principal_minor[i].tolist(),
                arrays.interest_accrued_minor[i].tolist(),
                arrays.closing_balance_minor[i].tolist(),
                strict=True,
            )
        )
        assert got[: len(expected)] == expected
        assert all(line == (0, 0, 0, 0, 0, 0) for line in got[len(expected) :])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1_000, 10**15),  # past 2^62 / rate: the exact-integer fallback too
            st.integers(0, 10**7),
            st.integers(0, 10**6),
            st.integers(0, 990_000),
            st.integers(1, 36),
        ),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN]),
    st.sampled_from([ArrearsTreatment.FOLD, ArrearsTreatment.WAIVE]),
    st.permutations(list(Component)).map(tuple),
    st.booleans(),
)
def test_payments_are_the_schedules_payments(
    rows: list[tuple[int, int, int, int, int]],
    rounding: Rounding,
    arrears: ArrearsTreatment,
    waterfall: tuple[Component, ...],
    fixed_level: bool,
) -> None:
    # instalment_payments keeps less of the same recursion: what it keeps must be the same.
    policy = Policy(plan_rate=None, rounding=rounding, arrears=arrears, waterfall=waterfall)
    principal, interest, fees, rates, terms = np.array(rows, dtype=np.int64).T
    level = principal // terms if fixed_level else None
    full = instalment_schedules(
        principal, interest, fees, rates, terms, policy=policy, level_minor=level
    )
    kept = instalment_payments(
        principal, interest, fees, rates, terms, policy=policy, level_minor=level
    )
    assert kept.level_minor.tolist() == full.level_minor.tolist()
    assert kept.payment_minor.T.tolist() == full.payment_minor.tolist()
    assert kept.interest_accrued_minor.tolist() == full.interest_accrued_minor.sum(axis=1).tolist()
    open_lines = np.count_nonzero(full.closing_balance_minor, axis=1)
    assert kept.lines.tolist() == (open_lines + 1).tolist()


def test_large_balances_fall_back_to_exact_integers() -> None:
    # 10^14 minor units at 99 % would overflow int64 products; the result must stay exact.
    policy = Policy(plan_rate=None, rate_cap=Decimal("1"), holiday_country=None)
    arrays = instalment_schedules([10**14], [0], [0], ["0.99"], [12], policy=policy)
    debt = Debt("CNY", 10**14, 0, 0, Decimal("0.99"), AS_OF, 90)
    expected = scalar_lines(debt, 12, policy, Frequency.MONTHLY)
    assert arrays.payment_minor[0].tolist() == [x[0] for x in expected]


def test_rates_finer_than_a_millionth_are_refused() -> None:
    with pytest.raises(DomainError) as info:
        instalment_schedules([1], [0], [0], ["0.0000001"], [1], policy=Policy())
    assert info.value.rule == "max_decimals"


def test_totals_are_exact_over_a_portfolio() -> None:
    rng = np.random.default_rng(7)
    n = 2_000
    principal = rng.integers(10_000, 10**8, n)
    interest = rng.integers(0, 10**5, n)
    fees = rng.integers(0, 10**4, n)
    rates = rng.integers(0, 240_000, n).astype(np.int64)
    arrays = instalment_schedules(
        principal, interest, fees, rates, np.full(n, 24), policy=Policy(plan_rate=None)
    )
    paid = arrays.payment_minor.sum(axis=1)
    assert (paid == principal + interest + fees + arrays.interest_accrued_minor.sum(axis=1)).all()
    assert (arrays.closing_balance_minor[:, -1] == 0).all()
