"""Requests and responses of the collectors' endpoints: debts, capacities, offers.

Every amount is a decimal string in the debt's currency; every date is ISO 8601; every rate is
an annual fraction as a decimal string. An offer is a discriminated union on ``kind``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import Discriminator, Field, Tag, model_validator

from plans.affordability import (
    Affordability,
    Group,
    PriorityDebt,
    Statement,
    affordability,
    policy_guidelines,
)
from plans.allocation import MAX_DEBTS, NamedDebt
from plans.calendar import Frequency, pay_days
from plans.compare import RankBy
from plans.counter import Proposal as EngineProposal
from plans.debt import Capacity, Debt, check_semi_monthly
from plans.errors import InvalidDate, NotAllowed
from plans.instalment import Until
from plans.money import check_currency
from plans.policy import Policy
from schemas.common import (
    Amount,
    Currency,
    Date,
    Integer,
    Locale,
    Model,
    Rate,
    given,
    minor,
    rate,
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


def check_capacity_start(debt: DebtIn, capacity: CapacityIn | None) -> None:
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
        check_capacity_start(self.debt, self.capacity)
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


class SeveralDebts(Model):
    """A request about several debts of one debtor, as one plan."""

    debts: list[NamedDebtIn] = Field(
        min_length=2,
        max_length=MAX_DEBTS,
        description=f"2 to {MAX_DEBTS} debts." + CONSOLIDATED_RULES,
    )

    def engine_debts(self) -> list[NamedDebt]:
        """The engine's named debts, in the request's order."""
        return [debt.named(i) for i, debt in enumerate(self.debts)]


class ConsolidatedNegotiateRequest(SeveralDebts):
    """Several debts of one debtor negotiated as one plan, and what the debtor can pay."""

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
            check_capacity_start(debt, self.capacity)
        return self


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


def _shape(value: object) -> str:
    # The body's own keys choose its shape: with ``debts`` several debts, else one.
    if isinstance(value, dict):
        return "shape:debts" if "debts" in value else "shape:debt"
    return "shape:debts" if isinstance(value, SeveralDebts) else "shape:debt"


# POST /v1/offers/negotiate's body: one debt or several, JSON Schema ``oneOf`` (each shape
# refuses the other's fields), chosen by whether the body has ``debts``.
NegotiateBody = Annotated[
    Annotated[NegotiateRequest, Tag("shape:debt")]
    | Annotated[ConsolidatedNegotiateRequest, Tag("shape:debts")],
    Discriminator(_shape),
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

    def to_engine(self, currency: str) -> EngineProposal:
        """The engine's proposal in ``currency``'s minor units (fields named ``proposal.*``)."""
        return EngineProposal(
            payment_minor=None
            if self.payment is None
            else minor(self.payment, currency, field="proposal.payment"),
            term=self.term,
            start=self.start,
            frequency=self.frequency,
            lump_sum_minor=minor(self.lump_sum, currency, field="proposal.lump_sum"),
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


class ConsolidatedCounterRequest(SeveralDebts):
    """The debtor's proposal for several debts, as one plan: its payment shared between them
    by the policy's allocation_rule (or its term applied to them all)."""

    proposal: Proposal
    policy: PolicyRef | None = None
    locale: Locale = Locale.EN

    model_config = with_examples({"debts": DEBTS_EXAMPLE, "proposal": {"payment": "900.00"}})

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        check_one_currency(self.debts)
        return self


# POST /v1/offers/counter's body: one debt or several, ``oneOf`` as NegotiateBody.
CounterBody = Annotated[
    Annotated[CounterRequest, Tag("shape:debt")]
    | Annotated[ConsolidatedCounterRequest, Tag("shape:debts")],
    Discriminator(_shape),
]
