"""Flat-rate contracts: the schedule line by line and the true rate beside the flat one
(plans/flat.py).

Published flat-rate cases with a published true rate
----------------------------------------------------
[IFEC] Investor and Financial Education Council (Hong Kong), "Monthly flat rate":
    HK$50,000 over 12 months at a monthly flat rate of 0.7 %: HK$350 interest a month,
    HK$4,200 a year, "the annualised rate ... 16.26%".
    https://www.ifec.org.hk/web/en/moneyessentials/debts-and-borrowing/take-new-loan/Monthly-flat-rate.page
[HSBC] HSBC Hong Kong, "How to calculate APR": HKD50,000 over 12 months at a monthly flat rate
    of 0.30 %: HKD150 a month, HKD1,800 in all, APR 6.80 %. https://hsbc.com.hk/loans/what-is-apr
[CFC] carfinancecalculator.uk, "Flat Rate to APR Converter": £15,000 at 5 % flat over 4 years:
    £3,000 interest, £18,000 payable, £375.00 a month, representative APR 9.6 %, solved as
    amount = monthly × (1 − (1 + i)^−term) / i, APR = (1 + i)^12 − 1.
    https://carfinancecalculator.uk/flat-rate-apr/
[CC] Credicorp, "Flat rate vs APR": "A 6% flat rate ... is more like 11–12% once you account for
    the falling balance" (£20,000 over two years). https://learn.credicorp.co.uk/guides/flat-rate-vs-apr/
[PBOC] 中国人民银行公告〔2021〕第3号: 年化利率 by the IRR method, 周期利率 × 每年期数. No bank's
    published 分期 disclosure could be read through the search tool (the pages found held only
    their titles), so the 0.6 %-a-month 12-期 case is pinned against numpy-financial's periodic
    IRR ([NPF] ``npf.rate``) and the announcement's identity instead.

Hong Kong's APR (Code of Banking Practice, the HKAB's net-present-value method) compounds the
monthly rate to a year, as the EU/UK APRC does: the IFEC, HSBC and UK figures are compared with
``eu_ccd``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plans.annual_rates import RateMethod
from plans.calendar import Frequency
from plans.debt import Debt
from plans.errors import DomainError
from plans.flat import flat_plan, level_shares
from plans.instalment import instalment_plan
from plans.money import Rounding
from plans.offer import Offer
from plans.policy import ArrearsTreatment, Policy
from plans.schedule import LineKind

AS_OF = date(2026, 1, 15)
# Weekends only: dates stay put in the APR (contractual dates) either way.
POLICY = Policy(plan_rate=None, holiday_country=None, max_term_months=60)


def debt_of(principal: int, currency: str = "HKD", interest: int = 0, fees: int = 0) -> Debt:
    return Debt(currency, principal, interest, fees, Decimal("0"), AS_OF, 0)


def rate_of(offer: Offer, method: RateMethod) -> Decimal:
    assert offer.terms.flat is not None
    (found,) = [r for r in offer.terms.flat.true_rates if r.method is method]
    return found.rate


def percent_2dp(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.01"))


def test_ifec_monthly_flat_rate_07_percent_is_16_26_percent() -> None:
    # [IFEC]: HK$50,000, 12 months, 0.7 % a month flat -> HK$350 a month, 16.26 %.
    offer = flat_plan(debt_of(5_000_000), policy=POLICY, term=12, rate_per_period=Decimal("0.007"))
    instalments = offer.schedule.lines
    assert offer.terms.flat is not None and offer.terms.flat.charge_minor == 35_000
    assert {x.interest_accrued_minor for x in instalments} == {35_000}
    assert offer.schedule.totals.interest_accrued_minor == 420_000  # HK$4,200
    assert offer.terms.flat.flat_annual_rate == Decimal("0.084000")
    assert percent_2dp(rate_of(offer, RateMethod.EU_CCD)) == Decimal("16.26")


def test_hsbc_monthly_flat_rate_030_percent_is_about_6_80_percent() -> None:
    # [HSBC]: HKD50,000, 12 months, 0.30 % a month flat -> HKD150 a month, 1,800 in all, APR
    # 6.80 %. The compounded IRR of those flows is 6.78 % (npf.rate(12, -4316.67, 50000, 0),
    # (1 + i)^12 - 1); the bank's figure is 0.02 point higher, within Reg Z's 1/8 point, most
    # likely from its day count (the HKAB method counts days in a 365-day year).
    offer = flat_plan(debt_of(5_000_000), policy=POLICY, term=12, rate_per_period=Decimal("0.003"))
    assert offer.schedule.totals.interest_accrued_minor == 180_000
    assert abs(rate_of(offer, RateMethod.EU_CCD) * 100 - Decimal("6.80")) <= Decimal("0.03")


def test_uk_five_percent_flat_over_four_years_is_9_6_percent_apr() -> None:
    # [CFC]: £15,000 at 5 % flat a year over 48 months: £62.50 a month (5 % × 15,000 / 12)
    # stated as a flat charge per period, £375.00 a month, £3,000 interest, APR 9.6 %.
    offer = flat_plan(debt_of(1_500_000, "GBP"), policy=POLICY, term=48, charge_minor=6_250)
    assert {x.payment_minor for x in offer.schedule.lines} == {37_500}
    assert offer.schedule.totals.payment_minor == 1_800_000
    assert offer.terms.flat is not None and offer.terms.flat.flat_annual_rate == Decimal("0.05")
    (aprc,) = [r for r in offer.terms.flat.true_rates if r.method is RateMethod.EU_CCD]
    assert aprc.disclosed_percent == Decimal("9.6")


def test_credicorp_six_percent_flat_over_two_years_is_11_to_12_percent() -> None:
    # [CC]: £20,000 at 6 % flat over 24 months (£100.00 a month) "is more like 11–12%".
    offer = flat_plan(debt_of(2_000_000, "GBP"), policy=POLICY, term=24, charge_minor=10_000)
    assert Decimal("0.11") <= rate_of(offer, RateMethod.EU_CCD) <= Decimal("0.12")


def test_card_instalment_06_percent_a_month_over_12_periods_is_13_03_percent() -> None:
    # [PBOC] 年化利率 = 周期利率 × 每年期数 of 12,000.00 in 12 期 at a 手续费 of 0.6 % a month:
    # 1,072.00 a 期; the monthly IRR is npf.rate(12, -1072, 12000, 0) = 1.08618 %, × 12 = 13.03 %,
    # not the 7.2 % the flat rate suggests. Reg Z's APR is the same figure (whole periods).
    offer = flat_plan(
        debt_of(1_200_000, "CNY"), policy=POLICY, term=12, rate_per_period=Decimal("0.006")
    )
    assert {x.payment_minor for x in offer.schedule.lines} == {107_200}
    monthly = float(npf.rate(12, -1_072, 12_000, 0, tol=1e-14, maxiter=200))
    assert abs(float(rate_of(offer, RateMethod.CN_IRR)) - 12 * monthly) <= 5e-7
    assert offer.terms.flat is not None
    disclosed = {r.method: r.disclosed_percent for r in offer.terms.flat.true_rates}
    assert disclosed[RateMethod.CN_IRR] == Decimal("13.03")
    assert disclosed[RateMethod.US_REG_Z] == Decimal("13.03")
    assert offer.metrics.apr == rate_of(offer, RateMethod.US_REG_Z)
    assert "内部收益率法" in next(
        r.citation for r in offer.terms.flat.true_rates if r.method is RateMethod.CN_IRR
    )


def test_residue_goes_on_the_last_line_by_the_named_rounding() -> None:
    # 5,000.00 over 18: 277.78 × 17 and 277.74 half up (as the equal-principal case);
    # floored by the rounding that never rounds up, the shares are 277.77 and 277.91.
    offer = flat_plan(
        debt_of(500_000, "CNY"), policy=POLICY, term=18, rate_per_period=Decimal("0.005")
    )
    principal = [x.principal_minor for x in offer.schedule.lines]
    assert principal[:-1] == [27_778] * 17 and principal[-1] == 27_774
    assert level_shares(500_000, 18, rounding=Rounding.HALF_EVEN)[0] == 27_778


def test_folded_arrears_are_shared_and_paid_first_waived_ones_shown_on_the_first_line() -> None:
    debt = debt_of(1_200_000, "CNY", interest=12_000, fees=6_000)
    folded = flat_plan(debt, policy=POLICY, term=12, rate_per_period=Decimal("0.006"))
    assert folded.schedule.totals.payment_minor == 1_200_000 + 18_000 + 12 * 7_200
    # 12 equal shares of 12,180.00 (1,015.00) plus the 72.00 charge; the policy's waterfall
    # pays the fees and interest owed first: 60.00 fees, 120.00 + 72.00 interest, 835.00.
    first = folded.schedule.lines[0]
    assert first.payment_minor == 101_500 + 7_200
    assert (first.fees_minor, first.interest_minor, first.principal_minor) == (
        6_000,
        19_200,
        83_500,
    )
    waived = flat_plan(
        debt,
        policy=Policy(plan_rate=None, holiday_country=None, arrears=ArrearsTreatment.WAIVE),
        term=12,
        rate_per_period=Decimal("0.006"),
    )
    assert waived.schedule.lines[0].waived_minor == 18_000
    assert waived.waiver.total_minor == 18_000


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({}, "flat_rate_per_period", "flat_charge_required"),
        (
            {"rate_per_period": Decimal("0.01"), "charge_minor": 100},
            "flat_charge_per_period",
            "one_flat_charge",
        ),
        ({"rate_per_period": Decimal("-0.01")}, "flat_rate_per_period", "non_negative"),
        ({"charge_minor": -1}, "flat_charge_per_period", "non_negative"),
    ],
)
def test_a_flat_charge_is_stated_once(fields: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(DomainError) as caught:
        flat_plan(debt_of(100_000), policy=POLICY, term=3, **fields)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_flat_plan_needs_a_term_and_its_true_apr_within_the_cap() -> None:
    with pytest.raises(DomainError) as caught:
        flat_plan(debt_of(100_000), policy=POLICY, term=None, rate_per_period=Decimal("0.01"))
    assert (caught.value.field, caught.value.rule) == ("term", "required")
    # 1.5 % a month flat is 18 % "a year" but a true APR near 32 %: above the 24 % cap.
    with pytest.raises(DomainError) as caught:
        flat_plan(debt_of(1_200_000), policy=POLICY, term=12, rate_per_period=Decimal("0.015"))
    assert (caught.value.field, caught.value.rule) == ("annual_rate", "rate_cap")


# --- properties ---


@st.composite
def flat_cases(draw: st.DrawFn) -> tuple[Debt, int, Decimal, Frequency]:
    principal = draw(st.integers(10_000, 5_000_000))
    debt = Debt(
        "CNY",
        principal,
        draw(st.integers(0, principal // 10)),
        draw(st.integers(0, principal // 20)),
        Decimal("0"),
        draw(st.dates(date(2025, 1, 1), date(2027, 12, 31))),
        30,
    )
    frequency = draw(st.sampled_from([Frequency.MONTHLY, Frequency.BIWEEKLY, Frequency.WEEKLY]))
    term = draw(st.integers(1, 24))
    rate = Decimal(draw(st.integers(0, 60))) / 10_000  # 0 to 0.6 % a period
    return debt, term, rate, frequency


LOOSE = Policy(plan_rate=None, holiday_country=None, rate_cap=Decimal("1"), min_instalment=())


@settings(max_examples=60, deadline=None)
@given(flat_cases())
def test_lines_sum_to_totals_and_repay_exactly(case: tuple[Debt, int, Decimal, Frequency]) -> None:
    debt, term, rate, frequency = case
    offer = flat_plan(debt, policy=LOOSE, term=term, rate_per_period=rate, frequency=frequency)
    lines, totals = offer.schedule.lines, offer.schedule.totals
    assert sum(x.payment_minor for x in lines) == totals.payment_minor
    assert totals.payment_minor == (
        debt.total_minor + term * offer.terms.flat.charge_minor  # type: ignore[union-attr]
    )
    assert totals.principal_minor == debt.principal_minor
    assert lines[-1].closing_balance_minor == 0
    assert all(
        x.payment_minor == x.interest_minor + x.fees_minor + x.principal_minor for x in lines
    )
    assert all(x.kind is LineKind.INSTALMENT for x in lines)
    # equal instalments but for the last
    assert len({x.payment_minor for x in lines[:-1]}) <= 1


@settings(max_examples=40, deadline=None)
@given(flat_cases())
def test_the_true_apr_exceeds_the_flat_rate_times_periods(
    case: tuple[Debt, int, Decimal, Frequency],
) -> None:
    debt, term, rate, frequency = case
    debt = Debt(debt.currency, debt.principal_minor, 0, 0, Decimal(0), debt.as_of, 0)
    rate = max(rate, Decimal("0.001"))
    offer = flat_plan(
        debt, policy=LOOSE, term=max(term, 2), rate_per_period=rate, frequency=frequency
    )
    assert offer.terms.flat is not None
    for true in offer.terms.flat.true_rates:
        assert true.rate > offer.terms.flat.flat_annual_rate


@settings(max_examples=40, deadline=None)
@given(flat_cases())
def test_a_flat_rate_of_zero_is_the_zero_rate_level_plan(
    case: tuple[Debt, int, Decimal, Frequency],
) -> None:
    debt, term, _, frequency = case
    # At an exact tie (the balance / term ending in .5 of a unit) the level plan rounds a float
    # just below it (plans.instalment.level_payment), the flat plan the exact half: not compared.
    assume(2 * (debt.total_minor % term) != term)
    policy = Policy(plan_rate=Decimal(0), holiday_country=None, min_instalment=())
    flat = flat_plan(
        debt, policy=policy, term=term, rate_per_period=Decimal(0), frequency=frequency
    )
    level = instalment_plan(debt, policy=policy, term=term, frequency=frequency)
    assert flat.schedule.totals == level.schedule.totals
    assert [x.payment_minor for x in flat.schedule.lines] == [
        x.payment_minor for x in level.schedule.lines
    ]
    assert flat.metrics.apr == level.metrics.apr == Decimal("0.000000")
