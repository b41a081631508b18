"""Types shared by every part of the contract: amounts, rates, currencies, locales.

Money crosses the boundary as a decimal string in major units ("1234.56"), never a JSON
number: a float cannot hold 0.10 exactly, and a client parsing one would already have lost.
Rates are decimal strings too, as annual fractions ("0.18" is 18 % a year). Dates are ISO 8601
within a range every schedule the engine lays out from them stays inside of.
"""

from __future__ import annotations

import enum
import functools
import re
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from babel.numbers import list_currencies
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    model_validator,
)
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


# A whole number of the contract (a count, a term, basis points): JSON Schema's ``integer``,
# never read from a string or a boolean. ``180.0`` is an integer to JSON Schema too: a model
# reads it as 180 (``Model``), and ``180.5`` is refused (rule ``int_type``).
Integer = StrictInt


# Every date of the contract; Date within the range the engine works in.
IsoDate = Annotated[date, BeforeValidator(iso_date)]
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# JSON Schema has no bounds for a date: the years 1900..2199 are declared by a pattern (the
# service's own check is still ``ge``/``le``, rules ``greater_than_equal``/``less_than_equal``).
YEARS_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-"
DATE_PATTERN = YEARS_PATTERN + r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
Date = Annotated[
    IsoDate,
    Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=f"ISO 8601, from {EARLIEST_DATE} to {LATEST_DATE}.",
        json_schema_extra={"pattern": DATE_PATTERN},
    ),
]
# An instant with its UTC offset, on a day (as written) from 1900-01-01 to 2199-12-31.
Instant = Annotated[
    AwareDatetime,
    Field(json_schema_extra={"pattern": YEARS_PATTERN}),
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
        description="ISO 4217 currency code, one of those CLDR knows (rule iso4217).",
        examples=["CNY"],
        # the codes the service takes (plans.money.check_currency), stated in the schema
        json_schema_extra={"enum": sorted(list_currencies())},
    ),
]


class Locale(enum.StrEnum):
    """Languages the summaries and pages are written in."""

    EN = "en"
    ZH_CN = "zh-CN"


class Model(BaseModel):
    """Base of every request and response model: immutable, unknown fields refused; an
    integer field takes a JSON number with no fractional part (``180.0``) as JSON Schema
    does, and nothing else that is not an integer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_integers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = _integer_fields(cls)
        if not any(isinstance(data.get(name), (float, list)) for name in fields):
            return data
        return {k: _whole(v, fields[k]) if k in fields else v for k, v in data.items()}


def _whole(value: Any, many: bool) -> Any:
    """``value`` with a float of no fractional part (in a list, if ``many``) as an int."""
    if many and isinstance(value, list):
        return [_whole(item, False) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@functools.cache
def _integer_fields(model: type[BaseModel]) -> dict[str, bool]:
    """The fields of ``model`` that hold an integer (False) or a list of them (True)."""
    found = {name: _ints(info.annotation) for name, info in model.model_fields.items()}
    return {name: many for name, many in found.items() if many is not None}


def _ints(annotation: Any) -> bool | None:
    """False for an integer, True for a list or tuple of integers (either maybe null, or
    among other choices), else None."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is int:
        return False
    if origin is Annotated:
        return _ints(args[0])
    if origin in (typing.Union, types.UnionType):
        # an integer among other choices (a day of the month or "last") is still one
        found = {_ints(a) for a in args if a is not type(None)} - {None}
        return found.pop() if len(found) == 1 else None
    if origin in (list, tuple) and args and all(_ints(a) is False for a in args if a != ...):
        return True
    return None


def with_examples(
    *examples: Mapping[str, Any], schema: Mapping[str, Any] | None = None
) -> ConfigDict:
    """The base model's configuration plus OpenAPI examples for /docs, and ``schema``: JSON
    Schema keywords a rule across fields needs (``if``/``then``), merged into the model's.

    Examples
    --------
    >>> with_examples({"a": 1})["json_schema_extra"]
    {'examples': [{'a': 1}]}
    """
    extra = {**(schema or {}), "examples": [dict(e) for e in examples]}
    return ConfigDict(frozen=True, extra="forbid", json_schema_extra=extra)


def given(*names: str) -> dict[str, Any]:
    """JSON Schema for a rule across fields: at least one of ``names`` is given, not null.

    Examples
    --------
    >>> given("term")
    {'anyOf': [{'required': ['term'], 'properties': {'term': {'not': {'type': 'null'}}}}]}
    """
    return {
        "anyOf": [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names
        ]
    }


def when(field: str, values: tuple[str, ...], then: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Schema for a rule across fields: where ``field`` is one of ``values``, ``then``.

    Examples
    --------
    >>> when("role", ("admin",), {"required": ["x"]})["if"]
    {'required': ['role'], 'properties': {'role': {'enum': ['admin']}}}
    """
    return {
        "if": {"required": [field], "properties": {field: {"enum": list(values)}}},
        "then": dict(then),
    }


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
    "Instant",
    "Integer",
    "IsoDate",
    "Locale",
    "Model",
    "Rate",
    "SignedAmount",
    "date",
    "given",
    "minor",
    "rate",
    "when",
    "with_examples",
]
