"""The annual rate a debtor is shown, by the method each jurisdiction requires.

Three methods on the same dated advances and payments (amounts in minor units):

``us_reg_z``
    The APR of US Regulation Z, 12 CFR 1026 Appendix J (actuarial method,
    :func:`plans.rates.apr`): the unit-period rate of the general equation times the unit
    periods in a year, disclosed to 2 decimals in percent; accurate within 1/8 point for a
    regular transaction (§1026.22(a)(2)), 1/4 point for an irregular one (§1026.22(a)(3)).
``eu_ccd``
    The APRC of the Consumer Credit Directive 2008/48/EC, Annex I: ``X`` solving
    ``Σ C_k (1 + X)^-t_k = Σ D_l (1 + X)^-s_l``, times in years from the first drawdown, a
    year being "365 days (or 366 days for leap years), 52 weeks or 12 equal months"; shown
    with "an accuracy of at least one decimal place", half up. The UK keeps the same equation
    for regulated consumer credit in the FCA Handbook, CONC App 1.1 (the APR, to one decimal).
``cn_irr``
    The 年化利率 of PBOC Announcement [2021] No. 3 (中国人民银行公告〔2021〕第3号), by the
    internal-rate-of-return method (内部收益率法) of its attachment: the IRR per repayment
    period of the actual cash flows, annualised by simple multiplication,
    ``年化利率 = 周期利率 × 每年期数`` (not compounded), shown to 2 decimals in percent.

Each :class:`AnnualRate` carries its method's citation, the exact rate (an annual fraction, six
places) and the figure as disclosed.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from functools import cache

from plans.calendar import Frequency
from plans.errors import RateAboveCap
from plans.rates import (
    DECIMAL_CONTEXT,
    RATE_QUANTUM,
    CashFlow,
    annualised,
    checked_start,
    no_solution,
    placed_flows,
    solve_general_equation,
    transaction_regularity,
    unit_rate,
)
from plans.unit_periods import Regularity, UnitPeriod, month_end_days, months_and_days


class RateMethod(enum.StrEnum):
    """Whose rule an annual rate follows."""

    US_REG_Z = "us_reg_z"
    EU_CCD = "eu_ccd"
    CN_IRR = "cn_irr"


CITATIONS = {
    RateMethod.US_REG_Z: (
        "12 CFR 1026 (Regulation Z) Appendix J, actuarial method: the unit-period rate of the"
        " general equation (b)(8) times unit periods per year (b)(9); accurate within 1/8 of a"
        " percentage point for a regular transaction (§1026.22(a)(2)) and 1/4 for an irregular"
        " one (§1026.22(a)(3))."
    ),
    RateMethod.EU_CCD: (
        "Directive 2008/48/EC (Consumer Credit Directive), Annex I, as amended by Directive"
        " 2011/90/EU: the APRC X solving Σ C_k (1+X)^-t_k = Σ D_l (1+X)^-s_l, times in years"
        " (365 days, 52 weeks or 12 equal months), to at least one decimal place, half up;"
        " in the UK, FCA Handbook CONC App 1.1."
    ),
    RateMethod.CN_IRR: (
        "中国人民银行公告〔2021〕第3号 (PBOC Announcement [2021] No. 3) and its attachment:"
        " 年化利率 by the IRR method (内部收益率法), 年化利率 = 周期利率 × 每年期数 (simple,"
        " not compounded), to 2 decimals in percent."
    ),
}
DECIMALS = {RateMethod.US_REG_Z: 2, RateMethod.EU_CCD: 1, RateMethod.CN_IRR: 2}

_LOWEST_LOG = math.log(0.01)  # a rate of -99 %
_HIGHEST_LOG = math.log(1e9)


@dataclass(frozen=True, slots=True)
class AnnualRate:
    """An annual rate by one method, exact and as disclosed.

    ``rate`` is an annual fraction to six places (``0.096857``); ``disclosed_percent`` is in
    percent to ``decimals`` places, half up, rounded from the unrounded rate. ``time_basis``
    says how time was counted: ``unit_periods`` (Appendix J (b)(5) and the periodic IRR), or
    the APRC's ``months/12``, ``weeks/52`` or ``days/365``. ``unit_period`` and
    ``periods_per_year`` are the period the rate is measured in (None for the APRC, which has
    none); ``regularity`` is Regulation Z's, for ``us_reg_z`` only.
    """

    method: RateMethod
    rate: Decimal
    disclosed_percent: Decimal
    decimals: int
    time_basis: str
    unit_period: UnitPeriod | None
    periods_per_year: Fraction | None
    regularity: Regularity | None
    citation: str


def _disclosed(exact: Decimal, decimals: int) -> Decimal:
    with localcontext(DECIMAL_CONTEXT):
        return (exact * 100).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _result(
    method: RateMethod,
    exact: Decimal,
    *,
    time_basis: str,
    unit: UnitPeriod | None = None,
    regularity: Regularity | None = None,
) -> AnnualRate:
    with localcontext(DECIMAL_CONTEXT):
        rate = exact.quantize(RATE_QUANTUM)
    return AnnualRate(
        method=method,
        rate=rate,
        disclosed_percent=_disclosed(exact, DECIMALS[method]),
        decimals=DECIMALS[method],
        time_basis=time_basis,
        unit_period=unit,
        periods_per_year=unit.per_year if unit is not None else None,
        regularity=regularity,
        citation=CITATIONS[method],
    )


def _growth_root(flows: Sequence[tuple[float, float]], *, guess: float | None = None) -> float:
    """``i`` solving ``Σ a (1 + i)^-t = 0`` for amounts ``a`` at times ``t`` (any real ``t``).

    Whole times are the general equation of Appendix J with no fractions, solved by it; other
    times by bisection with Newton steps on ``x = ln(1 + i)``, between -99 % and 10^9, from
    ``guess`` when one is given (an offer's APR: Newton then needs a step or two).
    """
    if guess is None and all(float(t).is_integer() for _, t in flows):
        return solve_general_equation([(amount, int(t), 0.0) for amount, t in flows])

    latest = max(flows, key=lambda flow: flow[1])[0] or 1.0

    def value(x: float) -> tuple[float, float]:
        total = slope = 0.0
        try:
            for amount, t in flows:
                term = amount * math.exp(-x * t)
                total += term
                slope -= t * term
        except OverflowError:
            # Near -99 % the latest flow grows like 100**t and swamps the rest.
            return math.copysign(math.inf, latest), math.nan
        return total, slope

    at_zero = sum(amount for amount, _ in flows)
    if at_zero == 0:
        return 0.0
    low, high = (0.0, _HIGHEST_LOG) if at_zero > 0 else (_LOWEST_LOG, 0.0)
    # From a guess (a root of nearby flows) Newton finds the root without the far end's sign;
    # the check is then only needed if the iteration does not settle.
    if guess is None:
        _check_far_end(value(high if at_zero > 0 else low)[0], at_zero)
    # g(x) keeps the sign of g(0) at ``near`` and has the other at ``far``.
    near, far = (low, high) if at_zero > 0 else (high, low)
    x = (near + far) / 2
    if guess is not None and guess > -0.99 and low < math.log1p(guess) < high:
        x = math.log1p(guess)
    for _ in range(300):
        total, slope = value(x)
        if total == 0:
            break
        if (total > 0) == (at_zero > 0):
            near = x
        else:
            far = x
        step = x - total / slope if slope and math.isfinite(slope) else math.nan
        if not min(near, far) < step < max(near, far):
            step = (near + far) / 2
        if abs(step - x) <= 1e-15 * max(1.0, abs(x)):
            x = step
            break
        x = step
    else:
        if guess is not None:
            _check_far_end(value(high if at_zero > 0 else low)[0], at_zero)
    return math.expm1(x)


def _check_far_end(far_value: float, at_zero: float) -> None:
    if (far_value > 0) == (at_zero > 0):
        raise no_solution("no rate above -99 % balances payments and advances")


def us_reg_z(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> AnnualRate:
    """The APR of Regulation Z, 12 CFR 1026 Appendix J, disclosed to 2 decimals in percent.

    The unit period is chosen by (b)(4) (:func:`plans.rates.transaction_unit_period`), each
    flow placed by (b)(5), the general equation (b)(8) solved for the unit-period rate and
    multiplied by the unit periods in a year ((b)(9)). The answer says whether the transaction
    is regular (§1026.22(a)(2): a disclosed APR within 1/8 of a percentage point is accurate)
    or irregular (§1026.22(a)(3): multiple advances, irregular payment periods or amounts,
    other than an irregular first period or first or final payment; within 1/4 point).

    Examples
    --------
    Appendix J (c)(1)(i): $5,000, 24 monthly payments of $230, APR 9.69 %.

    >>> from plans.unit_periods import shift_months
    >>> start = date(1978, 1, 10)
    >>> pays = [(shift_months(start, k, 10), 23_000) for k in range(1, 25)]
    >>> rate = us_reg_z([(start, 500_000)], pays)
    >>> rate.rate, rate.disclosed_percent, rate.unit_period.name, rate.regularity.tolerance
    (Decimal('0.096857'), Decimal('9.69'), 'monthly', Decimal('0.125'))
    """
    rate, unit = unit_rate(advances, payments, frequency=frequency)
    return _result(
        RateMethod.US_REG_Z,
        annualised(rate, unit.per_year),
        time_basis="unit_periods",
        unit=unit,
        regularity=transaction_regularity(advances, payments, frequency=frequency),
    )


def _years(
    start: date, dates: Sequence[date], month_end: dict[int, int]
) -> tuple[str, list[float]]:
    """Each date's time from ``start`` in years, and the basis: months/12 when every one is a
    whole number of months, else weeks/52 when every one is whole weeks, else days/365."""
    landing: dict[int, tuple[int, int]] = {}  # dates on one day of the month land alike
    measured: list[int] = []
    for when in dates:  # the first date off a whole month settles it (weekly flows: at once)
        months, odd_days = months_and_days(start, when, month_end, landing)
        if odd_days:
            break
        measured.append(months)
    else:
        return "months/12", [months / 12 for months in measured]
    days = [(when - start).days for when in dates]
    if all(d % 7 == 0 for d in days):
        return "weeks/52", [d // 7 / 52 for d in days]
    return "days/365", [d / 365 for d in days]


def eu_ccd(advances: Sequence[CashFlow], payments: Sequence[CashFlow]) -> AnnualRate:
    """The APRC of Directive 2008/48/EC, Annex I (and the UK's CONC App 1.1), to one decimal.

    ``X`` solves ``Σ C_k (1 + X)^-t_k = Σ D_l (1 + X)^-s_l``: drawdowns ``C_k`` and
    repayments ``D_l`` at ``t_k``, ``s_l`` years from the first drawdown. Annex I, Part I,
    remark (c): "A year is presumed to have 365 days (or 366 days for leap years), 52 weeks or
    12 equal months. An equal month is presumed to have 30,41666 days (i.e. 365/12)". Here a
    schedule's times are counted in one of those units for all of its flows:

    * **months / 12** when every flow is a whole number of months from the first drawdown
      (months counted back from the later date, a month-end standing for the month's end);
    * else **weeks / 52** when every flow is a whole number of weeks from it;
    * else **days / 365** (actual days, a leap year's included; 366 is not used).

    Remark (d): the result "shall be expressed with an accuracy of at least one decimal place",
    the figure at the preceding place raised by one when the next is 5 or more: half up.

    Examples
    --------
    A year's loan of 1,000.00 repaid by 1,100.00 a year later: 10.0 %.

    >>> rate = eu_ccd([(date(2026, 1, 15), 100_000)], [(date(2027, 1, 15), 110_000)])
    >>> rate.rate, rate.disclosed_percent, rate.time_basis
    (Decimal('0.100000'), Decimal('10.0'), 'months/12')
    """
    start = checked_start(advances, payments)
    dates = [day for day, _ in (*advances, *payments)]
    month_end = month_end_days([day for day, _ in payments], start=start)
    basis, years = _years(start, dates, month_end)
    amounts = [-float(a) for _, a in advances] + [float(a) for _, a in payments]
    flows = list(zip(amounts, years, strict=True))
    if all(t == 0 for _, t in flows) and sum(amounts) != 0:
        raise no_solution("no time passes between the drawdowns and the repayments")
    with localcontext(DECIMAL_CONTEXT):
        exact = Decimal(_growth_root(flows))
    return _result(RateMethod.EU_CCD, exact, time_basis=basis)


def cn_irr(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    frequency: Frequency | None = None,
) -> AnnualRate:
    """The 年化利率 of PBOC Announcement [2021] No. 3, by the IRR method, to 2 decimals.

    The announcement (中国人民银行公告〔2021〕第3号) requires lenders to show the annualised rate
    of all the borrowing costs against the principal actually used; its attachment computes it
    by the internal-rate-of-return method (内部收益率法): the rate per repayment period that
    discounts the actual cash flows to zero, annualised by simple multiplication,

        年化利率 = 周期利率 × 每年期数  (periodic IRR × periods a year; not compounded).

    The repayment period is the schedule's most common period, as Regulation Z chooses its unit
    period ((b)(4); a single repayment within a year is its own period), and times are counted
    in it as Appendix J (b)(5) counts them. Unlike Appendix J, the fraction of a period is
    discounted like a whole one, ``(1 + i)^-(t + f)``: an IRR of the actual flows. With no
    fractions (every flow on a period date) the two rates are equal.

    Examples
    --------
    >>> from plans.unit_periods import shift_months
    >>> start = date(1978, 1, 10)
    >>> pays = [(shift_months(start, k, 10), 23_000) for k in range(1, 25)]
    >>> rate = cn_irr([(start, 500_000)], pays)
    >>> rate.rate, rate.disclosed_percent, rate.periods_per_year
    (Decimal('0.096857'), Decimal('9.69'), Fraction(12, 1))
    """
    rate, unit = unit_rate(advances, payments, frequency=frequency)
    if not unit.term and rate != 0:
        placed = placed_flows(advances, payments, unit)
        rate = _growth_root([(amount, whole + fraction) for amount, whole, fraction in placed])
    return _result(
        RateMethod.CN_IRR, annualised(rate, unit.per_year), time_basis="unit_periods", unit=unit
    )


def annual_rate(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    method: RateMethod,
    frequency: Frequency | None = None,
) -> AnnualRate:
    """The annual rate of dated advances and payments by ``method``.

    Parameters
    ----------
    advances, payments
        ``(date, amount)`` pairs in minor units; the first advance starts the term.
    method
        ``us_reg_z`` (:func:`us_reg_z`), ``eu_ccd`` (:func:`eu_ccd`) or ``cn_irr``
        (:func:`cn_irr`).
    frequency
        The unit period for ``us_reg_z`` and ``cn_irr``; None chooses it by Appendix J (b)(4).
        The APRC has no unit period and ignores it.

    Returns
    -------
    AnnualRate
        The rate exact and as disclosed, how time was counted, and the citation.

    Raises
    ------
    DomainError
        As :func:`plans.rates.apr`: empty or negative flows, a payment before the first
        advance, no unit period (``unit_period``), no rate above -99 % (``no_solution``).

    Examples
    --------
    One year, one repayment: the three methods agree.

    >>> flows = [(date(2026, 1, 15), 100_000)], [(date(2027, 1, 15), 112_000)]
    >>> [str(annual_rate(*flows, method=m).disclosed_percent) for m in RateMethod]
    ['12.00', '12.0', '12.00']
    """
    if method is RateMethod.EU_CCD:
        return eu_ccd(advances, payments)
    if method is RateMethod.CN_IRR:
        return cn_irr(advances, payments, frequency=frequency)
    return us_reg_z(advances, payments, frequency=frequency)


# --- the rate an offer discloses, by jurisdiction ----------------------------------------------

JURISDICTION_METHODS: dict[str, RateMethod] = {
    "CN": RateMethod.CN_IRR,
    "GB": RateMethod.EU_CCD,
    "US": RateMethod.US_REG_Z,
}
DEFAULT_JURISDICTION = "CN"

# The law a cap on each jurisdiction's rate comes from. The policy's ``rate_cap`` is the value
# (a finance team's choice, 24 % by default); these name where such a line is drawn and on
# which rate, for the detail of a rejection.
CAP_LAWS = {
    "CN": (
        "最高人民法院关于审理民间借贷案件适用法律若干问题的规定 (法释〔2020〕17号): 第二十五条, a"
        " contractual rate above four times the one-year LPR at the contract's formation is not"
        " upheld; 第二十九条, overdue interest, penalties and other fees together are held to"
        " the same line; 第三十一条, for a loan made before 20 August 2020 the interest to 19"
        " August 2020 is judged by the rules then in force, 法释〔2015〕18号 第二十六条 (24 % a"
        " year upheld, above 36 % void). Tested on the 年化利率 with every charge of the plan."
    ),
    "GB": (
        "No general cap on the APR of consumer credit in the UK (FCA CONC 5A caps high-cost"
        " short-term credit only); the policy's cap is tested on the APR of CONC App 1.1, with"
        " every charge of the plan."
    ),
    "US": (
        "No federal cap on consumer-credit rates; state usury laws set their own. The policy's"
        " cap is tested on the APR of Regulation Z Appendix J, with every finance charge of the"
        " plan."
    ),
}

# How each jurisdiction's law names its rate, for the detail of a rejection.
RATE_NAMES = {"CN": "年化利率", "GB": "APR", "US": "annual percentage rate"}


def rate_jurisdiction(recorded: str | None, policy_country: str | None) -> str:
    """The jurisdiction whose rate an offer discloses: the debt's recorded one, else the
    policy's (its holiday country, when a jurisdiction with a rate method), else CN.

    Examples
    --------
    >>> rate_jurisdiction(None, "GB"), rate_jurisdiction("US", "GB"), rate_jurisdiction(None, "JP")
    ('GB', 'US', 'CN')
    """
    for code in (recorded, policy_country):
        if code in JURISDICTION_METHODS:
            return code
    return DEFAULT_JURISDICTION


def _zero(method: RateMethod, unit: UnitPeriod, time_basis: str) -> AnnualRate:
    if method is RateMethod.EU_CCD:
        return _result(method, Decimal(0), time_basis=time_basis)
    return _result(method, Decimal(0), time_basis="unit_periods", unit=unit)


def offer_rates(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    *,
    method: RateMethod,
    frequency: Frequency,
) -> tuple[Decimal, AnnualRate]:
    """An offer's APR and the annual rate ``method`` gives its flows, from one solve.

    The flows are placed once in the plan's own period (Appendix J (b)(5)) and the general
    equation solved once for the APR (:func:`plans.rates.apr` with ``frequency``); the other
    methods start from that root instead of from nothing: ``us_reg_z`` is that rate,
    ``cn_irr`` is that rate again when every flow falls on a period date (no fractions) and
    otherwise a Newton run or two from it, ``eu_ccd`` a Newton run from
    ``(1 + i)^(periods a year) - 1``. The answers are :func:`annual_rate`'s with ``frequency``,
    but for ``us_reg_z``'s regularity, not assessed here (None).

    Examples
    --------
    >>> from plans.unit_periods import shift_months
    >>> start = date(1978, 1, 10)
    >>> flows = [(start, 500_000)], [(shift_months(start, k, 10), 23_000) for k in range(1, 25)]
    >>> apr, aprc = offer_rates(*flows, method=RateMethod.EU_CCD, frequency=Frequency.MONTHLY)
    >>> apr, aprc.disclosed_percent
    (Decimal('0.096857'), Decimal('10.1'))
    """
    start = checked_start(advances, payments)
    unit = UnitPeriod.of(frequency)
    placed = placed_flows(advances, payments, unit)
    rate = solve_general_equation(placed) if sum(a for a, _, _ in placed) else 0.0
    with localcontext(DECIMAL_CONTEXT):
        apr = annualised(rate, unit.per_year).quantize(RATE_QUANTUM)
    if method is RateMethod.US_REG_Z:
        # Regularity (the tolerance of a disclosure) is not assessed for an offer: it costs as
        # much as the solve, and the offer's figure is the rate itself, not a disclosure of it.
        exact = annualised(rate, unit.per_year)
        return apr, _result(method, exact, time_basis="unit_periods", unit=unit)
    if method is RateMethod.CN_IRR:
        if rate != 0 and any(fraction for _, _, fraction in placed):
            flows = [(amount, whole + fraction) for amount, whole, fraction in placed]
            rate = _growth_root(flows, guess=rate)
        exact = annualised(rate, unit.per_year)
        return apr, _result(method, exact, time_basis="unit_periods", unit=unit)
    dates = [day for day, _ in (*advances, *payments)]
    basis, years = _years(start, dates, month_end_days([day for day, _ in payments]))
    if rate == 0:
        return apr, _zero(method, unit, basis)
    amounts = [-float(a) for _, a in advances] + [float(a) for _, a in payments]
    guess = (1.0 + rate) ** float(unit.per_year) - 1.0
    with localcontext(DECIMAL_CONTEXT):
        exact = Decimal(_growth_root(list(zip(amounts, years, strict=True)), guess=guess))
    return apr, _result(method, exact, time_basis=basis)


@cache  # a pure function of two enums, its answer frozen: made once each
def zero_annual_rate(method: RateMethod, frequency: Frequency) -> AnnualRate:
    """The rate of an offer that charges nothing (its payments total what it takes over), in
    the plan's period; the APRC's time basis is then immaterial and given as ``months/12``.

    Examples
    --------
    >>> zero_annual_rate(RateMethod.CN_IRR, Frequency.MONTHLY).disclosed_percent
    Decimal('0.00')
    """
    return _zero(method, UnitPeriod.of(frequency), "months/12")


def check_rate_cap(rate: AnnualRate, *, cap: Decimal, jurisdiction: str) -> AnnualRate:
    """``rate`` if its disclosed figure is within ``cap`` (the policy's, an annual fraction).

    The cap is tested on the rate the debtor is shown, by the jurisdiction's method and to its
    places (a plan at exactly the cap is not refused for its payments' rounding to minor
    units), on the offer's own flows: everything the plan charges beyond the balance it takes
    over, interest and fees alike.

    Raises
    ------
    RateAboveCap
        Field ``annual_rate``, rule ``rate_cap``; the detail names the rate, its method's
        citation and the law a cap on it comes from (:data:`CAP_LAWS`).

    Examples
    --------
    >>> flows = [(date(2026, 1, 15), 100_000)], [(date(2027, 1, 15), 125_000)]
    >>> check_rate_cap(cn_irr(*flows), cap=Decimal("0.24"), jurisdiction="CN")
    Traceback (most recent call last):
    ...
    plans.errors.RateAboveCap: annual_rate: the 年化利率 of 25.00 % exceeds the policy's cap of \
24.00 %. The rate: 中国人民银行公告〔2021〕第3号 ... The cap: 最高人民法院... [rate_cap]
    """
    if rate.disclosed_percent <= cap * 100:
        return rate
    raise RateAboveCap(
        "annual_rate",
        "rate_cap",
        f"the {RATE_NAMES[jurisdiction]} of {rate.disclosed_percent} % exceeds the policy's cap"
        f" of {cap * 100:.{rate.decimals}f} %. The rate: {rate.citation} The cap:"
        f" {CAP_LAWS[jurisdiction]}",
    )
