"""Types shared by every part of the contract: amounts, rates, currencies, locales.

Money crosses the boundary as a decimal string in major units ("1234.56"), never a JSON
number: a float cannot hold 0.10 exactly, and a client parsing one would already have lost.
Rates are decimal strings too, as annual fractions ("0.18" is 18 % a year). Dates are ISO 8601
within a range every schedule the engine lays out from them stays inside of.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from plans.calendar import Frequency
from plans.money import to_minor
from plans.policy import check_rate

AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$"
RATE_PATTERN = r"^(0|[1-9][0-9]?)(\.[0-9]{1,8})?$"

Amount = Annotated[
    str,
    Field(
        pattern=AMOUNT_PATTERN,
        description=(
            "A non-negative amount in major units as a decimal string, with no more decimals"
            " than the currency has (CNY/USD/EUR 2, JPY 0, KWD 3)."
        ),
        examples=["1250.00"],
    ),
]
SignedAmount = Annotated[
    str,
    Field(
        pattern=r"^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?$",
        description="An amount in major units as a decimal string; may be negative.",
        examples=["-12.50"],
    ),
]
Rate = Annotated[
    str,
    Field(
        pattern=RATE_PATTERN,
        description='A nominal annual rate as a decimal fraction string: "0.18" is 18 % a year.',
        examples=["0.18"],
    ),
]
# A plan runs at most 50 years (PolicyBody.max_term_months <= 600) plus a pause and a delayed
# start: from any date in this range its last line is still a date Python can represent (year
# 9999 is the end of `datetime.date`), and no date before it is ever needed.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(value: object) -> object:
    """A date as the wire carries it: ISO 8601 text, ``YYYY-MM-DD`` (or, from Python, a date).

    JSON has no date type, and pydantic's lax mode would read ``0``, ``"0"`` or ``86400`` as a
    day of 1970: a client's bug then becomes a plan starting in 1970, so every other JSON type
    is refused (rule ``date_type``). Dates go through this only as text; the query string's
    dates are text too, so they still parse.

    Examples
    --------
    >>> iso_date("2026-11-25")
    '2026-11-25'
    >>> iso_date(0)
    Traceback (most recent call last):
    pydantic_core._pydantic_core.PydanticCustomError: Input should be an ISO 8601 date, YYYY-MM-DD
    """
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise PydanticCustomError("date_type", "Input should be an ISO 8601 date, YYYY-MM-DD")


# Every date of the contract; Date within the range the engine works in.
IsoDate = Annotated[date, BeforeValidator(iso_date)]
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
Date = Annotated[
    IsoDate,
    Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=f"ISO 8601, from {EARLIEST_DATE} to {LATEST_DATE}.",
    ),
]
# PostgreSQL refuses NUL in text (a 500, not a 422), and no C0 control character or DEL
# belongs in a name, a reference or a citation: a one-line field refuses them all. Text a
# person writes as paragraphs (a rule's sentence, a policy's notice, a collector's reason)
# may keep its line feeds and tabs; a carriage return is still refused, so stored text has one
# line ending.
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
# A pattern that stands for a named rule: a 422 names the rule, not ``string_pattern_mismatch``.
PATTERN_RULES = {
    ONE_LINE_PATTERN: "no_control_characters",
    MULTI_LINE_PATTERN: "no_control_characters",
}
OneLine = Annotated[str, Field(pattern=ONE_LINE_PATTERN)]
MultiLine = Annotated[str, Field(pattern=MULTI_LINE_PATTERN)]
Currency = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 currency code.",
        examples=["CNY"],
    ),
]


class Locale(enum.StrEnum):
    """Languages the summaries and pages are written in."""

    EN = "en"
    ZH_CN = "zh-CN"


class Model(BaseModel):
    """Base of every request and response model: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def with_examples(*examples: Mapping[str, Any]) -> ConfigDict:
    """The base model's configuration plus OpenAPI examples for /docs.

    Examples
    --------
    >>> with_examples({"a": 1})["json_schema_extra"]
    {'examples': [{'a': 1}]}
    """
    return ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [dict(e) for e in examples]}
    )


def minor(amount: str, currency: str, *, field: str) -> int:
    """A request amount in minor units, refusing more decimals than the currency has.

    Examples
    --------
    >>> minor("1250.50", "CNY", field="capacity.payment")
    125050
    """
    return to_minor(amount, currency, field=field)


def rate(value: str, *, field: str) -> Decimal:
    """A request rate as a ``Decimal``, checked the way the engine checks rates.

    Examples
    --------
    >>> rate("0.18", field="debt.nominal_annual_rate")
    Decimal('0.18')
    """
    return check_rate(Decimal(value), field=field)


__all__ = [
    "Amount",
    "Currency",
    "Date",
    "Frequency",
    "IsoDate",
    "Locale",
    "Model",
    "Rate",
    "SignedAmount",
    "date",
    "minor",
    "rate",
    "with_examples",
]
