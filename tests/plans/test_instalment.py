from __future__ import annotations

import itertools
import random
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.amortisation import Amortisation
from plans.annuity import level_payment
from plans.calendar import Frequency, is_business_day
from plans.debt import Capacity, Debt
from plans.errors import (
    BelowMinInstalment,
    DomainError,
    ExceedsCapacity,
    InvalidAmount,
    InvalidDate,
    RateAboveCap,
    TermBeyondMax,
    UnknownCurrency,
)
from plans.instalment import Until, instalment_plan
from plans.policy import ArrearsTreatment, Policy
from plans.schedule import LineKind
from tests.plans.conftest import capacities, debts

CONTRACTUAL = Policy(plan_rate=None, rate_cap=Decimal("10"), holiday_country=None)


def regular(principal: int, rate: str, *, as_of: date = date(2026, 1, 15), **kw: object) -> Debt:
    return Debt("USD", principal, 0, 0, Decimal(rate), as_of, 40, **kw)  # type: ignore[arg-type]


def test_numpy_financial_published_table() -> None:
    # numpy-financial's ipmt docstring: "amortization schedule for a 1 year loan of $2500 at
    # 8.24% interest per year compounded monthly", printed to the cent.
    published = [
        (20058, 1717), (20196, 1579), (20335, 1440), (20474, 1301), (20615, 1160), (20756, 1018),
        (20899, 876), (21042, 732), (21187, 588), (21332, 442), (21479, 296), (21626, 149),
    ]  # fmt: skip
    offer = instalment_plan(regular(250_000, "0.0824"), policy=CONTRACTUAL, term=12)
    lines = offer.schedule.lines
    for line, (principal, interest) in zip(lines[:-1], published[:-1], strict=True):
        assert abs(line.principal_minor - principal) <= 1
        assert abs(line.interest_minor - interest) <= 1
    # the last line absorbs the cents that paying 217.75 (not 217.7505...) left over
    assert abs(lines[-1].principal_minor - published[-1][0]) <= 3
    assert sum(x.principal_minor for x in lines) == 250_000
    # "interestpd ... -112.98", from unrounded lines: ours are whole cents
    assert abs(offer.metrics.total_interest_minor - 11298) <= 1
    assert lines[-1].closing_balance_minor == 0


def test_numpy_financial_published_payment() -> None:
    # numpy-financial's pmt docstring: $200,000 over 15 years at 7.5 % is $1,854.02 a month.
    policy = Policy(plan_rate=None, max_term_months=180, rate_cap=Decimal("0.3"))
    offer = instalment_plan(regular(20_000_000, "0.075"), policy=policy, term=180)
    assert offer.terms.instalment_minor == 185402
    assert len(offer.schedule.lines) == 180


def test_equal_principal_hand_worked() -> None:
    # Equal principal (等额本金): 120,000.00 over 12 months at 6 % a year; each month repays
    # 10,000.00 of principal plus 0.5 % of what is still owed: 600.00, 550.00, ... 50.00,
    # 3,900.00 of interest in all.
    offer = instalment_plan(
        Debt("CNY", 12_000_000, 0, 0, Decimal("0.06"), date(2026, 1, 15), 30),
        policy=CONTRACTUAL,
        term=12,
        amortisation=Amortisation.EQUAL_PRINCIPAL,
    )
    lines = offer.schedule.lines
    assert [x.principal_minor for x in lines] == [1_000_000] * 12
    assert [x.interest_minor for x in lines] == [60_000 - 5_000 * k for k in range(12)]
    assert offer.metrics.total_interest_minor == 390_000
    assert lines[0].payment_minor == 1_060_000


def test_cross_check_with_numpy_financial_on_random_plans() -> None:
    # numpy-financial is the independent model: the level payment is its pmt to the nearest
    # unit; every line is its balance arithmetic for that whole-unit payment, within one unit.
    rng = random.Random(20261125)
    for _ in range(300):
        principal = rng.randint(10_000, 50_000_000)
        rate = Decimal(rng.randint(1, 3600)) / 10_000
        term = rng.randint(2, 60)
        policy = Policy(plan_rate=None, max_term_months=60, rate_cap=Decimal("1"))
        offer = instalment_plan(regular(principal, str(rate)), policy=policy, term=term)
        r = float(rate) / 12
        level = offer.terms.instalment_minor
        assert abs(level - -npf.pmt(r, term, principal)) <= 0.5 + 1e-6
        lines = offer.schedule.lines
        for k, line in enumerate(lines, start=1):
            opening = -npf.fv(r, k - 1, -level, principal)
            assert abs(line.interest_minor - opening * r) <= 1
            if k < term:
                assert abs(line.principal_minor - (level - opening * r)) <= 1
            else:
                # the last line pays off what is left, absorbing the residue of rounding each
                # line's interest to a whole unit (half a unit a line at most, grown at r)
                residue = 0.5 * (term - 1) * (1 + r) ** term
                assert abs(line.payment_minor - opening * (1 + r)) <= 1 + residue


@given(
    st.integers(1_000, 10**10),
    st.integers(0, 10**8),
    st.floats(0, 0.05),
    st.floats(0, 0.05),
    st.integers(1, 120),
)
def test_level_payment_closes_the_balance(
    principal: int, arrears: int, first_rate: float, rate: float, periods: int
) -> None:
    x = level_payment(principal, arrears, first_rate=first_rate, rate=rate, periods=periods)
    # simulate in floats: interest on principal only, arrears (and unpaid interest) paid first
    owed_principal, owed_other = float(principal), float(arrears)
    for k in range(periods):
        owed_other += (first_rate if k == 0 else rate) * owed_principal
        paid_other = min(x, owed_other)
        owed_other -= paid_other
        owed_principal -= x - paid_other
    assert abs(owed_principal + owed_other) <= 1e-6 * (principal + arrears) + 1e-3


def test_shortest_term_fits_the_capacity() -> None:
    debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    offer = instalment_plan(
        debt, policy=Policy(), capacity=Capacity(125_000, earliest_start=date(2026, 12, 15))
    )
    assert offer.terms.instalments == 8
    assert [x.payment_minor for x in offer.schedule.lines] == [125_000] * 8
    assert offer.metrics.apr == 0


def test_folded_arrears_are_paid_first() -> None:
    debt = Debt("CNY", 1_000_000, 50_000, 20_000, Decimal("0.12"), date(2026, 1, 15), 60)
    offer = instalment_plan(debt, policy=Policy(plan_rate=None), term=10)
    first = offer.schedule.lines[0]
    assert first.fees_minor == 20_000
    assert first.interest_minor == 50_000 + first.interest_accrued_minor
    # interest accrues on principal only: 1 % of 10,000.00, never on the arrears
    assert first.interest_accrued_minor == 10_000


def test_waived_arrears_show_on_the_first_line() -> None:
    debt = Debt("CNY", 1_000_000, 50_000, 20_000, Decimal("0.12"), date(2026, 1, 15), 60)
    offer = instalment_plan(debt, policy=Policy(arrears=ArrearsTreatment.WAIVE), term=10)
    assert offer.schedule.lines[0].waived_minor == 70_000
    assert offer.waiver.interest_minor == 50_000 and offer.waiver.fees_minor == 20_000
    assert offer.metrics.total_paid_minor == 1_000_000


def test_down_payment_comes_from_the_lump_sum() -> None:
    debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    offer = instalment_plan(debt, policy=Policy(), capacity=Capacity(100_000, 200_000))
    first = offer.schedule.lines[0]
    assert first.kind is LineKind.DOWN_PAYMENT and first.payment_minor == 200_000
    assert first.payment_date == debt.as_of
    assert offer.terms.instalments == 8


def test_month_end_anchor_in_a_plan() -> None:
    debt = Debt("CNY", 600_000, 0, 0, Decimal("0.1"), date(2026, 12, 20), 60)
    offer = instalment_plan(
        debt,
        policy=Policy(holiday_country=None),
        capacity=Capacity(200_000, earliest_start=date(2027, 1, 31)),
    )
    assert [x.due_date for x in offer.schedule.lines] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    # 31 Jan 2027 is a Sunday: paid on Monday 1 Feb; 28 Feb is a Sunday too.
    assert [x.payment_date for x in offer.schedule.lines] == [
        date(2027, 2, 1),
        date(2027, 3, 1),
        date(2027, 3, 31),
    ]


def test_zero_rate_plan_has_zero_apr() -> None:
    debt = Debt("CNY", 1_234_567, 0, 0, Decimal("0.2"), date(2026, 11, 25), 60)
    offer = instalment_plan(debt, policy=Policy(), term=7)
    assert offer.metrics.apr == 0 and offer.metrics.effective_annual_rate == 0
    assert offer.metrics.finance_charge_minor == 0


@pytest.mark.parametrize(
    ("make", "error", "field", "rule"),
    [
        (lambda: Debt("CNY", -1, 0, 0, Decimal("0.1"), date(2026, 1, 1), 0), InvalidAmount,
         "debt.principal", "non_negative"),
        (lambda: Debt("XXX1", 1, 0, 0, Decimal("0.1"), date(2026, 1, 1), 0), UnknownCurrency,
         "debt.currency", "iso4217"),
        (lambda: instalment_plan(regular(100_000, "0.3"), policy=Policy(plan_rate=None), term=3),
         RateAboveCap, "annual_rate", "rate_cap"),
        (lambda: instalment_plan(regular(100_000, "0.1"), policy=Policy(), term=37),
         TermBeyondMax, "term", "max_term"),
        (lambda: instalment_plan(regular(10_000_000, "0.1"), policy=Policy(),
                                 capacity=Capacity(100_000)),
         TermBeyondMax, "term", "max_term"),
        (lambda: instalment_plan(regular(10_000_000, "0.1"), policy=Policy(),
                                 capacity=Capacity(1_000)),
         BelowMinInstalment, "capacity.payment", "min_instalment"),
        (lambda: instalment_plan(regular(100_000, "0.1"), policy=Policy(), term=2,
                                 capacity=Capacity(10_000)),
         ExceedsCapacity, "capacity.payment", "capacity"),
        (lambda: instalment_plan(regular(100_000, "0.1"), policy=Policy(),
                                 capacity=Capacity(10_000, earliest_start=date(2025, 1, 1))),
         InvalidDate, "capacity.earliest_start", "not_before_as_of"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_rule(
    make: object, error: type[DomainError], field: str, rule: str
) -> None:
    with pytest.raises(error) as info:
        make()  # type: ignore[operator]
    assert (info.value.field, info.value.rule) == (field, rule)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_instalment_invariants(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    policy = data.draw(
        st.sampled_from(
            [
                Policy(),
                Policy(plan_rate=None),
                Policy(arrears=ArrearsTreatment.WAIVE, holiday_country="US"),
            ]
        )
    )
    try:
        offer = instalment_plan(debt, policy=policy, capacity=capacity)
    except DomainError:
        return
    lines = offer.schedule.lines
    totals = offer.schedule.totals
    assert totals.payment_minor == sum(x.payment_minor for x in lines)
    assert (
        totals.payment_minor == totals.interest_minor + totals.fees_minor + totals.principal_minor
    )
    assert (
        debt.total_minor + totals.interest_accrued_minor
        == totals.payment_minor + totals.waived_minor
    )
    assert lines[-1].closing_balance_minor == 0
    assert all(x.closing_balance_minor >= 0 for x in lines)
    assert all(
        x.payment_minor <= capacity.payment_minor for x in lines if x.kind is LineKind.INSTALMENT
    )
    dates = [x.payment_date for x in lines]
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert all(
        is_business_day(x.payment_date, policy.holiday_country)
        for x in lines
        if x.kind is LineKind.INSTALMENT
    )
    if offer.terms.nominal_annual_rate == 0:
        assert offer.metrics.apr == 0


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_higher_payment_never_lengthens_the_term(data: st.DataObject) -> None:
    debt = data.draw(debts(currency="CNY"))
    low = data.draw(st.integers(debt.total_minor // 36 + 10_000, debt.total_minor + 10_000))
    high = data.draw(st.integers(low, low * 3))
    policy = Policy(plan_rate=None)
    try:
        slow = instalment_plan(debt, policy=policy, capacity=Capacity(low))
    except DomainError:
        return
    fast = instalment_plan(debt, policy=policy, capacity=Capacity(high))
    assert fast.terms.instalments <= slow.terms.instalments


@pytest.mark.parametrize("frequency", list(Frequency))
def test_every_frequency_amortises(frequency: Frequency) -> None:
    debt = Debt("USD", 500_000, 10_000, 5_000, Decimal("0.15"), date(2026, 11, 25), 45)
    offer = instalment_plan(
        debt,
        policy=Policy(plan_rate=None, holiday_country="US"),
        capacity=Capacity(20_000, frequency=frequency),
    )
    assert offer.schedule.lines[-1].closing_balance_minor == 0
    assert offer.metrics.apr <= Decimal("0.16")


def test_a_level_rounded_down_moves_up_a_unit_rather_than_add_an_instalment() -> None:
    # 12,240.00 at 1 % a month over 10 months: npf.pmt = 1,292.3246, rounded to 1,292.32; paid
    # ten times it leaves npf.fv(0.01, 10, 1292.32, -12240) = 0.048 for the last line, which
    # becomes 1,292.37. With a capacity of 1,292.33 the engine pays 1,292.33 (the last line
    # then smaller) instead of stretching the plan to eleven payments.
    assert round(-npf.pmt(0.01, 10, 12_240) * 100) == 129_232
    debt = Debt("CNY", 1_224_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 30)
    policy = Policy(plan_rate=None, holiday_country=None)
    offer = instalment_plan(debt, policy=policy, capacity=Capacity(129_233))
    payments = [x.payment_minor for x in offer.schedule.lines]
    assert len(payments) == 10 and payments[0] == 129_233 and max(payments) == 129_233
    # exactly the rounded level: one unit more does not fit, so eleven it is
    assert instalment_plan(debt, policy=policy, capacity=Capacity(129_232)).terms.instalments == 11


# ---- a fixed payment until repaid ----------------------------------------------------------


def test_a_fixed_payment_until_repaid_is_never_re_levelled() -> None:
    # 1,000.00 at 1 % a month paying 300.00: numpy-financial's fv(0.01, 3, -300, 1000) = -121.271
    # is owed after three payments, so the fourth is 121.27 plus its month's interest, 1.21.
    assert round(npf.fv(0.01, 3, -300, 1000), 3) == -121.271
    debt = regular(100_000, "0.12")
    offer = instalment_plan(debt, policy=CONTRACTUAL, payment_minor=30_000, until=Until.REPAID)
    assert [x.payment_minor for x in offer.schedule.lines] == [30_000] * 3 + [12_248]
    assert (offer.terms.instalments, offer.terms.instalment_minor) == (4, 30_000)
    # without until the payment is only a bound, and the plan is re-levelled below it
    bound = instalment_plan(debt, policy=CONTRACTUAL, payment_minor=30_000)
    assert bound.terms.instalments == 4 and bound.terms.instalment_minor < 30_000


def test_a_fixed_payment_can_come_from_the_capacity() -> None:
    debt = Debt("CNY", 100_000, 0, 0, Decimal("0"), date(2026, 1, 15), 30)
    offer = instalment_plan(debt, policy=Policy(), capacity=Capacity(30_000), until=Until.REPAID)
    assert [x.payment_minor for x in offer.schedule.lines] == [30_000] * 3 + [10_000]


@pytest.mark.parametrize(
    ("kwargs", "error", "field", "rule"),
    [
        # 200.00 a month repays 10,000.00 in 50 months; the default policy allows 36
        ({"payment_minor": 20_000}, TermBeyondMax, "payment", "max_term"),
        # 10.00 a month is below the CNY minimum instalment of 100.00
        ({"payment_minor": 1_000}, BelowMinInstalment, "payment", "min_instalment"),
        ({"payment_minor": 30_000, "term": 4}, DomainError, "term", "until_without_term"),
        (
            {"payment_minor": 30_000, "amortisation": Amortisation.EQUAL_PRINCIPAL},
            DomainError,
            "amortisation",
            "until_equal_instalment",
        ),
        ({}, DomainError, "until", "requires_payment"),
    ],
)
def test_a_fixed_payment_refused_names_the_field_and_rule(
    kwargs: dict[str, object], error: type[DomainError], field: str, rule: str
) -> None:
    debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0"), date(2026, 1, 15), 30)
    with pytest.raises(error) as info:
        instalment_plan(debt, policy=Policy(), until=Until.REPAID, **kwargs)  # type: ignore[arg-type]
    assert (info.value.field, info.value.rule) == (field, rule)


def test_a_payment_that_never_covers_the_interest_is_refused() -> None:
    # 24 % a year on 100,000.00 is 2,000.00 a month of interest; 1,500.00 never repays it
    debt = Debt("CNY", 10_000_000, 0, 0, Decimal("0.24"), date(2026, 1, 15), 30)
    with pytest.raises(TermBeyondMax) as info:
        instalment_plan(
            debt, policy=Policy(plan_rate=None), payment_minor=150_000, until=Until.REPAID
        )
    assert (info.value.field, info.value.rule) == ("payment", "max_term")


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_a_fixed_payment_is_paid_exactly_and_the_last_is_no_more(data: st.DataObject) -> None:
    debt = data.draw(debts())
    capacity = data.draw(capacities(debt))
    policy = data.draw(
        st.sampled_from([Policy(), Policy(plan_rate=None), Policy(arrears=ArrearsTreatment.WAIVE)])
    )
    try:
        offer = instalment_plan(debt, policy=policy, capacity=capacity, until=Until.REPAID)
    except DomainError:
        return
    instalments = [x for x in offer.schedule.lines if x.kind is LineKind.INSTALMENT]
    payments = [x.payment_minor for x in instalments]
    assert all(p == capacity.payment_minor for p in payments[:-1])
    assert 0 < payments[-1] <= capacity.payment_minor
    totals = offer.schedule.totals
    assert totals.payment_minor == sum(x.payment_minor for x in offer.schedule.lines)
    assert totals.principal_minor == sum(x.principal_minor for x in offer.schedule.lines)
    assert totals.interest_minor == sum(x.interest_minor for x in offer.schedule.lines)
    assert (
        totals.payment_minor == totals.interest_minor + totals.fees_minor + totals.principal_minor
    )
    assert offer.schedule.lines[-1].closing_balance_minor == 0


# ---- semi-monthly pay days -------------------------------------------------------------------


def test_a_semi_monthly_plan_on_the_fifteenth_and_the_last_day() -> None:
    # 1,200.00 interest-free over 4 semi-monthly payments from 25 Nov 2026: the first pay day a
    # half-month on (10 Dec) or later is 15 Dec, then 31 Dec, 15 Jan, 31 Jan (a Sunday: paid on
    # Monday 1 Feb), 300.00 each. Without days: the 10th and the 25th.
    debt = Debt("USD", 120_000, 0, 0, Decimal("0"), date(2026, 11, 25), 30)
    policy = Policy(holiday_country=None)
    offer = instalment_plan(
        debt, policy=policy, term=4, frequency=Frequency.SEMI_MONTHLY, days=(15, 31)
    )
    lines = offer.schedule.lines
    assert [x.due_date for x in lines] == [
        date(2026, 12, 15), date(2026, 12, 31), date(2027, 1, 15), date(2027, 1, 31)
    ]  # fmt: skip
    assert lines[-1].payment_date == date(2027, 2, 1)
    assert [x.payment_minor for x in lines] == [30_000] * 4
    assert offer.terms.first_due == date(2026, 12, 15)
    plain = instalment_plan(debt, policy=policy, term=2, frequency=Frequency.SEMI_MONTHLY)
    assert [x.due_date for x in plain.schedule.lines] == [date(2026, 12, 10), date(2026, 12, 25)]


def test_the_capacitys_pay_days_make_the_plan() -> None:
    debt = Debt("USD", 120_000, 0, 0, Decimal("0"), date(2026, 11, 25), 30)
    capacity = Capacity(
        30_000, earliest_start=date(2026, 12, 2), frequency=Frequency.SEMI_MONTHLY, days=(1, 15)
    )
    offer = instalment_plan(debt, policy=Policy(holiday_country=None), capacity=capacity)
    assert [x.due_date for x in offer.schedule.lines] == [
        date(2026, 12, 15), date(2027, 1, 1), date(2027, 1, 15), date(2027, 2, 1)
    ]  # fmt: skip


def test_pay_days_for_another_frequency_are_refused() -> None:
    debt = Debt("USD", 120_000, 0, 0, Decimal("0"), date(2026, 11, 25), 30)
    with pytest.raises(DomainError) as info:
        instalment_plan(debt, policy=Policy(), term=4, days=(1, 15))
    assert (info.value.field, info.value.rule) == ("days", "semi_monthly_only")
    with pytest.raises(DomainError) as info:
        Capacity(30_000, days=(1, 15))
    assert (info.value.field, info.value.rule) == ("capacity.days", "semi_monthly_only")
