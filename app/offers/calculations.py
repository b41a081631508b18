"""The collectors' calculations: a request in, the engine's answer out as JSON.

Each function takes a validated request and a resolved policy version and returns the response
document; engine errors pass through untouched (``app.core.errors`` renders them). A debt's
jurisdiction (whose annual rate its offers disclose and are capped on, and whose today it is)
is the recorded debt's, passed as ``jurisdiction``, else the request's, else the policy's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from app.finance.policies import ResolvedPolicy
from app.offers.consolidated import affordability_of, counter_several, negotiate_several
from app.offers.summaries import summary
from plans.calendar import JURISDICTION_ZONES, local_today
from plans.compare import compare, negotiate
from plans.counter import counter_offer
from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError
from plans.flat import InterestMethod, flat_plan
from plans.grace import grace_plan
from plans.instalment import instalment_plan
from plans.offer import Offer, Rejection, check_first_payment
from plans.policy import OfferKind, Policy
from plans.settlement import settlement, settlement_plan
from schemas import offers as api
from schemas import plan_requests
from schemas.common import Locale, minor, rate
from schemas.wire import counter_json, offer_json, offer_set_json

Json = dict[str, Any]


def _summariser(locale: Locale) -> Callable[[Offer], str]:
    return lambda offer: summary(offer, locale)


def _optional_minor(amount: str | None, currency: str, field: str) -> int | None:
    return None if amount is None else minor(amount, currency, field=field)


def engine_debt(debt: api.DebtIn, jurisdiction: str | None = None) -> Debt:
    """The engine's debt, in the recorded debt's ``jurisdiction`` when there is one, else in
    the request's (None: the policy's, as the engine resolves it)."""
    engine = debt.to_engine()
    return engine if jurisdiction is None else replace(engine, jurisdiction=jurisdiction)


def debt_today(policy: ResolvedPolicy, jurisdiction: str | None = None) -> date:
    """Today in the debt's jurisdiction: its recorded one, else the policy's holiday country
    when that is a jurisdiction we know, else CN (``plans.calendar.JURISDICTION_ZONES``)."""
    code = jurisdiction or policy.engine.holiday_country or "CN"
    if code not in JURISDICTION_ZONES:
        code = "CN"
    return local_today(code, now=datetime.now(UTC))


def negotiate_offers(
    request: api.NegotiateRequest, policy: ResolvedPolicy, *, today: date | None = None
) -> Json:
    """Every offer the policy allows for the debt and capacity, ranked; none whose first
    payment falls before ``today`` (default: :func:`debt_today`)."""
    debt = engine_debt(request.debt)
    capacity = request.capacity.to_engine(debt.currency, policy.engine)
    result = negotiate(
        debt,
        capacity,
        policy=policy.engine,
        rank_by=request.rank_by,
        today=today or debt_today(policy, debt.jurisdiction),
        until=request.until,
    )
    return offer_set_json(
        result,
        currency=debt.currency,
        as_of=debt.as_of,
        summarise=_summariser(request.locale),
        policy=policy.used,
        affordability=affordability_of(
            request.capacity,
            debt.currency,
            policy,
            [(o.kind, o.schedule.lines) for o in result.ranked],
            request.locale,
        ),
    )


def negotiate_any(
    request: api.NegotiateRequest | api.ConsolidatedNegotiateRequest,
    policy: ResolvedPolicy,
    *,
    today: date | None = None,
) -> Json:
    """``negotiate`` for one debt or for several (a consolidated plan)."""
    if isinstance(request, api.NegotiateRequest):
        return negotiate_offers(request, policy, today=today)
    jurisdiction = request.debts[0].jurisdiction
    return negotiate_several(request, policy, today=today or debt_today(policy, jurisdiction))


def _instalment(
    debt: Debt,
    capacity: Capacity | None,
    item: plan_requests.InstalmentRequest | plan_requests.CompareItem,
    p: Policy,
) -> Offer:
    fields: dict[str, Any] = {}
    if isinstance(item, plan_requests.InstalmentRequest):
        fields = {
            "down_payment_minor": _optional_minor(item.down_payment, debt.currency, "down_payment"),
            "frequency": item.frequency,
            "first_due": item.first_due,
            "until": item.until,
            "days": api.engine_days(item.days, field="days"),
            "nominal_annual_rate": None
            if item.nominal_annual_rate is None
            else rate(item.nominal_annual_rate, field="nominal_annual_rate"),
        }
    if item.interest_method is InterestMethod.FLAT or item.grace is not None:
        return _shaped(debt, capacity, item, p, fields)
    return instalment_plan(
        debt,
        policy=p,
        capacity=capacity,
        term=item.term,
        payment_minor=_optional_minor(item.payment, debt.currency, "payment"),
        amortisation=item.amortisation,
        **fields,
    )


def _shaped(
    debt: Debt,
    capacity: Capacity | None,
    item: plan_requests.InstalmentRequest | plan_requests.CompareItem,
    p: Policy,
    fields: dict[str, Any],
) -> Offer:
    # a flat contract or grace periods: the request's validator has refused the other fields
    # (a payment, until, pay days), so they are None here; a compare item has none of them
    fields = {k: v for k, v in fields.items() if k not in ("until", "days")}
    if item.grace is not None:
        return grace_plan(
            debt,
            policy=p,
            capacity=capacity,
            periods=item.grace.periods,
            interest=item.grace.interest,
            term=item.term,
            amortisation=item.amortisation,
            **fields,
        )
    fields.pop("nominal_annual_rate", None)
    return flat_plan(
        debt,
        policy=p,
        capacity=capacity,
        term=item.term,
        rate_per_period=None
        if item.flat_rate_per_period is None
        else rate(item.flat_rate_per_period, field="flat_rate_per_period"),
        charge_minor=_optional_minor(
            item.flat_charge_per_period, debt.currency, "flat_charge_per_period"
        ),
        **fields,
    )


def _deferral(
    debt: Debt,
    capacity: Capacity | None,
    item: plan_requests.DeferralRequest | plan_requests.CompareItem,
    p: Policy,
) -> Offer:
    fields: dict[str, Any] = {}
    if isinstance(item, plan_requests.DeferralRequest):
        fields = {
            "frequency": item.frequency,
            "nominal_annual_rate": None
            if item.nominal_annual_rate is None
            else rate(item.nominal_annual_rate, field="nominal_annual_rate"),
        }
    return deferral_plan(
        debt,
        policy=p,
        capacity=capacity,
        periods=item.periods,
        deferral_payment_minor=minor(
            item.deferral_payment, debt.currency, field="deferral_payment"
        ),
        interest=item.interest,
        term=item.term,
        payment_minor=_optional_minor(item.payment, debt.currency, "payment"),
        amortisation=item.amortisation,
        **fields,
    )


def _settlement(
    debt: Debt,
    capacity: Capacity | None,
    item: plan_requests.SettlementRequest | plan_requests.CompareItem,
    p: Policy,
    kind: OfferKind,
) -> Offer:
    if kind is OfferKind.SETTLEMENT:
        return settlement(
            debt,
            policy=p,
            capacity=capacity,
            discount_bps=item.discount_bps,
            settle_by=item.settle_by,
        )
    frequency = item.frequency if isinstance(item, plan_requests.SettlementRequest) else None
    return settlement_plan(
        debt,
        policy=p,
        capacity=capacity,
        instalments=item.instalments,
        discount_bps=item.discount_bps,
        frequency=frequency,
    )


def _parties(
    request: plan_requests.InstalmentRequest
    | plan_requests.DeferralRequest
    | plan_requests.SettlementRequest
    | plan_requests.CompareRequest,
    policy: Policy,
    jurisdiction: str | None = None,
) -> tuple[Debt, Capacity | None]:
    debt = engine_debt(request.debt, jurisdiction)
    capacity = (
        None if request.capacity is None else request.capacity.to_engine(debt.currency, policy)
    )
    return debt, capacity


def _first_payment_field(
    request: plan_requests.InstalmentRequest
    | plan_requests.DeferralRequest
    | plan_requests.SettlementRequest
    | plan_requests.CompareRequest,
    item: plan_requests.InstalmentRequest
    | plan_requests.SettlementRequest
    | plan_requests.CompareItem
    | None = None,
) -> str:
    # the request's field that dates the first payment: its own date if given, else the start
    if isinstance(item, plan_requests.InstalmentRequest):
        if item.first_due is not None:
            return "first_due"
    elif item is not None and item.kind == OfferKind.SETTLEMENT and item.settle_by is not None:
        return "settle_by"
    if request.capacity is not None and request.capacity.earliest_start is not None:
        return "capacity.earliest_start"
    return "debt.as_of"


def plan_offer(
    request: plan_requests.InstalmentRequest
    | plan_requests.DeferralRequest
    | plan_requests.SettlementRequest,
    policy: ResolvedPolicy,
    *,
    today: date | None = None,
    prefix: str = "",
    jurisdiction: str | None = None,
) -> Offer:
    """The engine's offer for one explicit plan request; one whose first payment falls before
    ``today`` (default: :func:`debt_today`) is refused, the field named after ``prefix``."""
    debt, capacity = _parties(request, policy.engine, jurisdiction)
    if isinstance(request, plan_requests.InstalmentRequest):
        offer = _instalment(debt, capacity, request, policy.engine)
    elif isinstance(request, plan_requests.DeferralRequest):
        offer = _deferral(debt, capacity, request, policy.engine)
    else:
        offer = _settlement(debt, capacity, request, policy.engine, OfferKind(request.kind))
    item = None if isinstance(request, plan_requests.DeferralRequest) else request
    field = prefix + _first_payment_field(request, item)
    today = today or debt_today(policy, debt.jurisdiction)
    return check_first_payment(offer, today=today, field=field)


def one_plan(
    request: plan_requests.InstalmentRequest
    | plan_requests.DeferralRequest
    | plan_requests.SettlementRequest,
    policy: ResolvedPolicy,
) -> Json:
    """One offer with explicit parameters."""
    offer = plan_offer(request, policy)
    return offer_json(offer, summary=summary(offer, request.locale), policy=policy.used)


def compare_any(
    request: plan_requests.CompareRequest | plan_requests.ConsolidatedCompareRequest,
    policy: ResolvedPolicy,
    *,
    today: date | None = None,
) -> Json:
    """``compare`` for one debt's explicit offers or several debts' kinds."""
    if isinstance(request, plan_requests.CompareRequest):
        return compare_plans(request, policy, today=today)
    jurisdiction = request.debts[0].jurisdiction
    return negotiate_several(request, policy, today=today or debt_today(policy, jurisdiction))


def compare_plans(
    request: plan_requests.CompareRequest, policy: ResolvedPolicy, *, today: date | None = None
) -> Json:
    """Several explicit offers side by side, each with the annual rate its jurisdiction requires
    (ranked as ``rank_by`` says); an infeasible one (one above the cap on that rate, or whose
    first payment falls before ``today``) is listed as rejected."""
    debt, capacity = _parties(request, policy.engine)
    today = today or debt_today(policy, debt.jurisdiction)
    offers: list[Offer] = []
    rejected: list[Rejection] = []
    for i, item in enumerate(request.offers):
        try:
            if item.kind is OfferKind.INSTALMENT:
                offer = _instalment(debt, capacity, item, policy.engine)
            elif item.kind is OfferKind.DEFERRAL:
                offer = _deferral(debt, capacity, item, policy.engine)
            else:
                offer = _settlement(debt, capacity, item, policy.engine, item.kind)
            field = _first_payment_field(request, item)
            if field == "settle_by":
                field = f"offers.{i}.settle_by"
            offers.append(check_first_payment(offer, today=today, field=field))
        except DomainError as error:
            rejected.append(Rejection.of(item.kind, error))
    return offer_set_json(
        compare(offers, rejected, rank_by=request.rank_by),
        currency=debt.currency,
        as_of=debt.as_of,
        summarise=_summariser(request.locale),
        policy=policy.used,
    )


def counter_any(
    request: api.CounterRequest | api.ConsolidatedCounterRequest,
    policy: ResolvedPolicy,
    *,
    today: date | None = None,
) -> Json:
    """``counter`` for one debt, or for several as one plan (the first debt's jurisdiction
    says whose today it is, as for a consolidated negotiation)."""
    if isinstance(request, api.CounterRequest):
        return counter(request, policy, today=today)
    jurisdiction = request.debts[0].jurisdiction
    return counter_several(request, policy, today=today or debt_today(policy, jurisdiction))


def counter(
    request: api.CounterRequest, policy: ResolvedPolicy, *, today: date | None = None
) -> Json:
    """The debtor's proposal, accepted or answered with the nearest allowed offers; none
    whose first payment falls before ``today`` (default: :func:`debt_today`)."""
    debt = engine_debt(request.debt)
    proposal = request.proposal.to_engine(debt.currency)
    today = today or debt_today(policy, debt.jurisdiction)
    result = counter_offer(debt, proposal, policy=policy.engine, today=today)
    return counter_json(result, summarise=_summariser(request.locale), policy=policy.used)
