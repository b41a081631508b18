"""The dates and line rates a negotiation's plans share (``plans.amortisation.PlanDates``) are
exactly what each plan laid out alone would have: whatever the order and lengths asked."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from plans.amortisation import PlanDates, line_rates
from plans.calendar import LAST_DAY, Frequency, due_dates, payment_dates
from plans.daycount import DayCount
from plans.policy import InterestBasis, Policy

AS_OF = date(2026, 9, 30)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 400).map(lambda days: AS_OF + timedelta(days=days)),
    st.sampled_from(list(Frequency)),
    st.sampled_from([None, (1, 15), (15, LAST_DAY)]),
    st.sampled_from(["CN", "GB", "US", None]),
    st.sampled_from([InterestBasis.NOMINAL, InterestBasis.ACTUAL_DAYS]),
    st.sampled_from(list(DayCount)),
    st.booleans(),
    st.lists(st.integers(1, 60), min_size=1, max_size=5),
)
def test_shared_lines_are_each_plans_own(
    first_due: date,
    frequency: Frequency,
    days: tuple[int, int] | None,
    country: str | None,
    basis: InterestBasis,
    count: DayCount,
    after_as_of: bool,
    totals: list[int],
) -> None:
    days = days if frequency is Frequency.SEMI_MONTHLY else None
    policy = Policy(holiday_country=country, interest_basis=basis, day_count=count)
    annual = Decimal("0.1799")
    after = AS_OF if after_as_of else None
    shared = PlanDates()
    for total in totals:  # shorter and longer, in any order: extended, never laid out again
        due = due_dates(first_due, total, frequency, days=days)
        paid_on = payment_dates(due, country, after=after)
        rates = line_rates(
            annual, as_of=AS_OF, due=due, paid_on=paid_on, frequency=frequency, policy=policy
        )
        got = shared.lines(
            total,
            first_due=first_due,
            frequency=frequency,
            days=days,
            annual=annual,
            as_of=AS_OF,
            policy=policy,
            after=after,
        )
        assert got == (due, paid_on, rates)


def test_due_dates_skip_the_first_ones() -> None:
    # the tail of a longer list, as PlanDates extends one: Jan 31 keeps its day after February
    anchor = date(2026, 1, 31)
    assert due_dates(anchor, 4, Frequency.MONTHLY, skip=2) == [date(2026, 3, 31), date(2026, 4, 30)]
    for frequency in Frequency:
        assert due_dates(anchor, 9, frequency, skip=4) == due_dates(anchor, 9, frequency)[4:]
