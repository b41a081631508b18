"""Payments against an accepted plan: allocation, instalment and plan status, breaking.

A payment settles instalments oldest first, and within an instalment its scheduled fees,
interest and principal in the policy's waterfall order. Money beyond what is due by the
payment's date and the next instalment is an over-payment: by policy it reduces the last
instalments (shortening the plan) or is refunded. A plan breaks by the policy's rule (so many
missed instalments, or one so many days late); a broken plan loses any discount or waiver it
carried, and what is still owed is recomputed from the original debt with every payment
credited, line by line (a plan that waived nothing keeps its own balance).

Interest is the schedule's: paying early or late does not re-accrue it (late charges are not
part of any plan).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from plans.errors import DomainError, InvalidDate
from plans.offer import Owed
from plans.payoff import PayoffQuote, payoff
from plans.policy import Component, Policy
from plans.schedule import Waiver


class InstalmentStatus(enum.StrEnum):
    """Where one scheduled payment stands on a given day."""

    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    DUE = "due"  # not yet past its payment date
    LATE = "late"  # past its payment date, unpaid, not yet missed
    MISSED = "missed"  # late by the policy's missed_after_days or more


class PlanStatus(enum.StrEnum):
    """Where the whole plan stands (the states of ``plans.lifecycle``).

    :func:`plan_state` judges only ``active``, ``broken`` and ``completed`` by the policy's
    rules on one day; the others are a plan's recorded life: an instalment ``late`` or
    ``missed``, a broken plan ``cured``, or a plan closed by a decision.
    """

    ACTIVE = "active"
    LATE = "late"
    MISSED = "missed"
    BROKEN = "broken"
    CURED = "cured"
    COMPLETED = "completed"
    REPLACED = "replaced"
    CANCELLED = "cancelled"
    WRITTEN_OFF = "written_off"


class Overpayment(enum.StrEnum):
    """What money beyond what is due does."""

    REDUCE_LAST = "reduce_last"  # pays the last instalments first: the plan ends sooner
    REFUND = "refund"  # is handed back


@dataclass(frozen=True, slots=True)
class ScheduledLine:
    """A line of an accepted plan that asks for money (minor units)."""

    number: int
    payment_date: date
    payment_minor: int
    interest_minor: int
    fees_minor: int
    principal_minor: int


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received on a date."""

    paid_on: date
    amount_minor: int
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one payment settled on one line."""

    number: int
    interest_minor: int
    fees_minor: int
    principal_minor: int

    @property
    def total_minor(self) -> int:
        """The three parts together."""
        return self.interest_minor + self.fees_minor + self.principal_minor


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """How a payment was applied: to which lines, how much was an over-payment, refunded."""

    payment: Payment
    allocations: tuple[Allocation, ...]
    overpaid_minor: int  # beyond what was due by its date and the next instalment
    refunded_minor: int
    balance_after_minor: int


@dataclass(frozen=True, slots=True)
class InstalmentState:
    """One line's position on the day of the statement."""

    number: int
    payment_date: date
    due_minor: int
    paid_minor: int
    status: InstalmentStatus
    days_late: int

    @property
    def remaining_minor(self) -> int:
        """Still to pay on this line."""
        return self.due_minor - self.paid_minor


@dataclass(frozen=True, slots=True)
class Revocation:
    """A broken plan's discount withdrawn: the original debt, less every payment credited."""

    owed_before: Owed
    waiver_revoked: Waiver
    credited: tuple[Allocation, ...]  # per payment (number = payment's index, from 1)
    owed_after: Owed


@dataclass(frozen=True, slots=True)
class PlanState:
    """A plan on a given day."""

    on: date
    status: PlanStatus
    broken_reason: str | None
    instalments: tuple[InstalmentState, ...]
    payments: tuple[PaymentResult, ...]
    paid_minor: int
    refunded_minor: int
    outstanding_minor: int
    next_due: InstalmentState | None
    revocation: Revocation | None
    # paid off early (:class:`PayoffTerms`): the day, and the interest its lines scheduled for
    # the days after it that it no longer owes (with the early-payoff waiver)
    paid_off_on: date | None = None
    forgiven_minor: int = 0


@dataclass(frozen=True, slots=True)
class PayoffTerms:
    """What a plan's payoff quote needs besides its lines and payments (:func:`plan_payoff`'s
    terms): given to :func:`plan_state`, a payment that reaches the quote on its day pays the
    plan off."""

    settlement: bool
    nominal_annual_rate: Decimal
    as_of: date
    interest_arrears_minor: int = 0


_ORDER_FIELDS = {
    Component.FEES: "fees_minor",
    Component.INTEREST: "interest_minor",
    Component.PRINCIPAL: "principal_minor",
}


def _settle(
    owed: dict[Component, int], amount: int, waterfall: Sequence[Component]
) -> dict[Component, int]:
    taken = dict.fromkeys(Component, 0)
    for component in waterfall:
        take = min(amount, owed[component])
        owed[component] -= take
        taken[component] = take
        amount -= take
    return taken


def plan_state(
    lines: Sequence[ScheduledLine],
    payments: Sequence[Payment],
    *,
    on: date,
    policy: Policy,
    owed: Owed,
    waiver: Waiver,
    broken: bool | None = None,
    payoff: PayoffTerms | None = None,
) -> PlanState:
    """Apply ``payments`` (in date order) to the plan's ``lines`` and judge the plan on ``on``.

    ``owed`` is the debt as it stood when the offer was made and ``waiver`` what the plan
    gives up; both are needed only if the plan breaks. ``broken`` is whether the plan is
    broken by its record (``plans.lifecycle``: a break stands until cured, whatever is paid
    later); None judges it by the policy's break rule on ``on`` alone.

    With ``payoff`` (the plan's terms), a payment that on its day reaches what closes the plan
    that day (:func:`plan_payoff`: principal, fees and the interest due and accrued, less the
    early-payoff waiver) pays it off, as the quote promised: its principal, then its fees, then
    its interest are paid, what it gave beyond the quote is refunded, and the interest the lines
    scheduled for later days (and the waiver) is no longer owed (``forgiven_minor``): every
    line is settled, each owing what was paid on it. A plan that stands broken by its record
    has no early payoff (it owes its recomputed balance).

    Examples
    --------
    >>> lines = [ScheduledLine(k, date(2027, k, 15), 50_000, 0, 0, 50_000) for k in (1, 2, 3)]
    >>> state = plan_state(
    ...     lines,
    ...     [Payment(date(2027, 1, 15), 50_000), Payment(date(2027, 2, 20), 30_000)],
    ...     on=date(2027, 2, 25),
    ...     policy=Policy(),
    ...     owed=Owed(150_000, 0, 0),
    ...     waiver=Waiver(),
    ... )
    >>> [(s.number, s.status.value, s.paid_minor) for s in state.instalments]
    [(1, 'paid', 50000), (2, 'late', 30000), (3, 'due', 0)]
    >>> state.status.value, state.outstanding_minor
    ('active', 70000)
    """
    ordered = sorted(lines, key=lambda x: x.number)
    remaining = {
        x.number: {
            Component.FEES: x.fees_minor,
            Component.INTEREST: x.interest_minor,
            Component.PRINCIPAL: x.principal_minor,
        }
        for x in ordered
    }
    if any(
        sum(parts.values()) != x.payment_minor
        for x, parts in zip(ordered, remaining.values(), strict=True)
    ):
        raise DomainError("schedule", "parts", "a line's parts do not add up to its payment")
    results: list[PaymentResult] = []
    overpayment = Overpayment(policy.overpayment)
    forgiven = dict.fromkeys(remaining, 0)
    paid_off_on: date | None = None
    early = payoff if broken is not True else None
    for payment in sorted(payments, key=lambda p: p.paid_on):
        if payment.amount_minor <= 0:
            raise DomainError("payment.amount", "positive", "a payment must be more than zero")
        if early is not None and paid_off_on is None and payment.paid_on >= early.as_of:
            paid_off = _paid_off(ordered, remaining, results, payment, early, policy)
            if paid_off is not None:
                result, dropped = paid_off
                results.append(result)
                for number, amount in dropped.items():
                    forgiven[number] += amount
                paid_off_on = payment.paid_on
                continue
        left = payment.amount_minor
        allocations: list[Allocation] = []

        def pay(line: ScheduledLine, allocations: list[Allocation] = allocations) -> None:
            nonlocal left
            if left <= 0:
                return
            taken = _settle(remaining[line.number], left, policy.waterfall)
            spent = sum(taken.values())
            if spent:
                allocations.append(
                    Allocation(
                        line.number,
                        taken[Component.INTEREST],
                        taken[Component.FEES],
                        taken[Component.PRINCIPAL],
                    )
                )
                left -= spent

        due_now = [x for x in ordered if x.payment_date <= payment.paid_on]
        upcoming = [x for x in ordered if x.payment_date > payment.paid_on]
        for line in due_now:
            pay(line)
        # paying the next instalment ahead of its date is the ordinary case, not an excess
        next_open = next((x for x in upcoming if sum(remaining[x.number].values())), None)
        if next_open is not None:
            pay(next_open)
        overpaid = left
        if left and overpayment is Overpayment.REDUCE_LAST:
            for line in reversed(upcoming):
                pay(line)
        refunded = left
        balance = sum(sum(parts.values()) for parts in remaining.values())
        results.append(PaymentResult(payment, tuple(allocations), overpaid, refunded, balance))

    states: list[InstalmentState] = []
    for line in ordered:
        left_on_line = sum(remaining[line.number].values())
        due_on_line = line.payment_minor - forgiven[line.number]
        paid = due_on_line - left_on_line
        days_late = max(0, (on - line.payment_date).days) if left_on_line else 0
        if left_on_line == 0:
            status = InstalmentStatus.PAID
        elif days_late >= policy.missed_after_days and days_late > 0:
            status = InstalmentStatus.MISSED
        elif days_late > 0:
            status = InstalmentStatus.LATE
        elif paid:
            status = InstalmentStatus.PARTLY_PAID
        else:
            status = InstalmentStatus.DUE
        states.append(
            InstalmentState(line.number, line.payment_date, due_on_line, paid, status, days_late)
        )

    outstanding = sum(s.remaining_minor for s in states)
    missed = sum(1 for s in states if s.status is InstalmentStatus.MISSED)
    worst = max((s.days_late for s in states), default=0)
    reason = None
    if broken is not None:
        status_of_plan = PlanStatus.BROKEN if broken else PlanStatus.ACTIVE
        if not broken and outstanding == 0:
            status_of_plan = PlanStatus.COMPLETED
    elif outstanding == 0:
        status_of_plan = PlanStatus.COMPLETED
    elif missed >= policy.break_after_missed:
        status_of_plan, reason = PlanStatus.BROKEN, f"{missed} instalments missed"
    elif worst >= policy.break_after_days_late:
        status_of_plan, reason = PlanStatus.BROKEN, f"an instalment {worst} days late"
    else:
        status_of_plan = PlanStatus.ACTIVE
    paid_total = sum(r.payment.amount_minor - r.refunded_minor for r in results)
    refunded_total = sum(r.refunded_minor for r in results)
    revocation = None
    # Only a discount can be revoked. A plan that waived nothing keeps its own balance:
    # recomputing it from the debt would credit the plan interest it was paid as principal.
    if status_of_plan is PlanStatus.BROKEN and waiver.total_minor:
        # Once broken, every payment goes to the recomputed balance (money beyond the plan's
        # own lines is what the revoked discount asks for); only what exceeds it is refunded.
        revocation = revoke(owed, waiver, [r.payment for r in results], [0] * len(results), policy)
        outstanding = revocation.owed_after.total_minor
        paid_total = sum(a.total_minor for a in revocation.credited)
        refunded_total = sum(r.payment.amount_minor for r in results) - paid_total
    return PlanState(
        on=on,
        status=status_of_plan,
        broken_reason=reason,
        instalments=tuple(states),
        payments=tuple(results),
        paid_minor=paid_total,
        refunded_minor=refunded_total,
        outstanding_minor=outstanding,
        next_due=next(
            (s for s in states if s.remaining_minor and s.status is not InstalmentStatus.PAID), None
        ),
        revocation=revocation,
        paid_off_on=paid_off_on,
        forgiven_minor=sum(forgiven.values()),
    )


def _paid_off(
    ordered: Sequence[ScheduledLine],
    remaining: dict[int, dict[Component, int]],
    results: Sequence[PaymentResult],
    payment: Payment,
    terms: PayoffTerms,
    policy: Policy,
) -> tuple[PaymentResult, dict[int, int]] | None:
    """``payment`` as the early payoff of the plan (its result, and what each line no longer
    owes), or None: it does not reach the day's quote, or the quote is more than the lines
    still ask (the ordinary allocation settles them). Whatever the policy does
    with an over-payment, the quote paid closes the plan: it is what the debtor was told would."""
    before = PlanState(
        payment.paid_on, PlanStatus.ACTIVE, None, (), tuple(results), 0, 0, 0, None, None
    )
    quote = plan_payoff(
        ordered,
        before,
        settlement=terms.settlement,
        nominal_annual_rate=terms.nominal_annual_rate,
        as_of=terms.as_of,
        on=payment.paid_on,
        policy=policy,
        interest_arrears_minor=terms.interest_arrears_minor,
    )
    asked = sum(sum(parts.values()) for parts in remaining.values())
    # (a quote above what the lines ask, interest run on past the last line, is no early
    # payoff: paying the lines settles the plan the ordinary way)
    if quote.amount_minor > asked or payment.amount_minor < quote.amount_minor:
        return None
    # the principal, then the fees, then the interest: what the waiver forgives comes off the
    # interest (then the fees), never the principal; each spread over the lines in order
    caps = {
        Component.PRINCIPAL: quote.principal_minor,
        Component.FEES: quote.fees_minor,
        Component.INTEREST: quote.interest_minor,
    }
    budget = quote.amount_minor
    taken = {x.number: dict.fromkeys(Component, 0) for x in ordered}
    # the quote is all the lines ask (a settlement's remainder, nothing left to accrue): each
    # line is paid what it asks
    for component in () if quote.amount_minor < asked else Component:
        for x in ordered:
            taken[x.number][component] = remaining[x.number][component]
    for component in (Component.PRINCIPAL, Component.FEES, Component.INTEREST):
        if quote.amount_minor == asked:
            break
        want = min(caps[component], budget)
        # interest: the lines due by the day first (what fell due), then the later ones
        lines = ordered
        if component is Component.INTEREST:
            lines = [x for x in ordered if x.payment_date <= payment.paid_on] + [
                x for x in ordered if x.payment_date > payment.paid_on
            ]
        for x in lines:
            take = min(want, remaining[x.number][component])
            taken[x.number][component] += take
            want -= take
        # what no line schedules of it (interest accrued since the last due date beyond the
        # lines' own, a fee credited away) goes on the next line not yet due, else the last
        extra = want
        if extra:
            target = next((x for x in ordered if x.payment_date > payment.paid_on), ordered[-1])
            taken[target.number][component] += extra
        budget -= min(caps[component], budget)
    allocations = tuple(
        Allocation(
            x.number,
            taken[x.number][Component.INTEREST],
            taken[x.number][Component.FEES],
            taken[x.number][Component.PRINCIPAL],
        )
        for x in ordered
        if sum(taken[x.number].values())
    )
    dropped = {}
    for x in ordered:
        left = sum(remaining[x.number].values())
        got = sum(taken[x.number].values())
        # a line that got more than it scheduled (accrued interest put on it) owes that more
        dropped[x.number] = left - got
        for component in Component:
            remaining[x.number][component] = 0
    extra_minor = payment.amount_minor - quote.amount_minor
    return (
        PaymentResult(payment, allocations, extra_minor, extra_minor, 0),
        dropped,
    )


def revoke(
    owed: Owed,
    waiver: Waiver,
    payments: Sequence[Payment],
    refunded: Sequence[int],
    policy: Policy,
) -> Revocation:
    """The original debt with every payment credited down the waterfall, no waiver applied.

    Examples
    --------
    >>> r = revoke(Owed(100_000, 10_000, 5_000), Waiver(5_000, 10_000, 0),
    ...            [Payment(date(2027, 1, 1), 40_000)], [0], Policy())
    >>> r.owed_after
    Owed(principal_minor=75000, interest_minor=0, fees_minor=0)
    """
    left = {
        Component.FEES: owed.fees_minor,
        Component.INTEREST: owed.interest_minor,
        Component.PRINCIPAL: owed.principal_minor,
    }
    credited: list[Allocation] = []
    for index, (payment, refund) in enumerate(zip(payments, refunded, strict=True), start=1):
        taken = _settle(left, payment.amount_minor - refund, policy.waterfall)
        credited.append(
            Allocation(
                index, taken[Component.INTEREST], taken[Component.FEES], taken[Component.PRINCIPAL]
            )
        )
    return Revocation(
        owed_before=owed,
        waiver_revoked=waiver,
        credited=tuple(credited),
        owed_after=Owed(left[Component.PRINCIPAL], left[Component.INTEREST], left[Component.FEES]),
    )


def check_payment(payment: Payment, *, accepted_on: date) -> Payment:
    """A payment must be positive and not dated before the plan was accepted."""
    if payment.amount_minor <= 0:
        raise DomainError("amount", "positive", "a payment must be more than zero")
    if payment.paid_on < accepted_on:
        raise InvalidDate("date", "not_before_acceptance", "is before the plan was accepted")
    return payment


def plan_payoff(
    lines: Sequence[ScheduledLine],
    state: PlanState,
    *,
    settlement: bool,
    nominal_annual_rate: Decimal,
    as_of: date,
    on: date,
    policy: Policy,
    interest_arrears_minor: int = 0,
) -> PayoffQuote:
    """What closes an accepted plan on ``on``, given the payments actually received.

    Principal and fees still scheduled and unpaid are owed; of the interest, only what fell
    due on or before ``on`` and is unpaid, plus interest accrued on the unpaid principal since
    the last due date (the policy's day count and early-payoff waiver, as in
    :func:`plans.payoff.payoff`). ``interest_arrears_minor`` is the interest in arrears on the
    as-of date that the plan folds in (and does not waive): owed from the start, though the
    lines that carry it may not be due yet. Interest already paid on lines not yet due, beyond
    their arrears, is for days not yet run: it is credited against the principal (then, if
    it is more than the principal, against the rest), so no part of the quote is ever below
    zero. A settlement owes what remains of its discounted total; a broken plan that lost a
    discount owes its recomputed balance; a broken plan gets no early-payoff waiver.

    Examples
    --------
    >>> lines = [ScheduledLine(k, date(2027, k, 15), 50_000, 0, 0, 50_000) for k in (1, 2, 3)]
    >>> state = plan_state(lines, [Payment(date(2027, 1, 15), 50_000)], on=date(2027, 2, 1),
    ...                    policy=Policy(), owed=Owed(150_000, 0, 0), waiver=Waiver())
    >>> plan_payoff(lines, state, settlement=False, nominal_annual_rate=Decimal(0),
    ...             as_of=date(2026, 12, 15), on=date(2027, 2, 1), policy=Policy()).amount_minor
    100000
    """
    if on < as_of:
        raise InvalidDate("on", "not_before_as_of", "must not be before the plan's as-of date")
    if state.revocation is not None:
        after = state.revocation.owed_after
        return PayoffQuote(
            on,
            after.principal_minor,
            after.interest_minor,
            0,
            after.fees_minor,
            0,
            after.total_minor,
            policy.day_count,
            0,
        )
    ordered = sorted(lines, key=lambda x: x.number)
    paid: dict[int, list[int]] = {x.number: [0, 0, 0] for x in ordered}
    for result in state.payments:
        for a in result.allocations:
            paid[a.number][0] += a.interest_minor
            paid[a.number][1] += a.fees_minor
            paid[a.number][2] += a.principal_minor
    remaining = sum(x.payment_minor - sum(paid[x.number]) for x in ordered)
    if settlement or remaining == 0:
        return PayoffQuote(on, remaining, 0, 0, 0, 0, remaining, policy.day_count, 0)
    principal = sum(x.principal_minor - paid[x.number][2] for x in ordered)
    fees = sum(x.fees_minor - paid[x.number][1] for x in ordered)
    interest_owed = sum(
        x.interest_minor - paid[x.number][0] for x in ordered if x.payment_date <= on
    )
    # Arrears are paid first, so they are the first interest the lines schedule; what of them
    # sits on lines not yet due is owed all the same (plans.payoff.payoff_quote agrees).
    arrears_left = max(
        0, interest_arrears_minor - sum(x.interest_minor for x in ordered if x.payment_date <= on)
    )
    credit = 0
    for x in ordered:
        if x.payment_date <= on:
            continue
        arrears = min(arrears_left, x.interest_minor)
        arrears_left -= arrears
        interest_owed += arrears - min(arrears, paid[x.number][0])
        # Interest paid ahead on a line not yet due (paying the next instalment early is the
        # ordinary case; an over-payment pays the last lines) is for days not yet run: the
        # quote would charge those days twice, once as paid and again as accrued since the
        # last due date. It comes off the principal, not the interest.
        credit += max(0, paid[x.number][0] - arrears)
    since = max((x.payment_date for x in ordered if x.payment_date <= on), default=as_of)
    quote = payoff(
        Owed(principal, interest_owed, fees),
        nominal_annual_rate=nominal_annual_rate,
        accrued_from=since,
        on=on,
        policy=policy,
        # a broken plan has lost the early-payoff incentive, whether or not it lost a discount
        waive=state.status is not PlanStatus.BROKEN,
    )
    return _credited(quote, credit)


def _credited(quote: PayoffQuote, credit_minor: int) -> PayoffQuote:
    # The credit comes off the principal; what is left of it off the interest (down to what
    # the waiver takes of it) and then the fees, so the amount never goes below zero and the
    # parts still add up: principal + interest + fees - waived = amount.
    from_principal = min(credit_minor, quote.principal_minor)
    left = credit_minor - from_principal
    payable = quote.interest_minor + quote.fees_minor - quote.waived_minor
    take = min(left, payable)
    from_interest = min(take, quote.interest_minor - min(quote.interest_minor, quote.waived_minor))
    from_fees = take - from_interest
    interest = quote.interest_minor - from_interest
    return dataclasses.replace(
        quote,
        principal_minor=quote.principal_minor - from_principal,
        interest_minor=interest,
        accrued_interest_minor=min(quote.accrued_interest_minor, interest),
        fees_minor=quote.fees_minor - from_fees,
        amount_minor=quote.amount_minor - from_principal - take,
    )


@dataclass(frozen=True, slots=True)
class StandingQuote:
    """A payoff quote and the last day its amount holds if nothing more is paid meanwhile.

    ``valid_until`` is None when only a payment can change it (a settlement's remainder, a
    broken plan's recomputed balance).
    """

    quote: PayoffQuote
    valid_until: date | None


def breaks_on(state: PlanState, policy: Policy) -> date | None:
    """The first day after ``state.on`` that the policy's break rule breaks the plan if
    nothing more is paid; None if it is broken or closed already.

    A line still unpaid counts as missed ``missed_after_days`` after its payment date (and a
    day late at the least); the plan breaks at ``break_after_missed`` of those, or when its
    oldest unpaid line is ``break_after_days_late`` days late (:func:`plan_state`'s rule).

    Examples
    --------
    >>> lines = [ScheduledLine(k, date(2027, k, 15), 50_000, 0, 0, 50_000) for k in (1, 2, 3)]
    >>> state = plan_state(lines, [], on=date(2027, 1, 20), policy=Policy(),
    ...                    owed=Owed(150_000, 0, 0), waiver=Waiver())
    >>> breaks_on(state, Policy())  # 15 Jan + 30 days late
    datetime.date(2027, 2, 14)
    """
    if state.status not in (
        PlanStatus.ACTIVE,
        PlanStatus.LATE,
        PlanStatus.MISSED,
        PlanStatus.CURED,
    ):
        return None
    unpaid = sorted(s.payment_date for s in state.instalments if s.remaining_minor)
    if not unpaid:
        return None
    missed = [d + timedelta(days=max(1, policy.missed_after_days)) for d in unpaid]
    days = [unpaid[0] + timedelta(days=policy.break_after_days_late)]
    if len(missed) >= policy.break_after_missed:
        days.append(missed[policy.break_after_missed - 1])
    return max(state.on + timedelta(days=1), min(days))


def standing_payoff(
    lines: Sequence[ScheduledLine],
    state: PlanState,
    *,
    settlement: bool,
    nominal_annual_rate: Decimal,
    as_of: date,
    on: date,
    policy: Policy,
    interest_arrears_minor: int = 0,
) -> StandingQuote:
    """:func:`plan_payoff` on ``on`` (``state`` is the plan's on that day) and how long it holds.

    Where interest accrues (a plan rate above 0 on principal still unpaid), the amount holds
    for the day only. Otherwise it changes only when a line falls due (its interest becomes
    owed, a credit for interest paid ahead ends) or the plan breaks (it loses the early-payoff
    waiver or its discount): it holds until the day before the next payment date or the break,
    whichever is first. A settlement's remainder and a broken plan's recomputed balance do not
    depend on the date at all: only a break (or a payment) changes them.

    Examples
    --------
    >>> lines = [ScheduledLine(k, date(2027, k, 15), 50_000, 0, 0, 50_000) for k in (1, 2, 3)]
    >>> state = plan_state(lines, [Payment(date(2027, 1, 15), 50_000)], on=date(2027, 2, 1),
    ...                    policy=Policy(), owed=Owed(150_000, 0, 0), waiver=Waiver())
    >>> held = standing_payoff(lines, state, settlement=False, nominal_annual_rate=Decimal(0),
    ...                        as_of=date(2026, 12, 15), on=date(2027, 2, 1), policy=Policy())
    >>> held.quote.amount_minor, held.valid_until
    (100000, datetime.date(2027, 2, 14))
    """
    quote = plan_payoff(
        lines,
        state,
        settlement=settlement,
        nominal_annual_rate=nominal_annual_rate,
        as_of=as_of,
        on=on,
        policy=policy,
        interest_arrears_minor=interest_arrears_minor,
    )
    if quote.amount_minor == 0 and state.outstanding_minor == 0:
        return StandingQuote(quote, None)
    by_date = state.revocation is None and not settlement
    unpaid_principal = sum(x.principal_minor for x in lines) - sum(
        a.principal_minor for r in state.payments for a in r.allocations
    )
    if by_date and nominal_annual_rate > 0 and unpaid_principal > 0:
        return StandingQuote(quote, on)  # interest accrues by the day
    ends = [d for d in (breaks_on(state, policy),) if d is not None]
    if by_date:
        ends += sorted(x.payment_date for x in lines if x.payment_date > on)[:1]
    return StandingQuote(quote, min(ends) - timedelta(days=1) if ends else None)
