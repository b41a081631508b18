"""Requests and responses of the collectors' endpoints: debts, capacities, offers.

Every amount is a decimal string in the debt's currency; every date is ISO 8601; every rate is
an annual fraction as a decimal string. An offer is a discriminated union on ``kind``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import Discriminator, Field, StrictBool, Tag, model_validator

from plans.affordability import (
    Affordability,
    Group,
    PriorityDebt,
    Statement,
    affordability,
    policy_guidelines,
)
from plans.allocation import MAX_DEBTS, AllocationRule, NamedDebt
from plans.amortisation import Amortisation
from plans.annual_rates import RateMethod
from plans.calendar import Frequency, pay_days
from plans.compare import RankBy
from plans.counter import Change
from plans.debt import Capacity, Debt, check_semi_monthly
from plans.errors import DomainError, InvalidDate, NotAllowed
from plans.flat import InterestMethod
from plans.grace import GraceInterest
from plans.instalment import Until
from plans.money import check_currency
from plans.policy import DeferralInterest, OfferKind, Policy
from schemas import examples
from schemas.common import (
    Amount,
    Currency,
    Date,
    Integer,
    IsoDate,
    Locale,
    Model,
    Rate,
    given,
    minor,
    rate,
    when,
    with_examples,
)
from schemas.contacts import Jurisdiction
from schemas.policies import MAX_START_DELAY_DAYS, PolicyRef

TODAY_EXAMPLE = "2026-11-25"
UNTIL_RULE = (
    " The payment is never re-levelled: if it does not repay the debt within the policy's"
    " max_term_months the plan is refused (rule max_term, naming the payment's field); below"
    " the policy's minimum instalment, rule min_instalment."
)
FIRST_PAYMENT_RULE = (
    " An offer's first payment (besides a down payment, due at once) may not fall before today"
    " in the debt's time zone: 422, rule first_payment_not_in_past, naming this field when it"
    " dates that payment."
)

# A day of the month a semi-monthly plan is paid on: 1 to 28 (every month has it) or "last".
PayDay = Annotated[Integer, Field(ge=1, le=28)] | Literal["last"]
PayDays = tuple[PayDay, PayDay]
DAYS_RULE = (
    ' Two distinct days of the month in order, each 1 to 28 or "last" ([15, "last"] or'
    ' [1, 15], the payroll patterns; not [28, "last"], which meet in February): 422, rule'
    " semi_monthly_days, otherwise; with another frequency, rule semi_monthly_only. The first"
    " payment is on the first of them on or after the plan's start. Omitted: the start's day"
    " and the day fifteen from it."
)


def engine_days(days: PayDays | None, *, field: str) -> tuple[int, int] | None:
    """The request's pay days as the engine's day numbers (``"last"``: 31), checked.

    Examples
    --------
    >>> engine_days((15, "last"), field="days")
    (15, 31)
    """
    return None if days is None else pay_days(days, field=field)


DEBT_EXAMPLE = {
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "as_of": TODAY_EXAMPLE,
    "days_past_due": 95,
}
CAPACITY_EXAMPLE = {
    "payment": "1250.00",
    "lump_sum": "2000.00",
    "earliest_start": "2026-12-15",
    "frequency": "monthly",
}


class DebtIn(Model):
    """What is owed on its as-of date."""

    currency: Currency
    principal: Amount
    interest: Amount = Field("0", description="Interest accrued and unpaid (arrears).")
    fees: Amount = Field("0", description="Fees outstanding.")
    nominal_annual_rate: Rate = Field(description="The contractual nominal annual rate.")
    as_of: Date = Field(
        description="The day the amounts are owed on; it may be past, the payments may not."
        + FIRST_PAYMENT_RULE
    )
    days_past_due: Integer = Field(ge=0, le=36_500)
    jurisdiction: Jurisdiction | None = Field(
        None,
        description="Whose law the offers' annual rate and its cap follow: CN (年化利率 by the"
        " IRR method), GB (the APR of CONC App 1.1) or US (the APR of Regulation Z). A recorded"
        " debt's own jurisdiction comes first; omitted: the policy's (its holiday country, if"
        " one of these), else CN.",
    )

    model_config = with_examples(DEBT_EXAMPLE)

    def to_engine(self, prefix: str = "debt") -> Debt:
        """The engine's debt; amounts too precise for the currency are refused, not rounded.
        Errors name the field under ``prefix`` (``debts.1`` for the second of several)."""
        check_currency(self.currency, field=f"{prefix}.currency")
        return Debt(
            currency=self.currency,
            principal_minor=minor(self.principal, self.currency, field=f"{prefix}.principal"),
            interest_minor=minor(self.interest, self.currency, field=f"{prefix}.interest"),
            fees_minor=minor(self.fees, self.currency, field=f"{prefix}.fees"),
            nominal_annual_rate=rate(
                self.nominal_annual_rate, field=f"{prefix}.nominal_annual_rate"
            ),
            as_of=self.as_of,
            days_past_due=self.days_past_due,
            jurisdiction=self.jurisdiction,
        )


STATEMENT_EXAMPLE = {
    "income": {"salary": "6000.00", "benefits": "500.00"},
    "expenditure": {
        "home_and_contents": "2500.00",
        "food_and_housekeeping": "1500.00",
        "travel": "400.00",
    },
    "priority_debts": {"utilities": "200.00"},
    "adults": 1,
    "children": 1,
}
IncomeSource = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class StatementIn(Model):
    """A household's monthly income and expenditure, in the debts' currency: the Standard
    Financial Statement's groups (CONC 7.3: a plan that fits what is left after essential
    costs). The engine computes the disposable income (income less expenditure less priority
    debts); an offer may ask the policy's affordable_share_bps of it. One that is not above
    zero is a 422, rule no_disposable_income: no plan is made that cannot be paid."""

    income: dict[IncomeSource, Amount] = Field(
        min_length=1,
        max_length=20,
        description='Monthly income by source, each named once ("salary", "benefits").',
        json_schema_extra={"additionalProperties": False},  # a key is a source's name
    )
    expenditure: dict[Group, Amount] = Field(
        default_factory=dict, description="Monthly essential expenditure by SFS group."
    )
    priority_debts: dict[PriorityDebt, Amount] = Field(
        default_factory=dict,
        description="Monthly payments to priority debts (rent or mortgage arrears, council"
        " tax, utilities), paid before any offer.",
    )
    adults: Integer = Field(1, ge=1, le=20)
    children: Integer = Field(0, ge=0, le=20, description="Dependent children.")

    model_config = with_examples(STATEMENT_EXAMPLE)

    def to_engine(self, currency: str) -> Statement:
        """The engine's statement in ``currency``'s minor units."""
        field = "capacity.statement"
        return Statement(
            income=tuple(
                (name, minor(a, currency, field=f"{field}.income.{name}"))
                for name, a in self.income.items()
            ),
            expenditure=tuple(
                (group, minor(a, currency, field=f"{field}.expenditure.{group.value}"))
                for group, a in self.expenditure.items()
            ),
            priority=tuple(
                (kind, minor(a, currency, field=f"{field}.priority_debts.{kind.value}"))
                for kind, a in self.priority_debts.items()
            ),
            adults=self.adults,
            children=self.children,
        )


class CapacityIn(Model):
    """What the debtor can pay: per period (stated, or from an income and expenditure
    statement, or both: then the smaller), now, and from when."""

    payment: Amount | None = Field(
        None,
        description="The most the debtor can pay each period. Omitted: what the statement"
        " leaves (its affordable share, per period); with a statement too, the smaller of the"
        " two (the offers' affordability says which). Neither: 422, rule payment_or_statement.",
    )
    statement: StatementIn | None = Field(
        None, description="The household's monthly income and expenditure."
    )
    lump_sum: Amount = Field("0", description="Cash available now.")
    earliest_start: Date | None = Field(
        None,
        description=f"Omitted: the as-of date. At most {MAX_START_DELAY_DAYS} days after it."
        + FIRST_PAYMENT_RULE,
    )
    frequency: Frequency = Frequency.MONTHLY
    days: PayDays | None = Field(
        None, description="The days of the month a semi_monthly debtor pays on." + DAYS_RULE
    )

    model_config = with_examples(
        CAPACITY_EXAMPLE,
        {"statement": STATEMENT_EXAMPLE, "lump_sum": "0"},
        schema=given("payment", "statement"),
    )

    @model_validator(mode="after")
    def _days_fit(self) -> Self:
        # named from here: the error's location ("capacity") prefixes it
        if self.payment is None and self.statement is None:
            raise NotAllowed(
                "payment", "payment_or_statement", "give a payment, a statement, or both"
            )
        if self.days is not None:
            check_semi_monthly(self.frequency, field="days")
            engine_days(self.days, field="days")
        return self

    def affordability(self, currency: str, policy: Policy) -> Affordability | None:
        """What the statement leaves, by the policy's share and guidelines (None: no
        statement); one leaving nothing is refused (rule no_disposable_income)."""
        if self.statement is None:
            return None
        return affordability(
            self.statement.to_engine(currency),
            share_bps=policy.affordable_share_bps,
            guidelines=policy_guidelines(policy, currency),
        )

    def to_engine(self, currency: str, policy: Policy | None = None) -> Capacity:
        """The engine's capacity in the debt's currency; with a statement, its affordable
        amount per period (under ``policy``, default the engine's) bounds the payment."""
        stated = (
            None
            if self.payment is None
            else minor(self.payment, currency, field="capacity.payment")
        )
        afford = self.affordability(currency, policy or Policy())
        payment = stated
        if afford is not None:
            fits = afford.per_period_minor(self.frequency)
            payment = fits if stated is None else min(stated, fits)
        assert payment is not None  # the validator asks for one of them
        return Capacity(
            payment_minor=payment,
            lump_sum_minor=minor(self.lump_sum, currency, field="capacity.lump_sum"),
            earliest_start=self.earliest_start,
            frequency=self.frequency,
            days=engine_days(self.days, field="capacity.days"),
        )


def check_start(debt: DebtIn, day: date | None, *, field: str) -> None:
    """Refuse a plan that would start later than any policy lets one start.

    ``PolicyBody.max_start_delay_days`` is at most ``MAX_START_DELAY_DAYS``, so a start (an
    earliest start, a first due date) further from the as-of date than that can never be
    offered; refusing it here also keeps every schedule's dates within reach of the as-of date.

    Examples
    --------
    >>> debt = DebtIn.model_validate(DEBT_EXAMPLE)
    >>> check_start(debt, date(2027, 11, 25), field="first_due")
    >>> check_start(debt, date(2027, 11, 26), field="first_due")
    Traceback (most recent call last):
    ...
    plans.errors.InvalidDate: first_due: must be at most 365 days after the as-of date ...
    """
    if day is not None and (day - debt.as_of).days > MAX_START_DELAY_DAYS:
        raise InvalidDate(
            field,
            "max_start_delay",
            f"must be at most {MAX_START_DELAY_DAYS} days after the as-of date"
            f" ({debt.as_of.isoformat()}): no policy lets a plan start later",
        )


def _check_capacity_start(debt: DebtIn, capacity: CapacityIn | None) -> None:
    if capacity is not None:
        check_start(debt, capacity.earliest_start, field="capacity.earliest_start")


class NegotiateRequest(Model):
    """A debt and what the debtor can pay: the service answers with every offer that fits."""

    debt: DebtIn
    capacity: CapacityIn
    policy: PolicyRef | None = Field(None, description="Omitted: the default policy, latest.")
    locale: Locale = Locale.EN
    rank_by: RankBy = RankBy.EXPECTED_RECOVERY
    until: Until | None = Field(
        None,
        description="repaid: capacity.payment is the debtor's own figure; the instalment offer"
        " pays exactly it every period and a smaller last payment (other kinds as usual)."
        + UNTIL_RULE,
    )

    model_config = with_examples(
        {"debt": DEBT_EXAMPLE, "capacity": CAPACITY_EXAMPLE, "locale": "zh-CN"}
    )

    @model_validator(mode="after")
    def _starts_in_reach(self) -> Self:
        _check_capacity_start(self.debt, self.capacity)
        return self


DEBT_REF = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$",
        description="The debt's reference (an account number), unique among the debts.",
    ),
]
SECOND_DEBT_EXAMPLE = {
    "ref": "loan-2291",
    "currency": "CNY",
    "principal": "5000.00",
    "interest": "0.00",
    "fees": "0.00",
    "nominal_annual_rate": "0.24",
    "as_of": TODAY_EXAMPLE,
    "days_past_due": 200,
}
DEBTS_EXAMPLE = [{"ref": "card-0412", **DEBT_EXAMPLE}, SECOND_DEBT_EXAMPLE]


class NamedDebtIn(DebtIn):
    """One of several debts negotiated together, known by its ``ref``."""

    ref: DEBT_REF

    model_config = with_examples({"ref": "card-0412", **DEBT_EXAMPLE})

    def named(self, index: int) -> NamedDebt:
        """The engine's named debt; errors name ``debts.<index>.<field>``."""
        return NamedDebt(self.ref, self.to_engine(f"debts.{index}"))


CONSOLIDATED_RULES = (
    " All in one currency (422, rule one_currency, naming the first debt in another); each ref"
    " once (422, rule unique_ref). The policy's allocation_rule shares the capacity and every"
    " payment between them."
)


class ConsolidatedNegotiateRequest(Model):
    """Several debts of one debtor negotiated as one plan, and what the debtor can pay."""

    debts: list[NamedDebtIn] = Field(
        min_length=2,
        max_length=MAX_DEBTS,
        description=f"2 to {MAX_DEBTS} debts." + CONSOLIDATED_RULES,
    )
    capacity: CapacityIn
    policy: PolicyRef | None = Field(None, description="Omitted: the default policy, latest.")
    locale: Locale = Locale.EN
    rank_by: RankBy = RankBy.EXPECTED_RECOVERY

    model_config = with_examples(
        {"debts": DEBTS_EXAMPLE, "capacity": {"payment": "900.00"}},
        {"debts": DEBTS_EXAMPLE, "capacity": {"statement": STATEMENT_EXAMPLE}, "locale": "zh-CN"},
    )

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        check_one_currency(self.debts)
        for debt in self.debts:
            _check_capacity_start(debt, self.capacity)
        return self

    def engine_debts(self) -> list[NamedDebt]:
        """The engine's named debts, in the request's order."""
        return [debt.named(i) for i, debt in enumerate(self.debts)]


def check_one_currency(debts: list[NamedDebtIn]) -> None:
    """Refuse debts in more than one currency, or a ref given twice.

    Examples
    --------
    >>> a = NamedDebtIn.model_validate({"ref": "a", **DEBT_EXAMPLE})
    >>> b = NamedDebtIn.model_validate({**SECOND_DEBT_EXAMPLE, "currency": "GBP"})
    >>> check_one_currency([a, b])
    Traceback (most recent call last):
    ...
    plans.errors.NotAllowed: debts.1.currency: all debts of one plan are in one currency: GBP \
is not CNY [one_currency]
    """
    seen: set[str] = set()
    for i, debt in enumerate(debts):
        if debt.currency != debts[0].currency:
            raise NotAllowed(
                f"debts.{i}.currency",
                "one_currency",
                f"all debts of one plan are in one currency: {debt.currency} is not"
                f" {debts[0].currency}",
            )
        if debt.ref in seen:
            raise NotAllowed(f"debts.{i}.ref", "unique_ref", f"{debt.ref!r} names two debts")
        seen.add(debt.ref)


def _negotiate_shape(value: object) -> str:
    # The body's own keys choose its shape: with ``debts`` several debts, else one.
    if isinstance(value, dict):
        return "shape:debts" if "debts" in value else "shape:debt"
    return "shape:debts" if isinstance(value, ConsolidatedNegotiateRequest) else "shape:debt"


# POST /v1/offers/negotiate's body: one debt or several, JSON Schema ``oneOf`` (each shape
# refuses the other's fields), chosen by whether the body has ``debts``.
NegotiateBody = Annotated[
    Annotated[NegotiateRequest, Tag("shape:debt")]
    | Annotated[ConsolidatedNegotiateRequest, Tag("shape:debts")],
    Discriminator(_negotiate_shape),
]


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
    flat_rate_per_period: Rate | None = Field(
        None, description="The flat rate each period on the original principal: 0.006 is 0.6 %."
    )
    flat_charge_per_period: Amount | None = Field(
        None, description="The flat charge each period, in the debt's currency."
    )
    grace: GraceIn | None = Field(
        None,
        description="Grace periods before the instalments: a term is required (422, rule"
        " required) and a payment refused (422, rule term_only).",
    )
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
        _check_capacity_start(self.debt, self.capacity)
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
        _check_capacity_start(self.debt, self.capacity)
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
        _check_capacity_start(self.debt, self.capacity)
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
    flat_rate_per_period: Rate | None = Field(
        None, description="The flat rate each period on the original principal: 0.006 is 0.6 %."
    )
    flat_charge_per_period: Amount | None = Field(
        None, description="The flat charge each period, in the debt's currency."
    )
    grace: GraceIn | None = Field(
        None,
        description="Grace periods before the instalments: a term is required (422, rule"
        " required) and a payment refused (422, rule term_only).",
    )

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
        _check_capacity_start(self.debt, self.capacity)
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
            _check_capacity_start(debt, self.capacity)
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


class Proposal(Model):
    """What the debtor proposes: a payment per period, a term, a start date (any of them)."""

    payment: Amount | None = Field(
        None,
        description="Paid exactly, every period until repaid, the last one smaller: the plan"
        " accepted is the one proposed, never re-levelled. One that does not repay within the"
        " policy's max_term_months is rejected (field payment, rule max_term).",
    )
    term: Integer | None = Field(None, ge=1, le=1200)
    start: Date | None = Field(None, description="Omitted: the as-of date." + FIRST_PAYMENT_RULE)
    frequency: Frequency = Frequency.MONTHLY
    lump_sum: Amount = "0"

    # rule required: a payment, a term, or both
    model_config = with_examples(
        {"payment": "800.00"}, {"term": 12}, schema=given("payment", "term")
    )


class CounterRequest(Model):
    """The debtor's proposal for one debt."""

    debt: DebtIn
    proposal: Proposal
    policy: PolicyRef | None = None
    locale: Locale = Locale.EN

    model_config = with_examples(
        {"debt": DEBT_EXAMPLE, "proposal": {"payment": "600.00", "term": 12}}
    )


# ---- responses --------------------------------------------------------------------------


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


def _answer_shape(value: object) -> str:
    # a consolidated answer names its allocation rule; one debt's does not
    if isinstance(value, dict):
        return "shape:debts" if "allocation_rule" in value else "shape:debt"
    return "shape:debts" if isinstance(value, ConsolidatedOfferSet) else "shape:debt"


# POST /v1/offers/negotiate's answer: ``oneOf`` the two shapes, as its body.
NegotiateAnswer = Annotated[
    Annotated[OfferSet, Tag("shape:debt")] | Annotated[ConsolidatedOfferSet, Tag("shape:debts")],
    Discriminator(_answer_shape),
]
