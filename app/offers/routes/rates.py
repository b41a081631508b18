"""The APR of any credit, for a compliance officer checking a plan."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fastapi import APIRouter

from app.core.deps import CollectorKey
from app.core.errors import problem_responses
from app.core.responses import Json
from plans.rates import apr, effective_annual_rate, irr_per_period, unit_period
from schemas.common import minor
from schemas.rates import AprRequest, AprResult

router = APIRouter(prefix="/v1/rates", tags=["rates"])

METHOD = (
    "Actuarial method of US Regulation Z (12 CFR 1026) Appendix J: the rate per unit period"
    " that equates advances and payments under the general equation, times unit periods per"
    " year; odd days as fractions of a unit period (a month counts 30 days)."
)


@router.post("/apr", response_model=AprResult, responses=problem_responses(401, 403, 422, 503))
async def annual_percentage_rate(request: AprRequest, key: CollectorKey) -> Json:
    """APR of arbitrary dated advances and payments (Reg Z Appendix J)."""
    currency = request.currency
    advances = [
        (x.date, minor(x.amount, currency, field=f"advances.{i}.amount"))
        for i, x in enumerate(request.advances)
    ]
    payments = [
        (x.date, minor(x.amount, currency, field=f"payments.{i}.amount"))
        for i, x in enumerate(request.payments)
    ]
    unit, per_year = unit_period(advances, payments, frequency=request.frequency)
    value = apr(advances, payments, frequency=request.frequency)
    per_period = irr_per_period(advances, payments, frequency=request.frequency)
    yearly = max(1, round(per_year))
    return Json(
        {
            "apr": format(value, "f"),
            "apr_percent": format((value * 100).quantize(Decimal("0.01"), ROUND_HALF_UP), "f"),
            "effective_annual_rate": format(effective_annual_rate(value, yearly), "f"),
            "unit_period": unit,
            "unit_periods_per_year": format(
                Decimal(per_year.numerator) / per_year.denominator, ".6f"
            ),
            "rate_per_unit_period": f"{per_period:.10f}",
            "method": METHOD,
        }
    )
