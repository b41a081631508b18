"""The debtor's counter-proposal: accepted as it stands, or the nearest offers that are.

A debtor proposes a payment per period, a term, a start date, or some of these. If the policy
allows the plan they describe, it is accepted as is: a proposed payment is paid exactly, every
period until the debt is repaid, the last one smaller (never re-levelled to a lower figure).
If not, the engine says why and offers the nearest feasible alternatives: the same payment for
longer, the same term for more a period, or a later start (a pause, then the same payment).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from plans.calendar import Frequency
from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError, InvalidDate
from plans.instalment import Until, instalment_plan
from plans.money import label
from plans.offer import Offer, Rejection, check_first_payment
from plans.policy import OfferKind, Policy


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the debtor proposes; any of payment, term and start may be left out."""

    payment_minor: int | None = None
    term: int | None = None
    start: date | None = None
    frequency: Frequency = Frequency.MONTHLY
    lump_sum_minor: int = 0


class Change(enum.StrEnum):
    """How an alternative differs from the proposal."""

    LONGER_TERM = "longer_term"
    HIGHER_PAYMENT = "higher_payment"
    LATER_START = "later_start"
    EARLIER_START = "earlier_start"


@dataclass(frozen=True, slots=True)
class Alternative:
    """A feasible offer near the proposal, and what it changes."""

    change: Change
    offer: Offer
    reason: str


@dataclass(frozen=True, slots=True)
class CounterResult:
    """The verdict on a proposal."""

    accepted: bool
    offer: Offer | None
    rejections: tuple[Rejection, ...]
    alternatives: tuple[Alternative, ...]


def counter_offer(
    debt: Debt, proposal: Proposal, *, policy: Policy, today: date | None = None
) -> CounterResult:
    """Evaluate a debtor's proposal under ``policy``.

    With ``today`` (the debt's jurisdiction's), a proposed start before it is refused and no
    plan is accepted or offered whose first payment would fall before it
    (``first_payment_not_in_past``).

    Examples
    --------
    >>> from decimal import Decimal
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    >>> result = counter_offer(debt, Proposal(payment_minor=20_000, term=12), policy=Policy())
    >>> result.accepted, [r.rule for r in result.rejections]
    (False, ['max_term'])
    >>> [(a.change.value, a.offer.terms.instalments, a.offer.terms.instalment_minor)
    ...  for a in result.alternatives]
    [('higher_payment', 12, 83333), ('longer_term', 36, 27778)]
    """
    latest = debt.as_of + timedelta(days=policy.max_start_delay_days)
    start = proposal.start
    if start is not None and start < debt.as_of:
        raise InvalidDate("start", "not_before_as_of", "must not be before the as-of date")
    if start is not None and today is not None and start < today:
        raise InvalidDate(
            "start", "first_payment_not_in_past", f"must not be before today ({today.isoformat()})"
        )
    rejections: list[Rejection] = []
    alternatives: list[Alternative] = []
    if start is not None and start > latest:
        rejections.append(
            Rejection(
                OfferKind.INSTALMENT,
                "start",
                "max_start_delay",
                f"the policy lets a plan start at most {policy.max_start_delay_days} days after"
                f" {debt.as_of.isoformat()}",
            )
        )
        start = latest

    def capacity(payment: int) -> Capacity:
        return Capacity(payment, proposal.lump_sum_minor, start, proposal.frequency)

    def attempt(make: Callable[[], Offer]) -> Offer | DomainError:
        try:
            if today is None:
                return make()
            return check_first_payment(
                make(), today=today, field="start" if start else "debt.as_of"
            )
        except DomainError as error:
            return error

    payment, term = proposal.payment_minor, proposal.term
    if payment is None and term is None:
        raise DomainError("proposal", "required", "propose a payment, a term, or both")
    by_term = by_payment = None
    if term is not None:
        by_term = attempt(
            lambda: instalment_plan(
                debt, policy=policy, capacity=capacity(0), term=term, frequency=proposal.frequency
            )
        )
    if payment is not None:
        # exactly the debtor's figure until repaid: the plan they proposed, not a re-levelled one
        by_payment = attempt(
            lambda: instalment_plan(
                debt,
                policy=policy,
                capacity=capacity(payment),
                payment_minor=payment,
                frequency=proposal.frequency,
                until=Until.REPAID,
            )
        )
    as_is = by_payment if by_payment is not None else by_term
    if isinstance(by_payment, Offer) and term is not None and by_payment.terms.instalments > term:
        as_is = DomainError(
            "payment",
            "capacity",
            f"{label(by_payment.terms.instalment_minor, debt.currency)} a period repays the debt"
            f" in {by_payment.terms.instalments} payments, not {term}",
        )
    assert as_is is not None
    if isinstance(as_is, Offer) and not rejections:
        return CounterResult(True, as_is, (), ())
    if isinstance(as_is, DomainError):
        rejections.append(Rejection.of(OfferKind.INSTALMENT, as_is))
    else:
        alternatives.append(
            Alternative(Change.EARLIER_START, as_is, "starts on the latest date the policy allows")
        )
    if (
        isinstance(by_term, Offer)
        and payment is not None
        and by_term.terms.instalment_minor > payment
    ):
        alternatives.append(
            Alternative(
                Change.HIGHER_PAYMENT,
                by_term,
                f"the same {term} payments need"
                f" {label(by_term.terms.instalment_minor, debt.currency)} each",
            )
        )
    if isinstance(by_payment, Offer) and term is not None and by_payment.terms.instalments > term:
        alternatives.append(
            Alternative(
                Change.LONGER_TERM,
                by_payment,
                f"{by_payment.terms.instalments} payments of at most"
                f" {label(by_payment.metrics.largest_payment_minor, debt.currency)}",
            )
        )
    elif isinstance(by_payment, DomainError) and by_payment.rule == "max_term":
        longest = policy.max_periods(proposal.frequency.periods_per_year)
        stretched = attempt(
            lambda: instalment_plan(
                debt,
                policy=policy,
                capacity=capacity(0),
                term=longest,
                frequency=proposal.frequency,
            )
        )
        if isinstance(stretched, Offer):
            alternatives.append(
                Alternative(
                    Change.LONGER_TERM,
                    stretched,
                    f"the longest term the policy allows, {longest} payments of"
                    f" {label(stretched.terms.instalment_minor, debt.currency)}",
                )
            )
    if payment is not None and not isinstance(by_payment, Offer):
        later = attempt(lambda: deferral_plan(debt, policy=policy, capacity=capacity(payment)))
        if isinstance(later, Offer):
            alternatives.append(
                Alternative(
                    Change.LATER_START,
                    later,
                    f"a pause of {later.terms.deferral_periods} periods, then"
                    f" {later.terms.instalments} payments",
                )
            )
    return CounterResult(False, None, tuple(rejections), tuple(alternatives))
