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
    scale, tails = _places(currency)

    def fmt(minor: int) -> str:
        return _decimal(minor, scale, tails)

    return fmt


# Each exponent's decimal tails, ".00" to ".99" for two places ("" for none): made once.
_TAILS: dict[int, tuple[int, list[str]]] = {}


def _places(currency: str) -> tuple[int, list[str]]:
    places = exponent(currency)
    found = _TAILS.get(places)
    if found is None:
        tails = ["." + str(k).rjust(places, "0") for k in range(10**places)] if places else [""]
        found = _TAILS[places] = (10**places, tails)
    return found


def _decimal(minor: int, scale: int, tails: list[str]) -> str:
    # the whole units' digits and the tail of the fraction's: one division, two strings
    if minor < 0:
        return "-" + _decimal(-minor, scale, tails)
    return str(minor // scale) + tails[minor % scale]


class Writer:
    """How one answer writes its values: each distinct amount (in its one currency) and each
    date once, then looked up. A schedule repeats its amounts (each opening balance is the
    previous closing one, the level payment, zeros) and the plans of a negotiation share their
    dates.

    Examples
    --------
    >>> write = Writer("CNY")
    >>> write.amount(123456), write.amount(-5), write.day(date(2026, 12, 15))
    ('1234.56', '-0.05', '2026-12-15')
    >>> Writer("JPY").amount(1250), Writer("KWD").amount(1)
    ('1250', '0.001')
    """

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.scale, self.tails = _places(currency)
        self.amounts: dict[int, str] = {}
        self.days: dict[date, str] = {}

    def amount(self, minor: int) -> str:
        """``minor`` units as the currency's decimal string."""
        text = self.amounts.get(minor)
        if text is None:
            text = self.amounts[minor] = _decimal(minor, self.scale, self.tails)
        return text

    def day(self, day: date) -> str:
        """``day`` in ISO 8601."""
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = day.isoformat()
        return text

    def optional_day(self, day: date | None) -> str | None:
        """``day`` in ISO 8601, or ``None``."""
        return None if day is None else self.day(day)


# each kind's text, read once (an enum's value is a property, read through the class)
_KINDS = {kind: kind.value for kind in LineKind}


def _lines(lines: Sequence[Line], write: Writer) -> list[Json]:
    made: list[Json] = []
    for x in lines:
        made.append(
            {
                "number": x[0],
                "kind": _KINDS[x[1]],
                "due_date": write.day(x[2]),
                "payment_date": write.day(x[3]),
                "opening_balance": write.amount(x[4]),
                "payment": write.amount(x[5]),
                "interest": write.amount(x[6]),
                "fees": write.amount(x[7]),
                "principal": write.amount(x[8]),
                "waived": write.amount(x[9]),
                "interest_accrued": write.amount(x[10]),
                "closing_balance": write.amount(x[11]),
            }
        )
    # the closing balance by component stays in the engine (payoffs, allocation)
    return made


def _totals_json(totals: Totals, write: Writer) -> Json:
    return {
        "payment": write.amount(totals.payment_minor),
        "interest": write.amount(totals.interest_minor),
        "fees": write.amount(totals.fees_minor),
        "principal": write.amount(totals.principal_minor),
        "waived": write.amount(totals.waived_minor),
        "interest_accrued": write.amount(totals.interest_accrued_minor),
    }


def _waiver_json(waiver: Waiver, write: Writer) -> Json:
    return {
        "fees": write.amount(waiver.fees_minor),
        "interest": write.amount(waiver.interest_minor),
        "principal": write.amount(waiver.principal_minor),
        "total": write.amount(waiver.total_minor),
    }


def _owed_json(owed: Owed, write: Writer) -> Json:
    return {
        "principal": write.amount(owed.principal_minor),
        "interest": write.amount(owed.interest_minor),
        "fees": write.amount(owed.fees_minor),
        "total": write.amount(owed.total_minor),
    }


def _rate(value: Decimal) -> str:
    return format(value, "f")


def _contract_shape(terms: Terms, write: Writer) -> Json:
    """A grace plan's and a flat contract's own terms; null in every other offer."""
    shape: Json = {"grace_interest": terms.grace_interest, "flat": None}
    if terms.flat is not None:
        flat = terms.flat
        shape["flat"] = {
            "rate_per_period": None
            if flat.rate_per_period is None
            else _rate(flat.rate_per_period),
            "charge_per_period": write.amount(flat.charge_minor),
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


def offer_json(offer: Offer, *, summary: str, policy: Json, write: Writer | None = None) -> Json:
    """An offer as its response object (``schemas.offer_answers.OfferOut``); ``write``, the
    other offers' of the same answer (in the same currency), whose amounts and dates it has
    written already."""
    if write is None or write.currency != offer.currency:
        write = Writer(offer.currency)
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
        "as_of": write.day(offer.as_of),
        "owed": _owed_json(owed, write),
        "terms": {
            "frequency": terms.frequency.value,
            "first_due": write.day(terms.first_due),
            "instalments": terms.instalments,
            "instalment": write.amount(terms.instalment_minor),
            "nominal_annual_rate": _rate(terms.nominal_annual_rate),
            "down_payment": write.amount(terms.down_payment_minor),
            "amortisation": terms.amortisation,
            "deferral_periods": terms.deferral_periods,
            "deferral_payment": write.amount(terms.deferral_payment_minor),
            "deferral_interest": terms.deferral_interest,
            "discount_bps": terms.discount_bps,
            "settle_by": write.optional_day(terms.settle_by),
            **_contract_shape(terms, write),
        },
        "schedule": {
            "lines": _lines(offer.schedule.lines, write),
            "totals": _totals_json(totals, write),
        },
        "waiver": _waiver_json(waiver, write),
        "metrics": metrics_json(metrics, write),
        "summary": summary,
        "policy": policy,
    }


def metrics_json(metrics: Metrics, write: Writer) -> Json:
    """An offer's metrics (``schemas.offers.MetricsOut``)."""
    annual = metrics.annual_rate
    return {
        "total_paid": write.amount(metrics.total_paid_minor),
        "total_interest": write.amount(metrics.total_interest_minor),
        "total_fees": write.amount(metrics.total_fees_minor),
        "total_waived": write.amount(metrics.total_waived_minor),
        "finance_charge": write.amount(metrics.finance_charge_minor),
        "amount_financed": write.amount(metrics.amount_financed_minor),
        "payments": metrics.payments,
        "first_payment_date": write.optional_day(metrics.first_payment_date),
        "last_payment_date": write.optional_day(metrics.last_payment_date),
        "smallest_payment": write.amount(metrics.smallest_payment_minor),
        "largest_payment": write.amount(metrics.largest_payment_minor),
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
        "npv": write.amount(metrics.npv_minor),
        "expected_recovery": write.amount(metrics.expected_recovery_minor),
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
    write = Writer(currency)
    return {
        "currency": currency,
        "as_of": as_of.isoformat(),
        "ranked_by": comparison.ranked_by.value,
        "best": None if comparison.best is None else comparison.best.kind.value,
        "offers": [
            offer_json(o, summary=summarise(o), policy=policy, write=write)
            for o in comparison.ranked
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
    write = Writer(offer.currency)
    totals, waiver, owed = offer.schedule.totals, offer.waiver, offer.owed
    lines = _lines(offer.schedule.lines, write)
    for line, shared in zip(lines, offer.allocations, strict=True):
        line["allocations"] = [
            {
                "debt_ref": a.debt_ref,
                "payment": write.amount(a.payment_minor),
                "principal": write.amount(a.principal_minor),
                "interest": write.amount(a.interest_minor),
                "fees": write.amount(a.fees_minor),
                "waived": write.amount(a.waived_minor),
            }
            for a in shared
        ]
    return {
        "kind": offer.kind.value,
        "currency": offer.currency,
        "as_of": offer.as_of.isoformat(),
        "allocation_rule": offer.rule.value,
        "allocation_text": allocation_text,
        "owed": _owed_json(owed, write),
        "schedule": {
            "lines": lines,
            "totals": _totals_json(totals, write),
        },
        "waiver": _waiver_json(waiver, write),
        "metrics": metrics_json(offer.metrics, write),
        "debts": [
            {
                "debt_ref": o.debt_ref,
                "owed": write.amount(o.owed_minor),
                "interest_accrued": write.amount(o.interest_accrued_minor),
                "paid": write.amount(o.paid_minor),
                "waived": write.amount(o.waived_minor),
                "first_payment_date": write.optional_day(o.first_payment_on),
                "cleared_on": write.optional_day(o.cleared_on),
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
