from __future__ import annotations

from datetime import date
from decimal import Decimal
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.amortisation import Amortisation
from plans.calendar import Frequency, add_periods
from plans.debt import Debt
from plans.errors import DomainError
from plans.instalment import build_instalment, instalment_plan
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


def fixed_level_lines(debt: Debt, term: int, policy: Policy, level: int) -> list[tuple[int, ...]]:
    schedule, _, _ = build_instalment(
        debt,
        policy=policy,
        capacity=None,
        term=term,
        frequency=Frequency.MONTHLY,
        first_due=add_periods(debt.as_of, 1, Frequency.MONTHLY),
        annual=debt.nominal_annual_rate,
        amortisation=Amortisation.EQUAL_INSTALMENT,
        down_minor=0,
        level_minor=level,
    )
    return [
        (x.payment_minor, x.interest_minor, x.fees_minor, x.principal_minor,
         x.interest_accrued_minor, x.closing_balance_minor)
        for x in schedule.lines
    ]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**9) | st.just(0),
            st.integers(0, 10**7) | st.just(0),
            st.integers(0, 10**6) | st.just(0),
            st.integers(0, 240_000) | st.just(0),
            st.integers(1, 36),
            st.integers(0, 10**7),  # a fixed level, if fixed: below the interest at times
        ).filter(lambda r: r[0] + r[1] + r[2] > 0),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN]),
    st.sampled_from([ArrearsTreatment.FOLD, ArrearsTreatment.WAIVE]),
    st.permutations(list(Component)).map(tuple),
    st.integers(1, 4),
    st.booleans(),
)
def test_blocks_of_any_size_lay_out_the_scalar_lines(
    rows: list[tuple[int, int, int, int, int, int]],
    rounding: Rounding,
    arrears: ArrearsTreatment,
    waterfall: tuple[Component, ...],
    block: int,
    fixed: bool,
) -> None:
    # Blocks of a few debts, each with its own longest term, arrears paid off on different
    # lines, zero rates and zero balances, levels that fall short of the interest on some
    # lines and not others: every line as the scalar engine lays it out, zeros past each
    # term, and the payments kept alone the same.
    policy = Policy(
        plan_rate=None,
        rounding=rounding,
        arrears=arrears,
        waterfall=waterfall,
        holiday_country=None,
        min_instalment=(("CNY", Decimal(0)),),
    )
    principal, interest, fees, rates, terms = np.array([r[:5] for r in rows], dtype=np.int64).T
    level = np.array([r[5] for r in rows], dtype=np.int64) if fixed else None
    with patch("plans.portfolio._BLOCK", block):
        arrays = instalment_schedules(
            principal, interest, fees, rates, terms, policy=policy, level_minor=level
        )
        kept = instalment_payments(
            principal, interest, fees, rates, terms, policy=policy, level_minor=level
        )
    assert kept.payment_minor.T.tolist() == arrays.payment_minor.tolist()
    width = int(terms.max())
    for i, (p, owed_interest, owed_fees, rate_micro, term, fixed_level) in enumerate(rows):
        debt = Debt("CNY", p, owed_interest, owed_fees, Decimal(rate_micro) / 10**6, AS_OF, 90)
        if fixed:
            expected = fixed_level_lines(debt, term, policy, fixed_level)
        else:
            expected = scalar_lines(debt, term, policy, Frequency.MONTHLY)
        got = [
            (
                int(arrays.payment_minor[i, k]),
                int(arrays.interest_minor[i, k]),
                int(arrays.fees_minor[i, k]),
                int(arrays.principal_minor[i, k]),
                int(arrays.interest_accrued_minor[i, k]),
                int(arrays.closing_balance_minor[i, k]),
            )
            for k in range(width)
        ]
        assert got[: len(expected)] == expected
        assert all(line == (0,) * 6 for line in got[len(expected) :])
