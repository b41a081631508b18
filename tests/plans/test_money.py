from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.errors import InvalidAmount, UnknownCurrency
from plans.money import (
    Rounding,
    allocate,
    at_least_percent,
    exponent,
    from_minor,
    round_div,
    round_float,
    round_fraction,
    split_level,
    to_minor,
)


def test_exponents_come_from_iso4217() -> None:
    # ISO 4217 minor units: CNY/USD/EUR 2, JPY 0, KWD/BHD 3.
    assert [exponent(c) for c in ("CNY", "USD", "EUR", "JPY", "KWD", "BHD")] == [2, 2, 2, 0, 3, 3]


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency) as info:
        exponent("XYZ")
    assert info.value.rule == "iso4217"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("1234.56", "CNY", 123456), ("5000", "JPY", 5000), ("1.234", "KWD", 1234), ("0", "USD", 0)],
)
def test_to_minor_is_exact(amount: str, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == Decimal(amount).quantize(
        Decimal(1).scaleb(-exponent(currency))
    )


@pytest.mark.parametrize(
    ("amount", "currency"), [("10.005", "CNY"), ("1.5", "JPY"), ("NaN", "USD")]
)
def test_to_minor_never_rounds(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmount) as info:
        to_minor(amount, currency, field="debt.principal")
    assert info.value.field == "debt.principal"


def test_rounding_modes_differ_only_on_ties() -> None:
    assert [round_div(n, 10, Rounding.HALF_UP) for n in (14, 15, 25, 16)] == [1, 2, 3, 2]
    assert [round_div(n, 10, Rounding.HALF_EVEN) for n in (14, 15, 25, 16)] == [1, 2, 2, 2]


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**9))
def test_round_div_matches_decimal(n: int, d: int) -> None:
    from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context

    ctx = Context(prec=60)
    exact = ctx.divide(Decimal(n), Decimal(d))
    assert round_div(n, d, Rounding.HALF_UP) == int(exact.quantize(Decimal(1), ROUND_HALF_UP, ctx))
    assert round_div(n, d, Rounding.HALF_EVEN) == int(
        exact.quantize(Decimal(1), ROUND_HALF_EVEN, ctx)
    )


@given(st.integers(0, 10**12), st.lists(st.integers(0, 1000), min_size=1, max_size=40))
def test_allocate_always_sums_to_the_whole(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)


@given(st.integers(0, 10**12), st.integers(1, 120))
def test_split_level_last_absorbs_the_residue(total: int, count: int) -> None:
    parts = split_level(total, count)
    assert sum(parts) == total
    assert len(set(parts[:-1])) <= 1
    assert 0 <= parts[-1] - parts[0] < count


@given(
    st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
    st.sampled_from(list(Rounding)),
)
def test_round_float_is_round_fraction_of_the_floats_exact_value(x: float, how: Rounding) -> None:
    # the engine's shortcut for a level payment or an NPV: the float's own value, rounded once
    assert round_float(x, how) == round_fraction(Fraction(x), how)


@given(
    st.integers(min_value=0, max_value=10**17),
    st.decimals(min_value=0, max_value=100, places=4, allow_nan=False),
)
def test_at_least_percent_is_the_ceiling_of_the_exact_share(amount: int, pct: Decimal) -> None:
    share = Fraction(amount) * Fraction(pct) / 100
    assert at_least_percent(amount, pct) == math.ceil(share)
