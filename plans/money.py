"""Money as integer minor units of an ISO 4217 currency, and the named rounding rules.

Every amount inside the engine is an ``int`` of minor units (fen, cents, yen, fils). Decimal
strings exist only at the boundary; :func:`to_minor` and :func:`from_minor` convert once.
The number of minor units per currency comes from CLDR (through Babel), not a hand list.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from plans.errors import InvalidAmount, UnknownCurrency


class Rounding(enum.StrEnum):
    """How an exact amount becomes whole minor units.

    ``half_up`` (the default: ties away from zero, what debtors expect from a receipt) or
    ``half_even`` (banker's rounding, when the finance team asks for it).
    """

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def exponent(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (ISO 4217 via CLDR).

    Examples
    --------
    >>> exponent("CNY"), exponent("JPY"), exponent("KWD")
    (2, 0, 3)
    """
    if currency not in _known_currencies():
        raise UnknownCurrency("currency", "iso4217", f"{currency!r} is not an ISO 4217 code")
    return int(get_currency_precision(currency))


def check_currency(currency: str, *, field: str = "currency") -> str:
    """Return ``currency`` if known, else raise :class:`UnknownCurrency` naming ``field``.

    Examples
    --------
    >>> check_currency("EUR")
    'EUR'
    """
    try:
        exponent(currency)
    except UnknownCurrency:
        raise UnknownCurrency(
            field, "iso4217", f"{currency!r} is not an ISO 4217 currency code"
        ) from None
    return currency


def to_minor(amount: Decimal | str | int, currency: str, *, field: str = "amount") -> int:
    """Exact conversion of a decimal amount to minor units; never rounds.

    More decimals than the currency has is an error, not a rounding: "10.005" CNY is refused.

    Examples
    --------
    >>> to_minor("1234.56", "CNY")
    123456
    >>> to_minor("5000", "JPY")
    5000
    >>> to_minor("1.005", "CNY")
    Traceback (most recent call last):
    ...
    plans.errors.InvalidAmount: amount: CNY allows at most 2 decimal places [max_decimals]
    """
    places = exponent(currency)
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidAmount(field, "decimal", "must be a decimal number") from None
    if not value.is_finite():
        raise InvalidAmount(field, "decimal", "must be a finite decimal number")
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(
            field, "max_decimals", f"{currency} allows at most {places} decimal places"
        )
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units back to a ``Decimal`` with exactly the currency's places.

    Examples
    --------
    >>> from_minor(123456, "CNY")
    Decimal('1234.56')
    >>> from_minor(7, "KWD")
    Decimal('0.007')
    """
    places = exponent(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def round_div(numerator: int, denominator: int, rounding: Rounding) -> int:
    """``numerator / denominator`` rounded to an integer by ``rounding``, exactly.

    Ties go away from zero under ``HALF_UP`` and to the even neighbour under ``HALF_EVEN``.

    Examples
    --------
    >>> round_div(5, 2, Rounding.HALF_UP), round_div(5, 2, Rounding.HALF_EVEN)
    (3, 2)
    >>> round_div(-5, 2, Rounding.HALF_UP)
    -3
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    twice = 2 * remainder
    if twice > denominator or (
        twice == denominator and (rounding is Rounding.HALF_UP or quotient % 2 == 1)
    ):
        quotient += 1
    return sign * quotient


def at_least_percent(amount_minor: int, percent: Decimal) -> int:
    """The smallest whole amount of minor units that is at least ``percent`` % of
    ``amount_minor``: a minimum is rounded up, never by the policy's rounding (rounding half
    would let an amount just under the minimum through).

    Examples
    --------
    >>> at_least_percent(1_050_000, Decimal("20")), at_least_percent(1_005, Decimal("70"))
    (210000, 704)
    """
    numerator, denominator = percent.as_integer_ratio()
    return -(-amount_minor * numerator // (denominator * 100))


def round_fraction(value: Fraction, rounding: Rounding) -> int:
    """An exact rational amount of minor units rounded to a whole one.

    Examples
    --------
    >>> round_fraction(Fraction(201, 2), Rounding.HALF_EVEN)
    100
    """
    return round_div(value.numerator, value.denominator, rounding)


def round_float(value: float, rounding: Rounding) -> int:
    """A float amount of minor units rounded to a whole one, exactly as the float's value is
    (:func:`round_fraction` of ``Fraction(value)``, without making the fraction).

    Examples
    --------
    >>> round_float(100.5, Rounding.HALF_EVEN), round_float(0.1 + 0.2, Rounding.HALF_UP)
    (100, 0)
    """
    numerator, denominator = value.as_integer_ratio()
    return round_div(numerator, denominator, rounding)


def apply_rate(amount_minor: int, rate: Fraction, rounding: Rounding) -> int:
    """``amount_minor × rate`` rounded to whole minor units: interest on a balance.

    Examples
    --------
    >>> apply_rate(1_000_000, Fraction(24, 1200), Rounding.HALF_UP)  # 2 % of 10,000.00
    20000
    """
    return round_div(amount_minor * rate.numerator, rate.denominator, rounding)


def allocate(total_minor: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_minor`` in proportion to ``weights``; the parts always sum to the total.

    Largest-remainder method: each part gets its floor, then the leftover units go one by one
    to the largest remainders (earlier parts first on ties).

    Examples
    --------
    >>> allocate(100, [1, 1, 1])
    [34, 33, 33]
    >>> sum(allocate(1_000_001, [3, 7]))
    1000001
    """
    weight_sum = sum(weights)
    if weight_sum <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    parts = [total_minor * w // weight_sum for w in weights]
    remainders = [total_minor * w % weight_sum for w in weights]
    leftover = total_minor - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        parts[i] += 1
    return parts


def split_level(total_minor: int, count: int) -> list[int]:
    """``count`` equal parts of ``total_minor``; the last absorbs the residue.

    Examples
    --------
    >>> split_level(1000, 3)
    [333, 333, 334]
    """
    if count <= 0:
        raise ValueError("count must be positive")
    part = total_minor // count
    return [part] * (count - 1) + [total_minor - part * (count - 1)]


def split_rounded(total_minor: int, count: int, *, rounding: Rounding) -> list[int]:
    """``count`` equal shares of ``total_minor``, each ``total_minor / count`` rounded by
    ``rounding``; the last takes the remainder, so the shares always sum to the total.

    The equal-principal (等额本金) convention: a loan of 5,000.00 over 18 payments repays
    277.78 (5,000 / 18 = 277.777..., half up) seventeen times and 277.74 last. A share rounded
    up never overdraws: when the shares before the last would pass the total, they stop at it.

    Examples
    --------
    >>> split_rounded(500_000, 18, rounding=Rounding.HALF_UP)[-2:]
    [27778, 27774]
    >>> split_rounded(1000, 3, rounding=Rounding.HALF_UP)
    [333, 333, 334]
    >>> split_rounded(5, 10, rounding=Rounding.HALF_UP)
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    """
    if count <= 0:
        raise ValueError("count must be positive")
    share = round_div(total_minor, count, rounding)
    parts: list[int] = []
    left = total_minor
    for _ in range(count - 1):
        part = min(share, left)
        parts.append(part)
        left -= part
    return [*parts, left]


def format_minor(minor: int, currency: str) -> str:
    """Plain decimal string of an amount, the boundary's form (no symbol, no grouping).

    Examples
    --------
    >>> format_minor(-1050, "USD")
    '-10.50'
    """
    return str(from_minor(minor, currency))


def label(minor: int, currency: str) -> str:
    """An amount for a sentence in an error or a reason: "1250.00 CNY".

    Examples
    --------
    >>> label(125000, "CNY"), label(3000, "JPY")
    ('1250.00 CNY', '3000 JPY')
    """
    return f"{format_minor(minor, currency)} {currency}"
