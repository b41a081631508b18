"""The debtor's counter-proposal: accepted as it stands, or the nearest offers that are.

A debtor proposes a payment per period, a term, a start date, or some of these. If the policy
allows the plan they describe, it is accepted as is: a proposed payment is paid exactly, every
period until the debt is repaid, the last one smaller (never re-levelled to a lower figure).
If not, the engine says why and offers the nearest feasible alternatives: the same payment for
longer, the same term for more a period, or a later start (a pause, then the same payment).

How a proposal is judged (:func:`judge`) does not depend on what the plans are for: one debt
here (:func:`counter_offer`), several as one plan in :mod:`plans.consolidated_counter`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeAlias, TypeVar

from plans.calendar import Frequency
from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.errors import DomainError, InvalidDate
from plans.instalment import Until, instalment_plan
from plans.money import label
from plans.offer import Offer, Rejection, check_first_payment
from plans.policy import OfferKind, Policy

OfferT = TypeVar("OfferT")


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
class Choice(Generic[OfferT]):
    """A feasible offer (of one debt, or several) near the proposal, and what it changes."""

    change: Change
    offer: OfferT
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict(Generic[OfferT]):
    """The verdict on a proposal, for one debt's offers or several debts'."""

    accepted: bool
    offer: OfferT | None
    rejections: tuple[Rejection, ...]
    alternatives: tuple[Choice[OfferT], ...]


# One debt's verdict and alternatives (several debts': plans.consolidated_counter).
Alternative: TypeAlias = Choice[Offer]
CounterResult: TypeAlias = Verdict[Offer]


@dataclass(frozen=True, slots=True)
class Shape:
    """What judging needs to know of a plan: its number of payments, the payment a period it
    asks (the level one, or the proposed one) and its largest regular payment."""

    instalments: int
    payment_minor: int
    largest_payment_minor: int
    paused_periods: int = 0


@dataclass(frozen=True, slots=True)
class Plans(Generic[OfferT]):
    """How to make the plans a proposal is judged by, from a capacity built of the proposal.

    ``by_term(term, capacity)``: the level plan over ``term`` payments; ``by_payment(payment,
    capacity)``: that payment exactly until repaid; ``paused(capacity)``: the policy's pause,
    then the payment; ``checked(offer, today, field)``: the offer, if its first payment is not
    before ``today``; ``shape(offer)``: its :class:`Shape`.
    """

    currency: str
    earliest_as_of: date  # the start delay counts from it
    latest_as_of: date  # no start before it
    as_of_field: str  # names the as-of date that dates a first payment when no start is given
    by_term: Callable[[int, Capacity], OfferT]
    by_payment: Callable[[int, Capacity], OfferT]
    paused: Callable[[Capacity], OfferT]
    checked: Callable[[OfferT, date, str], OfferT]
    shape: Callable[[OfferT], Shape]


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
    frequency = proposal.frequency
    plans: Plans[Offer] = Plans(
        currency=debt.currency,
        earliest_as_of=debt.as_of,
        latest_as_of=debt.as_of,
        as_of_field="debt.as_of",
        by_term=lambda term, capacity: instalment_plan(
            debt, policy=policy, capacity=capacity, term=term, frequency=frequency
        ),
        # exactly the debtor's figure until repaid: the plan they proposed, not a re-levelled one
        by_payment=lambda payment, capacity: instalment_plan(
            debt,
            policy=policy,
            capacity=capacity,
            payment_minor=payment,
            frequency=frequency,
            until=Until.REPAID,
        ),
        paused=lambda capacity: deferral_plan(debt, policy=policy, capacity=capacity),
        checked=lambda offer, today, field: check_first_payment(offer, today=today, field=field),
        shape=lambda offer: Shape(
            offer.terms.instalments,
            offer.terms.instalment_minor,
            offer.metrics.largest_payment_minor,
            offer.terms.deferral_periods,
        ),
    )
    return judge(proposal, plans, policy=policy, today=today)


def judge(
    proposal: Proposal, plans: Plans[OfferT], *, policy: Policy, today: date | None = None
) -> Verdict[OfferT]:
    """The verdict on ``proposal``, its plans made by ``plans``: accepted when the plan it
    describes is one the policy allows, else the rejections (field and rule) and the nearest
    allowed alternatives (:class:`Change`).

    Examples
    --------
    See :func:`counter_offer` (one debt) and
    :func:`plans.consolidated_counter.counter_consolidated` (several).
    """
    latest = plans.earliest_as_of + timedelta(days=policy.max_start_delay_days)
    start = proposal.start
    currency = plans.currency
    if start is not None and start < plans.latest_as_of:
        raise InvalidDate("start", "not_before_as_of", "must not be before the as-of date")
    if start is not None and today is not None and start < today:
        raise InvalidDate(
            "start", "first_payment_not_in_past", f"must not be before today ({today.isoformat()})"
        )
    rejections: list[Rejection] = []
    alternatives: list[Choice[OfferT]] = []
    if start is not None and start > latest:
        rejections.append(
            Rejection(
                OfferKind.INSTALMENT,
                "start",
                "max_start_delay",
                f"the policy lets a plan start at most {policy.max_start_delay_days} days after"
                f" {plans.earliest_as_of.isoformat()}",
            )
        )
        start = latest

    def capacity(payment: int) -> Capacity:
        return Capacity(payment, proposal.lump_sum_minor, start, proposal.frequency)

    def attempt(make: Callable[[], OfferT]) -> OfferT | DomainError:
        try:
            if today is None:
                return make()
            return plans.checked(make(), today, "start" if start else plans.as_of_field)
        except DomainError as error:
            return error

    def made(plan: OfferT | DomainError | None) -> Shape | None:
        return None if plan is None or isinstance(plan, DomainError) else plans.shape(plan)

    payment, term = proposal.payment_minor, proposal.term
    if payment is None and term is None:
        raise DomainError("proposal", "required", "propose a payment, a term, or both")
    by_term: OfferT | DomainError | None = None
    by_payment: OfferT | DomainError | None = None
    if term is not None:
        by_term = attempt(lambda: plans.by_term(term, capacity(0)))
    if payment is not None:
        by_payment = attempt(lambda: plans.by_payment(payment, capacity(payment)))
    term_shape, payment_shape = made(by_term), made(by_payment)
    as_is = by_payment if by_payment is not None else by_term
    too_long = payment_shape is not None and term is not None and payment_shape.instalments > term
    if too_long:
        assert payment_shape is not None
        as_is = DomainError(
            "payment",
            "capacity",
            f"{label(payment_shape.payment_minor, currency)} a period repays the debt"
            f" in {payment_shape.instalments} payments, not {term}",
        )
    assert as_is is not None
    if not isinstance(as_is, DomainError) and not rejections:
        return Verdict(True, as_is, (), ())
    if isinstance(as_is, DomainError):
        rejections.append(Rejection.of(OfferKind.INSTALMENT, as_is))
    else:
        alternatives.append(
            Choice(Change.EARLIER_START, as_is, "starts on the latest date the policy allows")
        )
    if (
        term_shape is not None
        and payment is not None
        and term_shape.payment_minor > payment
        and not isinstance(by_term, DomainError)
        and by_term is not None
    ):
        alternatives.append(
            Choice(
                Change.HIGHER_PAYMENT,
                by_term,
                f"the same {term} payments need {label(term_shape.payment_minor, currency)} each",
            )
        )
    if too_long and not isinstance(by_payment, DomainError) and by_payment is not None:
        assert payment_shape is not None
        alternatives.append(
            Choice(
                Change.LONGER_TERM,
                by_payment,
                f"{payment_shape.instalments} payments of at most"
                f" {label(payment_shape.largest_payment_minor, currency)}",
            )
        )
    elif isinstance(by_payment, DomainError) and by_payment.rule == "max_term":
        longest = policy.max_periods(proposal.frequency.periods_per_year)
        stretched = attempt(lambda: plans.by_term(longest, capacity(0)))
        stretched_shape = made(stretched)
        if stretched_shape is not None and not isinstance(stretched, DomainError):
            alternatives.append(
                Choice(
                    Change.LONGER_TERM,
                    stretched,
                    f"the longest term the policy allows, {longest} payments of"
                    f" {label(stretched_shape.payment_minor, currency)}",
                )
            )
    if payment is not None and (by_payment is None or isinstance(by_payment, DomainError)):
        later = attempt(lambda: plans.paused(capacity(payment)))
        later_shape = made(later)
        if later_shape is not None and not isinstance(later, DomainError):
            alternatives.append(
                Choice(
                    Change.LATER_START,
                    later,
                    f"a pause of {later_shape.paused_periods} periods, then"
                    f" {later_shape.instalments} payments",
                )
            )
    return Verdict(False, None, tuple(rejections), tuple(alternatives))
