"""Appendix J's unit periods of any length, regularity and refusals (plans/unit_periods.py).

Sources as in tests/plans/test_rates.py: [AppJ] 12 CFR 1026 Appendix J (c); [FS] and [PY] the
two transcriptions of its examples, which give each payment's (t, f). Where [PY] gives (t, f)
and not the dates, the dates here are ours, chosen so that (b)(5) places every payment at the
published (t, f): the APR depends on nothing else.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.calendar import Frequency
from plans.errors import DomainError
from plans.rates import apr, transaction_regularity, transaction_unit_period, unit_period
from plans.unit_periods import UnitPeriod, contractual_dates, place, shift_months

Flows = list[tuple[date, int]]


def percent_2dp(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def months_from(first: date, count: int, step: int, amount: int) -> Flows:
    return [(shift_months(first, step * k, first.day), amount) for k in range(count)]


def days_from(start: date, offsets: list[int], amount: int) -> Flows:
    return [(start + timedelta(days=d), amount) for d in offsets]


# --- the published examples in unit periods other than the four frequencies, from dates ---

C2II_START = date(1978, 4, 3)
C6I_START = date(1978, 1, 2)
C6I_TF = (
    [(k, 26) for k in range(9)]
    + [(10 + k, 12) for k in range(6)]
    + [(16 + k, 26) for k in range(6)]
    + [(23 + k, 12) for k in range(3)]
)

DATED = [
    pytest.param(
        # (c)(1)(iv) Quarterly payments (long first period): $10,000 advanced 1978-05-23,
        # 40 payments of $385 quarterly from 1978-10-01, APR 8.97 %. [AppJ] [FS] [PY]
        [(date(1978, 5, 23), 1_000_000)],
        months_from(date(1978, 10, 1), 40, 3, 38_500),
        "3_months",
        "8.97",
        True,
        id="c1iv-quarterly",
    ),
    pytest.param(
        # (c)(2)(ii) Payments every 4 weeks (long first period and irregular first payment):
        # $400; $39.50 at t = 1, f = 5/28 (33 days), then 11 × $38.31 every 28 days, APR
        # 28.50 %. [AppJ] [PY] [FS]; dates ours.
        [(C2II_START, 40_000)],
        days_from(C2II_START, [33], 3_950)
        + days_from(C2II_START, [33 + 28 * k for k in range(1, 12)], 3_831),
        "4_weeks",
        "28.50",
        True,
        id="c2ii-four-weekly",
    ),
    pytest.param(
        # (c)(4)(ii) Payments every two months (short first period, irregular first and final
        # payments): $8,000; $449.36 at t = 0, f = 52/60 (1 month and 22 days: 1978-01-10 to
        # 1978-03-01), 18 × $465 and $200 every two months after it, APR 7.30 %.
        # [AppJ] [PY] [FS]; dates ours.
        [(date(1978, 1, 10), 800_000)],
        [
            (date(1978, 3, 1), 44_936),
            *months_from(date(1978, 5, 1), 18, 2, 46_500),
            (date(1981, 5, 1), 20_000),
        ],
        "2_months",
        "7.30",
        True,
        id="c4ii-two-monthly",
    ),
    pytest.param(
        # (c)(6)(i) Skipped-payment loan, every 4 weeks: $2,135; 24 × $100 at [PY]'s (t, f)
        # (9 from t = 0, f = 26/28; 6 from t = 10, f = 12/28; 6 from t = 16, f = 26/28; 3 from
        # t = 23, f = 12/28), APR 12.00 %. [AppJ] [PY]; dates ours. Skipped payments make the
        # payment periods irregular: §1026.22(a)(3).
        [(C6I_START, 213_500)],
        [(C6I_START + timedelta(days=28 * t + f), 10_000) for t, f in C6I_TF],
        "4_weeks",
        "12.00",
        False,
        id="c6i-skipped-four-weekly",
    ),
]


@pytest.mark.parametrize(("advances", "payments", "unit", "published", "regular"), DATED)
def test_published_examples_in_their_own_unit_period(
    advances: Flows, payments: Flows, unit: str, published: str, regular: bool
) -> None:
    assert unit_period(advances, payments)[0] == unit
    assert percent_2dp(apr(advances, payments)) == Decimal(published)
    assert transaction_regularity(advances, payments).regular is regular


@pytest.mark.parametrize(
    ("start", "when", "unit", "expected"),
    [
        # (c)(1)(iv) [PY]: 1978-05-23 to 1978-10-01 is 4 months and 9 days, 129 days under
        # (b)(5)(iii), one quarter and 39/90.
        (date(1978, 5, 23), date(1978, 10, 1), UnitPeriod("month", 3), (1, 39 / 90)),
        # (c)(4)(ii) [PY]: 1978-01-10 to 1978-03-01 is 1 month and 22 days: t = 0, f = 52/60.
        (date(1978, 1, 10), date(1978, 3, 1), UnitPeriod("month", 2), (0, 52 / 60)),
        # ... and to 1978-05-01, 3 months and 22 days: t = 1, f = 52/60.
        (date(1978, 1, 10), date(1978, 5, 1), UnitPeriod("month", 2), (1, 52 / 60)),
        # (c)(2)(ii) [PY]: 33 days in 4-week unit periods is t = 1, f = 5/28 ((b)(5)(iv)).
        (C2II_START, C2II_START + timedelta(days=33), UnitPeriod("week", 4), (1, 5 / 28)),
    ],
)
def test_fractions_of_longer_unit_periods(
    start: date, when: date, unit: UnitPeriod, expected: tuple[int, float]
) -> None:
    assert place(start, [when], unit, {}) == [expected]


def test_the_old_monthly_measure_was_beyond_the_tolerance() -> None:
    # Regression for the issue: quarterly payments used to be measured in months. 10,000.00
    # repaid by 12 quarterly payments at 15.3 % a year nominal (3.825 % a quarter): the level
    # payment is 10,000 × 0.03825 / (1 - 1.03825^-12) = 1,054.7297... → 1,054.73. In months
    # each payment is 3 whole unit periods, so the monthly rate is 1.03825^(1/3) - 1 =
    # 0.0125908... and the APR 12 × that = 15.11 %: 0.19 points below 15.30 %, beyond
    # §1026.22(a)(2)'s 1/8 point. Measured in quarters it is 15.30 %.
    advances = [(date(2026, 1, 15), 1_000_000)]
    payments = months_from(date(2026, 4, 15), 12, 3, 105_473)
    assert unit_period(advances, payments) == ("3_months", Fraction(4))
    quarterly = apr(advances, payments)
    assert percent_2dp(quarterly) == Decimal("15.30")
    as_months = apr(advances, payments, frequency=Frequency.MONTHLY)
    assert percent_2dp(as_months) == Decimal("15.11")
    assert (quarterly - as_months) * 100 > Decimal("0.125")


# --- the single-advance, single-payment term ((b)(4)(ii), (b)(5)(vi), (b)(5)(vii)) ---


def test_single_payment_term_of_whole_months_counts_months() -> None:
    # (c)(5)(ii) [AppJ] [PY]: a 6-month term has 12 / 6 = 2 unit periods a year (it used to
    # report 365 / 181 = 2.016575 while the APR used 2). APR = 0.044 × 2 = 8.80 %.
    advances, payments = [(date(1978, 1, 3), 100_000)], [(date(1978, 7, 3), 104_400)]
    assert unit_period(advances, payments) == ("term", Fraction(2))
    assert transaction_unit_period(advances, payments) == UnitPeriod("month", 6, term=True)
    assert apr(advances, payments) == Decimal("0.088000")


def test_single_payment_term_in_days_and_beyond_a_year() -> None:
    # (c)(5)(i) [AppJ]: 255 days, 365 / 255 a year; (c)(5)(iv): 2 years is a year unit period.
    assert unit_period([(date(1978, 1, 3), 1)], [(date(1978, 9, 15), 2)]) == (
        "term",
        Fraction(365, 255),
    )
    assert unit_period([(date(1978, 1, 3), 1)], [(date(1980, 1, 3), 2)]) == (
        "12_months",
        Fraction(1),
    )


# --- the choice of (b)(4)(i) ---


@pytest.mark.parametrize(
    ("offsets", "unit"),
    [
        ([7 * k for k in range(1, 9)], "weekly"),
        ([28 * k for k in range(1, 9)], "4_weeks"),
        ([42 * k for k in range(1, 9)], "6_weeks"),
    ],
)
def test_whole_weeks(offsets: list[int], unit: str) -> None:
    start = date(2026, 1, 5)
    assert unit_period([(start, 1_000)], days_from(start, offsets, 200))[0] == unit


@pytest.mark.parametrize(("step", "unit"), [(2, "2_months"), (6, "6_months"), (12, "12_months")])
def test_whole_months(step: int, unit: str) -> None:
    start = date(2026, 1, 31)  # month ends throughout: (b)(3)(iv)
    payments = months_from(shift_months(start, step, 31), 5, step, 30_000)
    assert unit_period([(start, 100_000)], payments)[0] == unit


def test_equally_common_periods_take_the_smaller() -> None:
    # (b)(4)(i)(A): two 2-week periods (Jan 1 to 15 to 29) and two months (to Feb 28, the
    # 29th's month end, and Mar 29): the 2 weeks.
    start = date(2026, 1, 1)
    payments = [(date(2026, 1, 15), 100), (date(2026, 1, 29), 100)]
    payments += [(date(2026, 2, 28), 100), (date(2026, 3, 29), 100)]
    assert unit_period([(start, 300)], payments)[0] == "biweekly"


def test_no_common_period_takes_the_average() -> None:
    # (b)(4)(i)(B): periods of 40, 20 and 33 days, none twice: their average, 31 days, is
    # nearest a month (365/12 = 30.42 days) of the standard intervals.
    start = date(2026, 1, 1)
    assert unit_period([(start, 300)], days_from(start, [40, 60, 93], 110))[0] == "monthly"


def test_multiple_advances_count_their_periods_and_are_irregular() -> None:
    # (b)(3)(i): the periods between advances count too; (b)(8): each advance is placed from the
    # first. §1026.22(a)(3): multiple advances make the transaction irregular, 1/4 point.
    advances = months_from(date(2026, 1, 15), 3, 1, 50_000)
    payments = months_from(date(2026, 4, 15), 12, 1, 13_000)
    assert unit_period(advances, payments)[0] == "monthly"
    regularity = transaction_regularity(advances, payments)
    assert regularity.reasons == ("multiple_advances",)
    assert regularity.tolerance == Decimal("0.25")


def test_business_day_moves_are_disregarded() -> None:
    # §1026.17(c)(3)(ii): a 4-weekly schedule with some Saturdays moved to Monday is still
    # 4-weekly, and regular.
    start = date(2026, 1, 3)  # a Saturday
    dates = [start + timedelta(days=28 * k) for k in range(1, 13)]
    moved = [d + timedelta(days=2) if k % 3 == 0 else d for k, d in enumerate(dates)]
    payments = [(d, 10_000) for d in moved]
    assert unit_period([(start, 100_000)], payments)[0] == "4_weeks"
    assert transaction_regularity([(start, 100_000)], payments).regular
    assert contractual_dates(moved, "week") == dates


@pytest.mark.parametrize(
    "offsets",
    [
        [10 * k for k in range(1, 13)],  # every ten days
        [1, 2, 3, 5],  # a few days apart: nearer a day than a week
    ],
)
def test_no_unit_period_is_refused(offsets: list[int]) -> None:
    start = date(2026, 1, 1)
    with pytest.raises(DomainError) as refused:
        apr([(start, 100_000)], days_from(start, offsets, 10_000))
    assert (refused.value.field, refused.value.rule) == ("payments", "unit_period")
    assert "(b)(4)" in refused.value.detail


# --- property: a level schedule built at a rate is measured at that rate ---

UNITS = [
    UnitPeriod("week", 1),
    UnitPeriod("week", 2),
    UnitPeriod("week", 4),
    UnitPeriod("month", 1),
    UnitPeriod("month", 2),
    UnitPeriod("month", 3),
    UnitPeriod("month", 6),
    UnitPeriod("month", 12),
]


def level_schedule(start: date, unit: UnitPeriod, count: int, principal: int, rate: float) -> Flows:
    per_period = rate / float(unit.per_year)
    level = per_period / (1 - (1 + per_period) ** -count) if per_period else 1 / count
    payment = round(principal * level)
    if unit.unit == "week":
        return days_from(start, [7 * unit.length * k for k in range(1, count + 1)], payment)
    return [(shift_months(start, unit.length * k, start.day), payment) for k in range(1, count + 1)]


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 28)),
    unit=st.sampled_from(UNITS),
    count=st.integers(min_value=3, max_value=40),
    principal=st.integers(min_value=1_000_000, max_value=100_000_000),
    basis_points=st.integers(min_value=0, max_value=6_000),
)
def test_level_schedule_is_measured_at_its_rate(
    start: date, unit: UnitPeriod, count: int, principal: int, basis_points: int
) -> None:
    # Payments exactly one unit period apart from the advance: App J finds that unit period and
    # the rate the schedule was built at, within the payments' rounding to minor units (a
    # hundredth of a percentage point here) and so within the disclosure's 2 decimals.
    rate = basis_points / 10_000
    payments = level_schedule(start, unit, count, principal, rate)
    assert transaction_unit_period([(start, principal)], payments) == unit
    assert abs(float(apr([(start, principal)], payments)) - rate) <= 0.0001
