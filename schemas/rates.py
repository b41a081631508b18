"""The rate calculators' contract: arbitrary dated advances and payments, and the annual rate
each jurisdiction requires of them (US APR, EU/UK APRC, CN 年化利率)."""

from __future__ import annotations

from pydantic import Field, StrictBool

from plans.annual_rates import CITATIONS, RateMethod
from plans.calendar import Frequency
from schemas import examples
from schemas.common import Amount, Currency, Date, Integer, Model, with_examples


class CashFlowIn(Model):
    """An amount on a date."""

    date: Date
    amount: Amount


class AprRequest(Model):
    """Advances and payments of any credit, for an APR by Reg Z Appendix J."""

    currency: Currency
    advances: list[CashFlowIn] = Field(min_length=1, max_length=120)
    payments: list[CashFlowIn] = Field(min_length=1, max_length=1200)
    frequency: Frequency | None = Field(
        None, description="Unit period; omitted: the most common interval between payments."
    )

    model_config = with_examples(
        {
            # Reg Z App J (c)(1)(i): $5,000 advanced, 24 monthly payments of $230
            "currency": "USD",
            "advances": [{"date": "2026-01-10", "amount": "5000.00"}],
            "payments": [
                {"date": f"{2026 + (m + 1) // 12}-{(m + 1) % 12 + 1:02d}-10", "amount": "230.00"}
                for m in range(24)
            ],
            "frequency": "monthly",
        }
    )


class AprResult(Model):
    """The APR and how it was measured."""

    apr: str = Field(description="Annual fraction, 6 decimal places: 0.096857 is 9.6857 %.")
    apr_percent: str = Field(description="The APR in percent to 2 places, as disclosed.")
    effective_annual_rate: str
    unit_period: str = Field(
        description="The unit period (App J (b)(4)): the most common period between advances"
        " and payments, in whole weeks or months: weekly, biweekly, N_weeks (4_weeks, ...),"
        " semi_monthly, monthly, N_months (2_months, 3_months a quarter, 6_months, 12_months"
        " a year), or term (one advance repaid by one payment within a year is measured in its"
        " own term, App J (b)(4)(ii))."
    )
    unit_periods_per_year: str
    rate_per_unit_period: str
    method: str

    model_config = with_examples(examples.APR_RESULT)


FOUR_WEEKLY = (
    *("2026-02-02", "2026-03-02", "2026-03-30", "2026-04-27", "2026-05-25", "2026-06-22"),
    *("2026-07-20", "2026-08-17", "2026-09-14", "2026-10-12", "2026-11-09", "2026-12-07"),
)
ANNUAL_RATE_REQUEST_EXAMPLE = {
    # 400.00 advanced on a Monday, repaid by 12 payments of 36.00 every 4 weeks: measured in
    # 4-week unit periods (13 a year), not in months
    "currency": "USD",
    "advances": [{"date": "2026-01-05", "amount": "400.00"}],
    "payments": [{"date": day, "amount": "36.00"} for day in FOUR_WEEKLY],
    "method": "us_reg_z",
}
# What the service answers to it (checked by tests/app/offers/test_rates_annual.py). Kept here, not
# in schemas/examples/: `make examples` (tests/examples_writer.py) lists the operations it asks.
ANNUAL_RATE_RESULT_EXAMPLE: dict[str, object] = {
    "method": "us_reg_z",
    "rate": "0.156565",
    "rate_percent": "15.66",
    "decimals": 2,
    "time_basis": "unit_periods",
    "unit_period": {
        "name": "4_weeks",
        "unit": "week",
        "length": 4,
        "term": False,
        "per_year": "13.000000",
    },
    "regular": True,
    "tolerance_percentage_points": "0.125",
    "irregular_features": [],
    "citation": CITATIONS[RateMethod.US_REG_Z],
}


class AnnualRateRequest(AprRequest):
    """Advances and payments, and whose rule the annual rate follows."""

    method: RateMethod = Field(
        description="us_reg_z: the APR of US Regulation Z Appendix J, to 2 decimals;"
        " eu_ccd: the APRC of Directive 2008/48/EC Annex I (UK: CONC App 1.1), to 1 decimal;"
        " cn_irr: the 年化利率 of PBOC Announcement [2021] No. 3 by the IRR method, to 2"
        " decimals. frequency, if given, is the unit period of us_reg_z and cn_irr."
    )

    model_config = with_examples(ANNUAL_RATE_REQUEST_EXAMPLE)


class UnitPeriodOut(Model):
    """A unit period: a whole number of weeks, semimonths or months, or a term in days."""

    name: str = Field(description="As AprResult.unit_period: monthly, 4_weeks, term, ...")
    unit: str = Field(description="week, semimonth, month, or day (a term in days only).")
    length: Integer = Field(description="How many of ``unit``: 4 for four weeks.")
    term: StrictBool = Field(description="One advance repaid by one payment: the term itself.")
    per_year: str = Field(description="Unit periods in a year, 6 places: 13.000000.")


class AnnualRateResult(Model):
    """An annual rate by one jurisdiction's method, exact and as disclosed."""

    method: RateMethod
    rate: str = Field(description="Annual fraction, 6 places: 0.284979 is 28.4979 %.")
    rate_percent: str = Field(description="In percent, to ``decimals`` places, half up.")
    decimals: Integer = Field(description="Places the method discloses: 2 (US, CN) or 1 (EU/UK).")
    time_basis: str = Field(
        description="How time was counted: unit_periods (App J (b)(5); the periodic IRR), or"
        " the APRC's months/12, weeks/52 or days/365."
    )
    unit_period: UnitPeriodOut | None = Field(
        description="The period the rate is measured in; null for eu_ccd, which has none."
    )
    regular: StrictBool | None = Field(
        description="us_reg_z: regular (§1026.22(a)(2)) or irregular (§1026.22(a)(3)); else null."
    )
    tolerance_percentage_points: str | None = Field(
        description="us_reg_z: 0.125 regular, 0.25 irregular; else null."
    )
    irregular_features: list[str] | None = Field(
        description="us_reg_z: multiple_advances, irregular_payment_periods,"
        " irregular_payment_amounts; empty when regular; else null."
    )
    citation: str

    model_config = with_examples(ANNUAL_RATE_RESULT_EXAMPLE)
