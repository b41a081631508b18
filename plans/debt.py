"""What is owed, and what the debtor says they can pay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from plans.calendar import JURISDICTION_ZONES, Frequency, pay_days
from plans.errors import InvalidAmount, InvalidDate, NotAllowed
from plans.money import check_currency
from plans.policy import check_rate

# An upper bound on any amount (10^15 minor units: a trillion yuan in fen) that keeps every
# intermediate product inside int64 in the vectorised path.
MAX_AMOUNT_MINOR = 10**15


def check_amount(amount_minor: int, *, field: str, positive: bool = False) -> int:
    """Return ``amount_minor`` if it is a whole, non-negative (or positive) amount in range.

    Examples
    --------
    >>> check_amount(100, field="x")
    100
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidAmount(field, "integer_minor_units", "must be whole minor units")
    if amount_minor < 0:
        raise InvalidAmount(field, "non_negative", "must not be negative")
    if positive and amount_minor == 0:
        raise InvalidAmount(field, "positive", "must be more than zero")
    if amount_minor > MAX_AMOUNT_MINOR:
        raise InvalidAmount(field, "max_amount", "is larger than the engine accepts")
    return amount_minor


def check_semi_monthly(frequency: Frequency, *, field: str) -> None:
    """Refuse pay days for a plan that is not semi-monthly: only it is paid on two days a month.

    Examples
    --------
    >>> check_semi_monthly(Frequency.MONTHLY, field="days")
    Traceback (most recent call last):
    ...
    plans.errors.NotAllowed: days: ... [semi_monthly_only]
    """
    if frequency is not Frequency.SEMI_MONTHLY:
        raise NotAllowed(
            field, "semi_monthly_only", f"pay days name a semi_monthly plan's days, not {frequency}"
        )


@dataclass(frozen=True, slots=True)
class Debt:
    """An overdue debt on its as-of date. Amounts are minor units of ``currency``.

    ``interest_minor`` and ``fees_minor`` are arrears already accrued by ``as_of``;
    ``nominal_annual_rate`` is the contractual rate on principal. ``jurisdiction`` (CN, US or
    GB) is the debt's, whose annual rate its offers disclose and are capped on; None: the
    policy's (:func:`plans.annual_rates.rate_jurisdiction`).

    Examples
    --------
    >>> d = Debt("CNY", 1_000_000, 50_000, 10_000, Decimal("0.18"), date(2026, 11, 25), 95)
    >>> d.total_minor
    1060000
    """

    currency: str
    principal_minor: int
    interest_minor: int
    fees_minor: int
    nominal_annual_rate: Decimal
    as_of: date
    days_past_due: int
    jurisdiction: str | None = None

    def __post_init__(self) -> None:
        check_currency(self.currency, field="debt.currency")
        if self.jurisdiction is not None and self.jurisdiction not in JURISDICTION_ZONES:
            raise NotAllowed("debt.jurisdiction", "choice", "must be CN, US or GB")
        check_amount(self.principal_minor, field="debt.principal")
        check_amount(self.interest_minor, field="debt.interest")
        check_amount(self.fees_minor, field="debt.fees")
        if self.total_minor == 0:
            raise InvalidAmount("debt.principal", "positive", "the debt must owe something")
        check_rate(self.nominal_annual_rate, field="debt.nominal_annual_rate")
        if self.days_past_due < 0:
            raise NotAllowed("debt.days_past_due", "non_negative", "must be 0 or more")

    @property
    def total_minor(self) -> int:
        """Principal, interest and fees owed."""
        return self.principal_minor + self.interest_minor + self.fees_minor


@dataclass(frozen=True, slots=True)
class Capacity:
    """What the debtor says they can pay: per period, now, and from when.

    Examples
    --------
    >>> Capacity(125_000, lump_sum_minor=0).frequency
    <Frequency.MONTHLY: 'monthly'>
    """

    payment_minor: int
    lump_sum_minor: int = 0
    earliest_start: date | None = None
    frequency: Frequency = field(default=Frequency.MONTHLY)
    # the two days of the month a semi-monthly debtor pays on (plans.calendar.pay_days)
    days: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        check_amount(self.payment_minor, field="capacity.payment")
        check_amount(self.lump_sum_minor, field="capacity.lump_sum")
        if self.days is not None:
            check_semi_monthly(self.frequency, field="capacity.days")
            pay_days(self.days, field="capacity.days")

    def start(self, debt: Debt) -> date:
        """The earliest start, checked against the debt's as-of date."""
        if self.earliest_start is None:
            return debt.as_of
        if self.earliest_start < debt.as_of:
            raise InvalidDate(
                "capacity.earliest_start", "not_before_as_of", "must not be before the as-of date"
            )
        return self.earliest_start
