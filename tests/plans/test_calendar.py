from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.calendar import (
    Frequency,
    due_dates,
    is_business_day,
    next_business_day,
    payment_dates,
)
from plans.daycount import DayCount, day_count, year_fraction


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
