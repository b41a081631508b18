"""The level payment of an annuity: solving it for a term, and the term for a payment.

A plan's lines are laid out in :mod:`plans.amortisation`; this chapter only answers "how much a
period repays this over n periods" (and the inverse, "how many periods at most this much"), in
floating point, before the schedule rounds the answer once by the policy's rounding.
"""

from __future__ import annotations

import math


def level_payment(
    principal: int, arrears: int, *, first_rate: float, rate: float, periods: int
) -> float:
    """The level payment that repays ``principal`` and non-interest-bearing ``arrears`` paid
    first, over ``periods`` payments, the first period at ``first_rate``, the rest at ``rate``.

    While arrears are being cleared (the first m payments) principal stays whole and its
    interest joins the arrears; afterwards the remaining balance is an ordinary annuity. So
    X = (P + A + (r₁ + (m−1)r)P) · aₙ₋ₘ / (1 + m·aₙ₋ₘ), with aₖ = r / (1 − (1+r)^−k), and m the
    first payment that clears the arrears: a fixed point found in a few steps.

    Examples
    --------
    >>> round(level_payment(1_000_000, 0, first_rate=0.01, rate=0.01, periods=12), 4)
    88848.7887
    >>> level_payment(900, 300, first_rate=0.0, rate=0.0, periods=4)
    300.0
    """
    if periods <= 0:
        raise ValueError("periods must be positive")

    def annuity_factor(k: int) -> float:
        if k == 0:
            return math.inf
        if rate == 0.0:
            return 1.0 / k
        # 1 - (1 + r)^-k without cancellation when r is tiny
        return rate / -math.expm1(-k * math.log1p(rate))

    def payment_for(m: int) -> float:
        owed = principal + arrears + (first_rate + (m - 1) * rate) * principal
        factor = annuity_factor(periods - m)
        return owed / m if math.isinf(factor) else owed * factor / (1.0 + m * factor)

    m = 1
    seen: set[int] = set()
    while m not in seen:
        seen.add(m)
        x = payment_for(m)
        # the first k with A + (r₁ + (k−1)r)P − kX <= 0
        excess = x - rate * principal
        if arrears + first_rate * principal <= x:
            m_next = 1
        elif excess <= 0:
            m_next = periods
        else:
            need = (arrears + (first_rate - rate) * principal) / excess
            m_next = min(periods, max(1, math.ceil(need - 1e-12)))
        if m_next == m:
            return x
        m = m_next
    # m cycles between neighbours only at a boundary; the larger payment closes the balance
    return max(payment_for(k) for k in seen)


def shortest_term(
    fits: int,
    *,
    principal: int,
    arrears: int,
    first_rate: float,
    rate: float,
    limit: int,
) -> int:
    """Fewest payments whose level payment is at most ``fits`` minor units (``limit`` + 1 if
    none within ``limit``): a binary search, the level payment falling as the term grows."""
    if fits <= 0:
        return limit + 1
    lo, hi = 1, limit + 1
    while lo < hi:
        mid = (lo + hi) // 2
        x = level_payment(principal, arrears, first_rate=first_rate, rate=rate, periods=mid)
        if x <= fits + 0.5:
            hi = mid
        else:
            lo = mid + 1
    return lo
