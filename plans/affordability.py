"""What a debtor can afford, from an income and expenditure statement.

Serious collection practice works a payment out from what is left of the household's income
after its essential costs, not from one number said on the phone. In the UK that statement is
the Standard Financial Statement (SFS, Money and Pensions Service), whose expenditure groups
this module uses, and the forbearance rules of the FCA's CONC 7.3 ask that a repayment plan be
affordable (CONC 7.3.4R: treat customers in default with forbearance; CONC 7.3.5G: allowing
"reasonable time" and taking account of the customer's income and expenditure).

* **Disposable income** is monthly income, less essential expenditure, less what goes to
  priority debts (rent or mortgage arrears, council tax, utilities): the money a plan may ask
  for. A statement that leaves nothing is refused with what it adds up to, never turned into
  a plan that cannot be paid.
* **The share** a policy lets an offer ask of it (``share_bps``, 100 % by default) gives the
  monthly amount available, rounded *down* to the minor unit: never more than is there.
* **Guidelines** (the policy's, per expenditure group and household size) flag an amount above
  them; the amount itself is never changed: the debtor's figures are theirs.

Amounts are integer minor units of the statement's currency, per month.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from plans.calendar import Frequency
from plans.debt import check_amount
from plans.errors import DomainError
from plans.money import to_minor
from plans.policy import Policy

FIELD = "capacity.statement"


class Group(enum.StrEnum):
    """The Standard Financial Statement's groups of essential expenditure."""

    HOME_AND_CONTENTS = "home_and_contents"
    TRAVEL = "travel"
    FOOD_AND_HOUSEKEEPING = "food_and_housekeeping"
    PERSONAL_COSTS = "personal_costs"
    COMMUNICATIONS_AND_LEISURE = "communications_and_leisure"
    OTHER_ESSENTIAL_COSTS = "other_essential_costs"


class PriorityDebt(enum.StrEnum):
    """Debts whose non-payment costs a home, liberty or essential supply: paid before others."""

    RENT_OR_MORTGAGE_ARREARS = "rent_or_mortgage_arrears"
    COUNCIL_TAX = "council_tax"
    UTILITIES = "utilities"
    OTHER_PRIORITY = "other_priority"


@dataclass(frozen=True, slots=True)
class Statement:
    """A household's monthly income and expenditure, in minor units.

    ``income`` is by source (a name each: "salary", "benefits", ...); ``expenditure`` by SFS
    group; ``priority`` the monthly payments to priority debts.
    """

    income: tuple[tuple[str, int], ...]
    expenditure: tuple[tuple[Group, int], ...] = ()
    priority: tuple[tuple[PriorityDebt, int], ...] = ()
    adults: int = 1
    children: int = 0

    def __post_init__(self) -> None:
        if not self.income:
            raise DomainError(f"{FIELD}.income", "required", "needs at least one source of income")
        for part, rows in (
            ("income", self.income),
            ("expenditure", self.expenditure),
            ("priority", self.priority),
        ):
            names = [str(name) for name, _ in rows]
            if len(set(names)) != len(names):
                raise DomainError(f"{FIELD}.{part}", "unique", "lists an item twice")
            for name, amount in rows:
                check_amount(amount, field=f"{FIELD}.{part}.{name}")
        if not 1 <= self.adults <= 20:
            raise DomainError(f"{FIELD}.adults", "range", "must be between 1 and 20")
        if not 0 <= self.children <= 20:
            raise DomainError(f"{FIELD}.children", "range", "must be between 0 and 20")

    @property
    def household_size(self) -> int:
        """Adults and children together."""
        return self.adults + self.children

    @property
    def income_minor(self) -> int:
        """Monthly income from every source."""
        return sum(amount for _, amount in self.income)

    @property
    def expenditure_minor(self) -> int:
        """Monthly essential expenditure, every group."""
        return sum(amount for _, amount in self.expenditure)

    @property
    def priority_minor(self) -> int:
        """Monthly payments to priority debts."""
        return sum(amount for _, amount in self.priority)


@dataclass(frozen=True, slots=True)
class Guideline:
    """The most a household of ``household_size`` is expected to spend on ``group`` a month."""

    group: Group
    household_size: int
    monthly_minor: int


@dataclass(frozen=True, slots=True)
class Flag:
    """An amount above its guideline: shown, never changed."""

    group: Group
    amount_minor: int
    guideline_minor: int


@dataclass(frozen=True, slots=True)
class Affordability:
    """What a statement leaves each month, and what an offer may ask of it."""

    income_minor: int
    expenditure_minor: int
    priority_minor: int
    disposable_minor: int
    share_bps: int
    available_minor: int  # a month, the share of the disposable income, rounded down
    flags: tuple[Flag, ...]

    def per_period_minor(self, frequency: Frequency) -> int:
        """The most a payment every ``frequency`` may be: the monthly amount spread over a
        year's periods, rounded down (a weekly payment of a month's 1,200.00 is 1,200.00 x 12
        / 52 = 276.92).

        Examples
        --------
        >>> a = affordability(Statement((("salary", 500_000),), ((Group.TRAVEL, 380_000),)))
        >>> a.per_period_minor(Frequency.MONTHLY), a.per_period_minor(Frequency.WEEKLY)
        (120000, 27692)
        """
        # rounded down: never more than is there (amounts are never negative)
        return self.available_minor * 12 // frequency.periods_per_year

    def share_of_disposable(self, payment_minor: int, frequency: Frequency) -> Fraction:
        """What share of the monthly disposable income a payment every ``frequency`` takes."""
        monthly = Fraction(payment_minor * frequency.periods_per_year, 12)
        return monthly / self.disposable_minor


def _guideline(
    guidelines: Sequence[Guideline], group: Group, household_size: int
) -> Guideline | None:
    # the guideline for this household's size, or failing that the largest smaller household's
    fitting = [g for g in guidelines if g.group is group and g.household_size <= household_size]
    return max(fitting, key=lambda g: g.household_size, default=None)


def affordability(
    statement: Statement,
    *,
    share_bps: int = 10_000,
    guidelines: Sequence[Guideline] = (),
) -> Affordability:
    """Disposable income of ``statement`` and the share of it an offer may ask.

    A statement whose essential costs and priority debts take all of its income is refused
    (``no_disposable_income``), saying what it adds up to.

    Examples
    --------
    >>> s = Statement(
    ...     (("salary", 600_000), ("benefits", 50_000)),
    ...     ((Group.HOME_AND_CONTENTS, 250_000), (Group.FOOD_AND_HOUSEKEEPING, 150_000)),
    ...     ((PriorityDebt.COUNCIL_TAX, 20_000),),
    ... )
    >>> a = affordability(s, share_bps=9_000)
    >>> a.disposable_minor, a.available_minor
    (230000, 207000)
    """
    if not 0 < share_bps <= 10_000:
        raise DomainError("policy.affordable_share_bps", "bps_range", "must be 1 to 10000")
    disposable = statement.income_minor - statement.expenditure_minor - statement.priority_minor
    if disposable <= 0:
        raise DomainError(
            FIELD,
            "no_disposable_income",
            f"income of {statement.income_minor} less essential costs of"
            f" {statement.expenditure_minor} and priority debts of {statement.priority_minor}"
            f" (minor units a month) leaves {disposable}: no payment is affordable; refer the"
            " debtor to free debt advice rather than make a plan",
        )
    flags = []
    for group, amount in statement.expenditure:
        guide = _guideline(guidelines, group, statement.household_size)
        if guide is not None and amount > guide.monthly_minor:
            flags.append(Flag(group, amount, guide.monthly_minor))
    return Affordability(
        income_minor=statement.income_minor,
        expenditure_minor=statement.expenditure_minor,
        priority_minor=statement.priority_minor,
        disposable_minor=disposable,
        share_bps=share_bps,
        available_minor=disposable * share_bps // 10_000,  # rounded down
        flags=tuple(flags),
    )


def policy_guidelines(policy: Policy, currency: str) -> tuple[Guideline, ...]:
    """The policy's spending guidelines for statements in ``currency``, in its minor units.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from plans.policy import SpendingGuideline
    >>> p = Policy(spending_guidelines=(SpendingGuideline("GBP", "travel", 1, Decimal("150")),))
    >>> policy_guidelines(p, "GBP"), policy_guidelines(p, "CNY")
    ((Guideline(group=<Group.TRAVEL: 'travel'>, household_size=1, monthly_minor=15000),), ())
    """
    return tuple(
        Guideline(
            Group(g.group),
            g.household_size,
            to_minor(g.monthly, currency, field="policy.spending_guidelines"),
        )
        for g in policy.spending_guidelines
        if g.currency == currency
    )
