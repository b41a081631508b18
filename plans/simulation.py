"""Portfolio simulation: every offer a policy would make to every debt, and what it is worth.

The finance team's question is what an incentive buys. For a portfolio of debts (one row per
debt, see :data:`PORTFOLIO_COLUMNS`) and a grid of policy variants (:func:`policy_grid`:
discount by days past due, maximum term, plan rate, ...), :func:`simulate` finds, for every
debt and each of the four offer kinds, the offer the engine would make or the rule that stops
it, what the debtor would pay, at what APR, and what it is worth to the creditor (NPV and
expected recovery, as :func:`plans.offer.measure` defines them). Then, per grid point and
currency (amounts are never added across currencies), the totals a policy is chosen by:
expected recovery, the share of debts with a feasible offer, the discount granted, and the
cash-flow curve by month of the offer each debt would be shown first.

It is numpy across debts, not a loop over the scalar engine: the rules of
:mod:`plans.instalment`, :mod:`plans.deferral`, :mod:`plans.settlement` and
:func:`plans.offer.measure` applied to arrays, with :func:`plans.portfolio.instalment_schedules`
laying out the plans. ``tests/plans/test_simulation.py`` holds the two paths to each other
debt by debt, against :func:`plans.compare.negotiate`.

Simplifications, chosen so that the simulated offers are the scalar engine's
------------------------------------------------------------------------------
- One as-of date for the whole portfolio and monthly payments, and the debtor may start at
  once (a ``Capacity`` with no ``earliest_start``): every plan's first instalment is due one
  month after the as-of date. Every offer's dates then fall on one shared calendar, which is
  computed once with the scalar engine's own functions, so business-day rolling and public
  holidays are exact.
- Equal-instalment plans on the ``nominal`` interest basis; a policy with the ``actual_days``
  basis is refused rather than approximated.
- The APR counts whole months from the as-of date (Reg Z App J (b)(5)(ii) with no odd days),
  which is exact when the as-of day is the 28th or earlier; from the 29th on, the month-end
  rule of (b)(3)(iv) is not applied.
- NPV and expected recovery add their terms in date order (compensated, for debts paying 2^32
  minor units or more) instead of with ``math.fsum``: a result can differ from the scalar
  engine's by one minor unit only if it lies within about 1e-16 (relative) of half a unit.

Every amount is int64 minor units; totals are int64 sums, so the same portfolio gives the same
aggregates however it is split into chunks or partitions (the Dask engine relies on it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from plans.calendar import (
    Frequency,
    add_months,
    add_periods,
    due_dates,
    next_business_day,
    payment_dates,
)
from plans.debt import MAX_AMOUNT_MINOR
from plans.errors import DomainError, InvalidAmount, InvalidRate
from plans.instalment import APR_TOLERANCE
from plans.money import Rounding, check_currency, to_minor
from plans.policy import (
    RATE_PLACES,
    ArrearsTreatment,
    Component,
    DeferralInterest,
    DiscountBand,
    InterestBasis,
    OfferKind,
    Policy,
    check_rate,
)
from plans.portfolio import instalment_schedules, shortest_terms
from plans.rates import irr_per_period

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

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

OFFER_KINDS: tuple[OfferKind, ...] = tuple(OfferKind)
"""The four kinds, in the order :func:`plans.compare.negotiate` makes (and tie-breaks) them."""

RULES: tuple[str, ...] = (
    "",
    "rate_cap",
    "min_instalment",
    "max_term",
    "capacity",
    "lump_sum",
    "min_deferral",
    "lump_sum_covers",
)
"""Why an offer was not made: the ``rule`` of the domain error the scalar engine raises."""
(
    _RATE_CAP,
    _MIN_INSTALMENT,
    _MAX_TERM,
    _CAPACITY,
    _LUMP_SUM,
    _MIN_DEFERRAL,
    _LUMP_SUM_COVERS,
) = range(1, len(RULES))

DPD_BUCKETS: tuple[int, ...] = (0, 30, 90, 180, 360, 720)
"""Lower bounds (days past due) of the buckets aggregates are reported by: the default
policy's discount bands, so a bucket's discount is one number under that policy."""
DPD_LABELS: tuple[str, ...] = ("0-29", "30-89", "90-179", "180-359", "360-719", "720+")

GRID_KEYS: tuple[str, ...] = (
    "discount_scale",
    "discount_bps",
    "max_discount_bps",
    "max_term_months",
    "plan_rate",
    "deferral_periods",
    "settlement_plan_discount_share_bps",
    "settlement_plan_max_instalments",
)
"""Parameters a grid may vary, in the order grid points are numbered (the last varies fastest).

``discount_scale`` multiplies every band of the base policy's discount table (rounded half up
to whole basis points, at most 10,000); ``discount_bps`` replaces the table by one discount
for every debt. Either way the policy's cap, ``max_discount_bps``, still applies. ``plan_rate``
takes rates or ``"contractual"`` (the debt's own rate). The rest are the policy fields of the
same name."""

MAX_GRID_POINTS = 10_000

_RATE_SCALE = 10**RATE_PLACES
_PERIODS_PER_YEAR = Frequency.MONTHLY.periods_per_year
_MONTH_RATE_SCALE = _RATE_SCALE * _PERIODS_PER_YEAR
_DAYS_PER_MONTH = 365.0 / 12.0  # as plans.offer.measure counts the months of a survival curve
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
_APR_TOLERANCE_PPM = int(APR_TOLERANCE * _RATE_SCALE)
_AMOUNT_COLUMNS = ("principal", "interest", "fees", "capacity", "lump_sum")
_OPTIONAL_AMOUNTS = ("interest", "fees", "lump_sum")


# ---- the portfolio -----------------------------------------------------------------------


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
        values = np.array([int(r * _RATE_SCALE) for r in rates], dtype=np.int64)
    else:
        raise InvalidRate("portfolio.nominal_annual_rate_ppm", "required", "is a required column")
    ids = frame["debt_id"].to_numpy() if "debt_id" in frame.columns else frame.index.to_numpy()
    _refuse(values < 0, ids, field, "non_negative", "is negative")
    _refuse(values > 10 * _RATE_SCALE, ids, field, "max_rate", "is above 1000 % a year")
    return values


@dataclass(frozen=True, slots=True)
class _Debts:
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
    def of(cls, frame: pd.DataFrame) -> _Debts:
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


# ---- the grid ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GridPoint:
    """One policy variant of a grid: its number, the parameters that made it, the policy.

    Examples
    --------
    >>> GridPoint(0, (("max_term_months", "12"),), Policy(max_term_months=12)).label
    'max_term_months=12'
    """

    index: int
    parameters: tuple[tuple[str, str], ...]
    policy: Policy

    @property
    def label(self) -> str:
        """The parameters as ``name=value`` pairs, or ``base`` for the base policy itself."""
        return ", ".join(f"{k}={v}" for k, v in self.parameters) or "base"


def policy_grid(base: Policy, grid: Mapping[str, object] | None = None) -> tuple[GridPoint, ...]:
    """The policy variants of a grid: every combination of the listed values, on ``base``.

    ``grid`` maps the names of :data:`GRID_KEYS` to lists of values (a single value is a
    one-item list), typically read from a YAML file::

        discount_bps: [0, 1000, 2000, 3000, 4000]
        max_term_months: [6, 12, 24, 36]
        plan_rate: [0, contractual]

    Examples
    --------
    >>> grid = {"max_term_months": [6, 12], "plan_rate": [0, "contractual"]}
    >>> points = policy_grid(Policy(), grid)
    >>> [p.label for p in points]  # doctest: +NORMALIZE_WHITESPACE
    ['max_term_months=6, plan_rate=0', 'max_term_months=6, plan_rate=contractual',
     'max_term_months=12, plan_rate=0', 'max_term_months=12, plan_rate=contractual']
    >>> points[1].policy.plan_rate is None
    True
    """
    grid = dict(grid or {})
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise DomainError(
            f"grid.{unknown[0]}", "unknown", f"a grid may vary {', '.join(GRID_KEYS)}"
        )
    if "discount_scale" in grid and "discount_bps" in grid:
        raise DomainError("grid.discount_bps", "exclusive", "give discount_scale or discount_bps")
    axes: list[list[tuple[str, str, dict[str, Any]]]] = []
    size = 1
    for key in GRID_KEYS:
        if key not in grid:
            continue
        raw = grid[key]
        values = list(raw) if isinstance(raw, list | tuple) else [raw]
        if not values:
            raise DomainError(f"grid.{key}", "empty", "needs at least one value")
        axes.append([_grid_change(base, key, value) for value in values])
        size *= len(values)
        if size > MAX_GRID_POINTS:
            raise DomainError("grid", "max_points", f"at most {MAX_GRID_POINTS} grid points")
    points = []
    for index, combination in enumerate(itertools.product(*axes)):
        changes: dict[str, Any] = {}
        for _, _, change in combination:
            changes.update(change)
        policy = replace(base, **changes) if changes else base
        _check_supported(policy)
        points.append(GridPoint(index, tuple((k, shown) for k, shown, _ in combination), policy))
    return tuple(points)


def _grid_change(base: Policy, key: str, value: object) -> tuple[str, str, dict[str, Any]]:
    field = f"grid.{key}"
    if key == "plan_rate":
        if value is None or value == "contractual":
            return key, "contractual", {"plan_rate": None}
        rate = check_rate(_decimal(value, field), field=field)
        return key, str(rate), {"plan_rate": rate}
    if key == "discount_scale":
        scale = _decimal(value, field)
        if scale < 0:
            raise DomainError(field, "non_negative", "must be 0 or more")
        bands = tuple(
            DiscountBand(b.min_days_past_due, min(10_000, _half_up(b.discount_bps * scale)))
            for b in base.discount_bands
        )
        return key, str(scale), {"discount_bands": bands}
    number = _whole(value, field)
    if key == "discount_bps":
        if not 0 <= number <= 10_000:
            raise DomainError(field, "bps_range", "must be between 0 and 10000 basis points")
        return key, str(number), {"discount_bands": (DiscountBand(0, number),)}
    change: dict[str, Any] = {key: number}
    if key == "deferral_periods" and number > base.deferral_max_periods:
        change["deferral_max_periods"] = number  # the grid asks for it; the maximum follows
    return key, str(number), change


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise DomainError(field, "decimal", f"{value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise DomainError(field, "decimal", f"{value!r} is not a number") from None
    if not number.is_finite():
        raise DomainError(field, "decimal", "must be finite")
    return number


def _whole(value: object, field: str) -> int:
    number = _decimal(value, field)
    if number != number.to_integral_value():
        raise DomainError(field, "integer", f"{value!r} is not a whole number")
    return int(number)


def _half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_HALF_UP"))


def _check_supported(policy: Policy) -> None:
    if policy.interest_basis is not InterestBasis.NOMINAL:
        raise DomainError(
            "policy.interest_basis",
            "unsupported",
            "the simulation lays out plans on the nominal interest basis only",
        )


# ---- the shared calendar -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Dates:
    """Where every flow of every offer can fall: position 0 is the as-of date (down payments),
    1..K the monthly due dates of the plans, K + 1 the settlement deadline. ``days`` counts
    days from the as-of date to each position's payment (business) day."""

    days: tuple[int, ...]
    months: Int64Array  # the cash-flow month of each position

    @property
    def settle(self) -> int:
        return len(self.days) - 1


@lru_cache(maxsize=256)
def _dates(as_of: date, country: str | None, window_days: int, horizon: int) -> _Dates:
    first_due = add_periods(as_of, 1, Frequency.MONTHLY)
    paid = payment_dates(due_dates(first_due, horizon, Frequency.MONTHLY), country)
    settle_by = as_of + timedelta(days=window_days)
    settled = next_business_day(settle_by, country)
    days = (0, *((d - as_of).days for d in paid), (settled - as_of).days)
    months = np.array([*range(horizon + 1), 0], dtype=np.int64)
    return _Dates(days, months)


def _horizon(policy: Policy) -> int:
    return max(policy.max_periods(_PERIODS_PER_YEAR), policy.settlement_plan_max_instalments)


def _dates_for(as_of: date, policy: Policy) -> _Dates:
    try:
        return _dates(
            as_of, policy.holiday_country, policy.settlement_window_days, _horizon(policy)
        )
    except (ValueError, OverflowError):
        raise DomainError(
            "as_of", "date_range", "the plans would run past the last date of the calendar"
        ) from None


@dataclass(frozen=True, slots=True, eq=False)
class _Weights:
    """Discount factors by position, and survival-weighted factors by first position."""

    discount: tuple[float, ...]
    take_up: float
    retention: tuple[tuple[float, ...], ...]  # [first][position]
    table: FloatArray  # the same as an array

    @classmethod
    def of(
        cls, discount: tuple[float, ...], take_up: float, retention: tuple[tuple[float, ...], ...]
    ) -> _Weights:
        return cls(discount, take_up, retention, np.array(retention, dtype=np.float64))


@lru_cache(maxsize=256)
def _weights(
    days: tuple[int, ...], cost_of_funds: Decimal, take_up: Decimal, kept: Decimal
) -> _Weights:
    # Python floats, as plans.offer.measure computes them, so every term is the same double.
    growth = 1.0 + float(cost_of_funds)
    retention = float(kept)
    return _Weights.of(
        tuple(growth ** (-d / 365.0) for d in days),
        float(take_up),
        tuple(tuple(retention ** ((d - f) / _DAYS_PER_MONTH) for d in days) for f in days),
    )


# ---- offers, kind by kind ----------------------------------------------------------------


@dataclass(slots=True)
class _Offers:
    """One kind's offers to a chunk of debts; amounts zero where ``rule`` is not 0.

    ``flows`` holds the payments, one row per position of ``positions`` (a :class:`_Dates`
    position), one column per debt; ``first`` is the row of each debt's first payment.
    """

    rule: npt.NDArray[np.int8]
    instalments: Int64Array
    instalment_minor: Int64Array
    down_payment_minor: Int64Array
    total_paid_minor: Int64Array
    waived_minor: Int64Array
    discount_bps: Int64Array
    apr_ppm: Int64Array
    npv_minor: Int64Array
    expected_recovery_minor: Int64Array
    flows: Int64Array
    positions: Int64Array
    months: Int64Array
    first: Int64Array
    weights: _Weights | None = None

    @classmethod
    def empty(cls, count: int, positions: Int64Array, dates: _Dates) -> _Offers:
        def zeros() -> Int64Array:
            return np.zeros(count, dtype=np.int64)

        return cls(
            rule=np.zeros(count, dtype=np.int8),
            instalments=zeros(),
            instalment_minor=zeros(),
            down_payment_minor=zeros(),
            total_paid_minor=zeros(),
            waived_minor=zeros(),
            discount_bps=zeros(),
            apr_ppm=zeros(),
            npv_minor=zeros(),
            expected_recovery_minor=zeros(),
            flows=np.zeros((len(positions), count), dtype=np.int64),
            positions=positions,
            months=dates.months[positions],
            first=np.full(count, -1, dtype=np.int64),
        )


def _reject(rule: npt.NDArray[np.int8], where: BoolArray, code: int) -> None:
    """Mark ``where`` with ``code`` unless an earlier rule already stopped the offer."""
    rule[where & (rule == 0)] = code


def _round_div(numerator: Int64Array, denominator: int, rounding: Rounding) -> Int64Array:
    # plans.money.round_div for non-negative numerators
    quotient, remainder = np.divmod(numerator, denominator)
    twice = 2 * remainder
    up = (twice > denominator) | (
        (twice == denominator)
        & ((quotient % 2 == 1) if rounding is Rounding.HALF_EVEN else np.True_)
    )
    result: Int64Array = quotient + up
    return result


def _mul_div(
    amount: Int64Array, factor: Int64Array | int, divisor: int, rounding: Rounding
) -> Int64Array:
    """``amount × factor / divisor`` rounded, exactly, without int64 overflow.

    ``amount = q·divisor + r``, so the product is ``q·factor + r·factor / divisor``: both
    parts stay far inside int64 for amounts up to ``MAX_AMOUNT_MINOR`` and factors up to 10^7.
    """
    quotient = amount // divisor
    remainder = amount - quotient * divisor
    result: Int64Array = quotient * factor + _round_div(remainder * factor, divisor, rounding)
    return result


def _settle(
    amount: Int64Array, owed: dict[Component, Int64Array], waterfall: Sequence[Component]
) -> dict[Component, Int64Array]:
    """What is left of each component after ``amount`` is paid down the waterfall."""
    left = amount.copy()
    after = {}
    for component in waterfall:
        take = np.minimum(left, owed[component])
        after[component] = owed[component] - take
        left -= take
    return after


def _plan_rate_ppm(debts: _Debts, policy: Policy) -> Int64Array:
    if policy.plan_rate is None:
        return debts.rate_ppm
    return np.full(len(debts), int(policy.plan_rate * _RATE_SCALE), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Plans:
    """Instalment plans laid out for some debts: payments position-major (line × debt)."""

    rule: npt.NDArray[np.int8]
    payments: Int64Array
    level: Int64Array
    lines: Int64Array
    accrued: Int64Array
    raisable: BoolArray  # only the last line broke the capacity, and one unit more fits


def _lay_out(
    owed: tuple[Int64Array, Int64Array, Int64Array],
    annual_ppm: Int64Array,
    term: Int64Array,
    *,
    capacity: Int64Array,
    minimum: Int64Array,
    policy: Policy,
    level: Int64Array | None = None,
) -> _Plans:
    """Equal-instalment plans of ``term`` payments, checked as plans.instalment.check_fit."""
    principal, interest, fees = owed
    s = instalment_schedules(
        principal, interest, fees, annual_ppm, term, policy=policy, level_minor=level
    )
    payments: Int64Array = s.payment_minor.T  # the engine's own (line × debt) layout
    # The scalar loop stops at the first line that closes the balance; no balance reopens.
    lines: Int64Array = np.count_nonzero(s.closing_balance_minor.T, axis=0) + 1
    last = payments[lines - 1, np.arange(len(term))]
    # Every line before the closing one pays the level payment exactly (amortise pays
    # min(level, balance), and a balance at or below the level closes): the checks on
    # "every instalment" and "all but the last" reduce to the level and the last payment.
    made = s.level_minor
    several = lines > 1
    largest = np.where(several, np.maximum(made, last), last)
    rule = np.zeros(len(term), dtype=np.int8)
    _reject(rule, (capacity > 0) & (largest > capacity), _CAPACITY)
    _reject(rule, several & (made < minimum), _MIN_INSTALMENT)
    # plans.instalment.raised_level: a rounded-down level pushes its residue onto the last
    # line; if only that line is over the capacity, the scalar engine tries one unit more.
    raisable = (rule == _CAPACITY) & several & (made < capacity)
    accrued: Int64Array = s.interest_accrued_minor.T.sum(axis=0)
    return _Plans(rule, payments, made, lines, accrued, raisable)


def _by_term(term: Int64Array, step: int = 6) -> list[Int64Array]:
    """Row indices in groups of similar term: a batch loops to its own longest term only."""
    group = (term - 1) // step
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    return [rows for rows in np.split(order, bounds) if len(rows)]


def _fitting_plans(
    owed: tuple[Int64Array, Int64Array, Int64Array],
    annual_ppm: Int64Array,
    term: Int64Array,
    *,
    limit: int,
    capacity: Int64Array,
    minimum: Int64Array,
    policy: Policy,
) -> _Plans:
    """The scalar engine's attempts in its order: the searched term ``n`` at the solved level,
    then at one unit more if that may help, then ``n + 1`` the same way (within ``limit``).
    Each debt keeps the first plan that fits, or the rule of its last attempt."""
    count = len(term)
    width = min(int(term.max(initial=0)) + 1, limit)
    rule = np.zeros(count, dtype=np.int8)
    level = np.zeros(count, dtype=np.int64)
    lines = np.zeros(count, dtype=np.int64)
    accrued = np.zeros(count, dtype=np.int64)
    raisable = np.zeros(count, dtype=np.bool_)
    payments = np.zeros((width, count), dtype=np.int64)
    # Arrears are already folded or waived by the caller; the layout must not waive again.
    fold = replace(policy, arrears=ArrearsTreatment.FOLD)

    def attempt(rows: Int64Array, terms: Int64Array, levels: Int64Array | None) -> None:
        for batch in _by_term(terms):
            at = rows[batch]
            plans = _lay_out(
                (owed[0][at], owed[1][at], owed[2][at]),
                annual_ppm[at],
                terms[batch],
                capacity=capacity[at],
                minimum=minimum[at],
                policy=fold,
                level=None if levels is None else levels[batch],
            )
            rule[at], level[at], lines[at] = plans.rule, plans.level, plans.lines
            accrued[at], raisable[at] = plans.accrued, plans.raisable
            payments[:, at] = 0
            payments[: plans.payments.shape[0], at] = plans.payments

    rows = np.arange(count)
    for extra in (0, 1):
        if extra:
            rows = rows[term[rows] < limit]
        if not len(rows):
            break
        attempt(rows, term[rows] + extra, None)
        again = rows[raisable[rows]]
        if len(again):
            attempt(again, term[again] + extra, level[again] + 1)
        rows = rows[rule[rows] != 0]
    return _Plans(rule, payments, level, lines, accrued, np.zeros(count, dtype=np.bool_))


def _instalment(debts: _Debts, policy: Policy, dates: _Dates) -> _Offers:
    """plans.instalment.instalment_plan with the debtor's capacity, for every debt."""
    count = len(debts)
    limit = policy.max_periods(_PERIODS_PER_YEAR)
    offers = _Offers.empty(count, np.arange(limit + 1, dtype=np.int64), dates)
    rule = offers.rule
    annual = _plan_rate_ppm(debts, policy)
    _reject(rule, annual > int(policy.rate_cap * _RATE_SCALE), _RATE_CAP)
    minimum = debts.minimum(policy)
    total = debts.total
    down = debts.lump_sum if policy.allow_down_payment else np.zeros(count, dtype=np.int64)
    # plans.instalment.down_payment: leave at least one unit of what the plan repays
    repaid = debts.principal if policy.arrears is ArrearsTreatment.WAIVE else total
    down = np.minimum(down, np.maximum(repaid - 1, 0))
    bound = debts.capacity
    _reject(rule, (bound < minimum) & (bound < total - down), _MIN_INSTALMENT)

    # The search's view of the balance, as plans.instalment.instalment_plan builds it.
    waive = (policy.arrears is ArrearsTreatment.WAIVE) & ((debts.interest > 0) | (debts.fees > 0))
    arrears = np.where(waive, 0, debts.interest + debts.fees)
    principal = debts.principal - np.where(down > 0, np.maximum(0, down - arrears), 0)
    arrears = np.where(down > 0, np.maximum(0, arrears - down), arrears)
    # The first due date is a whole nominal period away: its rate is every other line's.
    rate = annual / _MONTH_RATE_SCALE  # float(Fraction(annual) / 12), correctly rounded
    alive = np.flatnonzero(rule == 0)
    term = np.full(count, limit + 1, dtype=np.int64)
    term[alive] = shortest_terms(
        bound[alive],
        principal=principal[alive],
        arrears=arrears[alive],
        first_rate=rate[alive],
        rate=rate[alive],
        limit=limit,
    )
    _reject(rule, term > limit, _MAX_TERM)

    # What the plan lays out: arrears waived (if the policy says so), then the down payment.
    owed = {
        Component.PRINCIPAL: debts.principal,
        Component.INTEREST: np.where(waive, 0, debts.interest),
        Component.FEES: np.where(waive, 0, debts.fees),
    }
    waived = np.where(waive, debts.interest + debts.fees, 0)
    paid_down = np.minimum(
        down, owed[Component.PRINCIPAL] + owed[Component.INTEREST] + owed[Component.FEES]
    )
    after = _settle(paid_down, owed, policy.waterfall)
    alive = np.flatnonzero(rule == 0)
    plans = _fitting_plans(
        (
            after[Component.PRINCIPAL][alive],
            after[Component.INTEREST][alive],
            after[Component.FEES][alive],
        ),
        annual[alive],
        term[alive],
        limit=limit,
        capacity=bound[alive],
        minimum=minimum[alive],
        policy=policy,
    )
    rule[alive] = plans.rule
    ok = plans.rule == 0
    rows = alive[ok]
    offers.flows[0, rows] = paid_down[rows]
    offers.flows[1 : 1 + plans.payments.shape[0], rows] = plans.payments[:, ok]
    offers.instalments[rows] = plans.lines[ok]
    offers.instalment_minor[rows] = plans.level[ok]
    offers.down_payment_minor[rows] = down[rows]
    offers.waived_minor[rows] = waived[rows]
    finance_charge = np.zeros(count, dtype=np.int64)
    finance_charge[rows] = plans.accrued[ok]
    _measure(
        offers, OfferKind.INSTALMENT, policy, dates, finance_charge=finance_charge, annual=annual
    )
    return offers


def _deferral(debts: _Debts, policy: Policy, dates: _Dates) -> _Offers:
    """plans.deferral.deferral_plan with the policy's pause, no token payment, and the
    debtor's capacity for the instalments that follow."""
    count = len(debts)
    limit = policy.max_periods(_PERIODS_PER_YEAR)
    pause = policy.deferral_periods
    offers = _Offers.empty(count, np.arange(limit + 1, dtype=np.int64), dates)
    rule = offers.rule
    if pause < 1:
        rule[:] = _MIN_DEFERRAL
        return offers
    annual = _plan_rate_ppm(debts, policy)
    _reject(rule, annual > int(policy.rate_cap * _RATE_SCALE), _RATE_CAP)
    if pause >= limit:
        _reject(rule, np.ones(count, dtype=np.bool_), _MAX_TERM)
        return offers
    waive = (policy.arrears is ArrearsTreatment.WAIVE) & ((debts.interest > 0) | (debts.fees > 0))
    waived = np.where(waive, debts.interest + debts.fees, 0)
    interest = np.where(waive, 0, debts.interest)
    fees = np.where(waive, 0, debts.fees)
    # Each pause period accrues a nominal month on a principal nothing is paid off.
    accrued = pause * _mul_div(debts.principal, annual, _MONTH_RATE_SCALE, policy.rounding)
    principal = debts.principal
    treatment = policy.deferral_interest
    if treatment is DeferralInterest.CAPITALISE:
        principal = principal + accrued
    elif treatment is DeferralInterest.ACCRUE:
        interest = interest + accrued
    else:
        waived = waived + accrued
    rate = annual / _MONTH_RATE_SCALE
    alive = np.flatnonzero(rule == 0)
    term = np.full(count, limit - pause + 1, dtype=np.int64)
    term[alive] = shortest_terms(
        debts.capacity[alive],
        principal=principal[alive],
        arrears=interest[alive] + fees[alive],
        first_rate=rate[alive],
        rate=rate[alive],
        limit=limit - pause,
    )
    _reject(rule, term > limit - pause, _MAX_TERM)
    alive = np.flatnonzero(rule == 0)
    minimum = debts.minimum(policy)
    plans = _fitting_plans(
        (principal[alive], interest[alive], fees[alive]),
        annual[alive],
        term[alive],
        limit=limit - pause,
        capacity=debts.capacity[alive],
        minimum=minimum[alive],
        policy=policy,
    )
    rule[alive] = plans.rule
    ok = plans.rule == 0
    rows = alive[ok]
    offers.flows[1 + pause : 1 + pause + plans.payments.shape[0], rows] = plans.payments[:, ok]
    # a pause that leaves nothing owed (no principal, arrears waived) has no instalments
    repaid = (principal + interest + fees)[rows] == 0
    offers.instalments[rows] = np.where(repaid, 0, plans.lines[ok])
    offers.instalment_minor[rows] = plans.level[ok]
    offers.waived_minor[rows] = waived[rows]
    finance_charge = np.zeros(count, dtype=np.int64)
    paused = 0 if treatment is DeferralInterest.WAIVE else 1
    finance_charge[rows] = plans.accrued[ok] + paused * accrued[rows]
    _measure(
        offers, OfferKind.DEFERRAL, policy, dates, finance_charge=finance_charge, annual=annual
    )
    return offers


def _discounts(debts: _Debts, policy: Policy, share_bps: int) -> tuple[Int64Array, Int64Array]:
    """Each debt's settlement discount in bps and in minor units (plans.settlement rules)."""
    bands = sorted(policy.discount_bands, key=lambda b: b.min_days_past_due)
    bps = np.zeros(len(debts), dtype=np.int64)
    for band in bands:
        bps[debts.days_past_due >= band.min_days_past_due] = band.discount_bps
    np.minimum(bps, policy.max_discount_bps, out=bps)
    if share_bps != 10_000:
        bps = _round_div(bps * share_bps, 10_000, policy.rounding)
    # The waiver is taken down the waterfall but never exceeds the debt: its total is the
    # discount itself.
    return bps, _mul_div(debts.total, bps, 10_000, policy.rounding)


def _settlement(debts: _Debts, policy: Policy, dates: _Dates) -> _Offers:
    """plans.settlement.settlement: the discounted debt at once, if the lump sum covers it."""
    offers = _Offers.empty(len(debts), np.array([dates.settle], dtype=np.int64), dates)
    bps, discount = _discounts(debts, policy, 10_000)
    amount = debts.total - discount
    _reject(offers.rule, debts.lump_sum < amount, _LUMP_SUM)
    rows = np.flatnonzero(offers.rule == 0)
    offers.flows[0, rows] = amount[rows]
    offers.instalments[rows] = 1
    offers.instalment_minor[rows] = amount[rows]
    offers.waived_minor[rows] = discount[rows]
    offers.discount_bps[rows] = bps[rows]
    _measure(offers, OfferKind.SETTLEMENT, policy, dates)
    return offers


def _settlement_plan(debts: _Debts, policy: Policy, dates: _Dates) -> _Offers:
    """plans.settlement.settlement_plan: the smaller discount, the lump sum down, and the
    fewest equal instalments that fit the capacity."""
    limit = policy.settlement_plan_max_instalments
    count = len(debts)
    offers = _Offers.empty(count, np.arange(limit + 1, dtype=np.int64), dates)
    rule = offers.rule
    bps, discount = _discounts(debts, policy, policy.settlement_plan_discount_share_bps)
    amount = debts.total - discount
    down = (
        np.minimum(debts.lump_sum, amount) if policy.allow_down_payment else np.zeros_like(amount)
    )
    # cash for the whole plan now: the lump-sum settlement is the offer
    _reject(rule, (down > 0) & (down >= amount), _LUMP_SUM_COVERS)
    rest = amount - down
    capacity = debts.capacity
    # As many as the capacity needs, none if the lump sum pays all; no capacity, no plan.
    _reject(rule, (capacity == 0) & (rest > 0), _CAPACITY)
    parts = np.where(capacity > 0, -(-rest // np.maximum(capacity, 1)), 1)
    parts = np.where(rest == 0, 0, parts)
    _reject(rule, parts > limit, _CAPACITY)
    parts = np.minimum(parts, limit)
    safe = np.maximum(parts, 1)
    # Level parts rounded up, the last absorbing the residue; if that leaves the last at zero
    # or less, rounded down instead (plans.settlement._level_parts).
    level = -(-rest // safe)
    last = rest - level * (safe - 1)
    low = last <= 0
    level = np.where(low, rest // safe, level)
    last = rest - level * (safe - 1)
    largest = np.where(safe > 1, np.maximum(level, last), last)
    _reject(rule, (parts > 0) & (capacity > 0) & (largest > capacity), _CAPACITY)
    _reject(rule, (parts > 1) & (level < debts.minimum(policy)), _MIN_INSTALMENT)
    rows = np.flatnonzero(rule == 0)
    offers.flows[0, rows] = down[rows]
    position = np.arange(1, limit + 1, dtype=np.int64)[:, None]
    parts_r, level_r, last_r = parts[rows], level[rows], last[rows]
    offers.flows[1:, rows] = np.where(
        position < parts_r, level_r, np.where(position == parts_r, last_r, 0)
    )
    offers.instalments[rows] = parts_r
    offers.instalment_minor[rows] = np.where(
        parts_r > 1, level_r, np.where(parts_r == 1, last_r, 0)
    )
    offers.down_payment_minor[rows] = down[rows]
    offers.waived_minor[rows] = discount[rows]
    offers.discount_bps[rows] = bps[rows]
    _measure(offers, OfferKind.SETTLEMENT_PLAN, policy, dates)
    return offers


_MAKERS: dict[OfferKind, Callable[[_Debts, Policy, _Dates], _Offers]] = {
    OfferKind.INSTALMENT: _instalment,
    OfferKind.DEFERRAL: _deferral,
    OfferKind.SETTLEMENT: _settlement,
    OfferKind.SETTLEMENT_PLAN: _settlement_plan,
}

# Fields each kind never reads: a grid point that changes only these reuses the kind's offers.
_SETTLEMENT_FIELDS = (
    "discount_bands",
    "max_discount_bps",
    "settlement_window_days",
    "settlement_plan_max_instalments",
    "settlement_plan_discount_share_bps",
)
_PLAN_FIELDS = (
    "max_term_months",
    "plan_rate",
    "rate_cap",
    "arrears",
    "day_count",
    "deferral_periods",
    "deferral_max_periods",
    "deferral_interest",
)
_UNREAD: dict[OfferKind, tuple[str, ...]] = {
    OfferKind.INSTALMENT: (*_SETTLEMENT_FIELDS, *_PLAN_FIELDS[5:]),
    OfferKind.DEFERRAL: (*_SETTLEMENT_FIELDS, "allow_down_payment"),
    OfferKind.SETTLEMENT: (
        *_PLAN_FIELDS,
        "min_instalment",
        "allow_down_payment",
        "settlement_plan_discount_share_bps",
    ),
    OfferKind.SETTLEMENT_PLAN: (*_PLAN_FIELDS, "settlement_window_days"),
}
_DEFAULT = Policy()


def _relevant(policy: Policy, kind: OfferKind) -> Policy:
    """``policy`` with the fields ``kind`` never reads set to the defaults: a cache key."""
    changes: dict[str, Any] = {name: getattr(_DEFAULT, name) for name in _UNREAD[kind]}
    changes["survival"] = ((kind, policy.survival_curve(kind)),)
    changes["payoff_interest_waiver_bps"] = _DEFAULT.payoff_interest_waiver_bps
    changes["payoff_fee_waiver_bps"] = _DEFAULT.payoff_fee_waiver_bps
    changes["max_start_delay_days"] = _DEFAULT.max_start_delay_days
    return replace(policy, **changes)


# ---- metrics -----------------------------------------------------------------------------


def _measure(
    offers: _Offers,
    kind: OfferKind,
    policy: Policy,
    dates: _Dates,
    *,
    finance_charge: Int64Array | None = None,
    annual: Int64Array | None = None,
) -> None:
    """Total paid, APR, NPV and expected recovery as plans.offer.measure, and the APR cap.

    Debts without an offer have no flows, so every sum below is 0 for them without a mask.
    """
    flows = offers.flows
    offers.total_paid_minor[:] = flows.sum(axis=0)
    if finance_charge is not None and annual is not None:
        financed = offers.total_paid_minor - finance_charge
        solve = np.flatnonzero((offers.rule == 0) & (finance_charge != 0) & (financed > 0))
        if len(solve):
            apr = _apr_ppm(
                flows[:, solve], financed[solve], guess=annual[solve] / _MONTH_RATE_SCALE
            )
            offers.apr_ppm[solve] = apr
            # plans.instalment.finish: an APR above the cap (beyond Reg Z's tolerance) refuses
            over = solve[apr > int(policy.rate_cap * _RATE_SCALE) + _APR_TOLERANCE_PPM]
            if len(over):
                offers.rule[over] = _RATE_CAP
                _clear(offers, over)
                offers.total_paid_minor[over] = 0
    curve = policy.survival_curve(kind)
    weights = _weights(dates.days, policy.cost_of_funds, curve.take_up, curve.monthly_retention)
    offers.weights = weights
    # Positions after the last payment of every debt add exact zeros: leave them out.
    used = np.flatnonzero(flows.any(axis=1))
    rows = int(used.max()) + 1 if len(used) else 0
    values = flows[:rows].astype(np.float64)
    positions = offers.positions.tolist()
    first = offers.first
    for j in range(rows - 1, -1, -1):  # the earliest position that pays, without a strided argmax
        first[flows[j] > 0] = j
    first_position = offers.positions[np.maximum(first, 0)]
    npv, expected = _present_values(values, positions, first_position, weights)
    # plans.rates.npv_minor adds with math.fsum (exactly); a plain sum drifts by a few units in
    # the last place, which only matters once that place nears half a minor unit: for debts
    # paying 2^32 minor units or more, the sums are compensated (each debt's own choice, so a
    # debt's result does not depend on the debts it is computed with).
    large = np.flatnonzero(offers.total_paid_minor >= 2**32)
    if len(large):
        npv[large], expected[large] = _present_values(
            values[:, large], positions, first_position[large], weights, compensated=True
        )
    offers.npv_minor[:] = _round_float(npv, policy.rounding)
    offers.expected_recovery_minor[:] = np.rint(expected).astype(np.int64)  # round(): half-even


def _present_values(
    values: FloatArray,
    positions: list[int],
    first_position: Int64Array,
    weights: _Weights,
    *,
    compensated: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """NPV and expected recovery of each debt's flows (``values``: position × debt)."""
    count = values.shape[1]
    npv, expected = np.zeros(count), np.zeros(count)
    npv_error, expected_error = np.zeros(count), np.zeros(count)
    term = np.empty(count)
    for j, position in enumerate(positions[: values.shape[0]]):
        np.multiply(values[j], weights.discount[position], out=term)
        if compensated:
            _add_exactly(npv, npv_error, term)
        else:
            npv += term
        # amount × discount × take-up × survival, left to right as plans.offer.measure
        term *= weights.take_up
        term *= np.take(weights.table[:, position], first_position)
        if compensated:
            _add_exactly(expected, expected_error, term)
        else:
            expected += term
    if compensated:
        npv += npv_error
        expected += expected_error
    return npv, expected


def _add_exactly(total: FloatArray, error: FloatArray, term: FloatArray) -> None:
    # Knuth's TwoSum: total + term exactly as the rounded sum plus the error it dropped.
    rounded = total + term
    virtual = rounded - total
    error += (total - (rounded - virtual)) + (term - virtual)
    total[:] = rounded


def _clear(offers: _Offers, rows: Int64Array) -> None:
    for name in (
        "instalments",
        "instalment_minor",
        "down_payment_minor",
        "total_paid_minor",
        "waived_minor",
        "discount_bps",
        "apr_ppm",
    ):
        getattr(offers, name)[rows] = 0
    offers.flows[:, rows] = 0


def _round_float(x: FloatArray, rounding: Rounding) -> Int64Array:
    # plans.money.round_fraction of the exact value of each double (x - floor(x) is exact)
    whole = np.floor(x)
    fraction = x - whole
    up = fraction > 0.5
    tie = fraction == 0.5
    up |= tie if rounding is Rounding.HALF_UP else tie & (np.mod(whole, 2) == 1)
    result: Int64Array = (whole + up).astype(np.int64)
    return result


def _apr_ppm(flows: Int64Array, financed: Int64Array, *, guess: FloatArray) -> Int64Array:
    """Reg Z App J APR in millionths: one advance of ``financed`` on the as-of date, payments
    at whole months (row ``t`` of ``flows``), the unit period a month.

    Newton's method from ``guess`` (the plan's own monthly rate, which the APR differs from
    only by rounding and arrears) to full double precision, each debt stopping on its own;
    debts are solved in batches of similar length so a short plan does not pay for a long
    one's columns. A debt that does not converge is handed to :func:`plans.rates.apr`.
    """
    count = flows.shape[1]
    last = np.zeros(count, dtype=np.int64)
    for t in range(flows.shape[0]):
        last[flows[t] > 0] = t
    rate = np.full(count, np.nan)
    for batch in _by_term(last + 1):
        rate[batch] = _monthly_irr(
            flows[: int(last[batch].max()) + 1, batch], financed[batch], guess[batch]
        )
    for i in np.flatnonzero(np.isnan(rate)).tolist():
        rate[i] = _scalar_monthly_irr(flows[:, i], int(financed[i]))
    # Reg Z App J (b)(9): APR = unit-period rate × 12, six places, half-even (np.rint).
    apr: Int64Array = np.rint(rate * (_PERIODS_PER_YEAR * _RATE_SCALE)).astype(np.int64)
    return apr


def _monthly_irr(flows: Int64Array, financed: Int64Array, guess: FloatArray) -> FloatArray:
    # (b)(8) with whole unit periods: Σ a_t v^t = A, v = 1 / (1 + i). Horner's rule gives the
    # polynomial in v and its derivative in four in-place operations a column.
    amounts = flows.astype(np.float64)
    advance = financed.astype(np.float64)
    rate = np.maximum(guess, 1e-6)
    result = np.full(len(advance), np.nan)
    rows = np.arange(len(advance))
    for _ in range(50):
        if not len(rows):
            break
        v = 1.0 / (1.0 + rate)
        value = np.zeros(len(rows))
        slope = np.zeros(len(rows))  # d/dv
        for t in range(amounts.shape[0] - 1, -1, -1):
            slope *= v
            slope += value
            value *= v
            value += amounts[t]
        value -= advance
        # d/di = d/dv × dv/di = -v² d/dv
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = rate + value / (slope * v * v)
        step = np.where(np.isfinite(step), np.maximum(step, (rate - 0.99) / 2), rate / 2)
        done = np.abs(step - rate) <= 1e-14 * np.maximum(1.0, np.abs(rate))
        result[rows[done]] = step[done]
        keep = ~done
        rows, rate, amounts, advance = rows[keep], step[keep], amounts[:, keep], advance[keep]
    return result


def _scalar_monthly_irr(flows: Int64Array, financed: int) -> float:
    start = date(2001, 1, 1)  # any first of a month: whole months apart, no odd days
    payments = [(add_months(start, t), int(a)) for t, a in enumerate(flows.tolist()) if a > 0]
    return irr_per_period([(start, financed)], payments, frequency=Frequency.MONTHLY)


# ---- the offer shown first, and the totals -----------------------------------------------

TOTAL_COLUMNS: tuple[str, ...] = (
    "debts",
    "owed_minor",
    "with_offer",
    "expected_recovery_minor",
    "npv_minor",
    "total_paid_minor",
    "discount_minor",
    "discount_bps_sum",
    *(f"best_{kind}" for kind in OFFER_KINDS),
)
"""Integer sums per (grid point, currency, days-past-due bucket) over each debt's best offer
(the one :func:`plans.compare.negotiate` ranks first: highest expected recovery, then NPV,
then kind order); debts with no feasible offer add only to ``debts`` and ``owed_minor``."""

KIND_COLUMNS: tuple[str, ...] = (
    "offered",
    "expected_recovery_minor",
    "npv_minor",
    "total_paid_minor",
    "discount_minor",
    *(f"rejected_{rule}" for rule in RULES[1:]),
)
"""Integer sums per (grid point, currency, bucket, kind) over every feasible offer of the kind,
and the count of debts each rule stopped it for."""

CASH_FLOW_COLUMNS: tuple[str, ...] = ("paid_minor", "expected_minor")
"""Per (grid point, currency, bucket, month): what the best offers schedule in that month
(month 0: the as-of date's down payments and lump sums within the settlement window; month k:
the k-th monthly due date), and the same weighted by the survival curve and discounted at the
cost of funds, each payment rounded to the minor unit before it is added."""

_KEYS = ("grid_point", "currency", "dpd_bucket")
_BUCKET_TYPE = pd.CategoricalDtype(list(DPD_LABELS), ordered=True)
_KIND_TYPE = pd.CategoricalDtype([str(kind) for kind in OFFER_KINDS], ordered=True)
_RULE_TYPE = pd.CategoricalDtype(list(RULES))


def _best(made: Sequence[_Offers]) -> tuple[Int64Array, BoolArray]:
    """Index of each debt's first-ranked kind, and whether it has a feasible offer at all."""
    feasible = np.stack([m.rule == 0 for m in made])
    recovery = np.where(feasible, np.stack([m.expected_recovery_minor for m in made]), _INT64_MIN)
    tied = feasible & (recovery == recovery.max(axis=0))
    npv = np.where(tied, np.stack([m.npv_minor for m in made]), _INT64_MIN)
    tied &= npv == npv.max(axis=0)
    best: Int64Array = tied.argmax(axis=0).astype(np.int64)  # the earliest kind among ties
    has: BoolArray = np.any(feasible, axis=0, keepdims=False)
    return best, has


@dataclass(frozen=True, slots=True)
class _Groups:
    """Debts grouped by currency and days-past-due bucket, for exact integer sums."""

    index: Int64Array
    currencies: tuple[str, ...]

    @classmethod
    def of(cls, debts: _Debts) -> _Groups:
        bucket = np.searchsorted(np.array(DPD_BUCKETS), debts.days_past_due, side="right") - 1
        return cls(debts.currency_code * len(DPD_BUCKETS) + bucket, debts.currencies)

    @property
    def size(self) -> int:
        return len(self.currencies) * len(DPD_BUCKETS)

    def sums(self, columns: Sequence[npt.NDArray[Any]]) -> Int64Array:
        """Per group (rows) the sum of each of ``columns`` (non-negative integers), exactly."""
        out = np.zeros((self.size, len(columns)), dtype=np.int64)
        for c, values in enumerate(columns):
            if values.dtype == np.bool_ or int(values.max(initial=0)) * len(values) < 2**53:
                # every partial sum is an integer a double holds exactly
                out[:, c] = np.bincount(self.index, values, self.size).astype(np.int64)
            else:
                np.add.at(out[:, c], self.index, values)
        return out

    def frame(self, grid_point: Int64Array, group: Int64Array) -> dict[str, Any]:
        """Key columns for rows of ``(grid point, group)``."""
        buckets = len(DPD_BUCKETS)
        return {
            "grid_point": grid_point,
            "currency": pd.Categorical.from_codes(
                group // buckets, dtype=pd.CategoricalDtype(list(self.currencies))
            ),
            "dpd_bucket": pd.Categorical.from_codes(group % buckets, dtype=_BUCKET_TYPE),
        }


def _chunk_tables(
    debts: _Debts,
    ids: npt.NDArray[Any],
    points: Sequence[GridPoint],
    as_of: date,
    currencies: tuple[str, ...],
    keep_offers: bool,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """The partial sums of one chunk for every grid point, and its offers if kept."""
    groups = _Groups.of(debts)
    made_by: dict[tuple[OfferKind, Policy], _Offers] = {}
    totals, kinds, flows = [], [], []
    offers: list[pd.DataFrame] = []
    for point in points:
        made = []
        for kind in OFFER_KINDS:
            policy = _relevant(point.policy, kind)
            if (kind, policy) not in made_by:
                made_by[kind, policy] = _MAKERS[kind](debts, policy, _dates_for(as_of, policy))
            made.append(made_by[kind, policy])
        best, has = _best(made)
        totals.append(_totals(debts, groups, made, best, has))
        kinds.append(np.concatenate([_kind_sums(groups, m) for m in made]))
        flows.append(_cash_flows(groups, made, best, has))
        if keep_offers:
            offers.append(_offer_rows(point.index, debts, ids, currencies, made, best, has))
    indices = np.array([p.index for p in points], dtype=np.int64)
    return _tables(groups, indices, totals, kinds, flows), offers


def _totals(
    debts: _Debts, groups: _Groups, made: Sequence[_Offers], best: Int64Array, has: BoolArray
) -> Int64Array:
    columns = np.arange(len(debts))

    def pick(name: str) -> Int64Array:
        chosen: Int64Array = np.stack([getattr(m, name) for m in made])[best, columns]
        return np.where(has, chosen, 0)

    return groups.sums(
        [
            np.ones(len(debts), dtype=np.int64),
            debts.total,
            has,
            pick("expected_recovery_minor"),
            pick("npv_minor"),
            pick("total_paid_minor"),
            pick("waived_minor"),
            pick("discount_bps"),
            *(has & (best == k) for k in range(len(made))),
        ]
    )


def _kind_sums(groups: _Groups, m: _Offers) -> Int64Array:
    return groups.sums(
        [
            m.rule == 0,
            m.expected_recovery_minor,
            m.npv_minor,
            m.total_paid_minor,
            m.waived_minor,
            *(m.rule == code for code in range(1, len(RULES))),
        ]
    )


def _cash_flows(
    groups: _Groups, made: Sequence[_Offers], best: Int64Array, has: BoolArray
) -> Int64Array:
    """(group, month, paid/expected) sums of the best offers' flows."""
    months = max(int(m.months.max(initial=0)) for m in made) + 1
    out = np.zeros((groups.size, months, 2), dtype=np.int64)
    for k, m in enumerate(made):
        rows = np.flatnonzero(has & (best == k))
        if not len(rows) or m.weights is None:
            continue
        group = groups.index[rows]
        first_position = m.positions[np.maximum(m.first[rows], 0)]
        for j, position in enumerate(m.positions.tolist()):
            amounts = m.flows[j, rows]
            if not amounts.any():
                continue
            month = int(m.months[j])
            survival = np.take(m.weights.table[:, position], first_position)
            weighted = amounts * m.weights.discount[position] * m.weights.take_up * survival
            # each expected payment rounded on its own: sums of integers, exact anywhere
            sums = _Groups(group, groups.currencies).sums([amounts, np.rint(weighted)])
            out[:, month] += sums
    return out


def _tables(
    groups: _Groups,
    indices: Int64Array,
    totals: Sequence[Int64Array],
    kinds: Sequence[Int64Array],
    flows: Sequence[Int64Array],
) -> list[pd.DataFrame]:
    """The chunk's partial sums as three frames (rows of groups that have debts)."""
    size, points = groups.size, len(indices)
    present = np.tile(totals[0][:, 0] > 0, points) if points else np.zeros(0, np.bool_)
    group = np.tile(np.arange(size), points)
    point = np.repeat(indices, size)
    total = pd.DataFrame(
        {**groups.frame(point, group), **dict(zip(TOTAL_COLUMNS, np.vstack(totals).T, strict=True))}
    )[present]
    kind_count = len(OFFER_KINDS)
    kind_codes = np.tile(np.repeat(np.arange(kind_count), size), points)
    kind = pd.DataFrame(
        {
            **groups.frame(
                np.repeat(indices, size * kind_count), np.tile(group[:size], kind_count * points)
            ),
            "kind": pd.Categorical.from_codes(kind_codes, dtype=_KIND_TYPE),
            **dict(zip(KIND_COLUMNS, np.vstack(kinds).T, strict=True)),
        }
    )[np.repeat(present.reshape(points, size), kind_count, axis=0).ravel()]
    tables = [total.assign(table="totals"), kind.assign(table="kinds")]
    for index, cash in zip(indices.tolist(), flows, strict=True):
        group_of, month = np.nonzero(cash.any(axis=2))
        if len(group_of):
            rows = {
                **groups.frame(np.full(len(month), index, dtype=np.int64), group_of),
                "month": month.astype(np.int64),
                "paid_minor": cash[group_of, month, 0],
                "expected_minor": cash[group_of, month, 1],
            }
            tables.append(pd.DataFrame(rows).assign(table="cash_flow"))
    return tables


OFFER_COLUMNS: tuple[str, ...] = (
    "grid_point",
    "debt_id",
    "currency",
    "kind",
    "feasible",
    "rule",
    "best",
    "instalments",
    "instalment_minor",
    "down_payment_minor",
    "total_paid_minor",
    "discount_bps",
    "waived_minor",
    "apr",
    "npv_minor",
    "expected_recovery_minor",
)
"""One row per grid point, debt and kind (in :data:`OFFER_KINDS` order). ``rule`` is empty when
the offer is feasible and names the rule that stopped it otherwise (every amount is then 0);
``best`` marks the offer :func:`plans.compare.negotiate` would rank first. ``instalments``
counts regular payments (not the down payment); ``waived_minor`` is all the offer gives up
(a settlement's discount, arrears or pause interest waived); ``apr`` is Reg Z App J's, a
fraction to six places."""


def _offer_rows(
    index: int,
    debts: _Debts,
    ids: npt.NDArray[Any],
    currencies: tuple[str, ...],
    made: Sequence[_Offers],
    best: Int64Array,
    has: BoolArray,
) -> pd.DataFrame:
    count, kinds = len(debts), len(made)

    def interleave(arrays: Sequence[npt.NDArray[Any]]) -> npt.NDArray[Any]:
        return np.stack(arrays, axis=1).reshape(-1)  # debt by debt, the kinds side by side

    def column(name: str) -> npt.NDArray[Any]:
        return interleave([getattr(m, name) for m in made])

    codes = np.searchsorted(np.array(currencies), np.array(debts.currencies))
    currency = np.repeat(codes[debts.currency_code] if count else codes[:0], kinds)
    return pd.DataFrame(
        {
            "grid_point": np.full(count * kinds, index, dtype=np.int64),
            "debt_id": np.repeat(ids, kinds),
            "currency": pd.Categorical.from_codes(
                currency, dtype=pd.CategoricalDtype(list(currencies))
            ),
            "kind": pd.Categorical.from_codes(np.tile(np.arange(kinds), count), dtype=_KIND_TYPE),
            "feasible": interleave([m.rule == 0 for m in made]),
            "rule": pd.Categorical.from_codes(column("rule").astype(np.int64), dtype=_RULE_TYPE),
            "best": interleave([has & (best == k) for k in range(kinds)]),
            "instalments": column("instalments"),
            "instalment_minor": column("instalment_minor"),
            "down_payment_minor": column("down_payment_minor"),
            "total_paid_minor": column("total_paid_minor"),
            "discount_bps": column("discount_bps"),
            "waived_minor": column("waived_minor"),
            "apr": column("apr_ppm") / _RATE_SCALE,
            "npv_minor": column("npv_minor"),
            "expected_recovery_minor": column("expected_recovery_minor"),
        }
    )


# ---- the simulation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    """A portfolio simulated under a grid of policies: integer totals, and the offers if kept.

    ``totals``, ``kinds`` and ``cash_flow`` are the finest partial sums (by grid point,
    currency and days-past-due bucket; see :data:`TOTAL_COLUMNS`, :data:`KIND_COLUMNS`,
    :data:`CASH_FLOW_COLUMNS`); :meth:`summary`, :meth:`kind_summary` and :meth:`cash_flow_curve`
    roll them up. Simulations of parts of a portfolio :func:`combine` into the simulation of
    the whole, exactly.
    """

    grid: tuple[GridPoint, ...]
    totals: pd.DataFrame
    kinds: pd.DataFrame
    cash_flow: pd.DataFrame
    offers: pd.DataFrame | None = None

    def summary(self, by: Sequence[str] = ("grid_point", "currency")) -> pd.DataFrame:
        """Totals of the best offers per ``by``, with the ratios a policy is chosen by.

        ``share_with_offer`` is the share of debts with a feasible offer; ``recovery_rate``
        the expected recovery over what is owed; ``mean_discount_bps`` the settlement discount
        of the best offers, averaged over the debts that have one (0 for a plan).
        """
        totals = _roll_up(self.totals, by, TOTAL_COLUMNS)
        with np.errstate(divide="ignore", invalid="ignore"):
            totals["share_with_offer"] = totals["with_offer"] / totals["debts"]
            totals["recovery_rate"] = totals["expected_recovery_minor"] / totals["owed_minor"]
            totals["mean_discount_bps"] = totals["discount_bps_sum"] / totals["with_offer"]
        return totals

    def kind_summary(self, by: Sequence[str] = ("grid_point", "currency", "kind")) -> pd.DataFrame:
        """Feasible offers and rejections of each kind per ``by``."""
        return _roll_up(self.kinds, by, KIND_COLUMNS)

    def cash_flow_curve(
        self, by: Sequence[str] = ("grid_point", "currency", "month")
    ) -> pd.DataFrame:
        """What the best offers schedule (and are expected to bring) month by month."""
        return _roll_up(self.cash_flow, by, CASH_FLOW_COLUMNS)

    def parameters(self) -> pd.DataFrame:
        """One row per grid point: its label and the value of each parameter it varies."""
        rows = [{"grid_point": p.index, "label": p.label, **dict(p.parameters)} for p in self.grid]
        return pd.DataFrame(rows)


def _roll_up(frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    keys = list(by)
    if "currency" not in keys:
        raise ValueError("amounts of different currencies are never added: group by currency")
    rolled = frame.groupby(keys, sort=True, observed=True)[list(columns)].sum().reset_index()
    # currency codes differ between chunks and partitions: the code itself is the key
    return rolled.astype({"currency": str, **{name: np.int64 for name in columns}})


def _canonical(frame: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Partial sums added up per key and sorted: equal for equal portfolios, however split."""
    if frame.empty:
        empty = {k: pd.Series([], dtype=frame[k].dtype if k in frame else object) for k in keys}
        return pd.DataFrame({**empty, **{c: np.zeros(0, dtype=np.int64) for c in columns}})
    return _roll_up(frame, keys, columns)


_TABLES = {
    "totals": (_KEYS, TOTAL_COLUMNS),
    "kinds": ((*_KEYS, "kind"), KIND_COLUMNS),
    "cash_flow": ((*_KEYS, "month"), CASH_FLOW_COLUMNS),
}


def _empty_table(name: str) -> pd.DataFrame:
    keys, columns = _TABLES[name]
    frame: dict[str, Any] = {
        "grid_point": np.zeros(0, dtype=np.int64),
        "currency": pd.Series([], dtype=str),
        "dpd_bucket": pd.Categorical([], dtype=_BUCKET_TYPE),
    }
    if "kind" in keys:
        frame["kind"] = pd.Categorical([], dtype=_KIND_TYPE)
    if "month" in keys:
        frame["month"] = np.zeros(0, dtype=np.int64)
    return pd.DataFrame({**frame, **{c: np.zeros(0, dtype=np.int64) for c in columns}})


def _assemble(
    grid: tuple[GridPoint, ...],
    parts: Sequence[pd.DataFrame],
    offers: Sequence[pd.DataFrame] | None,
) -> Simulation:
    tables = {}
    for name, (keys, columns) in _TABLES.items():
        pieces = [p[list(keys) + list(columns)] for p in parts if p["table"].iat[0] == name]
        if pieces:
            tables[name] = _canonical(pd.concat(pieces, ignore_index=True), keys, columns)
        else:
            tables[name] = _empty_table(name)
    kept = None
    if offers is not None:
        kept = (
            pd.concat(offers, ignore_index=True)
            if offers
            else pd.DataFrame({c: [] for c in OFFER_COLUMNS})
        )
    return Simulation(grid, tables["totals"], tables["kinds"], tables["cash_flow"], kept)


def combine(parts: Sequence[Simulation]) -> Simulation:
    """The simulation of a whole portfolio from simulations of its parts, under one grid.

    Integer sums add up exactly, so the result equals simulating the whole at once; offers
    are kept only if every part kept them.

    Examples
    --------
    >>> from plans.synthetic import synthetic_portfolio
    >>> debts = synthetic_portfolio(300, seed=7)
    >>> whole = simulate(debts, Policy(), as_of=date(2026, 11, 25))
    >>> halves = [simulate(debts[:100], Policy(), as_of=date(2026, 11, 25)),
    ...           simulate(debts[100:], Policy(), as_of=date(2026, 11, 25))]
    >>> combine(halves).summary().equals(whole.summary())
    True
    """
    if not parts:
        raise ValueError("nothing to combine")
    tables = []
    for part in parts:
        for name in _TABLES:
            table = getattr(part, name)
            if not table.empty:
                tables.append(table.assign(table=name))
    kept = [p.offers for p in parts if p.offers is not None]
    offers = kept if len(kept) == len(parts) else None
    return _assemble(parts[0].grid, tables, offers)


def grid_points(grid: Policy | Sequence[GridPoint]) -> tuple[GridPoint, ...]:
    """A policy as a one-point grid, or the grid itself.

    Examples
    --------
    >>> grid_points(Policy())[0].label
    'base'
    """
    if isinstance(grid, Policy):
        _check_supported(grid)
        return (GridPoint(0, (), grid),)
    return tuple(grid)


def simulate(
    portfolio: pd.DataFrame,
    grid: Policy | Sequence[GridPoint],
    *,
    as_of: date,
    chunk_debts: int = 32_768,
    workers: int = 1,
    keep_offers: bool = True,
    write_offers: Callable[[pd.DataFrame], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Every offer of every kind for every debt under every grid point, and their totals.

    Parameters
    ----------
    portfolio
        One row per debt (:data:`PORTFOLIO_COLUMNS`); checked by :func:`portfolio_frame`.
    grid
        A policy, or the points of :func:`policy_grid`.
    as_of
        The date the debts are owed on and every offer is made.
    chunk_debts
        Debts computed at once: memory grows with it (about
        ``chunk_debts × distinct policies per kind × max term × 8`` bytes).
    workers
        Threads working on chunks at once (numpy releases the GIL in its loops).
    keep_offers
        Keep the per-debt offers (:data:`OFFER_COLUMNS`) as well as the totals.
    write_offers
        Called with each chunk's offers (one frame per grid point, chunks in portfolio order)
        as soon as they are made: a writer streams a large result to a file this way.
    progress
        Called with the number of debts each finished chunk held.

    Returns
    -------
    Simulation

    Examples
    --------
    >>> from plans.synthetic import synthetic_portfolio
    >>> sim = simulate(synthetic_portfolio(1_000, seed=1), Policy(), as_of=date(2026, 11, 25))
    >>> row = sim.summary().iloc[0]
    >>> row["currency"], int(row["debts"]), bool(0 < row["share_with_offer"] <= 1)
    ('CNY', 784, True)
    >>> sim.offers.groupby("kind", observed=True)["feasible"].mean().round(2).tolist()
    [0.67, 0.62, 0.05, 0.14]
    """
    if chunk_debts < 1 or workers < 1:
        raise ValueError("chunk_debts and workers must be at least 1")
    frame = portfolio_frame(portfolio)
    points = grid_points(grid)
    currencies = tuple(sorted(str(c) for c in pd.unique(frame["currency"])))

    def run(start: int) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
        chunk = frame.iloc[start : start + chunk_debts]
        ids = chunk["debt_id"].to_numpy()
        wanted = keep_offers or write_offers is not None
        return _chunk_tables(_Debts.of(chunk), ids, points, as_of, currencies, wanted)

    starts = list(range(0, len(frame), chunk_debts))
    tables: list[pd.DataFrame] = []
    kept: list[list[pd.DataFrame]] = []

    def take(start: int, made: tuple[list[pd.DataFrame], list[pd.DataFrame]]) -> None:
        # on the calling thread, chunk after chunk: the writer sees the portfolio in order
        tables.extend(made[0])
        if write_offers is not None:
            for offers_of_point in made[1]:
                write_offers(offers_of_point)
        if keep_offers:
            kept.append(made[1])
        if progress is not None:
            progress(min(chunk_debts, len(frame) - start))

    if workers == 1 or len(starts) <= 1:
        for start in starts:
            take(start, run(start))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for start, future in zip(starts, [pool.submit(run, s) for s in starts], strict=True):
                take(start, future.result())
    offers = None
    if keep_offers:
        # grid point by grid point, each in portfolio order
        offers = [chunk[g] for g in range(len(points)) for chunk in kept]
    return _assemble(points, tables, offers)
