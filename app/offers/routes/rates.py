"""The APR of any credit, and the annual rate each jurisdiction requires, for a compliance
officer checking a plan."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter

from app.core.deps import CollectorKey
from app.core.errors import problem_responses
from app.core.responses import Json
from plans.annual_rates import annual_rate
from plans.rates import CashFlow, apr, effective_annual_rate, irr_per_period, unit_period
from schemas.common import minor
from schemas.rates import AnnualRateRequest, AnnualRateResult, AprRequest, AprResult

router = APIRouter(prefix="/v1/rates", tags=["rates"])

METHOD = (
    "Actuarial method of US Regulation Z (12 CFR 1026) Appendix J: the rate per unit period"
    " that equates advances and payments under the general equation, times unit periods per"
    " year; odd days as fractions of a unit period (a month counts 30 days)."
)


def _flows(request: AprRequest) -> tuple[list[CashFlow], list[CashFlow]]:
    currency = request.currency
    advances = [
        (x.date, minor(x.amount, currency, field=f"advances.{i}.amount"))
        for i, x in enumerate(request.advances)
    ]
    payments = [
        (x.date, minor(x.amount, currency, field=f"payments.{i}.amount"))
        for i, x in enumerate(request.payments)
    ]
    return advances, payments


def _six(value: Decimal) -> str:
    return format(value, ".6f")


@router.post("/apr", response_model=AprResult, responses=problem_responses(401, 403, 422, 503))
async def annual_percentage_rate(request: AprRequest, key: CollectorKey) -> Json:
    """APR of arbitrary dated advances and payments (Reg Z Appendix J)."""
    return Json(apr_of(request))


def apr_of(request: AprRequest) -> dict[str, Any]:
    """The response document of :func:`annual_percentage_rate`."""
    advances, payments = _flows(request)
    unit, per_year = unit_period(advances, payments, frequency=request.frequency)
    value = apr(advances, payments, frequency=request.frequency)
    per_period = irr_per_period(advances, payments, frequency=request.frequency)
    yearly = max(1, round(per_year))
    return {
        "apr": format(value, "f"),
        "apr_percent": format((value * 100).quantize(Decimal("0.01"), ROUND_HALF_UP), "f"),
        "effective_annual_rate": format(effective_annual_rate(value, yearly), "f"),
        "unit_period": unit,
        "unit_periods_per_year": _six(Decimal(per_year.numerator) / per_year.denominator),
        "rate_per_unit_period": f"{per_period:.10f}",
        "method": METHOD,
    }


@router.post(
    "/annual", response_model=AnnualRateResult, responses=problem_responses(401, 403, 422, 503)
)
async def jurisdiction_annual_rate(request: AnnualRateRequest, key: CollectorKey) -> Json:
    """The annual rate by a jurisdiction's method: US APR, EU/UK APRC or CN 年化利率."""
    return Json(annual_rate_of(request))


def annual_rate_of(request: AnnualRateRequest) -> dict[str, Any]:
    """The response document of :func:`jurisdiction_annual_rate`."""
    advances, payments = _flows(request)
    rate = annual_rate(advances, payments, method=request.method, frequency=request.frequency)
    unit, regularity = rate.unit_period, rate.regularity
    return {
        "method": rate.method.value,
        "rate": format(rate.rate, "f"),
        "rate_percent": format(rate.disclosed_percent, "f"),
        "decimals": rate.decimals,
        "time_basis": rate.time_basis,
        "unit_period": None
        if unit is None
        else {
            "name": unit.name,
            "unit": unit.unit,
            "length": unit.length,
            "term": unit.term,
            "per_year": _six(Decimal(unit.per_year.numerator) / unit.per_year.denominator),
        },
        "regular": None if regularity is None else regularity.regular,
        "tolerance_percentage_points": None
        if regularity is None
        else format(regularity.tolerance, "f"),
        "irregular_features": None if regularity is None else list(regularity.reasons),
        "citation": rate.citation,
    }
