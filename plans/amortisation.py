"""Amortisation: laying out the lines of an instalment phase that repay a balance exactly.

Conventions, all named in the policy:

- interest accrues on principal only, never on arrears of interest or fees (no compounding of
  charges); the first line runs from the as-of date to its due date under the policy's day
  count, later lines a nominal period each (or actual days, if the policy says so);
- each payment settles the policy's waterfall in order (fees, interest, principal by default),
  so folded arrears are paid first;
- the level payment is rounded once by the policy's rounding, and so is an equal-principal
  share (principal / n); the last line absorbs the residue and closes the balance at exactly
  zero.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from plans.annuity import level_payment
from plans.calendar import Frequency, add_periods, due_dates, payment_dates
from plans.daycount import year_fraction
from plans.money import Rounding, round_div, round_float, split_rounded
from plans.offer import Owed
from plans.policy import ArrearsTreatment, Component, InterestBasis, Policy, per_period
from plans.schedule import Line, LineKind, Waiver, new_line


class Amortisation(enum.StrEnum):
    """How an instalment plan repays principal."""

    EQUAL_INSTALMENT = "equal_instalment"  # level payments (annuity)
    EQUAL_PRINCIPAL = "equal_principal"  # level principal, falling payments


@dataclass(slots=True)
class Balance:
    """What is owed while a schedule is being built: mutable, by component."""

    principal: int
    interest: int
    fees: int

    @property
    def total(self) -> int:
        """All three components."""
        return self.principal + self.interest + self.fees

    def owed(self) -> Owed:
        """A frozen copy."""
        return Owed(self.principal, self.interest, self.fees)

    def settle(self, amount: int, waterfall: Sequence[Component]) -> tuple[int, int, int]:
        """Pay ``amount`` down the waterfall; return (interest, fees, principal) paid.

        Examples
        --------
        >>> b = Balance(principal=100, interest=10, fees=5)
        >>> b.settle(12, (Component.FEES, Component.INTEREST, Component.PRINCIPAL))
        (7, 5, 0)
        >>> b.total
        103
        """
        left = amount
        interest = fees = principal = 0
        for component in waterfall:
            if component is Component.FEES:
                fees = min(left, self.fees)
                self.fees -= fees
                left -= fees
            elif component is Component.INTEREST:
                interest = min(left, self.interest)
                self.interest -= interest
                left -= interest
            else:
                principal = min(left, self.principal)
                self.principal -= principal
                left -= principal
        if left:
            raise ValueError("payment exceeds the balance")
        return interest, fees, principal


def line(
    number: int,
    kind: LineKind,
    due: date,
    paid_on: date,
    *,
    opening: int,
    payment: int,
    parts: tuple[int, int, int],
    waived: int,
    accrued: int,
    balance: Balance,
) -> Line:
    """A schedule line from the running balance after the line's events."""
    interest, fees, principal = parts
    return new_line(
        (
            number,
            kind,
            due,
            paid_on,
            opening,
            payment,
            interest,
            fees,
            principal,
            waived,
            accrued,
            balance.total,
            balance.principal,
            balance.interest,
            balance.fees,
        )
    )


def whole_periods_after(start: date, end: date, frequency: Frequency) -> tuple[int, date]:
    """Whole periods from ``start`` on its own grid that end by ``end``, and the date the last
    of them ends (the odd days run from there to ``end``).

    Examples
    --------
    >>> whole_periods_after(date(2026, 11, 25), date(2027, 1, 15), Frequency.MONTHLY)
    (1, datetime.date(2026, 12, 25))
    >>> whole_periods_after(date(2026, 1, 31), date(2026, 2, 28), Frequency.MONTHLY)
    (1, datetime.date(2026, 2, 28))
    """
    whole = 0
    reached = start
    while True:
        following = add_periods(start, whole + 1, frequency)
        if following > end:
            return whole, reached
        whole, reached = whole + 1, following


def line_rates(
    annual: Decimal,
    *,
    as_of: date,
    due: Sequence[date],
    paid_on: Sequence[date],
    frequency: Frequency,
    policy: Policy,
) -> list[Fraction]:
    """Interest rate of each line's period, as exact fractions.

    With the ``nominal`` basis every whole period counts as rate / periods per year; the first
    line's period, from ``as_of`` to its due date, is its whole periods (counted on from the
    as-of date) plus the odd days after them under the policy's day count. With ``actual_days``
    every line counts the days from the previous payment date (the as-of date for the first).

    Examples
    --------
    >>> due = [date(2026, 2, 15), date(2026, 3, 15)]
    >>> line_rates(Decimal("0.12"), as_of=date(2026, 1, 15), due=due, paid_on=due,
    ...            frequency=Frequency.MONTHLY, policy=Policy())
    [Fraction(1, 100), Fraction(1, 100)]
    """
    if not due:
        return []
    if policy.interest_basis is InterestBasis.NOMINAL:
        per_year = frequency.periods_per_year
        nominal = per_period(annual, per_year)
        whole, odd_start = whole_periods_after(as_of, due[0], frequency)
        # annual x (whole / per_year + odd days / basis), made as one fraction from integers:
        # the same value as the sum of the two fractions, without the arithmetic of three
        odd = year_fraction(odd_start, due[0], policy.day_count)
        top, bottom = annual.as_integer_ratio()
        first = Fraction(
            top * (whole * odd.denominator + odd.numerator * per_year),
            bottom * per_year * odd.denominator,
        )
        return [first] + [nominal] * (len(due) - 1)
    yearly = Fraction(annual)
    starts = [as_of, *paid_on[:-1]]
    return [
        yearly * year_fraction(begin, end, policy.day_count)
        for begin, end in zip(starts, paid_on, strict=True)
    ]


Dated = tuple[list[date], list[date], list[Fraction]]


@dataclass(slots=True)
class PlanDates:
    """The due dates, payment dates and line rates of plans' lines, laid out once per anchor.

    Each list is prefix-stable (the k-th date and rate depend only on the ones before it), so
    one list as long as the longest plan asked serves every shorter one: the instalment plan,
    the deferral and the settlement in instalments of one negotiation, their probes and the
    terms they try, all starting on the same first due date, share it instead of each laying
    out its own; a longer plan asked later extends it. The lines are exactly
    :func:`plans.calendar.due_dates`, :func:`plans.calendar.payment_dates` and
    :func:`line_rates` of the whole length, cut to the length asked (a test checks it).

    Examples
    --------
    >>> dates, policy = PlanDates(), Policy(holiday_country="CN")
    >>> def asked(total):
    ...     return dates.lines(total, first_due=date(2026, 10, 1), frequency=Frequency.MONTHLY,
    ...                        days=None, annual=Decimal("0.12"), as_of=date(2026, 9, 1),
    ...                        policy=policy)
    >>> due, paid_on, rates = asked(2)
    >>> paid_on, rates
    ([datetime.date(2026, 10, 8), datetime.date(2026, 11, 2)], [Fraction(1, 100), Fraction(1, 100)])
    >>> len(asked(12)[0]), asked(12)[1][:2] == paid_on
    (12, True)
    """

    made: dict[tuple[object, ...], Dated] = field(default_factory=dict)

    def lines(
        self,
        total: int,
        *,
        first_due: date,
        frequency: Frequency,
        days: tuple[int, int] | None,
        annual: Decimal,
        as_of: date,
        policy: Policy,
        after: date | None = None,
    ) -> Dated:
        """The first ``total`` lines' due dates, payment dates and rates."""
        key = (
            first_due,
            frequency,
            days,
            annual,
            as_of,
            after,
            policy.holiday_country,
            policy.interest_basis,
            policy.day_count,
        )
        dated = self.made.get(key)
        if dated is None or len(dated[0]) < total:
            have, have_paid = dated[:2] if dated is not None else ([], [])
            # the dates after those laid out already: due dates k = len(have) .. total - 1, each
            # rolled to a business day after the last payment date (as payment_dates does)
            due = have + due_dates(first_due, total, frequency, days=days, skip=len(have))
            paid_on = have_paid + payment_dates(
                due[len(have) :],
                policy.holiday_country,
                after=have_paid[-1] if have_paid else after,
            )
            rates = line_rates(
                annual, as_of=as_of, due=due, paid_on=paid_on, frequency=frequency, policy=policy
            )
            dated = self.made[key] = (due, paid_on, rates)
        due, paid_on, rates = dated
        return due[:total], paid_on[:total], rates[:total]


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """Everything needed to lay out lines of an instalment phase."""

    frequency: Frequency
    annual: Decimal
    amortisation: Amortisation
    rounding: Rounding


def amortise(
    balance: Balance,
    *,
    spec: PlanSpec,
    due: Sequence[date],
    paid_on: Sequence[date],
    rates: Sequence[Fraction],
    first_number: int,
    policy: Policy,
    waive_on_first: Waiver | None = None,
    level_minor: int | None = None,
) -> tuple[list[Line], int]:
    """Lay out instalment lines that repay ``balance`` exactly; return them and the level payment.

    ``balance`` is consumed (it ends at zero). ``waive_on_first`` is taken off before the first
    line's payment and shown in its waived column. ``level_minor`` fixes the payment instead of
    solving for it (a debtor's counter-proposal).
    """
    periods = len(due)
    opening = balance.total
    if opening == 0:  # repaid already (token payments during a pause): no instalments
        return [], 0
    waived = 0
    if waive_on_first is not None:
        balance.fees -= waive_on_first.fees_minor
        balance.interest -= waive_on_first.interest_minor
        balance.principal -= waive_on_first.principal_minor
        waived = waive_on_first.total_minor
    if spec.amortisation is Amortisation.EQUAL_INSTALMENT:
        if level_minor is None:
            x = level_payment(
                balance.principal,
                balance.interest + balance.fees,
                first_rate=float(rates[0]),
                rate=float(per_period(spec.annual, spec.frequency.periods_per_year)),
                periods=periods,
            )
            level_minor = round_float(x, spec.rounding)
        targets = [level_minor] * periods
    else:
        # Equal principal: each share is principal / n rounded by the policy's rounding, the
        # remainder on the last (5,000.00 over 18: 277.78 x 17 and 277.74, half up).
        principal_parts = split_rounded(balance.principal, periods, rounding=spec.rounding)
        arrears_parts = split_rounded(
            balance.interest + balance.fees, periods, rounding=spec.rounding
        )
        targets = [p + a for p, a in zip(principal_parts, arrears_parts, strict=True)]
    lines: list[Line] = []
    rounding, waterfall = spec.rounding, policy.waterfall
    equal_principal = spec.amortisation is Amortisation.EQUAL_PRINCIPAL
    last = periods - 1
    for k in range(periods):
        rate = rates[k]
        accrued = round_div(balance.principal * rate.numerator, rate.denominator, rounding)
        balance.interest += accrued
        total = balance.principal + balance.interest + balance.fees
        target = targets[k] + accrued if equal_principal else targets[k]
        payment = total if k == last or target > total else target
        interest, fees, principal = balance.settle(payment, waterfall)
        closing = total - payment
        lines.append(
            new_line(
                (
                    first_number + k,
                    LineKind.INSTALMENT,
                    due[k],
                    paid_on[k],
                    opening,
                    payment,
                    interest,
                    fees,
                    principal,
                    waived,
                    accrued,
                    closing,
                    balance.principal,
                    balance.interest,
                    balance.fees,
                )
            )
        )
        opening = closing
        waived = 0
        if closing == 0:
            break
    first_payment = lines[0].payment_minor if lines else 0
    return lines, level_minor if level_minor is not None else first_payment


def arrears_waiver(balance: Balance, policy: Policy) -> Waiver | None:
    """The waiver of interest and fee arrears a policy grants when a plan is made."""
    if policy.arrears is ArrearsTreatment.WAIVE and (balance.interest or balance.fees):
        return Waiver(fees_minor=balance.fees, interest_minor=balance.interest)
    return None


def down_payment_line(
    number: int, day: date, amount: int, balance: Balance, policy: Policy, waiver: Waiver | None
) -> Line:
    """The down payment as line ``number`` on ``day``, waiving arrears if the policy does."""
    opening = balance.total
    waived = 0
    if waiver is not None:
        balance.fees -= waiver.fees_minor
        balance.interest -= waiver.interest_minor
        waived = waiver.total_minor
    amount = min(amount, balance.total)
    parts = balance.settle(amount, policy.waterfall)
    return line(
        number,
        LineKind.DOWN_PAYMENT,
        day,
        day,
        opening=opening,
        payment=amount,
        parts=parts,
        waived=waived,
        accrued=0,
        balance=balance,
    )
