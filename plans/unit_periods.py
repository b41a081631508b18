"""Unit periods of Regulation Z, Appendix J: which one a transaction is measured in, where each
of its advances and payments falls in it, and whether the transaction is regular.

12 CFR 1026 Appendix J (b)(3) defines the periods of a transaction (the intervals between
advances, between payments, and from the first advance to the first payment), (b)(4) chooses
the unit period among them, and (b)(5) counts whole unit periods and the fraction left over.
A unit period here is a whole number of weeks, a semimonth, a whole number of months (twelve
of them are the year), or, for one advance repaid by one payment within a year, the term
itself in whole months or in days. A schedule whose most common period is none of these (a
payment every ten days) is refused, never measured in a unit it does not have.

:func:`plans.rates.apr` solves the general equation (b)(8) with what this module places.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Literal

from plans.calendar import Frequency, days_in_month
from plans.errors import DomainError

Unit = Literal["week", "semimonth", "month", "day"]

# §1026.22(a)(2) and (a)(3): the tolerances, in percentage points, of a regular and an
# irregular transaction's disclosed APR.
REGULAR_TOLERANCE = Decimal("0.125")
IRREGULAR_TOLERANCE = Decimal("0.25")

_PER_YEAR: dict[str, int] = {"week": 52, "semimonth": 24, "month": 12, "day": 365}
# A period's nominal length in days, to compare periods of different units: (b)(4)(i)(A) picks
# the smaller of equally common periods, (b)(4)(i)(B) the nearest to an average.
_DAYS_PER_UNIT = {"week": Fraction(7), "semimonth": Fraction(365, 24), "month": Fraction(365, 12)}


@dataclass(frozen=True, slots=True)
class UnitPeriod:
    """A unit period of Appendix J: ``length`` weeks, semimonths, months or days.

    ``term`` marks the term of a single-advance, single-payment transaction ((b)(4)(ii)), which
    is the only unit period counted in days. ``name`` is the stable identifier the API shows:
    ``weekly``, ``biweekly``, ``N_weeks``, ``semi_monthly``, ``monthly``, ``N_months`` (2 to
    12: ``3_months`` is a quarter, ``12_months`` a year) or ``term``.

    Examples
    --------
    >>> UnitPeriod("week", 4).name, UnitPeriod("week", 4).per_year
    ('4_weeks', Fraction(13, 1))
    >>> UnitPeriod("month", 3).name, UnitPeriod("month", 3).per_year
    ('3_months', Fraction(4, 1))
    >>> UnitPeriod("day", 255, term=True).name, UnitPeriod("day", 255, term=True).per_year
    ('term', Fraction(73, 51))
    """

    unit: Unit
    length: int
    term: bool = False

    @property
    def name(self) -> str:
        """The identifier the API shows (``monthly``, ``4_weeks``, ``term``, ...)."""
        if self.term:
            return "term"
        legacy = _LEGACY.get((self.unit, self.length))
        return legacy if legacy is not None else f"{self.length}_{self.unit}s"

    @property
    def per_year(self) -> Fraction:
        """Unit periods in a year: 52, 26, 13, 24, 12, 6, 4, ..., or (b)(5)(vi)/(vii)'s
        ``12 / months`` and ``365 / days`` for a term."""
        return _per_year(self.unit, self.length)

    @property
    def days(self) -> Fraction:
        """Nominal length in days (a month is 365/12 of them), to compare unit periods."""
        if self.unit == "day":
            return Fraction(self.length)
        return _DAYS_PER_UNIT[self.unit] * self.length

    @classmethod
    def of(cls, frequency: Frequency) -> UnitPeriod:
        """The unit period of a payment ``Frequency``.

        Examples
        --------
        >>> UnitPeriod.of(Frequency.BIWEEKLY)
        UnitPeriod(unit='week', length=2, term=False)
        """
        return _OF_FREQUENCY[frequency]


@cache  # a fraction made once per unit period, not on each reading of it
def _per_year(unit: Unit, length: int) -> Fraction:
    return Fraction(_PER_YEAR[unit], length)


_OF_FREQUENCY = {
    Frequency.WEEKLY: UnitPeriod("week", 1),
    Frequency.BIWEEKLY: UnitPeriod("week", 2),
    Frequency.SEMI_MONTHLY: UnitPeriod("semimonth", 1),
    Frequency.MONTHLY: UnitPeriod("month", 1),
}
_LEGACY = {
    ("week", 1): "weekly",
    ("week", 2): "biweekly",
    ("semimonth", 1): "semi_monthly",
    ("month", 1): "monthly",
}
YEAR = UnitPeriod("month", 12)
_WEEKS = {n: UnitPeriod("week", n) for n in range(1, 53)}
_MONTHS = {n: UnitPeriod("month", n) for n in range(1, 13)}
_SEMIMONTH = UnitPeriod("semimonth", 1)
# (b)(3)(iii): the standard intervals, up to a year. A day is one too, but a unit period of
# days is only ever the term of a single payment here; an average nearer a day is refused.
STANDARD = (
    *(UnitPeriod("week", n) for n in range(1, 53)),
    UnitPeriod("semimonth", 1),
    *(UnitPeriod("month", n) for n in range(1, 13)),
)


@dataclass(frozen=True, slots=True)
class Regularity:
    """Whether §1026.22(a)(2) or (a)(3) applies, the tolerance, and why.

    ``reasons`` are the (a)(3) features found: ``multiple_advances``,
    ``irregular_payment_periods``, ``irregular_payment_amounts``; none for a regular one.
    ``tolerance`` is in percentage points: 0.125 regular, 0.25 irregular.
    """

    regular: bool
    tolerance: Decimal
    reasons: tuple[str, ...]


def is_month_end(day: date) -> bool:
    """Whether ``day`` is the last day of its month.

    Examples
    --------
    >>> is_month_end(date(2028, 2, 29)), is_month_end(date(2027, 2, 28))
    (True, True)
    """
    return day.day == days_in_month(day.year, day.month)


def shift_months(day: date, months: int, day_of_month: int) -> date:
    """``relativedelta(months=months, day=day_of_month)``, at a fraction of its cost.

    Examples
    --------
    >>> shift_months(date(2026, 1, 31), 1, 31)
    datetime.date(2026, 2, 28)
    """
    # apr() places up to sixty dates per call and relativedelta takes microseconds each.
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day_of_month, days_in_month(year, month0 + 1)))


def month_end_days(dates: Sequence[date], *, start: date | None = None) -> dict[int, int]:
    """The day of month each month-end day (28 to 31) stands for in a series.

    ``start``, the first advance, settles a month end the series leaves open.

    Examples
    --------
    >>> month_end_days([date(2026, 1, 30), date(2026, 2, 28), date(2026, 3, 30)])[28]
    30
    >>> anniversary = [date(2001, 2, 28)]
    >>> month_end_days(anniversary)[28], month_end_days(anniversary, start=date(2000, 2, 28))[28]
    (31, 28)
    >>> month_end_days([date(2026, 2, 28), date(2026, 3, 31)], start=date(2026, 1, 30))[28]
    31
    """
    # (b)(3)(iv): a series due on the last day of each month is measured month-end to
    # month-end, and one due on the 29th or 30th uses the last day of February. A month-end date
    # is ambiguous (Feb 28 may stand for the 28th to the 31st), so it stands for the series'
    # most common unambiguous day on or after it: in Jan 30, Feb 28, Mar 30 it is a 30th; in
    # Jan 15, Jan 31, Feb 15, Feb 28 it is a 31st. A 31st is unambiguous too (only a month-end
    # series falls on it). When the series has no such day, the start's day of month, if it is
    # one (28 Feb 2000 repaid on 28 Feb 2001 is 12 months: (b)(5)(ii) counts back to the 28th),
    # else the 31st.
    votes = Counter(
        day.day for day in dates if day.day < 28 or day.day == 31 or not is_month_end(day)
    )
    stands_for: dict[int, int] = {}
    for last in (28, 29, 30, 31):
        later = [day for day in votes if day >= last]
        if later:
            stands_for[last] = max(later, key=lambda day: (votes[day], -day))
        elif start is not None and start.day >= last and not is_month_end(start):
            stands_for[last] = start.day
        else:
            stands_for[last] = 31
    return stands_for


def _day_of_month(day: date, month_end: dict[int, int]) -> int:
    return month_end[day.day] if day.day >= 28 and is_month_end(day) else day.day


def months_and_days(
    start: date,
    when: date,
    month_end: dict[int, int],
    landing: dict[int, tuple[int, int]] | None = None,
) -> tuple[int, int]:
    """Full months from ``start`` to ``when`` counted back from ``when``, and the days left.

    ``landing`` caches, per day of month, where counting back lands near ``start``: every
    date with the same day of month lands on the same day.

    Examples
    --------
    >>> months_and_days(date(1978, 2, 10), date(1978, 4, 1), {})
    (1, 19)
    """
    # (b)(5)(ii): full months are counted back from the later date, keeping its day of month,
    # and the odd days are what is left between ``start`` and the last of them.
    day = _day_of_month(when, month_end)
    landed = None if landing is None else landing.get(day)
    if landed is None:
        back = shift_months(start, 0, day)
        if back < start:
            landed = 1, (shift_months(start, 1, day) - start).days
        else:
            landed = 0, (back - start).days
        if landing is not None:
            landing[day] = landed
    short, days = landed
    return (when.year - start.year) * 12 + when.month - start.month - short, days


def place(
    start: date, dates: Sequence[date], unit: UnitPeriod, month_end: dict[int, int]
) -> list[tuple[int, float]]:
    """Whole unit periods and the fraction of one from ``start`` to each date, per (b)(5).

    Weeks divide the days ((b)(5)(iv)); a month is 30 days and months are counted back from
    the later date ((b)(5)(ii)); a semimonth or a multiple of a month divides 30 days a month
    plus the odd days by 15 or by 30 per month ((b)(5)(iii)); a year is 12 months and its
    fraction is months / 12, or days / 365 when not whole months ((b)(5)(v)).

    Examples
    --------
    Appendix J (c)(1)(iv), quarterly: 4 months and 9 days are 129 days, one quarter and 39/90.

    >>> place(date(1978, 5, 23), [date(1978, 10, 1)], UnitPeriod("month", 3), {})
    [(1, 0.43333333333333335)]
    """
    if unit.unit in ("week", "day"):
        size = 7 * unit.length if unit.unit == "week" else unit.length
        origin = start.toordinal()
        placed = []
        for when in dates:
            whole, odd = divmod(when.toordinal() - origin, size)
            placed.append((whole, odd / size))
        return placed
    landing: dict[int, tuple[int, int]] = {}
    placed = []
    for when in dates:
        months, days = months_and_days(start, when, month_end, landing)
        if unit.unit == "semimonth":
            whole, odd = divmod(30 * months + days, 15)
            placed.append((whole, odd / 15))
        elif unit.length == 1:
            placed.append((months, days / 30))
        elif unit.length < 12:
            size = 30 * unit.length
            whole, odd = divmod(30 * months + days, size)
            placed.append((whole, odd / size))
        else:
            years, rest = divmod(months, 12)
            if days == 0:
                placed.append((years, rest / 12))
            else:
                back = shift_months(when, -12 * years, _day_of_month(when, month_end))
                placed.append((years, (back - start).days / 365))
    return placed


def _standard(first: date, second: date, month_end: dict[int, int]) -> list[UnitPeriod]:
    """The standard intervals ((b)(3)(iii)) the period from ``first`` to ``second`` is, exactly.

    A 28-day February is both four weeks and a month; a 13-day period from the 16th to the
    1st is a semimonth of a 1st-and-16th series.
    """
    found = []
    days = (second - first).days
    if days % 7 == 0 and 1 <= days // 7 <= 52:
        found.append(_WEEKS[days // 7])
    if days < 12:
        return found
    day = _day_of_month(first, month_end)
    months = (second.year - first.year) * 12 + second.month - first.month
    if days >= 28 and 1 <= months <= 12 and shift_months(first, months, day) == second:
        # (b)(3)(iv): the corresponding date of a later month, or its last day.
        found.append(_MONTHS[months])
    # A semimonthly series falls on two days of the month fifteen apart, the later one held at
    # the month's end: the 1st and 16th, the 15th and the last day (the 1st-to-16th pair
    # reaches day 16 as its later day, the 16th-to-31st as its earlier); 12 to 16 days apart.
    if days <= 16 and (
        (day <= 16 and shift_months(first, 0, day + 15) == second)
        or (day >= 16 and shift_months(first, 1, day - 15) == second)
    ):
        found.append(_SEMIMONTH)
    return found


def periods(
    advance_dates: Sequence[date], payment_dates: Sequence[date]
) -> list[tuple[date, date]]:
    """The periods of (b)(3)(i): between advances, between payments, and from the first
    advance to the first payment (when it is later), in that order.

    Examples
    --------
    >>> periods([date(2026, 1, 1)], [date(2026, 2, 1), date(2026, 3, 1)])[0]
    (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1))
    """
    advances, payments = sorted(set(advance_dates)), sorted(set(payment_dates))
    found = list(itertools.pairwise(advances))
    if payments[0] > advances[0]:
        found.append((advances[0], payments[0]))
    found += itertools.pairwise(payments)
    return found


def _refuse(detail: str) -> DomainError:
    return DomainError("payments", "unit_period", f"{detail} (Reg Z App J (b)(4))")


# §1026.17(c)(3)(ii): the APR may disregard that a scheduled date moved because it was not a
# business day. Weekends and public holidays move a date forward by up to this many days (a
# Chinese Spring Festival by nine: 15 Feb 2026 is paid on 24 Feb).
_MOVED_BY_MONTH_DAYS = 10
_MOVED_BY_WEEK_DAYS = 3


def contractual_dates(dates: Sequence[date], unit: Unit) -> list[date]:
    """Payment dates moved back to the series' usual day, where a business day moved them.

    The usual day is the most common day of the month (``unit`` ``month``), the most common
    pair of days fifteen apart (``semimonth``) or the most common day of the week (``week``); a
    date up to 10 days (3 for weeks) after one is taken as moved from it. Other dates, and every
    date of another unit, are kept.

    Examples
    --------
    >>> contractual_dates([date(2026, 1, 15), date(2026, 2, 24), date(2026, 3, 16),
    ...                    date(2026, 4, 15)], "month")[1:3]
    [datetime.date(2026, 2, 15), datetime.date(2026, 3, 15)]
    """
    if unit == "month":
        month_end = month_end_days(dates)
        days = Counter(_day_of_month(day, month_end) for day in dates)
        # A date only moves forward, so the usual day is the one the most dates are on or
        # shortly after; of equals, the one most dates are on, then the earliest.
        usual = min(
            days,
            key=lambda candidate: (
                -sum(n for d, n in days.items() if 0 <= d - candidate <= _MOVED_BY_MONTH_DAYS),
                -days[candidate],
                candidate,
            ),
        )
        moved = []
        for day in dates:
            back = shift_months(day, 0, usual)
            if back > day:
                back = shift_months(day, -1, usual)
            moved.append(back if (day - back).days <= _MOVED_BY_MONTH_DAYS else day)
        return moved
    if unit == "semimonth":
        month_end = month_end_days(dates)
        # the earlier day of the pair, 1 to 16; a 16th may be either
        halves: Counter[int] = Counter()
        for day in dates:
            of_month = _day_of_month(day, month_end)
            halves.update(
                {of_month if of_month <= 16 else 0, of_month - 15 if of_month >= 16 else 0} - {0}
            )
        first = min(halves, key=lambda half: (-halves[half], half))
        moved = []
        for day in dates:
            options = (
                shift_months(day, 0, first + 15),
                shift_months(day, 0, first),
                shift_months(day, -1, first + 15),
            )
            back = max(option for option in options if option <= day)
            moved.append(back if (day - back).days <= _MOVED_BY_MONTH_DAYS else day)
        return moved
    if unit == "week":
        usual = Counter(day.weekday() for day in dates).most_common(1)[0][0]
        moved = []
        for day in dates:
            back = day - timedelta(days=(day.weekday() - usual) % 7)
            moved.append(back if (day - back).days <= _MOVED_BY_WEEK_DAYS else day)
        return moved
    return list(dates)


def _most_common(
    spans: Sequence[tuple[date, date]], month_end: dict[int, int]
) -> tuple[UnitPeriod | int | None, int]:
    """The period occurring most often, the shorter of a tie ((b)(4)(i)(A)), and how often:
    a standard interval, or the days of a period that is none; None when there is no period."""
    standard: Counter[UnitPeriod] = Counter()
    other: Counter[int] = Counter()
    for first, second in spans:
        exact = _standard(first, second, month_end)
        standard.update(exact)
        if not exact:
            other[(second - first).days] += 1
    ranked: list[tuple[int, Fraction, UnitPeriod | int]] = [
        (-count, unit.days, unit) for unit, count in standard.items()
    ]
    ranked += [(-count, Fraction(days), days) for days, count in other.items()]
    if not ranked:
        return None, 0
    minus_count, _, winner = min(ranked, key=lambda entry: entry[:2])
    return winner, -minus_count


def choose(advance_dates: Sequence[date], payment_dates: Sequence[date]) -> UnitPeriod:
    """The unit period of a transaction other than one advance repaid by one payment.

    (b)(4)(i): the common period (one that occurs more than once), at most a year, that occurs
    most often; (b)(4)(i)(A): of equally common periods, the smaller; (b)(4)(i)(B): with no
    common period, the average of all periods rounded to the nearest standard interval, the
    lower of two equally near. A period is counted as every standard interval it exactly is
    (a 28-day February is four weeks and a month); a period that is no standard interval
    counts as its number of days. Unless one standard interval is every period but perhaps the
    first, the payment dates are tried again as :func:`contractual_dates` of a month, a
    semimonth and a week, since §1026.17(c)(3)(ii) lets a date moved to a business day count
    as scheduled: a try that moves at most two dates in three and makes a period of its own
    kind more common than any period was wins.

    Raises
    ------
    DomainError
        ``unit_period`` (field ``payments``) when the most common period is not a whole number
        of weeks, a semimonth, or a whole number of months up to twelve (payments every ten
        days), or when the average of the periods is nearer a day than a week.

    Examples
    --------
    >>> start = date(2026, 1, 5)
    >>> quarterly = [date(2026, 4, 5), date(2026, 7, 5), date(2026, 10, 5)]
    >>> choose([start], quarterly).name
    '3_months'
    >>> choose([start], [date(2026, 2, 2), date(2026, 3, 2), date(2026, 3, 30)]).name
    '4_weeks'
    >>> choose([start], [date(2026, 1, 15), date(2026, 1, 25), date(2026, 2, 4)])
    Traceback (most recent call last):
    ...
    plans.errors.DomainError: payments: the most common period is 10 days: ...
    """
    spans = periods(advance_dates, payment_dates)
    if not spans:
        raise _refuse("no period between the advances and the payments")
    winner, count = _most_common(spans, month_end_days([*advance_dates, *payment_dates]))
    if isinstance(winner, UnitPeriod) and count >= max(2, len(spans) - 1):
        return winner  # every period but perhaps the first: no moved date could do better
    # Dates moved to business days may hide the schedule's period: a moved date is taken as
    # scheduled when that makes some standard interval more common than any period was.
    # It must leave a third of the dates where they are (weekends and holidays are fewer than
    # two days in three) and find a period of its own kind: a biweekly series is not a
    # semimonthly one moved.
    scheduled = sorted(set(payment_dates))
    for unit in ("month", "semimonth", "week"):
        moved = contractual_dates(scheduled, unit)
        changed = sum(1 for was, now in zip(scheduled, moved, strict=True) if was != now)
        if min(moved) < min(advance_dates) or 3 * changed > 2 * len(moved):
            continue
        retried, times = _most_common(
            periods(advance_dates, moved), month_end_days([*advance_dates, *moved])
        )
        if isinstance(retried, UnitPeriod) and retried.unit == unit and times > count:
            winner, count = retried, times
    if count >= 2:
        if isinstance(winner, UnitPeriod):
            return winner
        raise _refuse(
            f"the most common period is {winner} days: neither whole weeks, a semimonth nor"
            " whole months, so no unit period this engine measures in"
        )
    # (b)(4)(i)(B): no common period.
    average = Fraction(sum((second - first).days for first, second in spans), len(spans))
    if average < 4:  # nearer one day than one week
        raise _refuse(f"the periods average {float(average):.1f} days, nearer a day than a week")
    return min(STANDARD, key=lambda u: (abs(u.days - average), u.days))


def regularity(
    advances: Sequence[tuple[date, int]],
    payments: Sequence[tuple[date, int]],
    unit: UnitPeriod,
) -> Regularity:
    """§1026.22(a)(2) regular or (a)(3) irregular, with the tolerance of the disclosed APR.

    (a)(3): an irregular transaction "includes one or more of the following features:
    multiple advances, irregular payment periods, or irregular payment amounts (other than an
    irregular first period or an irregular first or final payment)". Payments on one date
    count as one; a payment period is regular when it is exactly the unit period.

    Examples
    --------
    >>> start, month = date(2026, 1, 10), UnitPeriod("month", 1)
    >>> pays = [shift_months(start, k, 10) for k in range(1, 5)]
    >>> regularity([(start, 900)], [(d, a) for d, a in zip(pays, (250, 230, 230, 280))], month)
    Regularity(regular=True, tolerance=Decimal('0.125'), reasons=())
    >>> regularity([(start, 900)], [(d, a) for d, a in zip(pays, (300, 200, 400, 300))], month)
    Regularity(regular=False, tolerance=Decimal('0.25'), reasons=('irregular_payment_amounts',))
    """
    reasons = []
    if len({day for day, _ in advances}) > 1:
        reasons.append("multiple_advances")
    totals: Counter[date] = Counter()
    for day, amount in payments:
        totals[day] += amount
    dates = sorted(totals)
    if not unit.term:
        # Measured on the scheduled dates: a date moved to a business day keeps its period.
        scheduled = contractual_dates(dates, unit.unit)
        month_end = month_end_days(scheduled)
        if any(
            unit not in _standard(first, second, month_end)
            for first, second in itertools.pairwise(scheduled)
        ):
            reasons.append("irregular_payment_periods")
    if len({totals[day] for day in dates[1:-1]}) > 1:
        reasons.append("irregular_payment_amounts")
    tolerance = IRREGULAR_TOLERANCE if reasons else REGULAR_TOLERANCE
    return Regularity(not reasons, tolerance, tuple(reasons))
