"""The APR calculator's contract: arbitrary dated advances and payments."""

from __future__ import annotations

from pydantic import Field

from plans.calendar import Frequency
from schemas import examples
from schemas.common import Amount, Currency, Date, Model, with_examples


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
        description="weekly, biweekly, semi_monthly, monthly, or term (one advance repaid by"
        " one payment is measured in its own term, App J (b)(4)(ii))."
    )
    unit_periods_per_year: str
    rate_per_unit_period: str
    method: str

    model_config = with_examples(examples.APR_RESULT)
