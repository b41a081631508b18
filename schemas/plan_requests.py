"""Requests for explicit plans: one instalment plan, deferral or settlement with its own
parameters (a flat contract or grace periods among them), and several side by side (compare),
for one debt or, as negotiate makes them, for several."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Discriminator, Field, Tag, model_validator

from plans.allocation import MAX_DEBTS, NamedDebt
from plans.amortisation import Amortisation
from plans.calendar import Frequency
from plans.compare import RankBy
from plans.debt import check_semi_monthly
from plans.errors import DomainError, NotAllowed
from plans.flat import InterestMethod
from plans.grace import GraceInterest
from plans.instalment import Until
from plans.policy import DeferralInterest, OfferKind
from schemas.common import (
    Amount,
    Date,
    Integer,
    Locale,
    Model,
    Rate,
    given,
    when,
    with_examples,
)
from schemas.offers import (
    CONSOLIDATED_RULES,
    DAYS_RULE,
    DEBT_EXAMPLE,
    DEBTS_EXAMPLE,
    FIRST_PAYMENT_RULE,
    UNTIL_RULE,
    CapacityIn,
    DebtIn,
    NamedDebtIn,
    PayDays,
    check_capacity_start,
    check_one_currency,
    check_start,
    engine_days,
)
from schemas.policies import MAX_START_DELAY_DAYS, PolicyRef


class GraceIn(Model):
    """Grace periods before the instalments: no principal is repaid in them."""

    periods: Integer = Field(
        ge=1,
        le=24,
        description="Periods of grace from the first due date, before the instalments; more"
        " than the policy's deferral_max_periods: 422, rule max_grace. They count towards the"
        " maximum term (422, rule max_term).",
    )
    interest: GraceInterest = Field(
        description="interest_only: each period's interest is due and paid (settled down the"
        " policy's waterfall, as a deferral's token payment), the principal is not;"
        " interest_free: nothing accrues."
    )


FLAT_RULES = (
    " With interest_method flat: exactly one of flat_rate_per_period and flat_charge_per_period"
    " (neither: 422, rule flat_charge_required; both: 422, rule one_flat_charge), a term (422,"
    " rule required), and no payment (rule term_only), nominal_annual_rate (rule"
    " flat_no_nominal_rate), equal_principal amortisation (rule flat_equal_instalment) or grace"
    " (rule grace_not_flat). A flat charge with the actuarial method: 422, rule flat_only."
)

# The flat contract's and the grace periods' fields, alike in an instalment plan and in a
# comparison's instalment item.
FlatRate = Annotated[
    Rate | None,
    Field(description="The flat rate each period on the original principal: 0.006 is 0.6 %."),
]
FlatCharge = Annotated[
    Amount | None, Field(description="The flat charge each period, in the debt's currency.")
]
Grace = Annotated[
    GraceIn | None,
    Field(
        description="Grace periods before the instalments: a term is required (422, rule"
        " required) and a payment refused (422, rule term_only)."
    ),
]


class InstalmentRequest(Model):
    """One instalment plan with explicit parameters ("what if 8 months?")."""

    kind: Literal["instalment"] = "instalment"
    debt: DebtIn
    capacity: CapacityIn | None = None
    term: Integer | None = Field(None, ge=1, le=1200, description="Number of instalments.")
    payment: Amount | None = Field(
        None,
        description="Bound on each instalment: solves the term (the payment re-levelled to the"
        " smallest that repays in it). With until: repaid, exactly this each period.",
    )
    until: Until | None = Field(
        None,
        description="repaid: pay exactly payment (else capacity.payment) every period and a"
        " smaller last one. Without either: 422, field until, rule requires_payment; with a"
        " term: 422, field term, rule until_without_term; with equal_principal: 422, field"
        " amortisation, rule until_equal_instalment." + UNTIL_RULE,
    )
    amortisation: Amortisation = Amortisation.EQUAL_INSTALMENT
    down_payment: Amount | None = Field(
        None,
        description="Omitted: the capacity's lump sum if the policy takes one. Below the"
        " policy's min_down_payment_pct of the balance: 422, rule min_down_payment_pct.",
    )
    frequency: Frequency | None = None
    days: PayDays | None = Field(
        None,
        description="The days of the month a semi_monthly plan is paid on (frequency, else the"
        " capacity's, must be semi_monthly); omitted: the capacity's, if it names them."
        + DAYS_RULE,
    )
    first_due: Date | None = Field(
        None,
        description=f"At most {MAX_START_DELAY_DAYS} days after the as-of date."
        + FIRST_PAYMENT_RULE,
    )
    nominal_annual_rate: Rate | None = Field(None, description="Omitted: the policy's plan rate.")
    interest_method: InterestMethod = Field(
        InterestMethod.ACTUARIAL,
        description="actuarial: the nominal rate on the balance owed; flat: a flat charge each"
        " period on the original principal (the principal less any down payment), equal"
        " instalments, the true annual rates disclosed in terms.flat." + FLAT_RULES,
    )
    flat_rate_per_period: FlatRate = None
    flat_charge_per_period: FlatCharge = None
    grace: Grace = None
    policy: PolicyRef | None = None
    locale: Locale = Locale.EN

    # rule required: the term comes from a term, a payment or a capacity
    model_config = with_examples(
        {"debt": DEBT_EXAMPLE, "term": 8},
        {
            "debt": DEBT_EXAMPLE,
            "term": 12,
            "interest_method": "flat",
            "flat_rate_per_period": "0.006",
        },
        {"debt": DEBT_EXAMPLE, "term": 10, "grace": {"periods": 2, "interest": "interest_only"}},
        # rule required: the term comes from a term, a payment or a capacity; a flat contract
        # and grace periods from a term
        schema={
            "allOf": [
                given("term", "payment", "capacity"),
                when("interest_method", ("flat",), given("term")),
                {"if": given("grace"), "then": given("term")},
            ]
        },
    )

    @model_validator(mode="after")
    def _starts_in_reach(self) -> Self:
        check_capacity_start(self.debt, self.capacity)
        check_start(self.debt, self.first_due, field="first_due")
        if self.days is not None:
            capacity = self.capacity.frequency if self.capacity else Frequency.MONTHLY
            check_semi_monthly(self.frequency or capacity, field="days")
            engine_days(self.days, field="days")
        return self

    @model_validator(mode="after")
    def _one_contract_shape(self) -> Self:
        _check_contract_shape(self)
        return self


def _check_contract_shape(item: InstalmentRequest | CompareItem) -> None:
    """A flat contract or grace periods is asked for by term, as one instalment plan; a flat
    charge needs the flat method; a flat contract has no nominal rate, no equal principal and
    no grace (rules term_only, plain_plan_only, flat_only, flat_no_nominal_rate,
    flat_equal_instalment, grace_not_flat)."""
    flat = item.interest_method is InterestMethod.FLAT
    stated = "flat_rate_per_period" if item.flat_rate_per_period is not None else None
    if item.flat_charge_per_period is not None:
        stated = "flat_charge_per_period"
    if flat or item.grace is not None:
        for name, rule, why in (
            ("payment", "term_only", "a flat or grace plan is asked for by term"),
            ("until", "term_only", "a flat or grace plan is asked for by term"),
            ("days", "plain_plan_only", "pay days are for a plain instalment plan"),
        ):
            if getattr(item, name, None) is not None:
                raise NotAllowed(name, rule, why)
    if not flat:
        if stated is not None:
            raise NotAllowed(stated, "flat_only", "needs interest_method flat")
        return
    refused = (
        (
            "nominal_annual_rate",
            "flat_no_nominal_rate",
            getattr(item, "nominal_annual_rate", None) is not None,
        ),
        (
            "amortisation",
            "flat_equal_instalment",
            item.amortisation is not Amortisation.EQUAL_INSTALMENT,
        ),
        ("grace", "grace_not_flat", item.grace is not None),
    )
    for field, rule, broken in refused:
        if broken:
            raise NotAllowed(field, rule, "is not part of a flat contract")


class DeferralRequest(Model):
    """A pause of some periods, then instalments."""

    kind: Literal["deferral"] = "deferral"
    debt: DebtIn
    capacity: CapacityIn | None = None
    periods: Integer | None = Field(None, ge=1, le=24, description="Omitted: the policy's default.")
    deferral_payment: Amount = Field("0", description="Token payment each paused period.")
    interest: DeferralInterest | None = None
    term: Integer | None = Field(None, ge=1, le=1200)
    payment: Amount | None = None
    amortisation: Amortisation = Amortisation.EQUAL_INSTALMENT
    frequency: Frequency | None = None
    nominal_annual_rate: Rate | None = None
    policy: PolicyRef | None = None
    locale: Locale = Locale.EN

    # rule required: the term comes from a term, a payment or a capacity
    model_config = with_examples(
        {"debt": DEBT_EXAMPLE, "periods": 2, "term": 10, "interest": "waive"},
        schema=given("term", "payment", "capacity"),
    )

    @model_validator(mode="after")
    def _starts_in_reach(self) -> Self:
        check_capacity_start(self.debt, self.capacity)
        return self


class SettlementRequest(Model):
    """The debt closed for less: a lump sum by a date, or a few instalments."""

    kind: Literal["settlement", "settlement_plan"] = "settlement"
    debt: DebtIn
    capacity: CapacityIn | None = None
    discount_bps: Integer | None = Field(
        None,
        ge=0,
        le=10_000,
        description="Omitted: the policy's. One leaving less than the policy's"
        " min_settlement_pct of the balance: 422, rule min_settlement_pct.",
    )
    settle_by: Date | None = Field(None, description="Lump sum only." + FIRST_PAYMENT_RULE)
    instalments: Integer | None = Field(None, ge=1, le=24, description="Settlement plan only.")
    frequency: Frequency | None = None
    policy: PolicyRef | None = None
    locale: Locale = Locale.EN

    model_config = with_examples(
        {"kind": "settlement", "debt": DEBT_EXAMPLE, "settle_by": "2026-12-05"},
        {"kind": "settlement_plan", "debt": DEBT_EXAMPLE, "instalments": 3},
    )

    @model_validator(mode="after")
    def _starts_in_reach(self) -> Self:
        check_capacity_start(self.debt, self.capacity)
        return self


PlanRequest = Annotated[
    InstalmentRequest | DeferralRequest | SettlementRequest, Field(discriminator="kind")
]


_INSTALMENT = {"kind": {"enum": ["instalment"]}}


class CompareItem(Model):
    """One offer to compare, by kind and parameters (the debt is shared).

    An instalment plan may be a flat contract or start with grace periods, as in
    ``POST /v1/plans/instalment``, to set it beside the actuarial plan of the same term: the
    flat fields and grace on another kind are a 422, rule instalment_only."""

    kind: OfferKind
    term: Integer | None = Field(None, ge=1, le=1200)
    payment: Amount | None = None
    periods: Integer | None = Field(None, ge=1, le=24)
    deferral_payment: Amount = "0"
    interest: DeferralInterest | None = None
    discount_bps: Integer | None = Field(None, ge=0, le=10_000)
    instalments: Integer | None = Field(None, ge=1, le=24)
    settle_by: Date | None = None
    amortisation: Amortisation = Amortisation.EQUAL_INSTALMENT
    interest_method: InterestMethod = Field(
        InterestMethod.ACTUARIAL, description="As in POST /v1/plans/instalment." + FLAT_RULES
    )
    flat_rate_per_period: FlatRate = None
    flat_charge_per_period: FlatCharge = None
    grace: Grace = None

    model_config = with_examples(
        {
            "kind": "instalment",
            "term": 12,
            "interest_method": "flat",
            "flat_rate_per_period": "0.006",
        },
        # a flat contract and grace periods: an instalment plan, by term
        schema={
            "allOf": [
                when("interest_method", ("flat",), {**given("term"), "properties": _INSTALMENT}),
                {"if": given("grace"), "then": {**given("term"), "properties": _INSTALMENT}},
                {
                    "if": given("flat_rate_per_period", "flat_charge_per_period"),
                    "then": {"properties": _INSTALMENT},
                },
            ]
        },
    )

    @model_validator(mode="after")
    def _one_contract_shape(self) -> Self:
        shaped = (
            self.interest_method is InterestMethod.FLAT
            or self.grace is not None
            or self.flat_rate_per_period is not None
            or self.flat_charge_per_period is not None
        )
        if shaped and self.kind is not OfferKind.INSTALMENT:
            raise NotAllowed(
                "kind", "instalment_only", "a flat or grace plan is an instalment plan"
            )
        _check_contract_shape(self)  # a flat charge without the flat method: flat_only
        by_term = self.interest_method is InterestMethod.FLAT or self.grace is not None
        if by_term and self.term is None:
            raise DomainError("term", "required", "a flat or grace plan is asked for by term")
        return self


class CompareRequest(Model):
    """Several explicit offers for one debt, side by side."""

    debt: DebtIn
    capacity: CapacityIn | None = None
    offers: list[CompareItem] = Field(min_length=1, max_length=12)
    policy: PolicyRef | None = None
    locale: Locale = Locale.EN
    rank_by: RankBy = RankBy.EXPECTED_RECOVERY

    model_config = with_examples(
        {
            "debt": DEBT_EXAMPLE,
            "offers": [
                {"kind": "instalment", "term": 8},
                {"kind": "instalment", "term": 12},
                {"kind": "settlement_plan", "instalments": 3},
            ],
        }
    )

    @model_validator(mode="after")
    def _starts_in_reach(self) -> Self:
        check_capacity_start(self.debt, self.capacity)
        return self


class ConsolidatedCompareItem(Model):
    """One kind of consolidated offer to compare: made as negotiate makes it for the debts."""

    kind: OfferKind


class ConsolidatedCompareRequest(Model):
    """Chosen kinds of consolidated offer for several debts, side by side."""

    debts: list[NamedDebtIn] = Field(
        min_length=2,
        max_length=MAX_DEBTS,
        description=f"2 to {MAX_DEBTS} debts." + CONSOLIDATED_RULES,
    )
    capacity: CapacityIn
    offers: list[ConsolidatedCompareItem] = Field(
        min_length=1,
        max_length=4,
        description="The kinds to compare, each once; each is made as negotiate makes it for"
        " the debts (explicit terms are for one debt).",
        json_schema_extra={"uniqueItems": True},
    )
    policy: PolicyRef | None = None
    locale: Locale = Locale.EN
    rank_by: RankBy = RankBy.EXPECTED_RECOVERY

    model_config = with_examples(
        {
            "debts": DEBTS_EXAMPLE,
            "capacity": {"payment": "900.00"},
            "offers": [{"kind": "instalment"}, {"kind": "deferral"}],
        }
    )

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        check_one_currency(self.debts)
        for debt in self.debts:
            check_capacity_start(debt, self.capacity)
        kinds = [item.kind for item in self.offers]
        for i, kind in enumerate(kinds):
            if kind in kinds[:i]:
                raise NotAllowed(f"offers.{i}.kind", "unique_kind", "lists a kind twice")
        return self

    def engine_debts(self) -> list[NamedDebt]:
        """The engine's named debts, in the request's order."""
        return [debt.named(i) for i, debt in enumerate(self.debts)]


def _compare_shape(value: object) -> str:
    if isinstance(value, dict):
        return "shape:debts" if "debts" in value else "shape:debt"
    return "shape:debts" if isinstance(value, ConsolidatedCompareRequest) else "shape:debt"


# POST /v1/plans/compare's body: one debt's explicit offers, or several debts' kinds.
CompareBody = Annotated[
    Annotated[CompareRequest, Tag("shape:debt")]
    | Annotated[ConsolidatedCompareRequest, Tag("shape:debts")],
    Discriminator(_compare_shape),
]
