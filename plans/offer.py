"""An offer: its terms, its schedule, what it waives, and what it is worth.

Every offer the engine makes carries the same metrics so that a collector can compare unlike
things (a lump sum now against eight instalments) on one scale, and a debtor can see the true
cost: the APR by Reg Z Appendix J, the effective annual rate, the annual rate the debtor's
jurisdiction requires (:mod:`plans.annual_rates`), and what is waived.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from plans.annual_rates import (
    DEFAULT_JURISDICTION,
    JURISDICTION_METHODS,
    AnnualRate,
    offer_rates,
    zero_annual_rate,
)
from plans.calendar import Frequency
from plans.errors import DomainError, InvalidDate
from plans.money import round_float
from plans.policy import OfferKind, Policy
from plans.rates import effective_annual_rate, present_values
from plans.schedule import LineKind, Schedule, Waiver

_DAYS_PER_MONTH = 365.0 / 12.0


@dataclass(frozen=True, slots=True)
class Owed:
    """What is owed at a moment, by component, in minor units."""

    principal_minor: int
    interest_minor: int
    fees_minor: int

    @property
    def total_minor(self) -> int:
        """The three components together."""
        return self.principal_minor + self.interest_minor + self.fees_minor


@dataclass(frozen=True, slots=True)
class Terms:
    """The parameters that produced an offer, enough to rebuild it.

    ``instalments`` counts regular payments (not the down payment, not deferral lines);
    ``instalment_minor`` is the level payment (the first one for equal-principal plans);
    ``nominal_annual_rate`` is the plan's rate on principal (for a flat contract, its flat
    rate times periods a year). ``flat`` is a flat contract's charge and true rates
    (:mod:`plans.flat`); ``grace_interest`` names a grace period's shape (:mod:`plans.grace`),
    whose ``deferral_periods`` lines come before the instalments.
    """

    frequency: Frequency
    first_due: date
    instalments: int
    instalment_minor: int
    nominal_annual_rate: Decimal
    down_payment_minor: int = 0
    amortisation: str | None = None
    deferral_periods: int = 0
    deferral_payment_minor: int = 0
    deferral_interest: str | None = None
    discount_bps: int = 0
    settle_by: date | None = None
    flat: FlatTerms | None = None
    grace_interest: str | None = None


@dataclass(frozen=True, slots=True)
class FlatTerms:
    """A flat contract's charge and the true annual rates disclosed beside it.

    ``rate_per_period`` is the flat rate on the original principal (None when the contract
    states a flat charge instead); ``charge_minor`` the charge each period;
    ``flat_annual_rate`` the flat rate times periods a year (what such contracts advertise);
    ``true_rates`` the annual rate of the same cash flows by each method of
    :mod:`plans.annual_rates` (Reg Z's APR, the EU/UK APRC, the CN 年化利率).
    """

    rate_per_period: Decimal | None
    charge_minor: int
    flat_annual_rate: Decimal
    true_rates: tuple[AnnualRate, ...]


@dataclass(frozen=True, slots=True)
class Metrics:
    """What an offer costs the debtor and is worth to the creditor.

    ``finance_charge_minor`` is the plan interest the debtor pays (interest accrued during
    the plan, less any of it waived); ``amount_financed_minor`` is what the payments repay
    besides it. ``apr`` and ``effective_annual_rate`` are annual fractions (0.12 = 12 %).
    ``annual_rate`` is the rate the debt's ``jurisdiction`` requires the debtor be shown (CN:
    年化利率 by the IRR method; GB: the APR of CONC App 1.1; US: the APR of Regulation Z), on
    the same flows as ``apr``. ``affordability_ratio`` is the largest payment over the stated
    capacity per period.
    """

    total_paid_minor: int
    total_interest_minor: int
    total_fees_minor: int
    total_waived_minor: int
    finance_charge_minor: int
    amount_financed_minor: int
    payments: int
    first_payment_date: date | None
    last_payment_date: date | None
    smallest_payment_minor: int
    largest_payment_minor: int
    affordability_ratio: Decimal | None
    apr: Decimal
    effective_annual_rate: Decimal
    npv_minor: int
    expected_recovery_minor: int
    jurisdiction: str
    annual_rate: AnnualRate


@dataclass(frozen=True, slots=True)
class Offer:
    """One offer: kind, terms, the schedule line by line, the waiver and the metrics."""

    kind: OfferKind
    currency: str
    as_of: date
    owed: Owed
    terms: Terms
    schedule: Schedule
    waiver: Waiver
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an offer kind was not made: the field and the rule, as a domain error names them."""

    kind: OfferKind
    field: str
    rule: str
    detail: str

    @classmethod
    def of(cls, kind: OfferKind, error: DomainError) -> Rejection:
        """A rejection from the domain error that stopped the offer."""
        return cls(kind, error.field, error.rule, error.detail)


def first_payment_date(offer: Offer) -> date | None:
    """The first date the offer asks money on, besides a down payment (due at once, and dated
    the as-of date, when the balance was measured), or ``None`` if it asks none."""
    for entry in offer.schedule.lines:
        if entry.kind is not LineKind.DOWN_PAYMENT:
            return entry.due_date
    return None


def check_first_payment(offer: Offer, *, today: date, field: str) -> Offer:
    """``offer`` if its first payment date (:func:`first_payment_date`) is not before ``today``
    (the debt's jurisdiction's today, :func:`plans.calendar.local_today`); a debt's as-of date
    may be in the past, a payment date may not.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> from plans.instalment import instalment_plan
    >>> debt = Debt("CNY", 300_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 95)
    >>> offer = instalment_plan(debt, policy=Policy(), term=3)  # first due 25 Dec 2026
    >>> check_first_payment(offer, today=date(2026, 12, 25), field="first_due") is offer
    True
    >>> check_first_payment(offer, today=date(2026, 12, 26), field="first_due")
    Traceback (most recent call last):
    ...
    plans.errors.InvalidDate: first_due: ... [first_payment_not_in_past]
    """
    first = first_payment_date(offer)
    if first is not None and first < today:
        raise InvalidDate(
            field,
            "first_payment_not_in_past",
            f"the first payment would be due on {first.isoformat()}, before today"
            f" ({today.isoformat()}) in the debt's time zone",
        )
    return offer


def measure(
    kind: OfferKind,
    schedule: Schedule,
    *,
    as_of: date,
    frequency: Frequency,
    capacity_minor: int | None,
    policy: Policy,
    waived_interest_accrued_minor: int = 0,
    jurisdiction: str = DEFAULT_JURISDICTION,
) -> Metrics:
    """The metrics of a schedule under a policy.

    The APR treats the amount financed as advanced on the as-of date and the payments as made
    on their contractual due dates, in unit periods of the plan's frequency; the NPV and the
    expected recovery use the business days the money actually arrives.

    The amount financed is the balance on the as-of date less what the offer forgives of it:
    every other amount the payments add up to (interest, any fee the plan charges) is the cost
    the rates measure. The jurisdiction's annual rate is measured on the same flows, starting
    from the APR's root (:func:`plans.annual_rates.offer_rates`): one solve per offer.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> from plans.instalment import instalment_plan
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 40)
    >>> offer = instalment_plan(debt, policy=Policy(plan_rate=None), term=12)
    >>> offer.metrics.apr  # 12 %, but for payments in whole fen (88,849 not 88,848.79)
    Decimal('0.120001')
    >>> offer.metrics.jurisdiction, offer.metrics.annual_rate.disclosed_percent
    ('CN', Decimal('12.00'))
    """
    totals = schedule.totals
    flows = schedule.payments
    amounts = [amount for _, amount in flows]
    finance_charge = totals.interest_accrued_minor - waived_interest_accrued_minor
    financed = totals.payment_minor - finance_charge
    method = JURISDICTION_METHODS[jurisdiction]
    if finance_charge != 0 and flows and financed > 0:
        # Reg Z §1026.17(c)(3)(ii): the APR may disregard that a payment moves because its
        # date is not a business day, so it is measured on contractual due dates.
        advances, dated = [(as_of, financed)], schedule.contractual_payments
        rate, annual = offer_rates(advances, dated, method=method, frequency=frequency)
    else:
        # Payments that add up to the amount financed, none before the advance: the rate that
        # equates them is exactly zero, with no need to solve for it.
        rate = Decimal("0.000000")
        annual = zero_annual_rate(method, frequency)
    present = present_values(flows, annual_rate=policy.cost_of_funds, as_of=as_of)
    npv = round_float(math.fsum(present), policy.rounding)  # npv_minor, its values shared
    curve = policy.survival_curve(kind)
    first = flows[0][0] if flows else as_of
    take_up, retention = float(curve.take_up), float(curve.monthly_retention)
    # Expected recovery: each payment discounted as in the NPV (cost of funds, ACT/365F from
    # the as-of date) and weighted by the chance the debtor is still paying by then.
    expected = math.fsum(
        value * take_up * retention ** ((day - first).days / _DAYS_PER_MONTH)
        for value, (day, _) in zip(present, flows, strict=True)
    )
    largest = max(amounts, default=0)
    ratio = None
    if capacity_minor:
        ratio = (Decimal(largest) / Decimal(capacity_minor)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_EVEN
        )
    return Metrics(
        total_paid_minor=totals.payment_minor,
        total_interest_minor=totals.interest_minor,
        total_fees_minor=totals.fees_minor,
        total_waived_minor=totals.waived_minor,
        finance_charge_minor=finance_charge,
        amount_financed_minor=financed,
        payments=len(flows),
        first_payment_date=flows[0][0] if flows else None,
        last_payment_date=flows[-1][0] if flows else None,
        smallest_payment_minor=min(amounts, default=0),
        largest_payment_minor=largest,
        affordability_ratio=ratio,
        apr=rate,
        effective_annual_rate=effective_annual_rate(rate, frequency.periods_per_year),
        npv_minor=npv,
        expected_recovery_minor=round(expected),
        jurisdiction=jurisdiction,
        annual_rate=annual,
    )
