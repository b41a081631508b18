"""The answers of the collectors' endpoints: offers with their schedules, terms and metrics,
the sets negotiate and compare rank, counter-offer verdicts, and the consolidated shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, StrictBool, Tag

from plans.affordability import (
    Group,
)
from plans.allocation import AllocationRule
from plans.amortisation import Amortisation
from plans.annual_rates import RateMethod
from plans.calendar import Frequency
from plans.compare import RankBy
from plans.counter import Change
from plans.grace import GraceInterest
from plans.policy import DeferralInterest, OfferKind
from schemas import examples
from schemas.common import (
    Integer,
    IsoDate,
    Model,
    with_examples,
)
from schemas.contacts import Jurisdiction


class LineOut(Model):
    """One line of a schedule; payment = interest + fees + principal, and
    closing_balance = opening_balance + interest_accrued − payment − waived."""

    number: Integer
    kind: Literal["down_payment", "deferral", "instalment", "settlement"]
    due_date: IsoDate
    payment_date: IsoDate = Field(description="The due date moved to a business day.")
    opening_balance: str
    payment: str
    interest: str
    fees: str
    principal: str
    waived: str
    interest_accrued: str
    closing_balance: str


class TotalsOut(Model):
    """Column sums of the schedule, exactly."""

    payment: str
    interest: str
    fees: str
    principal: str
    waived: str
    interest_accrued: str


class ScheduleOut(Model):
    """The lines in date order and their totals."""

    lines: list[LineOut]
    totals: TotalsOut


class WaiverOut(Model):
    """What the creditor gives up, by component."""

    fees: str
    interest: str
    principal: str
    total: str


class OwedOut(Model):
    """What was owed when the offer was made."""

    principal: str
    interest: str
    fees: str
    total: str


class AnnualRateOut(Model):
    """The annual rate the debt's jurisdiction requires the debtor be shown, measured on the
    offer's own flows (the amount financed on the as-of date, the payments on their due dates)
    and the one the policy's cap is tested on."""

    jurisdiction: Jurisdiction
    method: RateMethod = Field(
        description="cn_irr (年化利率, PBOC Announcement [2021] No. 3), eu_ccd (GB: the APR of"
        " CONC App 1.1) or us_reg_z (the APR of Regulation Z Appendix J)."
    )
    rate: str = Field(description="Annual fraction, 6 places: 0.180000 is 18 %.")
    rate_percent: str = Field(description="In percent, as disclosed: to ``decimals`` places.")
    decimals: Integer = Field(description="2 (CN, US) or 1 (GB).")
    citation: str


class MetricsOut(Model):
    """Cost to the debtor and worth to the creditor. Rates are annual fractions."""

    total_paid: str
    total_interest: str
    total_fees: str
    total_waived: str
    finance_charge: str = Field(description="Plan interest paid (accrued less waived).")
    amount_financed: str
    payments: Integer
    first_payment_date: IsoDate | None
    last_payment_date: IsoDate | None
    smallest_payment: str
    largest_payment: str
    affordability_ratio: str | None = Field(
        description="Largest payment over the stated capacity per period."
    )
    apr: str = Field(description="Reg Z Appendix J actuarial APR, annual fraction.")
    effective_annual_rate: str
    annual_rate: AnnualRateOut = Field(
        description="The rate the debt's jurisdiction requires, next to the US APR above."
    )
    npv: str = Field(description="Present value at the policy's cost of funds (ACT/365F).")
    expected_recovery: str = Field(description="NPV weighted by the policy's survival curve.")


class TrueRateOut(Model):
    """A flat contract's true annual rate by one method (as POST /v1/rates/annual measures)."""

    method: RateMethod
    rate: str = Field(description="Annual fraction, 6 places.")
    rate_percent: str = Field(description="In percent, to ``decimals`` places, half up.")
    decimals: Integer
    citation: str


class FlatOut(Model):
    """The flat charge, and the true annual rates of the same payments beside it."""

    rate_per_period: str | None = Field(description="Null when a flat charge was stated.")
    charge_per_period: str
    flat_annual_rate: str = Field(
        description="The flat rate times periods a year: the figure such contracts advertise,"
        " not a rate on the balance owed."
    )
    true_annual_rates: list[TrueRateOut] = Field(
        description="us_reg_z (the APR, as metrics.apr), eu_ccd (the APRC; UK APR) and cn_irr"
        " (年化利率) of the schedule's payments."
    )


class TermsOut(Model):
    """The parameters the offer was made with."""

    frequency: Frequency
    first_due: IsoDate
    instalments: Integer
    instalment: str = Field(description="Level payment (the first, for equal principal).")
    nominal_annual_rate: str
    down_payment: str
    amortisation: Amortisation | None = None
    deferral_periods: Integer = 0
    deferral_payment: str = "0"
    deferral_interest: DeferralInterest | None = None
    discount_bps: Integer = 0
    settle_by: IsoDate | None = None
    grace_interest: GraceInterest | None = Field(
        None,
        description="Present for a plan with grace periods (deferral_periods of them, shown as"
        " deferral lines): interest_only or interest_free.",
    )
    flat: FlatOut | None = Field(None, description="Present for a flat contract.")


class PolicyUsed(Model):
    """The policy version an offer came from."""

    id: Integer
    name: str
    version: Integer


class _OfferBase(Model):
    currency: str
    as_of: IsoDate
    owed: OwedOut
    terms: TermsOut
    schedule: ScheduleOut
    waiver: WaiverOut
    metrics: MetricsOut
    summary: str = Field(description="One sentence a collector can read out, in the locale.")
    policy: PolicyUsed


class InstalmentOffer(_OfferBase):
    """Equal instalments (or equal principal) over a term."""

    kind: Literal["instalment"]

    model_config = with_examples(examples.INSTALMENT_OFFER)


class DeferralOffer(_OfferBase):
    """A pause, then instalments."""

    kind: Literal["deferral"]

    model_config = with_examples(examples.DEFERRAL_OFFER)


class SettlementOffer(_OfferBase):
    """A discounted lump sum by a date."""

    kind: Literal["settlement"]

    model_config = with_examples(examples.SETTLEMENT_OFFER)


class SettlementPlanOffer(_OfferBase):
    """A discounted total in a few instalments."""

    kind: Literal["settlement_plan"]

    model_config = with_examples(examples.SETTLEMENT_PLAN_OFFER)


OfferOut = Annotated[
    InstalmentOffer | DeferralOffer | SettlementOffer | SettlementPlanOffer,
    Field(discriminator="kind"),
]


class RejectionOut(Model):
    """Why a kind of offer was not made: the field and the rule."""

    kind: OfferKind
    field: str
    rule: str
    detail: str


class FlagOut(Model):
    """An expense above the policy's guideline for the household: shown, never changed."""

    group: Group
    amount: str
    guideline: str


class FitOut(Model):
    """How an offer's largest regular payment fits the disposable income."""

    kind: OfferKind
    monthly: str = Field(description="The largest regular payment, as a month's worth.")
    share: str = Field(description="Of the monthly disposable income, a fraction to 4 places.")
    sentence: str = Field(
        description='In the locale: "CN¥1,166.67 a month of CN¥1,400.00 disposable (83 %)".'
    )


class AffordabilityOut(Model):
    """What the debtor's income and expenditure statement leaves a month, and how each
    offer fits it (CONC 7.3: an affordable plan fits what is left after essential costs)."""

    income: str
    expenditure: str
    priority_debts: str
    disposable: str = Field(description="Income less expenditure less priority debts.")
    share_bps: Integer = Field(description="The policy's affordable share of it.")
    available: str = Field(description="The share of the disposable income, rounded down.")
    per_period: str = Field(description="The available amount per capacity.frequency period.")
    stated_payment: str | None = Field(description="capacity.payment, if given.")
    capacity_payment: str = Field(
        description="What the offers were made with: the smaller of the two, per period."
    )
    bounded_by: Literal["statement", "payment"]
    flags: list[FlagOut]
    fits: list[FitOut]


class OfferSet(Model):
    """Offers best first, and what was not offered, with reasons."""

    currency: str
    as_of: IsoDate
    ranked_by: RankBy
    best: OfferKind | None
    offers: list[OfferOut]
    rejected: list[RejectionOut]
    affordability: AffordabilityOut | None = Field(
        None, description="Present when the capacity gave an income and expenditure statement."
    )

    model_config = with_examples(examples.OFFER_SET)


class AlternativeOut(Model):
    """A feasible offer near the debtor's proposal."""

    change: Change
    reason: str
    offer: OfferOut


class CounterResult(Model):
    """The proposal accepted as is, or why not and the nearest offers that are allowed."""

    accepted: StrictBool
    offer: OfferOut | None
    rejections: list[RejectionOut]
    alternatives: list[AlternativeOut]

    model_config = with_examples(examples.COUNTER_RESULT)


# ---- several debts -------------------------------------------------------------------------


class AllocationOut(Model):
    """One debt's part of a schedule line: payment = principal + interest + fees."""

    debt_ref: str
    payment: str
    principal: str
    interest: str
    fees: str
    waived: str


class ConsolidatedLineOut(LineOut):
    """A line of the combined schedule and its allocation to the debts it pays: the
    allocations add up to the line to the minor unit."""

    allocations: list[AllocationOut]


class ConsolidatedScheduleOut(Model):
    """The combined lines in date order and their totals."""

    lines: list[ConsolidatedLineOut]
    totals: TotalsOut


class DebtOutcomeOut(Model):
    """One debt in a consolidated offer: what it owed, what it gets, when it is cleared. Its
    allocations add up to owed + interest_accrued − waived."""

    debt_ref: str
    owed: str
    interest_accrued: str = Field(description="Plan interest added while it is repaid.")
    paid: str
    waived: str
    first_payment_date: IsoDate | None
    cleared_on: IsoDate | None = Field(description="The date of its last allocation.")


class ConsolidatedOfferOut(Model):
    """One offer for several debts: the combined schedule, each line allocated to the debts by
    the policy's rule, and each debt's outcome."""

    kind: OfferKind
    currency: str
    as_of: IsoDate = Field(description="The earliest of the debts' as-of dates.")
    allocation_rule: AllocationRule
    allocation_text: str = Field(description="The allocation rule in one sentence, in the locale.")
    owed: OwedOut
    schedule: ConsolidatedScheduleOut
    waiver: WaiverOut
    metrics: MetricsOut
    debts: list[DebtOutcomeOut]
    summary: str = Field(description="One sentence a collector can read out, in the locale.")
    policy: PolicyUsed


class ConsolidatedOfferSet(Model):
    """Consolidated offers best first, what was not offered and why, and (with a statement)
    how each fits the disposable income."""

    currency: str
    as_of: IsoDate
    ranked_by: RankBy
    allocation_rule: AllocationRule
    best: OfferKind | None
    offers: list[ConsolidatedOfferOut]
    rejected: list[RejectionOut]
    affordability: AffordabilityOut | None

    model_config = with_examples(examples.CONSOLIDATED_OFFER_SET)


class ConsolidatedAlternativeOut(Model):
    """A feasible consolidated offer near the debtor's proposal."""

    change: Change
    reason: str
    offer: ConsolidatedOfferOut


class ConsolidatedCounterResult(Model):
    """The proposal for several debts accepted as is (one consolidated offer), or why not and
    the nearest consolidated offers the policy allows."""

    accepted: StrictBool
    allocation_rule: AllocationRule
    offer: ConsolidatedOfferOut | None
    rejections: list[RejectionOut]
    alternatives: list[ConsolidatedAlternativeOut]

    model_config = with_examples(examples.CONSOLIDATED_COUNTER_RESULT)


def _answer_shape(value: object) -> str:
    # a consolidated answer names its allocation rule; one debt's does not
    if isinstance(value, dict):
        return "shape:debts" if "allocation_rule" in value else "shape:debt"
    several = (ConsolidatedOfferSet, ConsolidatedCounterResult)
    return "shape:debts" if isinstance(value, several) else "shape:debt"


# POST /v1/offers/negotiate's answer: ``oneOf`` the two shapes, as its body.
NegotiateAnswer = Annotated[
    Annotated[OfferSet, Tag("shape:debt")] | Annotated[ConsolidatedOfferSet, Tag("shape:debts")],
    Discriminator(_answer_shape),
]

# POST /v1/offers/counter's answer: ``oneOf`` the two shapes, as its body.
CounterAnswer = Annotated[
    Annotated[CounterResult, Tag("shape:debt")]
    | Annotated[ConsolidatedCounterResult, Tag("shape:debts")],
    Discriminator(_answer_shape),
]
