"""The line and table types every offer is made of.

A :class:`Line` is one dated event of a plan: a down payment, a deferral period, an instalment
or a settlement payment. Its columns obey two identities that the engine checks on every
schedule it builds (:func:`check_schedule`), so that a reader can audit any line by hand::

    payment = interest + fees + principal
    closing = opening + interest_accrued - payment - waived

and the totals are the column sums, exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple


class LineKind(enum.StrEnum):
    """What a line of a schedule is."""

    DOWN_PAYMENT = "down_payment"
    DEFERRAL = "deferral"
    INSTALMENT = "instalment"
    SETTLEMENT = "settlement"


class Line(NamedTuple):
    """One dated line of a schedule, all amounts in minor units.

    ``due_date`` is the contractual date from the plan's anchor; ``payment_date`` is the
    business day it rolls to. ``interest_accrued_minor`` is the plan interest that the line's
    period generates; ``interest_minor`` is the interest the payment settles (it may include
    arrears of interest, or interest accrued earlier during a deferral).
    """

    number: int
    kind: LineKind
    due_date: date
    payment_date: date
    opening_balance_minor: int
    payment_minor: int
    interest_minor: int
    fees_minor: int
    principal_minor: int
    waived_minor: int
    interest_accrued_minor: int
    closing_balance_minor: int
    closing_principal_minor: int
    closing_interest_minor: int
    closing_fees_minor: int


Columns = tuple[int, LineKind, date, date, int, int, int, int, int, int, int, int, int, int, int]


def new_line(columns: Columns) -> Line:
    """``Line(*columns)``: the same tuple, made without the interpreted ``__new__`` that a
    NamedTuple's constructor runs (in the compiled engine, most of the cost of a line).

    Examples
    --------
    >>> day = date(2026, 12, 15)
    >>> columns = (1, LineKind.INSTALMENT, day, day, 900, 300, 0, 0, 300, 0, 0, 600, 600, 0, 0)
    >>> made = new_line(columns)
    >>> made == Line(*columns), type(made) is Line, made.closing_balance_minor
    (True, True, 600)
    """
    return tuple.__new__(Line, columns)


@dataclass(frozen=True, slots=True)
class Totals:
    """Column sums of a schedule."""

    payment_minor: int
    interest_minor: int
    fees_minor: int
    principal_minor: int
    waived_minor: int
    interest_accrued_minor: int

    @classmethod
    def of(cls, lines: Sequence[Line]) -> Totals:
        """Sum the columns of ``lines``.

        Examples
        --------
        >>> Totals.of([]).payment_minor
        0
        """
        # one pass adding the six columns, not a transposition of all fifteen
        payment = interest = fees = principal = waived = accrued = 0
        for x in lines:
            payment += x.payment_minor
            interest += x.interest_minor
            fees += x.fees_minor
            principal += x.principal_minor
            waived += x.waived_minor
            accrued += x.interest_accrued_minor
        return cls(payment, interest, fees, principal, waived, accrued)


@dataclass(frozen=True, slots=True)
class Waiver:
    """What the creditor gives up, by component, in minor units."""

    fees_minor: int = 0
    interest_minor: int = 0
    principal_minor: int = 0

    @property
    def total_minor(self) -> int:
        """Sum of the three components.

        Examples
        --------
        >>> Waiver(fees_minor=5, interest_minor=7).total_minor
        12
        """
        return self.fees_minor + self.interest_minor + self.principal_minor


@dataclass(frozen=True, slots=True)
class Schedule:
    """A currency, its lines in date order, and their totals."""

    currency: str
    lines: tuple[Line, ...]
    totals: Totals

    @classmethod
    def of(cls, currency: str, lines: Sequence[Line]) -> Schedule:
        """Build a schedule and check its identities.

        Examples
        --------
        >>> Schedule.of("CNY", []).totals.payment_minor
        0
        """
        check_lines(lines)
        return cls(currency, tuple(lines), Totals.of(lines))

    @property
    def payments(self) -> list[tuple[date, int]]:
        """(payment date, amount) of each line with a payment, for rates and NPVs."""
        return [(x.payment_date, x.payment_minor) for x in self.lines if x.payment_minor > 0]

    @property
    def contractual_payments(self) -> list[tuple[date, int]]:
        """(due date, amount) of each line with a payment: the dates an APR is measured on."""
        return [(x.due_date, x.payment_minor) for x in self.lines if x.payment_minor > 0]


class ScheduleIdentityError(Exception):
    """A schedule whose columns do not add up: a bug in the engine, never an input error.

    An ``Exception``, not an ``AssertionError``: the engine is compiled with mypyc, which
    compiles a class derived from ``Exception`` but not from ``AssertionError``; and nothing
    catches it as an assertion (it is raised, never ``assert``-ed, so ``-O`` keeps it).
    """


def check_schedule(schedule: Schedule) -> None:
    """Raise :class:`ScheduleIdentityError` unless every line and the totals add up.

    Examples
    --------
    >>> check_schedule(Schedule("CNY", (), Totals.of([])))
    """
    check_lines(schedule.lines)
    if schedule.totals != Totals.of(schedule.lines):
        raise ScheduleIdentityError("totals are not the column sums")


def check_lines(lines: Sequence[Line]) -> None:
    """Raise :class:`ScheduleIdentityError` unless every line adds up and follows the one
    before it (the schedule's totals aside: :meth:`Schedule.of` makes them from the lines).

    Examples
    --------
    >>> check_lines([])
    """
    previous_closing: int | None = None
    previous_date: date | None = None
    for (
        number,
        _kind,
        _due,
        payment_date,
        opening,
        payment,
        interest_paid,
        fees_paid,
        principal_paid,
        waived,
        accrued,
        closing,
        principal,
        interest,
        fees,
    ) in lines:
        if payment != interest_paid + fees_paid + principal_paid:
            raise ScheduleIdentityError(f"line {number}: payment != sum of its parts")
        if closing != opening + accrued - payment - waived:
            raise ScheduleIdentityError(f"line {number}: closing balance does not follow")
        if principal + interest + fees != closing:
            raise ScheduleIdentityError(f"line {number}: components != closing balance")
        if (
            principal < 0
            or interest < 0
            or fees < 0
            or payment < 0
            or interest_paid < 0
            or fees_paid < 0
            or principal_paid < 0
        ):
            raise ScheduleIdentityError(f"line {number}: negative amount")
        if previous_closing is not None and opening != previous_closing:
            raise ScheduleIdentityError(f"line {number}: opening != previous closing")
        if previous_date is not None and payment_date <= previous_date:
            raise ScheduleIdentityError(f"line {number}: dates do not increase")
        previous_closing = closing
        previous_date = payment_date
