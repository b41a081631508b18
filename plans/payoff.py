"""Early payoff: what closes a plan on any given date, with the policy's incentive.

The quote is the remaining principal, plus interest arrears and the interest accrued on
principal since the last payment (under the policy's day count), plus unpaid fees, less the
policy's waiver: a share of the interest accrued in the current period and a share of the
fees. Future periods' interest is never owed on a payoff; that is the debtor's main gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from plans.daycount import DayCount, day_count, year_fraction
from plans.errors import InvalidDate
from plans.money import apply_rate, round_div
from plans.offer import Offer, Owed
from plans.policy import ArrearsTreatment, DeferralInterest, OfferKind, Policy
from plans.schedule import LineKind


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    """What closes the plan on ``on``, itemised, in minor units."""

    on: date
    principal_minor: int
    interest_minor: int
    accrued_interest_minor: int
    fees_minor: int
    waived_minor: int
    amount_minor: int
    day_count: DayCount
    days: int


def payoff(
    owed: Owed,
    *,
    nominal_annual_rate: Decimal,
    accrued_from: date,
    on: date,
    policy: Policy,
    waive: bool = True,
) -> PayoffQuote:
    """Payoff of ``owed`` (as it stood on ``accrued_from``) on the date ``on``.

    ``waive`` is whether the policy's early-payoff waiver applies (a broken plan has lost it).

    Examples
    --------
    >>> quote = payoff(
    ...     Owed(1_000_000, 0, 5_000),
    ...     nominal_annual_rate=Decimal("0.0365"),
    ...     accrued_from=date(2026, 1, 1),
    ...     on=date(2026, 1, 11),
    ...     policy=Policy(),
    ... )
    >>> quote.accrued_interest_minor, quote.waived_minor, quote.amount_minor
    (1000, 500, 1005500)
    """
    if on < accrued_from:
        raise InvalidDate("on", "not_before_last_payment", "must not be before the quote's start")
    rate = Fraction(nominal_annual_rate) * year_fraction(accrued_from, on, policy.day_count)
    accrued = apply_rate(owed.principal_minor, rate, policy.rounding)
    waived = 0
    if waive:
        waived += round_div(accrued * policy.payoff_interest_waiver_bps, 10_000, policy.rounding)
        waived += round_div(owed.fees_minor * policy.payoff_fee_waiver_bps, 10_000, policy.rounding)
    interest = owed.interest_minor + accrued
    return PayoffQuote(
        on=on,
        principal_minor=owed.principal_minor,
        interest_minor=interest,
        accrued_interest_minor=accrued,
        fees_minor=owed.fees_minor,
        waived_minor=waived,
        amount_minor=owed.principal_minor + interest + owed.fees_minor - waived,
        day_count=policy.day_count,
        days=day_count(accrued_from, on, policy.day_count),
    )


def payoff_quote(offer: Offer, on: date, *, policy: Policy) -> PayoffQuote:
    """Payoff of an offer on ``on``, assuming every line due before then was paid as scheduled.

    A settlement's quote is what remains of its discounted amount: it carries no interest.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> from plans.instalment import instalment_plan
    >>> debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 40)
    >>> offer = instalment_plan(debt, policy=Policy(plan_rate=None), term=12)
    >>> payoff_quote(offer, date(2026, 1, 15), policy=Policy()).amount_minor  # day 0
    1200000
    """
    if on < offer.as_of:
        raise InvalidDate("on", "not_before_as_of", "must not be before the offer's as-of date")
    paid = [x for x in offer.schedule.lines if x.payment_date <= on]
    if offer.kind in (OfferKind.SETTLEMENT, OfferKind.SETTLEMENT_PLAN):
        remaining = sum(x.payment_minor for x in offer.schedule.lines if x.payment_date > on)
        return PayoffQuote(on, remaining, 0, 0, 0, 0, remaining, policy.day_count, 0)
    if paid:
        last = paid[-1]
        owed = Owed(
            last.closing_principal_minor, last.closing_interest_minor, last.closing_fees_minor
        )
        since = last.payment_date
    else:
        owed, since = offer.owed, offer.as_of
        if policy.arrears is ArrearsTreatment.WAIVE:
            # arrears the plan forgives are forgiven when the plan is made, even if it is
            # paid off before its first line shows the waiver
            owed = Owed(owed.principal_minor, 0, 0)
    if owed.total_minor == 0:
        return PayoffQuote(on, 0, 0, 0, 0, 0, 0, policy.day_count, 0)
    rate = offer.terms.nominal_annual_rate
    upcoming = [x for x in offer.schedule.lines if x.payment_date > on]
    if (
        upcoming
        and upcoming[0].kind is LineKind.DEFERRAL
        and offer.terms.deferral_interest == DeferralInterest.WAIVE.value
    ):
        rate = Decimal(0)  # the plan itself waives the pause's interest
    return payoff(owed, nominal_annual_rate=rate, accrued_from=since, on=on, policy=policy)
