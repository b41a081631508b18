"""The shared calendar: where every flow of every offer can fall, and what it is worth there.

One as-of date for the whole portfolio and monthly payments, and the debtor may start at once
(a ``Capacity`` with no ``earliest_start``): every plan's first instalment is due one month
after the as-of date. Every offer's dates then fall on one shared calendar, which is computed
once with the scalar engine's own functions, so business-day rolling and public holidays are
exact. The discount and survival weights of those dates are computed once per policy too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np

from plans.calendar import Frequency, add_periods, due_dates, next_business_day, payment_dates
from plans.errors import DomainError
from plans.policy import Policy
from plans.simulation.units import PERIODS_PER_YEAR, FloatArray, Int64Array

_DAYS_PER_MONTH = 365.0 / 12.0  # as plans.offer.measure counts the months of a survival curve


@dataclass(frozen=True, slots=True)
class Dates:
    """Where every flow of every offer can fall: position 0 is the as-of date (down payments),
    1..K the monthly due dates of the plans, K + 1 the settlement deadline. ``days`` counts
    days from the as-of date to each position's payment (business) day."""

    days: tuple[int, ...]
    months: Int64Array  # the cash-flow month of each position

    @property
    def settle(self) -> int:
        return len(self.days) - 1


@lru_cache(maxsize=256)
def _dates(as_of: date, country: str | None, window_days: int, horizon: int) -> Dates:
    first_due = add_periods(as_of, 1, Frequency.MONTHLY)
    paid = payment_dates(due_dates(first_due, horizon, Frequency.MONTHLY), country)
    settle_by = as_of + timedelta(days=window_days)
    settled = next_business_day(settle_by, country)
    days = (0, *((d - as_of).days for d in paid), (settled - as_of).days)
    months = np.array([*range(horizon + 1), 0], dtype=np.int64)
    return Dates(days, months)


def _horizon(policy: Policy) -> int:
    return max(policy.max_periods(PERIODS_PER_YEAR), policy.settlement_plan_max_instalments)


def dates_for(as_of: date, policy: Policy) -> Dates:
    """The shared calendar of the offers ``policy`` makes on ``as_of``."""
    try:
        return _dates(
            as_of, policy.holiday_country, policy.settlement_window_days, _horizon(policy)
        )
    except (ValueError, OverflowError):
        raise DomainError(
            "as_of", "date_range", "the plans would run past the last date of the calendar"
        ) from None


@dataclass(frozen=True, slots=True, eq=False)
class Weights:
    """Discount factors by position, and survival-weighted factors by first position."""

    discount: tuple[float, ...]
    take_up: float
    retention: tuple[tuple[float, ...], ...]  # [first][position]
    table: FloatArray  # the same as an array

    @classmethod
    def of(
        cls, discount: tuple[float, ...], take_up: float, retention: tuple[tuple[float, ...], ...]
    ) -> Weights:
        return cls(discount, take_up, retention, np.array(retention, dtype=np.float64))


@lru_cache(maxsize=256)
def weights_for(
    days: tuple[int, ...], cost_of_funds: Decimal, take_up: Decimal, kept: Decimal
) -> Weights:
    # Python floats, as plans.offer.measure computes them, so every term is the same double.
    growth = 1.0 + float(cost_of_funds)
    retention = float(kept)
    return Weights.of(
        tuple(growth ** (-d / 365.0) for d in days),
        float(take_up),
        tuple(tuple(retention ** ((d - f) / _DAYS_PER_MONTH) for d in days) for f in days),
    )
