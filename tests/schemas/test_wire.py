"""The wire's amounts: minor units as the currency's decimal string, exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from plans.money import exponent
from schemas.wire import amount_formatter


@given(st.sampled_from(["CNY", "USD", "GBP", "JPY", "KWD"]), st.integers(-(10**15), 10**15))
def test_an_amount_is_its_minor_units_scaled_by_the_currency(currency: str, minor: int) -> None:
    # ISO 4217 exponents: 2 for CNY, USD and GBP, 0 for JPY, 3 for KWD
    places = exponent(currency)
    expected = f"{Decimal(minor).scaleb(-places):.{places}f}"
    assert amount_formatter(currency)(minor) == expected
