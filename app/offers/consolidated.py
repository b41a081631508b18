"""Several debts negotiated as one plan, and capacity from an income and expenditure statement.

A consolidated negotiation shares the debtor's capacity between the debts by the policy's
``allocation_rule`` (``plans.consolidation``); a statement's disposable income, by the policy's
affordable share, bounds the payment of any negotiation (``plans.affordability``), and each
offer says how it fits. The sentences are the locale's (gettext catalog).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.i18n import Words
from app.finance.policies import ResolvedPolicy
from app.offers.summaries import day, money, percent
from plans.affordability import Affordability
from plans.allocation import AllocationRule
from plans.calendar import Frequency
from plans.consolidated_counter import counter_consolidated
from plans.consolidation import ConsolidatedOffer, negotiate_consolidated
from plans.money import Rounding, round_div
from plans.policy import OfferKind
from plans.schedule import Line, LineKind
from schemas import offers as api
from schemas import plan_requests
from schemas.common import Locale, minor
from schemas.wire import (
    affordability_json,
    amount_formatter,
    consolidated_counter_json,
    consolidated_json,
    consolidated_set_json,
)

Json = dict[str, Any]
_REGULAR = (LineKind.INSTALMENT, LineKind.DEFERRAL)


def allocation_text(rule: AllocationRule, locale: Locale) -> str:
    """The allocation rule in one sentence, in the locale.

    Examples
    --------
    >>> allocation_text(AllocationRule.OLDEST_FIRST, Locale.EN)[:44]
    'Each payment goes to the debt longest overdu'
    """
    t = Words(locale)
    if rule is AllocationRule.HIGHEST_RATE_FIRST:
        return t.gettext(
            "Each payment goes to the debt with the highest interest rate until it is repaid,"
            " then to the next; within each debt it pays fees, interest and principal in the"
            " policy's order."
        )
    if rule is AllocationRule.OLDEST_FIRST:
        return t.gettext(
            "Each payment goes to the debt longest overdue until it is repaid, then to the"
            " next; within each debt it pays fees, interest and principal in the policy's order."
        )
    return t.gettext(
        "Each payment is shared between the debts in proportion to what each owes; within each"
        " debt it pays fees, interest and principal in the policy's order."
    )


def consolidated_summary(offer: ConsolidatedOffer, locale: Locale) -> str:
    """A consolidated offer in one sentence: how many debts, payments, the largest, the total
    and the last date.

    Examples
    --------
    >>> from plans.allocation import NamedDebt
    >>> from plans.consolidation import consolidated_instalment
    >>> from plans.debt import Capacity, Debt
    >>> from plans.policy import Policy
    >>> debts = [NamedDebt(r, Debt("CNY", a, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for r, a in (("a", 100_000), ("b", 200_000))]
    >>> offer = consolidated_instalment(debts, Capacity(30_000), policy=Policy())
    >>> for part in consolidated_summary(offer, Locale.EN).split("; "):
    ...     print(part)
    2 debts in one plan: 10 payments of at most CN¥300.00, the last on 27 Sep 2027
    total CN¥3,000.00.
    """
    t = Words(locale)
    lines = offer.schedule.lines
    paying = [x for x in lines if x.payment_minor]
    largest = max((x.payment_minor for x in paying), default=0)
    last = paying[-1].payment_date if paying else offer.as_of
    return t.ngettext(
        "%(num)d debts in one plan: %(payments)d payment of at most %(largest)s, the last on"
        " %(last)s; total %(total)s.",
        "%(num)d debts in one plan: %(payments)d payments of at most %(largest)s, the last on"
        " %(last)s; total %(total)s.",
        len(paying),
        num=len(offer.debts),
        payments=len(paying),
        largest=money(largest, offer.currency, locale),
        last=day(last, locale),
        total=money(offer.metrics.total_paid_minor, offer.currency, locale),
    )


def _monthly(payment_minor: int, frequency: Frequency) -> int:
    # a payment every period as a month's worth (x periods a year / 12), half up
    return round_div(payment_minor * frequency.periods_per_year, 12, Rounding.HALF_UP)


def fit(
    kind: OfferKind,
    lines: Sequence[Line],
    afford: Affordability,
    *,
    frequency: Frequency,
    currency: str,
    locale: Locale,
) -> Json | None:
    """How an offer's largest regular payment fits the monthly disposable income ("CN¥1,166.67
    a month of CN¥1,400.00 disposable (83%)"); None for an offer of a lump sum only."""
    regular = [x.payment_minor for x in lines if x.kind in _REGULAR]
    if not regular:
        return None
    monthly = _monthly(max(regular), frequency)
    share = Decimal(monthly) / Decimal(afford.disposable_minor)
    t = Words(locale)
    return {
        "kind": kind.value,
        "monthly": amount_formatter(currency)(monthly),
        "share": str(share.quantize(Decimal("0.0001"))),
        "sentence": t.gettext(
            "%(payment)s a month of %(disposable)s disposable (%(share)s)",
            payment=money(monthly, currency, locale),
            disposable=money(afford.disposable_minor, currency, locale),
            share=percent(share, locale, 0),
        ),
    }


def affordability_of(
    capacity: api.CapacityIn,
    currency: str,
    policy: ResolvedPolicy,
    offers: Sequence[tuple[OfferKind, Sequence[Line]]],
    locale: Locale,
) -> Json | None:
    """The statement's affordability and each offer's fit (None: the capacity has no
    statement)."""
    afford = capacity.affordability(currency, policy.engine)
    if afford is None:
        return None
    per_period = afford.per_period_minor(capacity.frequency)
    stated = (
        None
        if capacity.payment is None
        else minor(capacity.payment, currency, field="capacity.payment")
    )
    fits = [
        f
        for kind, lines in offers
        if (
            f := fit(
                kind,
                lines,
                afford,
                frequency=capacity.frequency,
                currency=currency,
                locale=locale,
            )
        )
        is not None
    ]
    return affordability_json(
        afford,
        currency=currency,
        per_period_minor=per_period,
        stated_minor=stated,
        capacity_minor=per_period if stated is None else min(stated, per_period),
        fits=fits,
    )


def _renderer(
    rule: AllocationRule, locale: Locale, policy: ResolvedPolicy
) -> Callable[[ConsolidatedOffer], Json]:
    """How each consolidated offer of an answer is written: its summary and the allocation
    rule's sentence in ``locale``, the policy it came from."""
    text = allocation_text(rule, locale)
    return lambda offer: consolidated_json(
        offer,
        summary=consolidated_summary(offer, locale),
        allocation_text=text,
        policy=policy.used,
    )


def negotiate_several(
    request: api.ConsolidatedNegotiateRequest | plan_requests.ConsolidatedCompareRequest,
    policy: ResolvedPolicy,
    *,
    today: date,
) -> Json:
    """Every consolidated offer the policy allows for the debts and capacity (a comparison:
    of the kinds it lists), ranked, each line allocated to the debts by the policy's
    allocation rule."""
    debts = request.engine_debts()
    currency = debts[0].debt.currency
    capacity = request.capacity.to_engine(currency, policy.engine)
    rule = policy.engine.allocation_rule
    result = negotiate_consolidated(
        debts,
        capacity,
        policy=policy.engine,
        rule=rule,
        rank_by=request.rank_by,
        today=today,
    )
    if isinstance(request, plan_requests.ConsolidatedCompareRequest):
        kinds = {item.kind for item in request.offers}
        result = dataclasses.replace(
            result,
            ranked=tuple(o for o in result.ranked if o.kind in kinds),
            rejected=tuple(r for r in result.rejected if r.kind in kinds),
        )
    return consolidated_set_json(
        result,
        currency=currency,
        as_of=min(d.debt.as_of for d in debts),
        rule=rule.value,
        render=_renderer(rule, request.locale, policy),
        affordability=affordability_of(
            request.capacity,
            currency,
            policy,
            [(o.kind, o.schedule.lines) for o in result.ranked],
            request.locale,
        ),
    )


def counter_several(
    request: api.ConsolidatedCounterRequest, policy: ResolvedPolicy, *, today: date
) -> Json:
    """The debtor's proposal for several debts as one plan, accepted or answered with the
    nearest consolidated offers the policy allows (each line allocated by its rule); none
    whose first payment falls before ``today``."""
    debts = request.engine_debts()
    currency = debts[0].debt.currency
    rule = policy.engine.allocation_rule
    result = counter_consolidated(
        debts,
        request.proposal.to_engine(currency),
        policy=policy.engine,
        rule=rule,
        today=today,
    )
    return consolidated_counter_json(
        result,
        rule=rule.value,
        render=_renderer(rule, request.locale, policy),
    )
