"""The offer set for a debt, ranked, with the reason each rejected kind was not made."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from plans.amortisation import PlanDates
from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError
from plans.instalment import Until, instalment_plan
from plans.offer import Offer, Rejection, check_first_payment
from plans.policy import OfferKind, Policy
from plans.settlement import settlement, settlement_plan


class RankBy(enum.StrEnum):
    """What a comparison puts first."""

    EXPECTED_RECOVERY = "expected_recovery"  # the creditor's risk-weighted present value
    NPV = "npv"  # present value if every payment is made
    TOTAL_PAID = "total_paid"
    DEBTOR_COST = "debtor_cost"  # least paid by the debtor first


@dataclass(frozen=True, slots=True)
class Comparison:
    """Feasible offers best first, and the kinds rejected with their reasons."""

    ranked: tuple[Offer, ...]
    rejected: tuple[Rejection, ...]
    ranked_by: RankBy

    @property
    def best(self) -> Offer | None:
        """The first-ranked offer, if any offer was feasible."""
        return self.ranked[0] if self.ranked else None


_KIND_ORDER = {kind: i for i, kind in enumerate(OfferKind)}


def _key(rank_by: RankBy) -> Callable[[Offer], tuple[int, int, int]]:
    def key(offer: Offer) -> tuple[int, int, int]:
        m = offer.metrics
        primary = {
            RankBy.EXPECTED_RECOVERY: -m.expected_recovery_minor,
            RankBy.NPV: -m.npv_minor,
            RankBy.TOTAL_PAID: -m.total_paid_minor,
            RankBy.DEBTOR_COST: m.total_paid_minor,
        }[rank_by]
        return primary, -m.npv_minor, _KIND_ORDER[offer.kind]

    return key


def compare(
    offers: Sequence[Offer],
    rejected: Sequence[Rejection] = (),
    *,
    rank_by: RankBy = RankBy.EXPECTED_RECOVERY,
) -> Comparison:
    """Rank ``offers`` (ties broken by NPV, then by kind), keeping ``rejected`` alongside.

    Examples
    --------
    >>> compare([]).best is None
    True
    """
    return Comparison(tuple(sorted(offers, key=_key(rank_by))), tuple(rejected), rank_by)


def negotiate(
    debt: Debt,
    capacity: Capacity,
    *,
    policy: Policy,
    rank_by: RankBy = RankBy.EXPECTED_RECOVERY,
    today: date | None = None,
    until: Until | None = None,
) -> Comparison:
    """Every offer the policy allows for this debt and capacity, ranked.

    One of each kind: the shortest instalment plan that fits, the policy's deferral followed by
    the shortest fitting instalments, a lump-sum settlement, and a settlement in instalments.
    With ``today`` (the debt's jurisdiction's), an offer whose first payment would fall before
    it is rejected (``first_payment_not_in_past``) like any other the policy does not allow.
    With ``until=Until.REPAID`` the capacity's payment is the debtor's own figure: the
    instalment offer pays exactly it every period and a smaller last one, if the policy allows
    the term that takes.

    Examples
    --------
    >>> from decimal import Decimal
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 120)
    >>> result = negotiate(debt, Capacity(125_000), policy=Policy())
    >>> [o.kind.value for o in result.ranked]
    ['instalment', 'deferral']
    >>> [(r.kind.value, r.rule) for r in result.rejected]
    [('settlement', 'lump_sum'), ('settlement_plan', 'capacity')]
    """
    # the plans start on the same first due date: their dates and line rates are laid out once
    dates = PlanDates()
    makers: list[tuple[OfferKind, Callable[[], Offer]]] = [
        (
            OfferKind.INSTALMENT,
            lambda: instalment_plan(
                debt, policy=policy, capacity=capacity, until=until, dates=dates
            ),
        ),
        (
            OfferKind.DEFERRAL,
            lambda: deferral_plan(debt, policy=policy, capacity=capacity, dates=dates),
        ),
        (OfferKind.SETTLEMENT, lambda: settlement(debt, policy=policy, capacity=capacity)),
        (
            OfferKind.SETTLEMENT_PLAN,
            lambda: settlement_plan(debt, policy=policy, capacity=capacity, dates=dates),
        ),
    ]
    capacity.start(debt)  # an input error, not a reason to reject every kind
    offers: list[Offer] = []
    rejected: list[Rejection] = []
    start = "capacity.earliest_start" if capacity.earliest_start else "debt.as_of"
    for kind, make in makers:
        try:
            offer = make()
            if today is not None:
                check_first_payment(offer, today=today, field=start)
            offers.append(offer)
        except DomainError as error:
            rejected.append(Rejection.of(kind, error))
    return compare(offers, rejected, rank_by=rank_by)
