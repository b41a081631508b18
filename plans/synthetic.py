"""A synthetic portfolio of overdue consumer debts, seeded, for demos, tests and benchmarks.

The shapes are those of an unsecured consumer-credit collections book (cards and small cash
loans), chosen to exercise every rule of the engine; the numbers are illustrative, not fitted
to anyone's data. Per debt, independently (amounts in CNY; other currencies are scaled by a
rough exchange rate and rounded to their own minor unit):

===================  ===========================================================================
currency             CNY 80 %, HKD 10 %, USD 10 % (``currencies`` overrides the mix)
principal            log-normal, median 8,000, σ = 0.9 (a long right tail), within 300–500,000
nominal annual rate  15 % promotional (uniform 0–10 %), 75 % regular (triangular 10–24 %, mode
                     18 %), 10 % legacy above the default 24 % cap (uniform 24–36 %); whole
                     basis points
days past due        1 + exponential with mean 160 days, at most 1,800: many early-stage
                     accounts and a long tail of old ones
interest arrears     principal × rate × (days past due, at most 180) / 365 × uniform(0.5, 1):
                     contractual interest stops at charge-off, and part was paid before default
fees                 80 % carry late fees of 50 a month overdue, at most 6 months
capacity per month   10 % state none at 0 days past due, rising to 40 % at 720 days and more;
                     the rest log-normal around 6 % of the debt a month, falling to 3 % at 720
                     days (older accounts are weaker debtors), σ = 0.7, between 0.5 % and 100 %
                     of the debt, in whole tens
lump sum             of debtors who state a capacity, 55 % have no cash, 35 % some savings,
                     Beta(2, 3) of the debt (mean 40 %), and 10 % could raise most of it,
                     uniform 55–105 %; of those who state none, half could raise 50–100 % of
                     the debt as a one-off (family, an asset) and half have nothing; in tens
===================  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from plans.money import exponent

DEFAULT_CURRENCIES: dict[str, float] = {"CNY": 0.8, "HKD": 0.1, "USD": 0.1}
# Units of each currency per CNY, roughly: enough to keep amounts of a plausible size.
FX_PER_CNY: dict[str, float] = {"CNY": 1.0, "HKD": 1.1, "USD": 0.14, "EUR": 0.13, "JPY": 21.0}
DEFAULT_SEED = 20261125


def synthetic_portfolio(
    debts: int,
    *,
    seed: int = DEFAULT_SEED,
    currencies: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``debts`` synthetic debts with the columns of :data:`plans.simulation.PORTFOLIO_COLUMNS`.

    The same ``seed`` gives the same portfolio on every machine (numpy's PCG64 generator).

    Examples
    --------
    >>> frame = synthetic_portfolio(3, seed=1)
    >>> frame.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['debt_id', 'currency', 'principal_minor', 'interest_minor', 'fees_minor',
     'nominal_annual_rate_ppm', 'days_past_due', 'capacity_minor', 'lump_sum_minor']
    >>> synthetic_portfolio(1_000).equals(synthetic_portfolio(1_000))
    True
    """
    if debts < 0:
        raise ValueError("debts must be 0 or more")
    mix = dict(currencies or DEFAULT_CURRENCIES)
    codes = sorted(mix)
    weights = np.array([mix[c] for c in codes], dtype=np.float64)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("currency weights must be non-negative with a positive sum")
    rng = np.random.default_rng(seed)
    n = debts
    which = rng.choice(len(codes), size=n, p=weights / weights.sum())
    fx = np.array([FX_PER_CNY.get(c, 1.0) for c in codes])[which]
    unit = np.array([10 ** exponent(c) for c in codes], dtype=np.int64)[which]

    principal_cny = np.clip(rng.lognormal(np.log(8_000), 0.9, n), 300, 500_000)
    principal = _minor(principal_cny * fx, unit)

    segment = rng.random(n)
    rate = np.where(
        segment < 0.15,
        rng.uniform(0.0, 0.10, n),
        np.where(segment < 0.90, rng.triangular(0.10, 0.18, 0.24, n), rng.uniform(0.24, 0.36, n)),
    )
    rate_ppm = np.round(rate * 10_000).astype(np.int64) * 100  # whole basis points

    dpd = np.minimum(1 + rng.exponential(160, n).astype(np.int64), 1_800)
    interest = np.round(
        principal * (rate_ppm / 1e6) * np.minimum(dpd, 180) / 365 * rng.uniform(0.5, 1.0, n)
    ).astype(np.int64)
    months_late = np.minimum(-(-dpd // 30), 6)
    fees = np.where(rng.random(n) < 0.8, months_late * _minor(50 * fx, unit), 0)

    total = principal + interest + fees
    age = np.minimum(dpd, 720) / 720
    median = 0.06 * (1 - 0.5 * age)
    share = np.clip(rng.lognormal(np.log(median), 0.7, n), 0.005, 1.0)
    capacity = np.where(rng.random(n) < 0.10 + 0.30 * age, 0, _tens(total * share, unit))
    cash = rng.random(n)
    savings, most, one_off = rng.beta(2, 3, n), rng.uniform(0.55, 1.05, n), rng.uniform(0.5, 1, n)
    lump_share: npt.NDArray[np.float64] = np.where(
        capacity > 0,
        np.where(cash < 0.55, 0.0, np.where(cash < 0.90, savings, most)),
        np.where(cash < 0.5, one_off, 0.0),
    )
    lump = _tens(total * lump_share, unit)

    return pd.DataFrame(
        {
            "debt_id": np.arange(1, n + 1, dtype=np.int64),
            "currency": np.array(codes, dtype=object)[which],
            "principal_minor": principal,
            "interest_minor": interest,
            "fees_minor": fees.astype(np.int64),
            "nominal_annual_rate_ppm": rate_ppm,
            "days_past_due": dpd.astype(np.int64),
            "capacity_minor": capacity.astype(np.int64),
            "lump_sum_minor": lump.astype(np.int64),
        }
    )


def _minor(major: npt.NDArray[np.float64], unit: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Major units to whole minor units (at least one)."""
    return np.maximum(np.round(major * unit), 1).astype(np.int64)


def _tens(minor: npt.NDArray[np.float64], unit: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """An amount of minor units rounded to whole tens of major units: what people say."""
    step = 10 * unit
    rounded: npt.NDArray[np.int64] = (np.round(minor / step) * step).astype(np.int64)
    return rounded
