"""The portfolio: its columns, the rules every debt is checked by, and a chunk as arrays.

A portfolio is a frame with one row per debt (:data:`PORTFOLIO_COLUMNS`).
:func:`portfolio_frame` checks it by the scalar engine's rules, naming the column that breaks
one; :class:`Debts` holds a chunk of the checked frame as the int64 arrays the offer kinds
compute with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from plans.debt import MAX_AMOUNT_MINOR
from plans.errors import DomainError, InvalidAmount, InvalidRate
from plans.money import check_currency, to_minor
from plans.policy import Policy, check_rate
from plans.simulation.units import RATE_SCALE, BoolArray, Int64Array

PORTFOLIO_COLUMNS: dict[str, str] = {
    "debt_id": "Any identifier, echoed in the results (optional: the row number).",
    "currency": "ISO 4217 code of every amount in the row.",
    "principal_minor": "Principal owed, in minor units.",
    "interest_minor": "Interest in arrears, in minor units (default 0).",
    "fees_minor": "Fees outstanding, in minor units (default 0).",
    "nominal_annual_rate_ppm": "Contractual nominal annual rate in millionths (180000 = 18 %).",
    "days_past_due": "Days past due on the as-of date.",
    "capacity_minor": "What the debtor says they can pay each month, in minor units.",
    "lump_sum_minor": "Cash the debtor has now, in minor units (default 0).",
}
"""The portfolio's columns. Amounts may instead come in major units as decimal strings under
the names without ``_minor`` (``principal``, ``capacity``, ...) and the rate as a decimal
string under ``nominal_annual_rate``; :func:`portfolio_frame` converts them exactly."""

_AMOUNT_COLUMNS = ("principal", "interest", "fees", "capacity", "lump_sum")
_OPTIONAL_AMOUNTS = ("interest", "fees", "lump_sum")


def portfolio_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A checked copy of a portfolio with exactly the columns of :data:`PORTFOLIO_COLUMNS`.

    Integer minor units are taken as they are; major units as decimal strings (``"1234.56"``
    under ``principal``) are converted exactly, refusing more decimals than the currency has.
    Floats are refused: a float amount has already lost its cents. Every rule the scalar
    engine checks on a debt is checked here and named by column (``portfolio.principal_minor``).

    Examples
    --------
    >>> raw = pd.DataFrame({"currency": ["CNY"], "principal": ["10000.00"],
    ...                     "nominal_annual_rate": ["0.18"], "days_past_due": [95],
    ...                     "capacity": ["1250.00"]})
    >>> portfolio_frame(raw)[["principal_minor", "nominal_annual_rate_ppm"]].to_numpy().tolist()
    [[1000000, 180000]]
    """
    if "currency" not in frame.columns:
        raise DomainError("portfolio.currency", "required", "every debt needs a currency")
    # One factorisation: a million currency codes are a few distinct ones.
    currency = pd.Categorical(frame["currency"].astype(str))
    for code in currency.categories:
        check_currency(str(code), field="portfolio.currency")
    out: dict[str, Any] = {
        "debt_id": (
            frame["debt_id"].to_numpy() if "debt_id" in frame.columns else frame.index.to_numpy()
        ),
        "currency": currency,
    }
    for name in _AMOUNT_COLUMNS:
        out[f"{name}_minor"] = _amount_column(frame, name, currency)
    out["nominal_annual_rate_ppm"] = _rate_column(frame)
    if "days_past_due" not in frame.columns:
        raise DomainError("portfolio.days_past_due", "required", "is a required column")
    out["days_past_due"] = _integers(frame["days_past_due"], "portfolio.days_past_due")
    ids = out["debt_id"]
    _refuse(out["days_past_due"] < 0, ids, "portfolio.days_past_due", "non_negative", "is < 0")
    total = out["principal_minor"] + out["interest_minor"] + out["fees_minor"]
    _refuse(total == 0, ids, "portfolio.principal_minor", "positive", "owes nothing")
    return pd.DataFrame({name: out[name] for name in PORTFOLIO_COLUMNS})


def _refuse(bad: BoolArray, ids: npt.NDArray[Any], field: str, rule: str, detail: str) -> None:
    if bad.any():
        first = ids[int(np.argmax(bad))]
        raise DomainError(field, rule, f"debt {first!s} {detail} ({int(bad.sum())} debts)")


def _integers(column: pd.Series[Any], field: str) -> Int64Array:
    if not pd.api.types.is_integer_dtype(column.dtype) or column.isna().any():
        raise InvalidAmount(field, "integer", "must be whole numbers (no floats, no blanks)")
    values: Int64Array = column.to_numpy(dtype=np.int64)
    return values


def _amount_column(frame: pd.DataFrame, name: str, currency: pd.Categorical[str]) -> Int64Array:
    minor_name = f"{name}_minor"
    field = f"portfolio.{minor_name}"
    if minor_name in frame.columns:
        values = _integers(frame[minor_name], field)
    elif name in frame.columns:
        field = f"portfolio.{name}"
        column = frame[name]
        if pd.api.types.is_float_dtype(column.dtype):
            raise InvalidAmount(field, "decimal", "major units must be decimal strings, not floats")
        # Exact, row by row, with the engine's own rule: a file in major units is read once.
        values = np.fromiter(
            (
                to_minor(str(v), str(c), field=field)
                for v, c in zip(column.to_numpy(dtype=object), np.asarray(currency), strict=True)
            ),
            dtype=np.int64,
            count=len(column),
        )
    elif name in _OPTIONAL_AMOUNTS:
        return np.zeros(len(frame), dtype=np.int64)
    else:
        raise DomainError(field, "required", f"is a required column ({minor_name} or {name})")
    ids = frame["debt_id"].to_numpy() if "debt_id" in frame.columns else frame.index.to_numpy()
    _refuse(values < 0, ids, field, "non_negative", "is negative")
    _refuse(values > MAX_AMOUNT_MINOR, ids, field, "max_amount", "is larger than the engine takes")
    return values


def _rate_column(frame: pd.DataFrame) -> Int64Array:
    if "nominal_annual_rate_ppm" in frame.columns:
        field = "portfolio.nominal_annual_rate_ppm"
        values = _integers(frame["nominal_annual_rate_ppm"], field)
    elif "nominal_annual_rate" in frame.columns:
        field = "portfolio.nominal_annual_rate"
        column = frame["nominal_annual_rate"]
        if pd.api.types.is_float_dtype(column.dtype):
            raise InvalidRate(field, "decimal", "rates must be decimal strings, not floats")
        try:
            rates = [check_rate(Decimal(str(v)), field=field) for v in column.to_numpy(object)]
        except InvalidOperation:
            raise InvalidRate(field, "decimal", "must be decimal numbers") from None
        values = np.array([int(r * RATE_SCALE) for r in rates], dtype=np.int64)
    else:
        raise InvalidRate("portfolio.nominal_annual_rate_ppm", "required", "is a required column")
    ids = frame["debt_id"].to_numpy() if "debt_id" in frame.columns else frame.index.to_numpy()
    _refuse(values < 0, ids, field, "non_negative", "is negative")
    _refuse(values > 10 * RATE_SCALE, ids, field, "max_rate", "is above 1000 % a year")
    return values


@dataclass(frozen=True, slots=True)
class Debts:
    """One chunk of a checked portfolio as arrays; currencies as codes into ``currencies``."""

    currency_code: Int64Array
    currencies: tuple[str, ...]
    principal: Int64Array
    interest: Int64Array
    fees: Int64Array
    rate_ppm: Int64Array
    days_past_due: Int64Array
    capacity: Int64Array
    lump_sum: Int64Array
    total: Int64Array = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", self.principal + self.interest + self.fees)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Debts:
        codes, uniques = pd.factorize(frame["currency"], sort=True)

        def ints(name: str) -> Int64Array:
            values: Int64Array = frame[name].to_numpy(dtype=np.int64)
            return values

        return cls(
            np.asarray(codes, dtype=np.int64),
            tuple(str(u) for u in uniques),
            ints("principal_minor"),
            ints("interest_minor"),
            ints("fees_minor"),
            ints("nominal_annual_rate_ppm"),
            ints("days_past_due"),
            ints("capacity_minor"),
            ints("lump_sum_minor"),
        )

    def __len__(self) -> int:
        return len(self.principal)

    def minimum(self, policy: Policy) -> Int64Array:
        """The policy's smallest instalment for each debt's currency, in minor units."""
        table = np.array([policy.min_instalment_minor(c) for c in self.currencies], np.int64)
        return table[self.currency_code] if len(table) else np.zeros(0, np.int64)
