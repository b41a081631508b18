"""APR by Regulation Z Appendix J, effective annual rates and present values.

Sources for the published figures
---------------------------------
[AppJ] 12 CFR 1026, Appendix J, paragraph (c) "Examples for the actuarial method",
    https://www.consumerfinance.gov/rules-policy/regulations/1026/j/ . The CFR prints the (c)
    examples as images, not text, so their amounts, dates and APRs are taken as transcribed in
    [FS] and checked against the independent transcription [PY]; the two agree on every example
    used here.
[FS] simontreanor/FSharp.Finance.Personal, tests/AprUsActuarialTests.fs (commit e4fb7ab6):
    advance amounts and dates, payment amounts, counts and dates, published APR.
[PY] A public Python pre-check of all sixteen (c) examples, "transcribed ... from a 150-dpi
    render of the GPO print CFR", giving each payment as (amount, t, f) unit-periods.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

import numpy_financial as npf
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from plans.calendar import Frequency, due_dates, payment_dates
from plans.errors import DomainError, InvalidAmount, InvalidDate, InvalidRate
from plans.money import Rounding
from plans.rates import (
    apr,
    effective_annual_rate,
    irr_per_period,
    npv_minor,
    placed_flows,
    solve_general_equation,
)
from plans.unit_periods import YEAR, UnitPeriod, place, shift_months
from plans.unit_periods import month_end_days as _month_end_days

Flows = list[tuple[date, int]]


def monthly(first: date, count: int, amount: int) -> Flows:
    return [(day, amount) for day in due_dates(first, count, Frequency.MONTHLY)]


def every(first: date, count: int, amount: int, days: int) -> Flows:
    return [(first + timedelta(days=days * k), amount) for k in range(count)]


def percent_2dp(rate: Decimal) -> Decimal:
    # [AppJ] (b)(9)(ii): the APR "when rounded to 2 decimals, is correct".
    return (rate * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- Appendix J (c): the published examples whose unit-period is one of the four frequencies ---

APPENDIX_J = [
    pytest.param(
        # (c)(1)(i) Monthly payments (regular first period): $5,000 advanced 1978-01-10,
        # 24 payments of $230.00 from 1978-02-10. [AppJ] [FS] [PY]
        [(date(1978, 1, 10), 500_000)],
        monthly(date(1978, 2, 10), 24, 23_000),
        "9.69",
        id="c1i-monthly-regular-first-period",
    ),
    pytest.param(
        # (c)(1)(ii) Monthly payments (long first period): $6,000 advanced 1978-02-10,
        # 36 payments of $200.00 from 1978-04-01. [AppJ] [FS] [PY]
        [(date(1978, 2, 10), 600_000)],
        monthly(date(1978, 4, 1), 36, 20_000),
        "11.82",
        id="c1ii-monthly-long-first-period",
    ),
    pytest.param(
        # (c)(1)(iii) Semimonthly payments (short first period): $5,000 advanced 1978-02-23,
        # 24 payments of $219.17 on the 1st and 16th from 1978-03-01. [AppJ] [FS] [PY]
        [(date(1978, 2, 23), 500_000)],
        [(day, 21_917) for day in due_dates(date(1978, 3, 1), 24, Frequency.SEMI_MONTHLY)],
        "10.34",
        id="c1iii-semimonthly-short-first-period",
    ),
    pytest.param(
        # (c)(1)(v) Weekly payments (long first period): $500 advanced 1978-03-20,
        # 30 weekly payments of $17.60 from 1978-04-21. [AppJ] [FS] [PY]
        [(date(1978, 3, 20), 50_000)],
        every(date(1978, 4, 21), 30, 1_760, 7),
        "14.96",
        id="c1v-weekly-long-first-period",
    ),
    pytest.param(
        # (c)(2)(i) Monthly payments (regular first period and irregular first payment):
        # $5,000 advanced 1978-01-10; $250.00 on 1978-02-10, then 23 of $230.00 from
        # 1978-03-10. [AppJ] [FS] [PY]
        [(date(1978, 1, 10), 500_000)],
        [(date(1978, 2, 10), 25_000), *monthly(date(1978, 3, 10), 23, 23_000)],
        "10.08",
        id="c2i-monthly-irregular-first-payment",
    ),
    pytest.param(
        # (c)(3)(i) Monthly payments (regular first period and irregular final payment):
        # $5,000 advanced 1978-01-10; 23 of $230.00 from 1978-02-10, then $280.00 on
        # 1980-01-10. [AppJ] [FS] [PY]
        [(date(1978, 1, 10), 500_000)],
        [*monthly(date(1978, 2, 10), 23, 23_000), (date(1980, 1, 10), 28_000)],
        "10.50",
        id="c3i-monthly-irregular-final-payment",
    ),
    pytest.param(
        # (c)(3)(ii) Payments every 2 weeks (short first period and irregular final payment):
        # $200 advanced 1978-04-03; 19 of $9.50 every 14 days from 1978-04-11, then $30.00
        # 14 days after the last of them. [AppJ] [FS] [PY]
        [(date(1978, 4, 3), 20_000)],
        [
            *every(date(1978, 4, 11), 19, 950, 14),
            (date(1978, 4, 11) + timedelta(days=14 * 19), 3_000),
        ],
        "12.22",
        id="c3ii-biweekly-irregular-final-payment",
    ),
    pytest.param(
        # (c)(4)(i) Monthly payments (regular first period, irregular first payment, and
        # irregular final payment): $5,000 advanced 1978-01-10; $250.00 on 1978-02-10,
        # 22 of $230.00 from 1978-03-10, $280.00 on 1980-01-10. [AppJ] [FS] [PY]
        [(date(1978, 1, 10), 500_000)],
        [
            (date(1978, 2, 10), 25_000),
            *monthly(date(1978, 3, 10), 22, 23_000),
            (date(1980, 1, 10), 28_000),
        ],
        "10.90",
        id="c4i-monthly-irregular-first-and-final",
    ),
    pytest.param(
        # (c)(5)(i) Single advance, single payment, term of less than 1 year measured in days:
        # $1,000 advanced 1978-01-03, $1,080 repaid 1978-09-15 (255 days), so
        # APR = 0.08 × 365 / 255. [AppJ] [FS] [PY]
        [(date(1978, 1, 3), 100_000)],
        [(date(1978, 9, 15), 108_000)],
        "11.45",
        id="c5i-single-payment-255-days",
    ),
    pytest.param(
        # (c)(5)(ii) Single advance, single payment, term of 6 months: $1,000 → $1,044,
        # APR = 0.044 × 12 / 6. [AppJ] [PY]; [PY] gives the term, not the dates, and any
        # 6-month term gives the same APR, so the dates are ours.
        [(date(1978, 1, 3), 100_000)],
        [(date(1978, 7, 3), 104_400)],
        "8.80",
        id="c5ii-single-payment-6-months",
    ),
    pytest.param(
        # (c)(5)(iii) Single advance, single payment, term of 18 months (a year unit-period:
        # t = 1, f = 6/12): $1,000 → $1,135.19. [AppJ] [PY]; dates ours, as for (c)(5)(ii).
        [(date(1978, 1, 3), 100_000)],
        [(date(1979, 7, 3), 113_519)],
        "8.76",
        id="c5iii-single-payment-18-months",
    ),
    pytest.param(
        # (c)(5)(iv) Single advance, single payment, term of exactly 2 years: $1,000 → $1,240.
        # [AppJ] [PY]; dates ours, as for (c)(5)(ii).
        [(date(1978, 1, 3), 100_000)],
        [(date(1980, 1, 3), 124_000)],
        "11.36",
        id="c5iv-single-payment-2-years",
    ),
]


@pytest.mark.parametrize(("advances", "payments", "published"), APPENDIX_J)
def test_appendix_j_published_examples(advances: Flows, payments: Flows, published: str) -> None:
    assert percent_2dp(apr(advances, payments)) == Decimal(published)


def test_appendix_j_c1i_full_precision() -> None:
    # (c)(1)(i) [AppJ]: the six-place value behind the published 9.69 %; numpy_financial agrees
    # (24 regular periods, no odd days): npf.rate(24, -230, 5000, 0) × 12 = 0.0968570806.
    rate = apr([(date(1978, 1, 10), 500_000)], monthly(date(1978, 2, 10), 24, 23_000))
    assert rate == Decimal("0.096857")
    assert rate.as_tuple().exponent == -6


def test_appendix_j_c5i_is_exact() -> None:
    # (c)(5)(i) [AppJ]: one unit-period of 255 days, i = 1080/1000 - 1 = 0.08 exactly, so
    # APR = 0.08 × 365/255 = 0.11450980... → 0.114510.
    advances, payments = [(date(1978, 1, 3), 100_000)], [(date(1978, 9, 15), 108_000)]
    assert irr_per_period(advances, payments) == 0.08
    assert apr(advances, payments) == Decimal("0.114510")


# --- (b)(5): where each cash flow sits, against the (t, f) of [PY] ---


@pytest.mark.parametrize(
    ("start", "when", "unit", "expected"),
    [
        # (c)(1)(ii): 1978-02-10 to 1978-04-01 is 1 month and 19 days, f = 19/30. [PY]
        (date(1978, 2, 10), date(1978, 4, 1), Frequency.MONTHLY, (1, 19 / 30)),
        # (c)(1)(iii): 1978-02-23 to 1978-03-01 is 6 days, t = 0, f = 6/15. [PY]
        (date(1978, 2, 23), date(1978, 3, 1), Frequency.SEMI_MONTHLY, (0, 6 / 15)),
        # ... and to 1978-03-16 is 21 days, one semimonth and 6/15 more. [PY]
        (date(1978, 2, 23), date(1978, 3, 16), Frequency.SEMI_MONTHLY, (1, 6 / 15)),
        # (c)(1)(v): 1978-03-20 to 1978-04-21 is 32 days, t = 4, f = 4/7. [PY]
        (date(1978, 3, 20), date(1978, 4, 21), Frequency.WEEKLY, (4, 4 / 7)),
        # (c)(3)(ii): 1978-04-03 to 1978-04-11 is 8 days, t = 0, f = 8/14. [PY]
        (date(1978, 4, 3), date(1978, 4, 11), Frequency.BIWEEKLY, (0, 8 / 14)),
        # (c)(5)(iii): 18 months with a year unit-period is t = 1, f = 6/12. [PY]
        (date(1978, 1, 3), date(1979, 7, 3), None, (1, 6 / 12)),
    ],
)
def test_unit_periods_and_fractions(
    start: date, when: date, unit: Frequency | None, expected: tuple[int, float]
) -> None:
    period = YEAR if unit is None else UnitPeriod.of(unit)
    assert place(start, [when], period, _month_end_days([when])) == [expected]


def test_month_end_series_counts_month_end_to_month_end() -> None:
    # (b)(3)(iv) [AppJ]: a series on the last day of each month is measured from last day to
    # last day, so Jan 31 → Apr 30 is three whole months, not two months and 30 days.
    start = date(2026, 1, 31)
    month_ends = [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]
    placed = place(start, month_ends, UnitPeriod.of(Frequency.MONTHLY), _month_end_days(month_ends))
    assert placed == [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)]


def test_thirtieth_series_uses_end_of_february() -> None:
    # (b)(3)(iv) [AppJ]: payments due on the 30th use the last day of February, and the 30th
    # of a 30-day month still stands for the 30th, not the 31st.
    start = date(2026, 1, 30)
    dates = [date(2026, 2, 28), date(2026, 3, 30), date(2026, 4, 30)]
    placed = place(start, dates, UnitPeriod.of(Frequency.MONTHLY), _month_end_days(dates))
    assert placed == [(1, 0.0), (2, 0.0), (3, 0.0)]


def test_a_lone_month_end_takes_the_start_day() -> None:
    # (b)(5)(ii) [AppJ]: months are counted back from the later date. 28 Feb 2001 (a month
    # end) counted back 12 months is 28 Feb 2000, the advance: a year, not a year and the day
    # to 29 Feb 2000 that reading it as a 31st would give. So is Jan 30 → Feb 28 one month.
    year = UnitPeriod("month", 12)
    flows = placed_flows([(date(2000, 2, 28), 100)], [(date(2001, 2, 28), 101)], year)
    assert flows[1][1:] == (1, 0.0)
    month = UnitPeriod.of(Frequency.MONTHLY)
    flows = placed_flows([(date(2026, 1, 30), 100)], [(date(2026, 2, 28), 101)], month)
    assert flows[1][1:] == (1, 0.0)


def test_month_end_series_after_a_thirtieth_stays_month_end() -> None:
    # (b)(3)(iv) [AppJ]: the 31sts make Feb 28, Mar 31, Apr 30, May 31 a month-end series, so
    # each date is whole months after Jan 31 and a day after the Jan 30 advance (f = 1/30).
    start = date(2026, 1, 30)
    dates = [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]
    month = UnitPeriod.of(Frequency.MONTHLY)
    flows = placed_flows([(start, 100)], [(day, 30) for day in dates], month)
    assert [(whole, fraction) for _, whole, fraction in flows[1:]] == [
        (k, 1 / 30) for k in range(1, 5)
    ]


# --- (b)(8) solved for unit-periods outside the four frequencies, from [PY]'s (t, f) ---


def series(
    amount: float, count: int, whole: int, fraction: float
) -> list[tuple[float, int, float]]:
    return [(amount, whole + k, fraction) for k in range(count)]


@pytest.mark.parametrize(
    ("flows", "per_year", "published"),
    [
        # (c)(1)(iv) Quarterly payments (long first period): $10,000, 40 × $385 from
        # t = 1, f = 39/90. [AppJ] [PY]; [FS]'s dates (advance 1978-05-23, first payment
        # 1978-10-01) give the same t and f by (b)(5)(iii).
        ([(-10_000.0, 0, 0.0), *series(385, 40, 1, 39 / 90)], 4, "8.97"),
        # (c)(2)(ii) Payments every 4 weeks (long first period and irregular first payment):
        # $400; $39.50 at t = 1, f = 5/28, then 11 × $38.31. [AppJ] [PY] [FS]
        ([(-400.0, 0, 0.0), (39.50, 1, 5 / 28), *series(38.31, 11, 2, 5 / 28)], 13, "28.50"),
        # (c)(4)(ii) Payments every two months (short first period, irregular first and final
        # payments): $8,000; $449.36, 18 × $465, $200, all with f = 52/60. [AppJ] [PY] [FS]
        (
            [
                (-8_000.0, 0, 0.0),
                (449.36, 0, 52 / 60),
                *series(465, 18, 1, 52 / 60),
                (200.0, 19, 52 / 60),
            ],
            6,
            "7.30",
        ),
        # (c)(6)(i) Skipped-payment loan, every 4 weeks: $2,135. [AppJ] [PY]
        (
            [
                (-2_135.0, 0, 0.0),
                *series(100, 9, 0, 26 / 28),
                *series(100, 6, 10, 12 / 28),
                *series(100, 6, 16, 26 / 28),
                *series(100, 3, 23, 12 / 28),
            ],
            13,
            "12.00",
        ),
        # (c)(6)(ii) Skipped payments plus single payments, monthly: $7,350. [AppJ] [PY]
        (
            [
                (-7_350.0, 0, 0.0),
                *series(1_000, 3, 6, 12 / 30),
                (2_000.0, 12, 12 / 30),
                *series(750, 3, 18, 12 / 30),
                (1_000.0, 22, 29 / 30),
            ],
            12,
            "10.22",
        ),
    ],
    ids=["c1iv-quarterly", "c2ii-four-weekly", "c4ii-two-monthly", "c6i-skipped", "c6ii-mixed"],
)
def test_general_equation_for_other_unit_periods(
    flows: list[tuple[float, int, float]], per_year: int, published: str
) -> None:
    assert percent_2dp(Decimal(solve_general_equation(flows) * per_year)) == Decimal(published)


# --- zero and negative rates ---


def test_zero_rate_plan_is_exactly_zero() -> None:
    # 1,000.00 repaid as 10 × 100.00: no finance charge, so the APR is exactly 0.
    advances = [(date(2026, 1, 15), 100_000)]
    payments = monthly(date(2026, 2, 15), 10, 10_000)
    assert apr(advances, payments) == 0
    assert apr(advances, payments) == Decimal("0.000000")
    assert irr_per_period(advances, payments) == 0.0
    assert apr(advances, [(date(2026, 3, 1), 100_000)]) == 0


def test_discount_gives_a_negative_rate() -> None:
    # A settlement repaying 84 % of 1,000.00 as 12 × 70.00: numpy_financial puts the regular
    # monthly rate at npf.rate(12, -70, 1000, 0) = -0.0258550...; APR = 12 × that.
    rate = apr([(date(2026, 1, 15), 100_000)], monthly(date(2026, 2, 15), 12, 7_000))
    expected = npf.rate(12, -7_000, 100_000, 0, tol=1e-14, maxiter=200) * 12
    assert rate < 0
    assert abs(float(rate) - expected) <= 5e-7


# --- the unit-period chosen per (b)(4), and the frequency override ---


@pytest.mark.parametrize(
    ("payments", "unit"),
    [
        (every(date(2026, 1, 22), 20, 6_000, 7), Frequency.WEEKLY),
        (every(date(2026, 1, 29), 20, 6_000, 14), Frequency.BIWEEKLY),
        (
            [(day, 6_000) for day in due_dates(date(2026, 2, 1), 20, Frequency.SEMI_MONTHLY)],
            Frequency.SEMI_MONTHLY,
        ),
        (
            [(day, 6_000) for day in due_dates(date(2026, 1, 31), 20, Frequency.SEMI_MONTHLY)],
            Frequency.SEMI_MONTHLY,
        ),
        # Business-day adjusted monthly dates (China's holidays move some by days).
        (
            [
                (day, 6_000)
                for day in payment_dates(due_dates(date(2026, 2, 15), 20, Frequency.MONTHLY), "CN")
            ],
            Frequency.MONTHLY,
        ),
    ],
    ids=["weekly", "biweekly", "semimonthly-1-16", "semimonthly-15-eom", "monthly-adjusted"],
)
def test_unit_period_is_inferred_from_the_schedule(payments: Flows, unit: Frequency) -> None:
    advances = [(date(2026, 1, 15), 100_000)]
    assert apr(advances, payments) == apr(advances, payments, frequency=unit)


def test_frequency_overrides_the_inferred_unit_period() -> None:
    # The same weekly cash flows measured in months compound less often: a lower unit-period
    # count and a different APR.
    advances = [(date(2026, 1, 15), 100_000)]
    payments = every(date(2026, 1, 22), 20, 5_500, 7)
    weekly = apr(advances, payments)
    assert weekly == apr(advances, payments, frequency=Frequency.WEEKLY)
    assert apr(advances, payments, frequency=Frequency.MONTHLY) != weekly


def test_multiple_advances() -> None:
    # Two advances of 500.00 a month apart repaid monthly: the same unit-period rate as a
    # hand-built (b)(8) equation with the second advance at t = 1.
    advances = [(date(2026, 1, 15), 50_000), (date(2026, 2, 15), 50_000)]
    payments = monthly(date(2026, 3, 15), 12, 9_000)
    flows = [(-50_000.0, 0, 0.0), (-50_000.0, 1, 0.0), *series(9_000, 12, 2, 0.0)]
    assert irr_per_period(advances, payments) == pytest.approx(
        solve_general_equation(flows), abs=1e-15
    )


# --- invalid input ---


def test_errors() -> None:
    advance = [(date(2026, 1, 15), 100_000)]
    payment = [(date(2026, 2, 15), 101_000)]
    with pytest.raises(DomainError) as empty_payments:
        apr(advance, [])
    assert (empty_payments.value.field, empty_payments.value.rule) == ("payments", "no_payments")
    with pytest.raises(DomainError) as empty_advances:
        apr([], payment)
    assert (empty_advances.value.field, empty_advances.value.rule) == ("advances", "no_advances")
    with pytest.raises(InvalidAmount) as negative:
        apr(advance, [(date(2026, 2, 15), -1)])
    assert (negative.value.field, negative.value.rule) == ("payments", "non_negative")
    with pytest.raises(InvalidAmount) as negative_advance:
        apr([(date(2026, 1, 15), -5)], payment)
    assert negative_advance.value.field == "advances"
    with pytest.raises(InvalidDate) as early:
        apr(advance, [(date(2026, 1, 14), 101_000)])
    assert (early.value.field, early.value.rule) == ("payments", "date_order")
    # Nothing is ever repaid, or it is repaid the day it is lent: no rate balances that.
    for payments in ([(date(2026, 2, 15), 0), (date(2026, 3, 15), 0)], [(date(2026, 1, 15), 1)]):
        with pytest.raises(DomainError) as unsolvable:
            apr(advance, payments)
        assert unsolvable.value.rule == "no_solution"


# --- cross-checks against numpy_financial (regular schedules, no odd days) ---

UNITS = {
    Frequency.MONTHLY: relativedelta(months=1),
    Frequency.SEMI_MONTHLY: None,
    Frequency.BIWEEKLY: timedelta(days=14),
    Frequency.WEEKLY: timedelta(days=7),
}


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
    count=st.integers(min_value=2, max_value=60),
    principal=st.integers(min_value=10_000, max_value=50_000_000),
    basis_points=st.integers(min_value=-3_000, max_value=15_000),
    unit=st.sampled_from([Frequency.MONTHLY, Frequency.BIWEEKLY, Frequency.WEEKLY]),
)
def test_regular_schedules_match_numpy_financial(
    start: date, count: int, principal: int, basis_points: int, unit: Frequency
) -> None:
    # Payments exactly one unit-period apart from the advance have t = 1..n and f = 0, so
    # (b)(8) is the ordinary annuity equation npf.rate solves: APR / m ≈ npf.rate.
    per_year = unit.periods_per_year
    per_period = basis_points / 10_000 / per_year
    level = per_period / (1 - (1 + per_period) ** -count) if per_period else 1 / count
    payment = round(principal * level)
    assume(payment > 0)
    if unit is Frequency.MONTHLY:
        dates = [start + relativedelta(months=k) for k in range(1, count + 1)]
    else:
        step = 7 if unit is Frequency.WEEKLY else 14
        dates = [start + timedelta(days=step * k) for k in range(1, count + 1)]
    reference = float(npf.rate(count, -payment, principal, 0, tol=1e-10, maxiter=500))
    assume(math.isfinite(reference) and reference > -0.5)
    # npf.rate's Newton iteration can stop on a value that is no root at all (2 x 99.00 for
    # 200.00 a month apart: it answers 1e-15 where the rate is -0.667 % a month): only a
    # reference that solves the annuity equation is one
    solved = float(npf.pv(reference, count, -payment))
    assume(abs(solved - principal) <= 1e-6 * principal)
    got = apr([(start, principal)], [(day, payment) for day in dates])
    assert abs(float(got) / per_year - reference) <= 1e-6
    assert apr([(start, principal)], [(day, payment) for day in dates], frequency=unit) == got


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    gaps=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=40),
    amounts=st.lists(st.integers(min_value=0, max_value=2_000_000), min_size=40, max_size=40),
    principal=st.integers(min_value=100_000, max_value=20_000_000),
    extra=st.integers(min_value=1, max_value=100_000),
)
def test_irregular_schedules_solve_or_refuse(
    start: date, gaps: list[int], amounts: list[int], principal: int, extra: int
) -> None:
    # Any schedule either solves or is refused as a DomainError; paying more on the last date
    # never lowers the rate (each payment's present value falls as the rate rises). A schedule
    # whose most common period is neither whole weeks nor whole months (or whose periods
    # average nearer a day than a week) is refused as `unit_period` (App J (b)(4)): it used to
    # be measured in the nearest of four frequencies, a guess.
    dates: list[date] = []
    day = start
    for gap in gaps:
        day += timedelta(days=gap)
        dates.append(day)
    assume(dates[-1] > start)
    payments = list(zip(dates, amounts, strict=False))
    advances = [(start, principal)]
    try:
        rate = apr(advances, payments)
    except DomainError as error:
        assert error.rule in ("no_solution", "unit_period")
        event(f"refused: {error.rule}")
        return
    event("solved")
    assert irr_per_period(advances, payments) > -0.99
    more = [*payments[:-1], (payments[-1][0], payments[-1][1] + extra)]
    assert apr(advances, more) >= rate


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    months=st.integers(min_value=-600, max_value=600),
    day_of_month=st.integers(min_value=1, max_value=31),
)
def test_month_shift_matches_relativedelta(day: date, months: int, day_of_month: int) -> None:
    # shift_months stands in for relativedelta for speed; it must give the same dates.
    assume(date(1, 1, 1) < day + relativedelta(months=months) < date(9999, 1, 1))
    expected = day + relativedelta(months=months, day=day_of_month)
    assert shift_months(day, months, day_of_month) == expected


# --- effective annual rate ---


@pytest.mark.parametrize(
    ("nominal", "per_year", "effective"),
    [
        # 1.01 ** 12 = 1.126825030131969720661201 (exact), so 12 % monthly is 12.6825 %.
        ("0.12", 12, "0.126825"),
        # 1.005 ** 12 - 1 = 0.0616778118644995...: the familiar "6 % monthly is 6.17 %".
        ("0.06", 12, "0.061678"),
        # Daily compounding, 365 periods: (1 + 0.05/365) ** 365 - 1 = 0.0512674964...
        ("0.05", 365, "0.051267"),
        # Once a year the nominal rate is the effective rate.
        ("0.0969", 1, "0.096900"),
        ("0", 52, "0.000000"),
    ],
)
def test_effective_annual_rate(nominal: str, per_year: int, effective: str) -> None:
    assert effective_annual_rate(Decimal(nominal), per_year) == Decimal(effective)


@pytest.mark.parametrize("zero", ["0", "0.000000", "-0", "0E-10", "-0.000000", "0E+5"])
@pytest.mark.parametrize("per_year", [1, 12, 24, 26, 52, 365])
def test_no_rate_is_stated_as_the_formula_states_it(zero: str, per_year: int) -> None:
    # answered without the arithmetic: the very value (sign, digits, places) the formula gives
    with localcontext(Context(prec=34, rounding=ROUND_HALF_EVEN)):
        formula = ((1 + Decimal(zero) / per_year) ** per_year - 1).quantize(Decimal("0.000001"))
    stated = effective_annual_rate(Decimal(zero), per_year)
    assert stated.as_tuple() == formula.as_tuple() == (0, (0,), -6)


def test_effective_annual_rate_needs_a_period() -> None:
    with pytest.raises(InvalidRate):
        effective_annual_rate(Decimal("0.12"), 0)


# --- present value ---


def test_npv_by_hand() -> None:
    as_of = date(2026, 1, 1)
    rate = Decimal("0.10")
    # 1,100.00 one year (365 days) out at 10 %: 1,100 / 1.1 = 1,000.00 exactly.
    assert npv_minor([(date(2027, 1, 1), 110_000)], annual_rate=rate, as_of=as_of) == 100_000
    # 1,210.00 two years (730 days) out: 1,210 / 1.21 = 1,000.00; plus 500.00 today.
    two = [(as_of, 50_000), (date(2028, 1, 1), 121_000)]
    assert npv_minor(two, annual_rate=rate, as_of=as_of) == 150_000
    # 182 days at 5 %: 100,000 / 1.05 ** (182/365) = 97,596.530023... → 97,597.
    half = [(date(2026, 7, 2), 100_000)]
    assert npv_minor(half, annual_rate=Decimal("0.05"), as_of=as_of) == 97_597
    # A payment a year before ``as_of`` compounds forward: 1,000.00 × 1.1 = 1,100.00.
    assert npv_minor([(date(2025, 1, 1), 100_000)], annual_rate=rate, as_of=as_of) == 110_000
    # At 0 % the present value is the plain sum.
    assert npv_minor(two, annual_rate=Decimal(0), as_of=as_of) == 171_000


def test_npv_rounds_once_by_the_named_rule() -> None:
    # 5 minor units a year out at 900 %: 5 / 10 = 0.5 exactly, a tie.
    flows = [(date(2027, 1, 1), 5)]
    as_of, rate = date(2026, 1, 1), Decimal(9)
    assert npv_minor(flows, annual_rate=rate, as_of=as_of, rounding=Rounding.HALF_UP) == 1
    assert npv_minor(flows, annual_rate=rate, as_of=as_of, rounding=Rounding.HALF_EVEN) == 0
    # Three such payments are 1.5 in total: rounded once, 2, not 3 × round(0.5).
    assert npv_minor(flows * 3, annual_rate=rate, as_of=as_of) == 2


def test_npv_refuses_a_rate_of_minus_100_percent() -> None:
    with pytest.raises(InvalidRate):
        npv_minor([(date(2027, 1, 1), 1)], annual_rate=Decimal(-1), as_of=date(2026, 1, 1))


@given(
    offsets=st.lists(st.integers(min_value=-400, max_value=3_650), min_size=1, max_size=30),
    amounts=st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=30, max_size=30),
    rate=st.decimals(min_value=Decimal("-0.5"), max_value=Decimal("2"), places=4),
)
def test_npv_matches_the_float_formula(
    offsets: list[int], amounts: list[int], rate: Decimal
) -> None:
    # The brief's formula in floats: at most half a unit of rounding plus float noise apart.
    as_of = date(2026, 1, 1)
    flows = [(as_of + timedelta(days=d), a) for d, a in zip(offsets, amounts, strict=False)]
    growth = 1 + float(rate)
    value = sum(a / growth ** (d / 365) for d, a in zip(offsets, amounts, strict=False))
    assert abs(npv_minor(flows, annual_rate=rate, as_of=as_of) - value) <= 0.5 + 1e-9 * value
