"""Flat-rate contracts: a flat charge each period on the original principal, and its true rate.

Many consumer instalment products state their price as a flat rate per period on the amount
first lent: a Chinese bank card's 分期 with a 手续费 of 0.6 % a month, a Hong Kong personal loan
at a "monthly flat rate", a UK car loan at "5 % flat". The charge never falls as the principal
is repaid, so the true annual rate (on the balance actually owed) is nearly twice the flat rate
times periods a year. The schedule shows the charge line by line, as interest, and the offer
discloses the true rate by each jurisdiction's method beside the flat one
(:class:`plans.offer.FlatTerms`).

Conventions, all named:

- the charge is ``rate_per_period × principal`` rounded once by the plan's rounding, or a
  charge stated in minor units; the same every period;
- the principal and any folded arrears (interest and fees owed when the plan is made) are
  shared equally, the share rounded by the plan's rounding, the last absorbing the residue
  (floored shares when rounding up would overdraw the last); each payment settles the policy's
  waterfall, so arrears are paid first; waived arrears are shown on the first line;
- every instalment is share + charge: equal instalments but for the last one's residue. At a
  flat rate of zero this is the zero-rate level plan of :mod:`plans.instalment`.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from fractions import Fraction

from plans.annual_rates import RateMethod, annual_rate
from plans.calendar import Frequency, due_dates, payment_dates
from plans.debt import Capacity, Debt, check_amount
from plans.errors import InvalidDate, NotAllowed
from plans.instalment import (
    Amortisation,
    Balance,
    arrears_waiver,
    check_fit,
    check_term,
    down_payment,
    down_payment_line,
    finish,
    first_due_date,
    line,
)
from plans.money import Rounding, apply_rate, round_div
from plans.offer import FlatTerms, Offer, Terms
from plans.policy import OfferKind, Policy, check_rate
from plans.schedule import Line, LineKind, Schedule, Waiver


class InterestMethod(enum.StrEnum):
    """How a plan's charge for credit is computed."""

    ACTUARIAL = "actuarial"  # a nominal rate on the balance owed, period by period
    FLAT = "flat"  # a flat charge each period on the original principal


def level_shares(total_minor: int, count: int, *, rounding: Rounding) -> list[int]:
    """``count`` equal shares of ``total_minor``, each rounded by ``rounding``; the last
    absorbs the residue. When rounding up would leave the last share negative, the shares are
    floored instead.

    Examples
    --------
    >>> level_shares(500_000, 18, rounding=Rounding.HALF_UP)[-2:]
    [27778, 27774]
    >>> level_shares(7, 12, rounding=Rounding.HALF_UP)[-2:]  # 1 x 11 would overdraw
    [0, 7]
    """
    if count <= 0:
        raise ValueError("count must be positive")
    share = round_div(total_minor, count, rounding)
    if share * (count - 1) > total_minor:
        share = total_minor // count
    return [share] * (count - 1) + [total_minor - share * (count - 1)]


def flat_charge(
    principal_minor: int,
    *,
    rate_per_period: Decimal | None,
    charge_minor: int | None,
    rounding: Rounding,
) -> int:
    """The charge each period: the stated one, else ``rate_per_period`` of the principal.

    Exactly one of the two is given; each is a 422 naming its field otherwise.

    Examples
    --------
    >>> flat_charge(1_200_000, rate_per_period=Decimal("0.006"), charge_minor=None,
    ...             rounding=Rounding.HALF_UP)  # 0.6 % of 12,000.00
    7200
    """
    if rate_per_period is None and charge_minor is None:
        raise NotAllowed(
            "flat_rate_per_period",
            "flat_charge_required",
            "a flat contract states a flat_rate_per_period or a flat_charge_per_period",
        )
    if rate_per_period is not None and charge_minor is not None:
        raise NotAllowed(
            "flat_charge_per_period",
            "one_flat_charge",
            "give a flat_rate_per_period or a flat_charge_per_period, not both",
        )
    if charge_minor is not None:
        return check_amount(charge_minor, field="flat_charge_per_period")
    assert rate_per_period is not None
    check_rate(rate_per_period, field="flat_rate_per_period")
    return apply_rate(principal_minor, Fraction(rate_per_period), rounding)


def flat_lines(
    balance: Balance,
    *,
    charge_minor: int,
    due: list[date],
    paid_on: list[date],
    first_number: int,
    policy: Policy,
    rounding: Rounding,
    waiver: Waiver | None,
) -> list[Line]:
    """Instalment lines of a flat contract that repay ``balance`` exactly (it ends at zero).

    Each line accrues the flat charge as interest and pays its share of the balance and the
    charge, settled down the policy's waterfall; the last pays what is left.
    """
    opening = balance.total
    waived = 0
    if waiver is not None:
        balance.fees -= waiver.fees_minor
        balance.interest -= waiver.interest_minor
        waived = waiver.total_minor
    count = len(due)
    shares = level_shares(balance.total, count, rounding=rounding)
    lines: list[Line] = []
    for k in range(count):
        balance.interest += charge_minor
        target = shares[k] + charge_minor
        payment = balance.total if k == count - 1 else min(target, balance.total)
        parts = balance.settle(payment, policy.waterfall)
        entry = line(
            first_number + k,
            LineKind.INSTALMENT,
            due[k],
            paid_on[k],
            opening=opening,
            payment=payment,
            parts=parts,
            waived=waived,
            accrued=charge_minor,
            balance=balance,
        )
        lines.append(entry)
        opening, waived = entry.closing_balance_minor, 0
    return lines


def flat_plan(
    debt: Debt,
    *,
    policy: Policy,
    term: int | None,
    rate_per_period: Decimal | None = None,
    charge_minor: int | None = None,
    capacity: Capacity | None = None,
    down_payment_minor: int | None = None,
    frequency: Frequency | None = None,
    first_due: date | None = None,
    rounding: Rounding | None = None,
) -> Offer:
    """A flat contract over ``term`` equal instalments, its true annual rates disclosed.

    Parameters
    ----------
    debt
        What is owed; its principal (less any down payment) is the flat contract's original
        principal, the base of the charge.
    policy
        The policy: arrears treatment, waterfall, maximum term, minimum instalment, rate cap
        (on the true APR), holiday calendar, and the rounding unless ``rounding`` is named.
    term
        Number of instalments (required: 422 ``term``/``required``).
    rate_per_period, charge_minor
        The flat rate per period on the original principal, or the flat charge per period in
        minor units: exactly one.
    rounding
        How the charge and the principal shares are rounded; default the policy's.

    Returns
    -------
    Offer
        An instalment offer whose terms carry :class:`plans.offer.FlatTerms`.

    Examples
    --------
    12 期 at a 手续费 of 0.6 % a month on 12,000.00: 1,072.00 a month, 年化利率 13.03 %.

    >>> debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0"), date(2026, 1, 15), 0)
    >>> offer = flat_plan(debt, policy=Policy(plan_rate=None), term=12,
    ...                   rate_per_period=Decimal("0.006"))
    >>> offer.terms.instalment_minor, offer.terms.flat.flat_annual_rate
    (107200, Decimal('0.072000'))
    >>> [str(r.disclosed_percent) for r in offer.terms.flat.true_rates]
    ['13.03', '13.8', '13.03']
    """
    if term is None:
        raise NotAllowed("term", "required", "a flat contract needs a term")
    frequency = frequency or (capacity.frequency if capacity else Frequency.MONTHLY)
    rounding = rounding or policy.rounding
    check_term(term, frequency, policy)
    if first_due is None:
        first_due = first_due_date(debt, capacity, frequency)
    elif first_due < debt.as_of:
        raise InvalidDate("first_due", "not_before_as_of", "must not be before the as-of date")
    down = down_payment(debt, capacity, policy, down_payment_minor)
    balance = Balance(debt.principal_minor, debt.interest_minor, debt.fees_minor)
    waiver = arrears_waiver(balance, policy)
    lines: list[Line] = []
    if down:
        lines.append(down_payment_line(1, debt.as_of, down, balance, policy, waiver))
    base = balance.principal  # the flat contract's original principal
    charge = flat_charge(
        base, rate_per_period=rate_per_period, charge_minor=charge_minor, rounding=rounding
    )
    due = due_dates(first_due, term, frequency)
    paid_on = payment_dates(due, policy.holiday_country, after=debt.as_of if down else None)
    instalments = flat_lines(
        balance,
        charge_minor=charge,
        due=due,
        paid_on=paid_on,
        first_number=len(lines) + 1,
        policy=policy,
        rounding=rounding,
        waiver=None if down else waiver,
    )
    lines.extend(instalments)
    schedule = Schedule.of(debt.currency, lines)
    check_fit(schedule, capacity=capacity, policy=policy, currency=debt.currency)
    per_year = frequency.periods_per_year
    flat_annual = (
        rate_per_period * per_year
        if rate_per_period is not None
        else Decimal(charge * per_year) / Decimal(base or 1)
    ).quantize(Decimal("0.000001"))
    financed = schedule.totals.payment_minor - schedule.totals.interest_accrued_minor
    advances = [(debt.as_of, financed)]
    payments = schedule.contractual_payments
    rates = tuple(
        annual_rate(advances, payments, method=method, frequency=frequency) for method in RateMethod
    )
    terms = Terms(
        frequency=frequency,
        first_due=first_due,
        instalments=len(instalments),
        instalment_minor=instalments[0].payment_minor,
        nominal_annual_rate=flat_annual,
        down_payment_minor=down,
        amortisation=Amortisation.EQUAL_INSTALMENT.value,
        flat=FlatTerms(rate_per_period, charge, flat_annual, rates),
    )
    return finish(
        OfferKind.INSTALMENT,
        debt,
        schedule=schedule,
        terms=terms,
        waiver=waiver or Waiver(),
        capacity=capacity,
        policy=policy,
    )
