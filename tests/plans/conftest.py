from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from plans.calendar import Frequency
from plans.debt import Capacity, Debt

AS_OF = date(2026, 11, 25)


@st.composite
def debts(draw: st.DrawFn, currency: str | None = None) -> Debt:
    """Overdue debts across currencies, sizes, rates and ages."""
    code = currency or draw(st.sampled_from(["CNY", "USD", "JPY", "KWD", "EUR"]))
    scale = {"JPY": 1, "KWD": 1000}.get(code, 100)
    principal = draw(st.integers(100, 2_000_000)) * scale
    interest = draw(st.integers(0, principal // 4))
    fees = draw(st.integers(0, principal // 10))
    rate = Decimal(draw(st.integers(0, 2400))) / 10_000
    as_of = draw(st.dates(date(2025, 1, 1), date(2027, 12, 31)))
    return Debt(code, principal, interest, fees, rate, as_of, draw(st.integers(0, 1500)))


@st.composite
def capacities(draw: st.DrawFn, debt: Debt) -> Capacity:
    """What a debtor might say they can pay, relative to the debt."""
    total = debt.total_minor
    payment = draw(st.integers(max(1, total // 60), max(2, total)))
    lump = draw(st.sampled_from([0, total // 10, total // 2, total]))
    start = debt.as_of.fromordinal(debt.as_of.toordinal() + draw(st.integers(0, 40)))
    return Capacity(payment, lump, start, draw(st.sampled_from(list(Frequency))))
