"""Engine values as the JSON the contract describes, built directly for speed.

Responses are plain dicts shaped exactly like the models in ``schemas.offer_answers`` (a test checks
every kind against them, and schemathesis checks the live service), so the hot path skips
building and re-validating pydantic objects. Amounts become decimal strings here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from plans.affordability import Affordability
from plans.compare import Comparison
from plans.consolidated_counter import ConsolidatedCounterResult
from plans.consolidation import ConsolidatedComparison, ConsolidatedOffer
from plans.counter import CounterResult
from plans.money import exponent
from plans.offer import Metrics, Offer, Owed, Rejection, Terms
from plans.schedule import Line, LineKind, Totals, Waiver

Json = dict[str, Any]


def amount_formatter(currency: str) -> Callable[[int], str]:
    """A function from minor units to the currency's decimal string.

    Examples
    --------
    >>> fmt = amount_formatter("CNY")
    >>> fmt(123456), fmt(-5), fmt(0)
    ('1234.56', '-0.05', '0.00')
    >>> amount_formatter("JPY")(1250), amount_formatter("KWD")(1)
    ('1250', '0.001')
    """
    places = exponent(currency)
    if places == 0:
        return str

    def fmt(minor: int) -> str:
        # the decimal point put into the integer's digits: twice as fast as divmod and format
        if minor < 0:
            return "-" + fmt(-minor)
        digits = str(minor)
        if len(digits) > places:
            return digits[:-places] + "." + digits[-places:]
        return "0." + digits.rjust(places, "0")

    return fmt


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


# each kind's text, read once (an enum's value is a property, read through the class)
_KINDS = {kind: kind.value for kind in LineKind}


def _lines(lines: Sequence[Line], fmt: Callable[[int], str], days: dict[date, str]) -> list[Json]:
    # Each distinct amount of the schedule formatted once, then looked up: a schedule repeats
    # its amounts (each opening balance is the previous closing one, the level payment, zeros).
    # ``days`` likewise: a line is mostly paid on its due date, and a negotiation's plans share
    # their dates.
    text = {amount: fmt(amount) for amount in {a for x in lines for a in x[4:12]}}
    made: list[Json] = []
    for x in lines:
        due, paid = x[2], x[3]
        due_text = days.get(due)
        if due_text is None:
            due_text = days[due] = due.isoformat()
        paid_text = days.get(paid)
        if paid_text is None:
            paid_text = days[paid] = paid.isoformat()
        made.append(
            {
                "number": x[0],
                "kind": _KINDS[x[1]],
                "due_date": due_text,
                "payment_date": paid_text,
                "opening_balance": text[x[4]],
                "payment": text[x[5]],
                "interest": text[x[6]],
                "fees": text[x[7]],
                "principal": text[x[8]],
                "waived": text[x[9]],
                "interest_accrued": text[x[10]],
                "closing_balance": text[x[11]],
            }
        )
    # the closing balance by component stays in the engine (payoffs, allocation)
    return made


def _totals_json(totals: Totals, fmt: Callable[[int], str]) -> Json:
    return {
        "payment": fmt(totals.payment_minor),
        "interest": fmt(totals.interest_minor),
        "fees": fmt(totals.fees_minor),
        "principal": fmt(totals.principal_minor),
        "waived": fmt(totals.waived_minor),
        "interest_accrued": fmt(totals.interest_accrued_minor),
    }


def _waiver_json(waiver: Waiver, fmt: Callable[[int], str]) -> Json:
    return {
        "fees": fmt(waiver.fees_minor),
        "interest": fmt(waiver.interest_minor),
        "principal": fmt(waiver.principal_minor),
        "total": fmt(waiver.total_minor),
    }


def _owed_json(owed: Owed, fmt: Callable[[int], str]) -> Json:
    return {
        "principal": fmt(owed.principal_minor),
        "interest": fmt(owed.interest_minor),
        "fees": fmt(owed.fees_minor),
        "total": fmt(owed.total_minor),
    }


def _rate(value: Decimal) -> str:
    return format(value, "f")


def _contract_shape(terms: Terms, fmt: Callable[[int], str]) -> Json:
    """A grace plan's and a flat contract's own terms; null in every other offer."""
    shape: Json = {"grace_interest": terms.grace_interest, "flat": None}
    if terms.flat is not None:
        flat = terms.flat
        shape["flat"] = {
            "rate_per_period": None
            if flat.rate_per_period is None
            else _rate(flat.rate_per_period),
            "charge_per_period": fmt(flat.charge_minor),
            "flat_annual_rate": _rate(flat.flat_annual_rate),
            "true_annual_rates": [
                {
                    "method": rate.method.value,
                    "rate": _rate(rate.rate),
                    "rate_percent": _rate(rate.disclosed_percent),
                    "decimals": rate.decimals,
                    "citation": rate.citation,
                }
                for rate in flat.true_rates
            ],
        }
    return shape


def offer_json(
    offer: Offer, *, summary: str, policy: Json, days: dict[date, str] | None = None
) -> Json:
    """An offer as its response object (``schemas.offer_answers.OfferOut``); ``days``, the
    ISO dates already written for the other offers of the same answer."""
    fmt = amount_formatter(offer.currency)
    totals, terms, metrics, waiver, owed = (
        offer.schedule.totals,
        offer.terms,
        offer.metrics,
        offer.waiver,
        offer.owed,
    )
    return {
        "kind": offer.kind.value,
        "currency": offer.currency,
        "as_of": offer.as_of.isoformat(),
        "owed": _owed_json(owed, fmt),
        "terms": {
            "frequency": terms.frequency.value,
            "first_due": terms.first_due.isoformat(),
            "instalments": terms.instalments,
            "instalment": fmt(terms.instalment_minor),
            "nominal_annual_rate": _rate(terms.nominal_annual_rate),
            "down_payment": fmt(terms.down_payment_minor),
            "amortisation": terms.amortisation,
            "deferral_periods": terms.deferral_periods,
            "deferral_payment": fmt(terms.deferral_payment_minor),
            "deferral_interest": terms.deferral_interest,
            "discount_bps": terms.discount_bps,
            "settle_by": _iso(terms.settle_by),
            **_contract_shape(terms, fmt),
        },
        "schedule": {
            "lines": _lines(offer.schedule.lines, fmt, {} if days is None else days),
            "totals": _totals_json(totals, fmt),
        },
        "waiver": _waiver_json(waiver, fmt),
        "metrics": metrics_json(metrics, fmt),
        "summary": summary,
        "policy": policy,
    }


def metrics_json(metrics: Metrics, fmt: Callable[[int], str]) -> Json:
    """An offer's metrics (``schemas.offers.MetricsOut``)."""
    annual = metrics.annual_rate
    return {
        "total_paid": fmt(metrics.total_paid_minor),
        "total_interest": fmt(metrics.total_interest_minor),
        "total_fees": fmt(metrics.total_fees_minor),
        "total_waived": fmt(metrics.total_waived_minor),
        "finance_charge": fmt(metrics.finance_charge_minor),
        "amount_financed": fmt(metrics.amount_financed_minor),
        "payments": metrics.payments,
        "first_payment_date": _iso(metrics.first_payment_date),
        "last_payment_date": _iso(metrics.last_payment_date),
        "smallest_payment": fmt(metrics.smallest_payment_minor),
        "largest_payment": fmt(metrics.largest_payment_minor),
        "affordability_ratio": None
        if metrics.affordability_ratio is None
        else _rate(metrics.affordability_ratio),
        "apr": _rate(metrics.apr),
        "effective_annual_rate": _rate(metrics.effective_annual_rate),
        "annual_rate": {
            "jurisdiction": metrics.jurisdiction,
            "method": annual.method.value,
            "rate": _rate(annual.rate),
            "rate_percent": _rate(annual.disclosed_percent),
            "decimals": annual.decimals,
            "citation": annual.citation,
        },
        "npv": fmt(metrics.npv_minor),
        "expected_recovery": fmt(metrics.expected_recovery_minor),
    }


def rejection_json(rejection: Rejection) -> Json:
    """A rejected kind with its field and rule."""
    return {
        "kind": rejection.kind.value,
        "field": rejection.field,
        "rule": rejection.rule,
        "detail": rejection.detail,
    }


def offer_set_json(
    comparison: Comparison,
    *,
    currency: str,
    as_of: date,
    summarise: Callable[[Offer], str],
    policy: Json,
    affordability: Json | None = None,
) -> Json:
    """A ranked comparison as its response object (``schemas.offer_answers.OfferSet``)."""
    days: dict[date, str] = {}
    return {
        "currency": currency,
        "as_of": as_of.isoformat(),
        "ranked_by": comparison.ranked_by.value,
        "best": None if comparison.best is None else comparison.best.kind.value,
        "offers": [
            offer_json(o, summary=summarise(o), policy=policy, days=days) for o in comparison.ranked
        ],
        "rejected": [rejection_json(r) for r in comparison.rejected],
        "affordability": affordability,
    }


def counter_json(result: CounterResult, *, summarise: Callable[[Offer], str], policy: Json) -> Json:
    """A counter-offer verdict as its response object (``schemas.offer_answers.CounterResult``)."""
    return {
        "accepted": result.accepted,
        "offer": None
        if result.offer is None
        else offer_json(result.offer, summary=summarise(result.offer), policy=policy),
        "rejections": [rejection_json(r) for r in result.rejections],
        "alternatives": [
            {
                "change": a.change.value,
                "reason": a.reason,
                "offer": offer_json(a.offer, summary=summarise(a.offer), policy=policy),
            }
            for a in result.alternatives
        ],
    }


def consolidated_counter_json(
    result: ConsolidatedCounterResult, *, rule: str, render: Callable[[ConsolidatedOffer], Json]
) -> Json:
    """A verdict on a proposal for several debts (``schemas.offer_answers.
    ConsolidatedCounterResult``); ``render`` makes each consolidated offer's object."""
    return {
        "accepted": result.accepted,
        "allocation_rule": rule,
        "offer": None if result.offer is None else render(result.offer),
        "rejections": [rejection_json(r) for r in result.rejections],
        "alternatives": [
            {"change": a.change.value, "reason": a.reason, "offer": render(a.offer)}
            for a in result.alternatives
        ],
    }


def consolidated_json(
    offer: ConsolidatedOffer, *, summary: str, allocation_text: str, policy: Json
) -> Json:
    """A consolidated offer as its response object (``schemas.offers.ConsolidatedOfferOut``)."""
    fmt = amount_formatter(offer.currency)
    totals, waiver, owed = offer.schedule.totals, offer.waiver, offer.owed
    lines = _lines(offer.schedule.lines, fmt, {})
    for line, shared in zip(lines, offer.allocations, strict=True):
        line["allocations"] = [
            {
                "debt_ref": a.debt_ref,
                "payment": fmt(a.payment_minor),
                "principal": fmt(a.principal_minor),
                "interest": fmt(a.interest_minor),
                "fees": fmt(a.fees_minor),
                "waived": fmt(a.waived_minor),
            }
            for a in shared
        ]
    return {
        "kind": offer.kind.value,
        "currency": offer.currency,
        "as_of": offer.as_of.isoformat(),
        "allocation_rule": offer.rule.value,
        "allocation_text": allocation_text,
        "owed": _owed_json(owed, fmt),
        "schedule": {
            "lines": lines,
            "totals": _totals_json(totals, fmt),
        },
        "waiver": _waiver_json(waiver, fmt),
        "metrics": metrics_json(offer.metrics, fmt),
        "debts": [
            {
                "debt_ref": o.debt_ref,
                "owed": fmt(o.owed_minor),
                "interest_accrued": fmt(o.interest_accrued_minor),
                "paid": fmt(o.paid_minor),
                "waived": fmt(o.waived_minor),
                "first_payment_date": _iso(o.first_payment_on),
                "cleared_on": _iso(o.cleared_on),
            }
            for o in (plan.outcome for plan in offer.debts)
        ],
        "summary": summary,
        "policy": policy,
    }


def consolidated_set_json(
    comparison: ConsolidatedComparison,
    *,
    currency: str,
    as_of: date,
    rule: str,
    render: Callable[[ConsolidatedOffer], Json],
    affordability: Json | None,
) -> Json:
    """Ranked consolidated offers (``schemas.offers.ConsolidatedOfferSet``); ``render`` makes
    each offer's object (its summary and allocation sentence are the locale's)."""
    return {
        "currency": currency,
        "as_of": as_of.isoformat(),
        "ranked_by": comparison.ranked_by.value,
        "allocation_rule": rule,
        "best": None if comparison.best is None else comparison.best.kind.value,
        "offers": [render(o) for o in comparison.ranked],
        "rejected": [rejection_json(r) for r in comparison.rejected],
        "affordability": affordability,
    }


def affordability_json(
    afford: Affordability,
    *,
    currency: str,
    per_period_minor: int,
    stated_minor: int | None,
    capacity_minor: int,
    fits: list[Json],
) -> Json:
    """A statement's affordability (``schemas.offers.AffordabilityOut``); ``fits`` as made by
    the service (their sentences are the locale's)."""
    fmt = amount_formatter(currency)
    return {
        "income": fmt(afford.income_minor),
        "expenditure": fmt(afford.expenditure_minor),
        "priority_debts": fmt(afford.priority_minor),
        "disposable": fmt(afford.disposable_minor),
        "share_bps": afford.share_bps,
        "available": fmt(afford.available_minor),
        "per_period": fmt(per_period_minor),
        "stated_payment": None if stated_minor is None else fmt(stated_minor),
        "capacity_payment": fmt(capacity_minor),
        "bounded_by": "payment"
        if stated_minor is not None and stated_minor < per_period_minor
        else "statement",
        "flags": [
            {
                "group": f.group.value,
                "amount": fmt(f.amount_minor),
                "guideline": fmt(f.guideline_minor),
            }
            for f in afford.flags
        ],
        "fits": fits,
    }
