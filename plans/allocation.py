"""Several debts, one payment: how money paid towards a consolidated plan is shared out.

The policy's allocation rule orders or weighs the debts; each debt's own waterfall (fees,
interest, principal by default) then applies within its share, exactly as a payment against
that debt alone would.

- ``pro_rata``: by outstanding balance, the UK debt-management convention (National Debtline,
  "Pro-rata offers of payment": each creditor's share is the amount available times what that
  creditor is owed, divided by the total owed). The shares are allocated by the largest
  remainder, so they always add up to the payment: published examples that round each share
  on its own can leave a penny unpaid, or pay one too many.
- ``highest_rate_first`` (the "avalanche"): the debt with the highest contractual nominal rate
  is paid off first, then the next; equal rates in order of ``ref``.
- ``oldest_first``: the debt longest past due first; equal days in order of ``ref``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plans.debt import Debt, check_amount
from plans.errors import DomainError
from plans.instalment import Balance
from plans.money import allocate
from plans.offer import Owed
from plans.policy import AllocationRule as AllocationRule  # its home: the policy chooses it
from plans.policy import Policy

MAX_DEBTS = 10


@dataclass(frozen=True, slots=True)
class NamedDebt:
    """A debt of a consolidated plan and the reference it is known by (an account number).

    Examples
    --------
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> NamedDebt("card", Debt("GBP", 100_000, 0, 0, Decimal("0.2"), date(2026, 11, 25), 90)).ref
    'card'
    """

    ref: str
    debt: Debt


@dataclass(frozen=True, slots=True)
class DebtAllocation:
    """One debt's part of a payment or of a schedule line, in minor units.

    ``payment_minor = principal_minor + interest_minor + fees_minor``; ``waived_minor`` is what
    the line forgives of that debt and ``interest_accrued_minor`` the plan interest the line's
    period adds to it.
    """

    debt_ref: str
    payment_minor: int
    principal_minor: int
    interest_minor: int
    fees_minor: int
    waived_minor: int = 0
    interest_accrued_minor: int = 0


@dataclass(frozen=True, slots=True)
class PaymentSplit:
    """A payment shared out: one allocation per debt (in the debts' order) and what is left
    over once every debt is paid off (an over-payment, for the policy to refund or keep)."""

    rule: AllocationRule
    allocations: tuple[DebtAllocation, ...]
    unallocated_minor: int

    @property
    def allocated_minor(self) -> int:
        """What the debts received."""
        return sum(a.payment_minor for a in self.allocations)


def check_debts(debts: Sequence[NamedDebt], *, field: str = "debts") -> str:
    """Return the one currency of 1 to :data:`MAX_DEBTS` debts with distinct, non-empty refs.

    Examples
    --------
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> d = Debt("GBP", 100_000, 0, 0, Decimal("0.2"), date(2026, 11, 25), 90)
    >>> check_debts([NamedDebt("a", d), NamedDebt("b", d)])
    'GBP'
    >>> check_debts([NamedDebt("a", d), NamedDebt("a", d)])
    Traceback (most recent call last):
    ...
    plans.errors.DomainError: debts[1].ref: 'a' names two debts [unique_ref]
    """
    if not debts:
        raise DomainError(field, "min_debts", "give at least one debt")
    if len(debts) > MAX_DEBTS:
        raise DomainError(field, "max_debts", f"at most {MAX_DEBTS} debts in one plan")
    currency = debts[0].debt.currency
    seen: set[str] = set()
    for i, named in enumerate(debts):
        if not named.ref:
            raise DomainError(f"{field}[{i}].ref", "required", "every debt needs a reference")
        if named.ref in seen:
            raise DomainError(f"{field}[{i}].ref", "unique_ref", f"{named.ref!r} names two debts")
        seen.add(named.ref)
        if named.debt.currency != currency:
            raise DomainError(
                f"{field}[{i}].currency",
                "one_currency",
                f"all debts of one plan are in one currency: {named.debt.currency} is not"
                f" {currency}",
            )
    return currency


def payment_order(debts: Sequence[NamedDebt], rule: AllocationRule) -> list[int]:
    """Indices of ``debts`` in the order the rule pays them (by ``ref`` for pro rata, where
    order only breaks ties of the largest remainder).

    Examples
    --------
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> def d(rate: str, dpd: int) -> Debt:
    ...     return Debt("GBP", 100_000, 0, 0, Decimal(rate), date(2026, 11, 25), dpd)
    >>> debts = [NamedDebt("c", d("0.1", 400)), NamedDebt("b", d("0.2", 90)),
    ...          NamedDebt("a", d("0.2", 400))]
    >>> payment_order(debts, AllocationRule.HIGHEST_RATE_FIRST)
    [2, 1, 0]
    >>> payment_order(debts, AllocationRule.OLDEST_FIRST)
    [2, 0, 1]
    """
    by_ref = sorted(range(len(debts)), key=lambda i: debts[i].ref)
    if rule is AllocationRule.HIGHEST_RATE_FIRST:
        return sorted(by_ref, key=lambda i: -debts[i].debt.nominal_annual_rate)
    if rule is AllocationRule.OLDEST_FIRST:
        return sorted(by_ref, key=lambda i: -debts[i].debt.days_past_due)
    return by_ref


def shares(
    amount_minor: int,
    caps: Sequence[int],
    *,
    order: Sequence[int],
    rule: AllocationRule,
    weights: Sequence[int] | None = None,
) -> list[int]:
    """Split ``amount_minor`` between debts, none getting more than its cap.

    Pro rata: in proportion to ``weights`` (the caps if not given) by the largest remainder,
    ties in ``order``; a part above its cap is cut to it and the excess shared again among the
    others. The ordered rules fill each debt to its cap in ``order``. What no debt can take is
    not handed out: the parts sum to ``min(amount_minor, sum(caps))``.

    Examples
    --------
    >>> rule = AllocationRule.PRO_RATA
    >>> shares(50_000, [100_000, 200_000, 300_000], order=[0, 1, 2], rule=rule)
    [8333, 16667, 25000]
    >>> shares(500, [100, 1_000], order=[0, 1], rule=rule, weights=[1, 1])
    [100, 400]
    >>> shares(150, [100, 1_000], order=[1, 0], rule=AllocationRule.OLDEST_FIRST)
    [0, 150]
    """
    parts = [0] * len(caps)
    left = min(amount_minor, sum(caps))
    if rule is not AllocationRule.PRO_RATA:
        for i in order:
            parts[i] = min(left, caps[i])
            left -= parts[i]
        return parts
    weighing = list(caps if weights is None else weights)
    open_ = [i for i in order if caps[i] > 0 and weighing[i] > 0]
    while left > 0 and open_:
        given = allocate(left, [weighing[i] for i in open_])
        full = []
        for i, part in zip(open_, given, strict=True):
            take = min(part, caps[i] - parts[i])
            parts[i] += take
            left -= take
            if parts[i] == caps[i]:
                full.append(i)
        if not full:
            break
        open_ = [i for i in open_ if i not in full]
    if left > 0:  # weights of 0 on debts with room left: fill them in order
        for i in order:
            take = min(left, caps[i] - parts[i])
            parts[i] += take
            left -= take
    return parts


def split_payment(
    amount_minor: int,
    debts: Sequence[NamedDebt],
    *,
    policy: Policy,
    rule: AllocationRule = AllocationRule.PRO_RATA,
    owed: Sequence[Owed] | None = None,
) -> PaymentSplit:
    """Share one payment between ``debts`` by ``rule``, then down each debt's waterfall.

    ``owed`` is what each debt still owes (by default, the debts as they stand). A partial
    payment is shared out as it is; an over-payment pays every debt off and the rest is
    ``unallocated_minor``.

    Examples
    --------
    Three debts of 1,000.00, 2,000.00 and 3,000.00 and a payment of 500.00 pro rata: exact
    shares 83.333..., 166.666... and 250.00; floors 83.33, 166.66, 250.00 leave one penny,
    which goes to the largest remainder (0.666... of a penny, the second debt).

    >>> from datetime import date
    >>> from decimal import Decimal
    >>> debts = [NamedDebt(ref, Debt("GBP", amount, 0, 0, Decimal(0), date(2026, 11, 25), 90))
    ...          for ref, amount in (("a", 100_000), ("b", 200_000), ("c", 300_000))]
    >>> [a.payment_minor for a in split_payment(50_000, debts, policy=Policy()).allocations]
    [8333, 16667, 25000]
    """
    check_amount(amount_minor, field="payment.amount")
    check_debts(debts)
    balances = list(owed) if owed is not None else [_owed(d.debt) for d in debts]
    if len(balances) != len(debts):
        raise DomainError("owed", "one_per_debt", "give what each debt owes, one per debt")
    totals = [b.total_minor for b in balances]
    parts = shares(amount_minor, totals, order=payment_order(debts, rule), rule=rule)
    allocations = []
    for named, balance, part in zip(debts, balances, parts, strict=True):
        running = Balance(balance.principal_minor, balance.interest_minor, balance.fees_minor)
        interest, fees, principal = running.settle(part, policy.waterfall)
        allocations.append(DebtAllocation(named.ref, part, principal, interest, fees))
    return PaymentSplit(rule, tuple(allocations), amount_minor - sum(parts))


def _owed(debt: Debt) -> Owed:
    return Owed(debt.principal_minor, debt.interest_minor, debt.fees_minor)
