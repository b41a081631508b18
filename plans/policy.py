"""The finance team's incentive parameters: plain, frozen data with documented defaults.

A policy bounds what the engine may offer. Every number here is a choice of the creditor's
finance team, not a rule of arithmetic; the defaults below are a sensible starting point for a
Chinese consumer-credit portfolio and are meant to be overridden (the API stores versions).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from plans.daycount import DayCount
from plans.errors import DomainError, InvalidRate
from plans.money import Rounding, check_currency, to_minor


class OfferKind(enum.StrEnum):
    """The four kinds of offer the engine makes."""

    INSTALMENT = "instalment"
    DEFERRAL = "deferral"
    SETTLEMENT = "settlement"
    SETTLEMENT_PLAN = "settlement_plan"


class Component(enum.StrEnum):
    """A part of what is owed; a waterfall is an order of these."""

    FEES = "fees"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class ArrearsTreatment(enum.StrEnum):
    """What a plan does with interest and fees already in arrears."""

    FOLD = "fold"  # carried into the plan and paid first
    WAIVE = "waive"  # forgiven when the plan is made


class DeferralInterest(enum.StrEnum):
    """What happens to interest that accrues while payments are paused."""

    CAPITALISE = "capitalise"  # added to principal when the pause ends
    ACCRUE = "accrue"  # kept as interest arrears, paid first once instalments start
    WAIVE = "waive"  # forgiven period by period


class InterestBasis(enum.StrEnum):
    """How a regular period's interest is measured.

    ``nominal``: a whole period at the nominal annual rate over periods per year, whatever the
    calendar says; ``actual_days``: the policy's day count between payment dates. The first
    line always runs from the as-of date to its due date under the day count, so interest is
    never charged twice for days already in the debt's accrued interest.
    """

    NOMINAL = "nominal"
    ACTUAL_DAYS = "actual_days"


@dataclass(frozen=True, slots=True)
class DiscountBand:
    """From ``min_days_past_due`` on, a settlement may waive ``discount_bps`` of the debt."""

    min_days_past_due: int
    discount_bps: int


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    """Probability that a debtor makes a payment ``months`` after the offer's first one.

    ``take_up`` is the chance the first payment is made at all; each further month keeps
    ``monthly_retention`` of those still paying: p(m) = take_up × retention**m. A simple,
    calibratable curve; the finance team fits both numbers on their own history.
    """

    take_up: Decimal
    monthly_retention: Decimal

    def probability(self, months: float) -> float:
        """Survival probability ``months`` after the first payment.

        Examples
        --------
        >>> SurvivalCurve(Decimal("0.8"), Decimal("0.9")).probability(2)
        0.648...
        """
        retention: float = float(self.monthly_retention) ** max(months, 0.0)
        return float(self.take_up) * retention


DEFAULT_SURVIVAL: tuple[tuple[OfferKind, SurvivalCurve], ...] = (
    # Illustrative figures in the range published for consumer collections (a lump sum is taken
    # less often but cannot break; long plans break more often). Calibrate before use.
    (OfferKind.INSTALMENT, SurvivalCurve(Decimal("0.70"), Decimal("0.96"))),
    (OfferKind.DEFERRAL, SurvivalCurve(Decimal("0.70"), Decimal("0.95"))),
    (OfferKind.SETTLEMENT, SurvivalCurve(Decimal("0.45"), Decimal("1"))),
    (OfferKind.SETTLEMENT_PLAN, SurvivalCurve(Decimal("0.60"), Decimal("0.93"))),
)

DEFAULT_DISCOUNT_BANDS: tuple[DiscountBand, ...] = (
    DiscountBand(0, 0),
    DiscountBand(30, 500),
    DiscountBand(90, 1000),
    DiscountBand(180, 2000),
    DiscountBand(360, 3000),
    DiscountBand(720, 4000),
)

DEFAULT_MIN_INSTALMENT: tuple[tuple[str, Decimal], ...] = (
    ("CNY", Decimal("100")),
    ("USD", Decimal("25")),
    ("EUR", Decimal("25")),
    ("GBP", Decimal("20")),
    ("JPY", Decimal("3000")),
    ("HKD", Decimal("200")),
)

# Nominal rates carry at most 6 decimal places (0.0001 %): enough for any published rate, and
# it keeps every interest computation an exact integer product in the vectorised path.
RATE_PLACES = 6


def check_rate(rate: Decimal, *, field: str) -> Decimal:
    """Return ``rate`` if it is a non-negative annual rate of at most 6 decimal places.

    Examples
    --------
    >>> check_rate(Decimal("0.24"), field="rate")
    Decimal('0.24')
    """
    if not rate.is_finite() or rate < 0:
        raise InvalidRate(field, "non_negative", "must be a finite rate of 0 or more")
    if rate > 10:
        raise InvalidRate(field, "max_rate", "must not exceed 1000 % a year")
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise InvalidRate(field, "max_decimals", f"at most {RATE_PLACES} decimal places")
    return rate


@lru_cache(maxsize=1024)  # a few rates per process, one per plan line otherwise
def per_period(nominal_annual_rate: Decimal, periods_per_year: int) -> Fraction:
    """Rate per period of a nominal annual rate, exactly.

    Examples
    --------
    >>> per_period(Decimal("0.24"), 12)
    Fraction(1, 50)
    """
    return Fraction(nominal_annual_rate) / periods_per_year


class AllocationRule(enum.StrEnum):
    """How a payment (or a capacity) is shared between the debts of a consolidated plan
    (:mod:`plans.allocation` applies it)."""

    PRO_RATA = "pro_rata"  # by balance, largest remainder (the default)
    HIGHEST_RATE_FIRST = "highest_rate_first"  # avalanche; ties by ref
    OLDEST_FIRST = "oldest_first"  # by days past due; ties by ref


@dataclass(frozen=True, slots=True)
class SpendingGuideline:
    """The most a household of ``household_size`` is expected to spend a month on an
    expenditure group (a ``plans.affordability.Group`` value), in major units of ``currency``.
    An amount above it is flagged, never changed (:func:`plans.affordability.affordability`)."""

    currency: str
    group: str
    household_size: int
    monthly: Decimal


@dataclass(frozen=True, slots=True)
class Policy:
    """What may be offered. Amounts in major units per currency; rates as annual fractions.

    Examples
    --------
    >>> p = Policy()
    >>> p.discount_bps(days_past_due=200)
    2000
    >>> p.min_instalment_minor("CNY")
    10000
    """

    max_term_months: int = 36
    min_instalment: tuple[tuple[str, Decimal], ...] = DEFAULT_MIN_INSTALMENT
    # None: the debt's contractual rate; 0: an interest freeze (the default in collections).
    plan_rate: Decimal | None = Decimal("0")
    rate_cap: Decimal = Decimal("0.24")
    arrears: ArrearsTreatment = ArrearsTreatment.FOLD
    allow_down_payment: bool = True
    deferral_periods: int = 2
    deferral_max_periods: int = 3
    deferral_interest: DeferralInterest = DeferralInterest.CAPITALISE
    discount_bands: tuple[DiscountBand, ...] = DEFAULT_DISCOUNT_BANDS
    max_discount_bps: int = 4000
    settlement_window_days: int = 14
    settlement_plan_max_instalments: int = 6
    settlement_plan_discount_share_bps: int = 5000
    waterfall: tuple[Component, ...] = (Component.FEES, Component.INTEREST, Component.PRINCIPAL)
    cost_of_funds: Decimal = Decimal("0.05")
    survival: tuple[tuple[OfferKind, SurvivalCurve], ...] = DEFAULT_SURVIVAL
    rounding: Rounding = Rounding.HALF_UP
    day_count: DayCount = DayCount.ACT_365F
    interest_basis: InterestBasis = InterestBasis.NOMINAL
    holiday_country: str | None = "CN"
    payoff_interest_waiver_bps: int = 5000
    payoff_fee_waiver_bps: int = 0
    max_start_delay_days: int = 45
    # Guardrails, in percent of the balance owed (0: none): a plan's down payment at least this,
    # a settlement (lump sum or plan) asking at least this.
    min_down_payment_pct: Decimal = Decimal(0)
    min_settlement_pct: Decimal = Decimal(0)
    # Accepted plans: an instalment unpaid this many days after its date is missed; the plan
    # breaks at so many missed instalments or at one instalment this many days late.
    missed_after_days: int = 15
    break_after_missed: int = 2
    break_after_days_late: int = 30
    # A broken plan is cured (back on its schedule, its discount restored) if every
    # instalment past due is paid within this many days of the break; 0: a break is final.
    cure_within_days: int = 0
    overpayment: str = "reduce_last"  # or "refund" (plans.payments.Overpayment)
    link_expiry_days: int = 7
    # Parties (debtor, co-debtors, guarantors, third parties) one debt may list.
    max_parties: int = 3
    # Consolidated plans: how the capacity and each payment are shared between the debts.
    allocation_rule: AllocationRule = AllocationRule.PRO_RATA
    # Capacity from an income and expenditure statement: the share of the disposable income an
    # offer may ask (10,000 bps = all of it), and the guideline amounts an expense is flagged by.
    affordable_share_bps: int = 10_000
    spending_guidelines: tuple[SpendingGuideline, ...] = ()
    _min_by_currency: dict[str, Decimal] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_policy(self)
        object.__setattr__(self, "_min_by_currency", dict(self.min_instalment))

    def discount_bps(self, *, days_past_due: int) -> int:
        """Settlement discount for a debt this far past due, capped by ``max_discount_bps``."""
        bps = 0
        for band in sorted(self.discount_bands, key=lambda b: b.min_days_past_due):
            if days_past_due >= band.min_days_past_due:
                bps = band.discount_bps
        return min(bps, self.max_discount_bps)

    def min_instalment_minor(self, currency: str) -> int:
        """Smallest instalment in ``currency``'s minor units (one major unit if unlisted)."""
        amount = self._min_by_currency.get(currency, Decimal(1))
        return to_minor(amount, currency, field="policy.min_instalment")

    def max_periods(self, periods_per_year: int) -> int:
        """Longest term in periods of a frequency: whole periods within ``max_term_months``."""
        return max(1, math.floor(self.max_term_months * periods_per_year / 12))

    def survival_curve(self, kind: OfferKind) -> SurvivalCurve:
        """The survival curve of an offer kind (certain payment if the policy has none)."""
        for curve_kind, curve in self.survival:
            if curve_kind is kind:
                return curve
        return SurvivalCurve(Decimal(1), Decimal(1))


def _check_policy(policy: Policy) -> None:
    def bad(name: str, rule: str, detail: str) -> DomainError:
        return DomainError(f"policy.{name}", rule, detail)

    if not 1 <= policy.max_term_months <= 600:
        raise bad("max_term_months", "range", "must be between 1 and 600")
    if policy.plan_rate is not None:
        check_rate(policy.plan_rate, field="policy.plan_rate")
    check_rate(policy.rate_cap, field="policy.rate_cap")
    check_rate(policy.cost_of_funds, field="policy.cost_of_funds")
    for name in ("deferral_periods", "deferral_max_periods", "settlement_window_days"):
        if getattr(policy, name) < 0:
            raise bad(name, "non_negative", "must be 0 or more")
    if policy.deferral_periods > policy.deferral_max_periods:
        raise bad("deferral_periods", "max", "must not exceed deferral_max_periods")
    if not 1 <= policy.settlement_plan_max_instalments <= 24:
        raise bad("settlement_plan_max_instalments", "range", "must be between 1 and 24")
    for name in (
        "max_discount_bps",
        "settlement_plan_discount_share_bps",
        "payoff_interest_waiver_bps",
        "payoff_fee_waiver_bps",
    ):
        if not 0 <= getattr(policy, name) <= 10000:
            raise bad(name, "bps_range", "must be between 0 and 10000 basis points")
    for i, band in enumerate(policy.discount_bands):
        if band.min_days_past_due < 0 or not 0 <= band.discount_bps <= 10000:
            raise bad(f"discount_bands[{i}]", "bps_range", "needs days >= 0 and 0-10000 bps")
    if sorted(policy.waterfall) != sorted(Component):
        raise bad("waterfall", "permutation", "must list fees, interest and principal once each")
    for currency, amount in policy.min_instalment:
        check_currency(currency, field="policy.min_instalment")
        if amount < 0:
            raise bad("min_instalment", "non_negative", "must be 0 or more")
    for kind, curve in policy.survival:
        for value in (curve.take_up, curve.monthly_retention):
            if not 0 <= value <= 1:
                raise bad(f"survival.{kind}", "probability", "must be between 0 and 1")
        # A simulation weighs every payment of a plan by retention ** (months from the first
        # payment), from each payment's side too, so negative powers: 0 ** -m divides by zero.
        # A take-up of 0 (nobody takes the offer) is defined: it only weighs everything by 0.
        if curve.monthly_retention == 0:
            raise bad(
                f"survival.{kind}.monthly_retention",
                "positive_retention",
                "must be above 0 (a month-on-month retention of 0 is undefined)",
            )
    if policy.max_start_delay_days < 0:
        raise bad("max_start_delay_days", "non_negative", "must be 0 or more")
    if not 0 <= policy.min_down_payment_pct < 100:  # 100 % down is a payoff, not a plan
        raise bad("min_down_payment_pct", "range", "must be from 0 to less than 100")
    if policy.min_down_payment_pct and not policy.allow_down_payment:
        raise bad("min_down_payment_pct", "needs_down_payment", "allow_down_payment is false")
    if not 0 <= policy.min_settlement_pct <= 100:
        raise bad("min_settlement_pct", "range", "must be from 0 to 100")
    for name in ("missed_after_days", "break_after_missed", "break_after_days_late"):
        if not 1 <= getattr(policy, name) <= 3650:
            raise bad(name, "range", "must be between 1 and 3650")
    if not 0 <= policy.cure_within_days <= 365:
        raise bad("cure_within_days", "range", "must be between 0 and 365")
    if policy.overpayment not in ("reduce_last", "refund"):
        raise bad("overpayment", "choice", "must be reduce_last or refund")
    if not 1 <= policy.link_expiry_days <= 90:
        raise bad("link_expiry_days", "range", "must be between 1 and 90")
    if not 1 <= policy.max_parties <= 20:
        raise bad("max_parties", "range", "must be between 1 and 20")
    if policy.allocation_rule not in tuple(AllocationRule):
        raise bad(
            "allocation_rule", "choice", "must be pro_rata, highest_rate_first or oldest_first"
        )
    if not 0 < policy.affordable_share_bps <= 10_000:
        raise bad("affordable_share_bps", "bps_range", "must be 1 to 10000 basis points")
    for i, guide in enumerate(policy.spending_guidelines):
        check_currency(guide.currency, field=f"policy.spending_guidelines[{i}].currency")
        if guide.monthly < 0 or not 1 <= guide.household_size <= 40:
            raise bad(f"spending_guidelines[{i}]", "range", "needs an amount >= 0, 1 to 40 people")
