from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.calendar import (
    LAST_DAY,
    Frequency,
    days_in_month,
    due_dates,
    is_business_day,
    next_business_day,
    pay_days,
    payment_dates,
)
from plans.daycount import DayCount, day_count, year_fraction
from plans.errors import InvalidDate


def test_month_end_rule_restores_the_anchor_day() -> None:
    assert due_dates(date(2024, 1, 31), 4, Frequency.MONTHLY) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert due_dates(date(2025, 1, 31), 2, Frequency.MONTHLY)[1] == date(2025, 2, 28)


def test_weekly_biweekly_and_semi_monthly() -> None:
    assert due_dates(date(2026, 12, 1), 3, Frequency.WEEKLY)[-1] == date(2026, 12, 15)
    assert due_dates(date(2026, 12, 1), 3, Frequency.BIWEEKLY)[-1] == date(2026, 12, 29)
    assert due_dates(date(2026, 1, 31), 4, Frequency.SEMI_MONTHLY) == [
        date(2026, 1, 31),
        date(2026, 2, 16),
        date(2026, 2, 28),
        date(2026, 3, 16),
    ]


@pytest.mark.parametrize(
    ("country", "day", "rolled"),
    [
        ("CN", date(2026, 10, 1), date(2026, 10, 8)),  # National Day week, days off to the 7th
        ("CN", date(2026, 2, 17), date(2026, 2, 24)),  # Spring Festival 2026
        ("US", date(2026, 7, 3), date(2026, 7, 6)),  # Independence Day observed, then weekend
        ("GB", date(2026, 12, 25), date(2026, 12, 29)),  # Christmas, Boxing Day (sub.), weekend
        (None, date(2026, 11, 28), date(2026, 11, 30)),  # Saturday, weekends only
    ],
)
def test_due_dates_roll_to_the_next_business_day(
    country: str | None, day: date, rolled: date
) -> None:
    assert next_business_day(day, country) == rolled


@given(
    st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    st.integers(1, 60),
    st.sampled_from(list(Frequency)),
    st.sampled_from(["CN", "US", "GB"]),
)
def test_payment_dates_strictly_increase_on_business_days(
    anchor: date, count: int, frequency: Frequency, country: str
) -> None:
    due = due_dates(anchor, count, frequency)
    paid = payment_dates(due, country)
    assert all(a < b for a, b in itertools.pairwise(paid))
    assert all(is_business_day(d, country) for d in paid)
    assert all(p >= d for p, d in zip(paid, due, strict=True))
    assert all(a < b for a, b in itertools.pairwise(due))


def test_day_counts() -> None:
    # ISDA 2006 §4.16: 30/360 between 31 Jan and 28 Feb is 28 days; ACT counts the calendar.
    start, end = date(2026, 1, 31), date(2026, 2, 28)
    assert day_count(start, end, DayCount.THIRTY_360) == 28
    assert day_count(start, end, DayCount.ACT_365F) == 28
    assert year_fraction(date(2026, 1, 1), date(2027, 1, 1), DayCount.ACT_365F) == 1
    assert year_fraction(date(2026, 1, 1), date(2027, 1, 1), DayCount.ACT_360) * 360 == 365
    assert day_count(date(2026, 1, 15), date(2026, 7, 15), DayCount.THIRTY_360) == 180


def test_chinas_make_up_working_days_are_business_days() -> None:
    # 国务院办公厅关于2026年部分节假日安排的通知: Spring Festival is off 15-23 February 2026 and
    # Saturday 14 February and Saturday 28 February are worked instead (调休); so is Sunday 20
    # September before the National Day holiday. A payment falls due on such a day as on any
    # working day; a Sunday inside the holiday moves to Tuesday 24 February, the first day back.
    assert payment_dates([date(2026, 2, 14), date(2026, 9, 20)], "CN") == [
        date(2026, 2, 14),
        date(2026, 9, 20),
    ]
    assert next_business_day(date(2026, 2, 15), "CN") == date(2026, 2, 24)
    # an ordinary Saturday is still not a business day, and elsewhere nothing changes
    assert not is_business_day(date(2026, 3, 7), "CN")
    assert not is_business_day(date(2026, 2, 14), "GB")


# ---- semi-monthly pay days -------------------------------------------------------------------


def test_the_fifteenth_and_the_last_day() -> None:
    # the payroll pattern: the 15th and the month's last day, February's 28th or 29th included
    dates = due_dates(date(2027, 1, 10), 6, Frequency.SEMI_MONTHLY, days=(15, LAST_DAY))
    assert dates == [
        date(2027, 1, 15), date(2027, 1, 31), date(2027, 2, 15),
        date(2027, 2, 28), date(2027, 3, 15), date(2027, 3, 31),
    ]  # fmt: skip
    leap = due_dates(date(2028, 2, 16), 2, Frequency.SEMI_MONTHLY, days=(15, LAST_DAY))
    assert leap == [date(2028, 2, 29), date(2028, 3, 15)]


def test_the_first_and_the_fifteenth() -> None:
    # from a start after the 15th the first payment is the next month's 1st
    dates = due_dates(date(2026, 12, 16), 4, Frequency.SEMI_MONTHLY, days=(1, 15))
    assert dates == [date(2027, 1, 1), date(2027, 1, 15), date(2027, 2, 1), date(2027, 2, 15)]
    # a start on a pay day is that day
    assert due_dates(date(2027, 1, 15), 1, Frequency.SEMI_MONTHLY, days=(1, 15)) == [
        date(2027, 1, 15)
    ]


@pytest.mark.parametrize(
    "days",
    [[15, 1], [15, 15], [0, 15], [15, 29], [28, "last"], ["last", 15], [15], [1, 15, "last"],
     [True, 15], ["15", "last"]],
)  # fmt: skip
def test_pay_days_that_are_not_two_ordered_days_are_refused(days: list[object]) -> None:
    with pytest.raises(InvalidDate) as info:
        pay_days(days, field="days")  # type: ignore[arg-type]
    assert (info.value.field, info.value.rule) == ("days", "semi_monthly_days")


@given(
    first=st.integers(1, 27),
    second=st.sampled_from([*range(2, 29), "last"]),
    start=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    count=st.integers(1, 30),
)
def test_pay_days_alternate_and_stay_on_their_days(
    first: int, second: int | str, start: date, count: int
) -> None:
    if second != "last" and int(second) <= first:
        return
    days = pay_days([first, second])
    dates = due_dates(start, count, Frequency.SEMI_MONTHLY, days=days)
    assert all(a < b for a, b in itertools.pairwise(dates))

    def which(d: date) -> int:
        # 0: the first pay day of its month, 1: the second
        month_days = days_in_month(d.year, d.month)
        assert d.day in {min(days[0], month_days), min(days[1], month_days)}
        return 0 if d.day == days[0] else 1

    kinds = [which(d) for d in dates]
    assert all(a != b for a, b in itertools.pairwise(kinds))
    # the first is the first pay day on or after the start: none between them
    assert start <= dates[0]
    skipped = [start + timedelta(days=k) for k in range((dates[0] - start).days)]
    assert not [
        d for d in skipped if d.day in {min(n, days_in_month(d.year, d.month)) for n in days}
    ]
