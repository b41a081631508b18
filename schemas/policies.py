"""The finance team's policy as it crosses the API, and its versions.

A policy body lists every incentive parameter with the engine's defaults (``plans.policy``), so
``{}`` is a valid body and means "the defaults". Versions are immutable: a change is a new
version, and every offer names the version it came from.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import holidays
from pydantic import Field, StrictBool

from plans.affordability import Group
from plans.daycount import DayCount
from plans.errors import DomainError
from plans.money import Rounding
from plans.policy import (
    AllocationRule,
    ArrearsTreatment,
    Component,
    DeferralInterest,
    DiscountBand,
    InterestBasis,
    OfferKind,
    Policy,
    SpendingGuideline,
    SurvivalCurve,
)
from schemas import examples
from schemas.common import (
    Amount,
    Integer,
    Locale,
    Model,
    MultiLine,
    Rate,
    minor,
    rate,
    with_examples,
)
from schemas.contact_rules import ContactRulesBody, shipped_contact_rules
from schemas.message_rules import MessagesBody, shipped_message_rules

_DEFAULT = Policy()
MAX_START_DELAY_DAYS = 365
"""The longest start delay a policy may allow, in days after a debt's as-of date."""

Bps = Annotated[Integer, Field(ge=0, le=10_000, description="Basis points: 100 bps = 1 %.")]
Percent = Annotated[
    str,
    Field(
        pattern=r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$",
        description='A percentage as a decimal string, at most 2 decimals: "12.5" is 12.5 %.',
        examples=["20"],
    ),
]
Probability = Annotated[
    str,
    Field(pattern=r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$", examples=["0.70"]),
]

DEFAULT_MISSED_PAYMENT_TEXT = {
    Locale.EN: (
        "If a payment is more than 30 days late, or two payments are missed, the plan ends:"
        " any discount or waiver granted with it is withdrawn, and the balance still owed"
        " (less everything you have paid) falls due again under the original agreement."
        " We will always tell you before this happens."
    ),
    Locale.ZH_CN: (
        "如任何一期还款逾期超过30天，或累计有两期未还，本计划将终止：随本计划给予的减免或折扣将被撤销，"
        "尚欠余额（扣除您已支付的全部款项）将按原协议重新到期。在此之前我们一定会先通知您。"
    ),
}


class DiscountBandBody(Model):
    """From ``min_days_past_due`` on, a settlement may waive ``discount_bps`` of the debt."""

    min_days_past_due: Integer = Field(ge=0, le=100_000, examples=[180])
    discount_bps: Bps = Field(examples=[2000])


class SurvivalBody(Model):
    """p(months) = take_up × monthly_retention ** months after the first payment."""

    take_up: Probability
    monthly_retention: Probability = Field(
        description="Above 0: a simulation raises it to negative powers (rule positive_retention)."
    )


class SpendingGuidelineBody(Model):
    """The most a household of ``household_size`` people is expected to spend a month on one
    expenditure group of the Standard Financial Statement, in ``currency``."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    group: Group
    household_size: Integer = Field(ge=1, le=40, description="Adults and children together.")
    monthly: Amount


def _survival_default() -> dict[OfferKind, SurvivalBody]:
    return {
        kind: SurvivalBody(take_up=str(c.take_up), monthly_retention=str(c.monthly_retention))
        for kind, c in _DEFAULT.survival
    }


class PolicyBody(Model):
    """Every parameter a policy sets. Omitted fields take the engine's documented defaults."""

    max_term_months: Integer = Field(_DEFAULT.max_term_months, ge=1, le=600)
    min_instalment: dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Amount] = Field(
        default_factory=lambda: {c: str(a) for c, a in _DEFAULT.min_instalment},
        description="Smallest instalment per currency, in major units (1 unit if unlisted).",
        json_schema_extra={"additionalProperties": False},  # a key is a currency code
    )
    plan_rate: Rate | None = Field(
        str(_DEFAULT.plan_rate),
        description="Nominal annual rate during a plan; null = the debt's contractual rate;"
        ' "0" = an interest freeze.',
    )
    rate_cap: Rate = Field(str(_DEFAULT.rate_cap), description="Legal cap on the APR.")
    arrears: ArrearsTreatment = _DEFAULT.arrears
    allow_down_payment: StrictBool = _DEFAULT.allow_down_payment
    deferral_periods: Integer = Field(_DEFAULT.deferral_periods, ge=0, le=24)
    deferral_max_periods: Integer = Field(_DEFAULT.deferral_max_periods, ge=0, le=24)
    deferral_interest: DeferralInterest = _DEFAULT.deferral_interest
    discount_bands: list[DiscountBandBody] = Field(
        default_factory=lambda: [
            DiscountBandBody(min_days_past_due=b.min_days_past_due, discount_bps=b.discount_bps)
            for b in _DEFAULT.discount_bands
        ],
        max_length=32,
    )
    max_discount_bps: Bps = _DEFAULT.max_discount_bps
    settlement_window_days: Integer = Field(_DEFAULT.settlement_window_days, ge=0, le=365)
    settlement_plan_max_instalments: Integer = Field(
        _DEFAULT.settlement_plan_max_instalments, ge=1, le=24
    )
    settlement_plan_discount_share_bps: Bps = _DEFAULT.settlement_plan_discount_share_bps
    waterfall: list[Component] = Field(
        default_factory=lambda: list(_DEFAULT.waterfall),
        min_length=3,
        max_length=3,
        json_schema_extra={"uniqueItems": True},  # rule permutation: each component once
    )
    cost_of_funds: Rate = str(_DEFAULT.cost_of_funds)
    survival: dict[OfferKind, SurvivalBody] = Field(default_factory=_survival_default)
    rounding: Rounding = _DEFAULT.rounding
    day_count: DayCount = _DEFAULT.day_count
    interest_basis: InterestBasis = _DEFAULT.interest_basis
    holiday_country: str | None = Field(
        _DEFAULT.holiday_country,
        pattern=r"^[A-Z]{2}$",
        description="Public holidays of this country move due dates (python-holidays code).",
    )
    payoff_interest_waiver_bps: Bps = _DEFAULT.payoff_interest_waiver_bps
    payoff_fee_waiver_bps: Bps = _DEFAULT.payoff_fee_waiver_bps
    max_start_delay_days: Integer = Field(
        _DEFAULT.max_start_delay_days, ge=0, le=MAX_START_DELAY_DAYS
    )
    min_down_payment_pct: Percent = Field(
        str(_DEFAULT.min_down_payment_pct),
        description="Smallest down payment of an instalment plan or a settlement plan, in % of"
        " the balance owed (principal + interest + fees); 0 = no minimum. Below 100, and only"
        " with allow_down_payment. A plan asked with less is refused (422, rule"
        " min_down_payment_pct); negotiate rejects it, naming that rule. Deferrals take none.",
    )
    min_settlement_pct: Percent = Field(
        str(_DEFAULT.min_settlement_pct),
        description="Least a settlement or settlement plan asks, in % of the balance owed;"
        " 0 = no minimum. A discount that goes below it is refused (422, rule"
        " min_settlement_pct, field discount_bps); negotiate rejects the offer, naming that rule.",
    )
    missed_after_days: Integer = Field(
        _DEFAULT.missed_after_days, ge=1, le=3650, description="Days late before missed."
    )
    break_after_missed: Integer = Field(
        _DEFAULT.break_after_missed, ge=1, le=3650, description="Missed instalments that break."
    )
    break_after_days_late: Integer = Field(
        _DEFAULT.break_after_days_late, ge=1, le=3650, description="Days late that break."
    )
    cure_within_days: Integer = Field(
        _DEFAULT.cure_within_days,
        ge=0,
        le=365,
        description="A broken plan whose instalments past due are all paid within this many"
        " days of the break is cured: back on its schedule with its discount; 0: a break is"
        " final.",
    )
    overpayment: Literal["reduce_last", "refund"] = Field(
        "reduce_last", description="Money beyond what is due: shortens the plan, or refunded."
    )
    link_expiry_days: Integer = Field(_DEFAULT.link_expiry_days, ge=1, le=90)
    max_parties: Integer = Field(
        _DEFAULT.max_parties, ge=1, le=20, description="Parties a debt may list (its contacts)."
    )
    allocation_rule: AllocationRule = Field(
        _DEFAULT.allocation_rule,
        description="How a consolidated plan (several debts negotiated as one) shares the"
        " debtor's capacity and each payment: pro_rata (by balance, the UK debt-management"
        " convention), highest_rate_first or oldest_first (by days past due); each debt's"
        " waterfall applies within its share.",
    )
    affordable_share_bps: Integer = Field(
        _DEFAULT.affordable_share_bps,
        ge=1,
        le=10_000,
        description="The share of a debtor's disposable income (from capacity.statement) an"
        " offer may ask, in basis points: 10000 = all of it.",
    )
    spending_guidelines: list[SpendingGuidelineBody] = Field(
        default_factory=list,
        max_length=200,
        description="Guideline amounts per expenditure group and household size (the largest"
        " size not above the household's applies): a statement's amount above one is flagged"
        " in the offers' affordability, never changed.",
    )
    reminder_days_before: list[Annotated[Integer, Field(ge=0, le=30)]] = Field(
        default_factory=lambda: [3, 0],
        max_length=5,
        description="Reminders of each payment, in days before its date (0: on the day).",
    )
    missed_payment_text: dict[Locale, Annotated[MultiLine, Field(max_length=2000)]] = Field(
        default_factory=lambda: dict(DEFAULT_MISSED_PAYMENT_TEXT),
        description="What happens if a payment is missed, shown to the debtor in each language.",
    )
    contact: ContactRulesBody = Field(
        default_factory=shipped_contact_rules,
        description="Who may be contacted, when and how often, per jurisdiction (CN, US, GB);"
        " omitted: the shipped rules, each citing its source.",
    )
    messages: MessagesBody = Field(
        default_factory=shipped_message_rules,
        description="What every message says of the creditor and how to pay, and the"
        " signature and opt-out instruction of text messages per jurisdiction.",
    )

    def to_engine(self) -> Policy:
        """The engine's policy; a rule the engine refuses is a ``DomainError`` naming it."""
        if self.holiday_country is not None and (
            self.holiday_country not in holidays.list_supported_countries()
        ):
            raise DomainError(
                "policy.holiday_country", "supported_country", "is not a supported country"
            )
        for i, g in enumerate(self.spending_guidelines):
            # refused now, not when a statement in that currency meets it
            minor(g.monthly, g.currency, field=f"policy.spending_guidelines.{i}.monthly")
        return Policy(
            max_term_months=self.max_term_months,
            min_instalment=tuple((c, Decimal(a)) for c, a in sorted(self.min_instalment.items())),
            plan_rate=None
            if self.plan_rate is None
            else rate(self.plan_rate, field="policy.plan_rate"),
            rate_cap=rate(self.rate_cap, field="policy.rate_cap"),
            arrears=self.arrears,
            allow_down_payment=self.allow_down_payment,
            deferral_periods=self.deferral_periods,
            deferral_max_periods=self.deferral_max_periods,
            deferral_interest=self.deferral_interest,
            discount_bands=tuple(
                DiscountBand(b.min_days_past_due, b.discount_bps) for b in self.discount_bands
            ),
            max_discount_bps=self.max_discount_bps,
            settlement_window_days=self.settlement_window_days,
            settlement_plan_max_instalments=self.settlement_plan_max_instalments,
            settlement_plan_discount_share_bps=self.settlement_plan_discount_share_bps,
            waterfall=tuple(self.waterfall),
            cost_of_funds=rate(self.cost_of_funds, field="policy.cost_of_funds"),
            survival=tuple(
                (kind, SurvivalCurve(Decimal(s.take_up), Decimal(s.monthly_retention)))
                for kind, s in self.survival.items()
            ),
            rounding=self.rounding,
            day_count=self.day_count,
            interest_basis=self.interest_basis,
            holiday_country=self.holiday_country,
            payoff_interest_waiver_bps=self.payoff_interest_waiver_bps,
            payoff_fee_waiver_bps=self.payoff_fee_waiver_bps,
            max_start_delay_days=self.max_start_delay_days,
            min_down_payment_pct=Decimal(self.min_down_payment_pct),
            min_settlement_pct=Decimal(self.min_settlement_pct),
            missed_after_days=self.missed_after_days,
            break_after_missed=self.break_after_missed,
            break_after_days_late=self.break_after_days_late,
            cure_within_days=self.cure_within_days,
            overpayment=self.overpayment,
            link_expiry_days=self.link_expiry_days,
            max_parties=self.max_parties,
            allocation_rule=self.allocation_rule,
            affordable_share_bps=self.affordable_share_bps,
            spending_guidelines=tuple(
                SpendingGuideline(g.currency, g.group.value, g.household_size, Decimal(g.monthly))
                for g in self.spending_guidelines
            ),
        )


POLICY_EXAMPLE = {
    "max_term_months": 24,
    "plan_rate": "0",
    "rate_cap": "0.24",
    "discount_bands": [
        {"min_days_past_due": 0, "discount_bps": 0},
        {"min_days_past_due": 90, "discount_bps": 1000},
        {"min_days_past_due": 180, "discount_bps": 2500},
    ],
    "max_discount_bps": 3000,
    "min_down_payment_pct": "10",
    "min_settlement_pct": "60",
    "holiday_country": "CN",
}


class PolicyCreate(Model):
    """A new policy: a unique name and its first version's body."""

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    body: PolicyBody = Field(default_factory=PolicyBody)

    model_config = with_examples({"name": "cn-cards-2027q1", "body": POLICY_EXAMPLE})


class PolicyChange(Model):
    """A new version of an existing policy: the whole body (unlisted fields take defaults)."""

    body: PolicyBody

    model_config = with_examples({"body": POLICY_EXAMPLE})


class PolicyRef(Model):
    """Which policy version an offer came from (or should come from)."""

    id: Integer = Field(ge=1, le=2**31 - 1, examples=[1])
    version: Integer | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="Omitted: the latest version. Only finance and admin keys may name an"
        " earlier one for a new offer; from a collector or supervisor key that is a 422, rule"
        " current_policy_version.",
        examples=[3],
    )


class PolicyVersionOut(Model):
    """One immutable version of a policy."""

    id: Integer
    name: str
    version: Integer
    created_at: datetime
    body: PolicyBody

    model_config = with_examples(examples.POLICY_VERSION)


class PolicyList(Model):
    """Every policy with its latest version."""

    policies: list[PolicyVersionOut]

    model_config = with_examples(examples.POLICY_LIST)
