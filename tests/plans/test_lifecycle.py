"""A plan's life (``plans/lifecycle.py``): states, causes, stickiness of a break, cures.

The policy is the documented default unless said otherwise: an instalment is late the day after
its date, missed 15 days after it, and the plan breaks at 2 missed instalments or one 30 days
late. Every date below is worked from those numbers in the comment next to it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from plans.errors import DomainError
from plans.lifecycle import (
    ALLOWED,
    CLOSED,
    Cause,
    Decision,
    DecisionEvent,
    KnownPayment,
    life,
    plan_on,
)
from plans.offer import Owed
from plans.payments import Payment, PlanStatus, ScheduledLine
from plans.policy import Policy
from plans.schedule import Waiver

POLICY = Policy(holiday_country=None)
CURABLE = Policy(holiday_country=None, cure_within_days=10)
ACCEPTED = date(2026, 12, 20)
# 3 x 500.00 on the 15th of January, February and March 2027 (an interest freeze)
THREE = [ScheduledLine(k, date(2027, k, 15), 50_000, 0, 0, 50_000) for k in (1, 2, 3)]
OWED = Owed(150_000, 0, 0)
# the same plan made from a debt of 2,000.00 of which 500.00 was waived
DISCOUNTED_OWED = Owed(200_000, 0, 0)
DISCOUNT = Waiver(principal_minor=50_000)
NO_WAIVER = Waiver()


def paid(on: str, amount: int, known: str | None = None) -> KnownPayment:
    return KnownPayment(Payment(date.fromisoformat(on), amount), date.fromisoformat(known or on))


def moves(
    payments: list[KnownPayment],
    through: str,
    *,
    policy: Policy = POLICY,
    decisions: tuple[DecisionEvent, ...] = (),
    owed: Owed = OWED,
    waiver: Waiver = NO_WAIVER,
) -> list[tuple[str, str, str]]:
    lived = life(
        THREE,
        payments,
        decisions,
        accepted_on=ACCEPTED,
        through=date.fromisoformat(through),
        policy=policy,
        owed=owed,
        waiver=waiver,
    )
    return [(t.on.isoformat(), t.after.value, t.cause.value) for t in lived.transitions]


def test_dates_make_a_plan_late_missed_then_broken() -> None:
    # Nothing paid: instalment 1 is late on 16 Jan, missed on 30 Jan (15 days), and 30 days
    # late on 14 Feb: broken (before instalment 2 is even missed).
    assert moves([], "2027-03-31") == [
        ("2027-01-16", "late", "date"),
        ("2027-01-30", "missed", "date"),
        ("2027-02-14", "broken", "date"),
    ]


def test_a_late_payment_brings_a_missed_plan_back_but_never_heals_a_break() -> None:
    # Paid 1 Feb (missed since 30 Jan): back to active on the day the payment is known.
    assert moves([paid("2027-02-01", 50_000)], "2027-02-10") == [
        ("2027-01-16", "late", "date"),
        ("2027-01-30", "missed", "date"),
        ("2027-02-01", "active", "payment"),
    ]
    # Paid 20 Feb, after the break on 14 Feb: it stays broken (no cure in the policy).
    late = moves([paid("2027-02-20", 100_000)], "2027-02-28")
    assert late[-1] == ("2027-02-14", "broken", "date")


def test_a_cure_within_the_policy_window_puts_the_plan_back() -> None:
    # Broken 14 Feb; cure_within_days 10: everything past due (instalment 1; instalment 2 is
    # not due until 15 Feb... and is late from 16 Feb) paid by 24 Feb cures it.
    assert moves([paid("2027-02-15", 100_000)], "2027-02-28", policy=CURABLE)[-2:] == [
        ("2027-02-14", "broken", "date"),
        ("2027-02-15", "cured", "payment"),
    ]
    # Paid on 25 Feb, a day after the window: still broken.
    assert moves([paid("2027-02-25", 100_000)], "2027-02-28", policy=CURABLE)[-1] == (
        "2027-02-14",
        "broken",
        "date",
    )


def test_a_broken_plan_that_lost_its_discount_completes_on_its_recomputed_balance() -> None:
    # The 500.00 waiver is revoked at the break: 2,000.00 is owed. 1,500.00 (the plan's own
    # total) is not enough; 2,000.00 in all completes it.
    partial = moves(
        [paid("2027-02-20", 150_000)], "2027-03-01", owed=DISCOUNTED_OWED, waiver=DISCOUNT
    )
    assert partial[-1] == ("2027-02-14", "broken", "date")
    full = moves(
        [paid("2027-02-20", 150_000), paid("2027-02-21", 50_000)],
        "2027-03-01",
        owed=DISCOUNTED_OWED,
        waiver=DISCOUNT,
    )
    assert full[-1] == ("2027-02-21", "completed", "payment")


def test_paying_everything_completes_the_plan() -> None:
    assert moves([paid("2027-01-10", 150_000)], "2027-12-31") == [
        ("2027-01-10", "completed", "payment")
    ]


def test_a_payment_counts_from_the_day_it_became_known() -> None:
    # Paid on 10 Jan but recorded on 20 Jan: on 16 Jan the plan was late, as it was known then.
    assert moves([paid("2027-01-10", 50_000, known="2027-01-20")], "2027-01-31") == [
        ("2027-01-16", "late", "date"),
        ("2027-01-20", "active", "payment"),
    ]


def test_decisions_close_a_plan_and_nothing_moves_it_after() -> None:
    replace = DecisionEvent(date(2027, 1, 20), Decision.REPLACE, "by plan P2")
    assert moves([], "2027-03-31", decisions=(replace,)) == [
        ("2027-01-16", "late", "date"),
        ("2027-01-20", "replaced", "decision"),
    ]
    twice = (replace, DecisionEvent(date(2027, 1, 21), Decision.CANCEL))
    with pytest.raises(DomainError) as caught:
        moves([], "2027-03-31", decisions=twice)
    assert caught.value.rule == "plan_closed"


def test_the_state_on_a_day_keeps_the_break_and_the_revocation() -> None:
    _, state = plan_on(
        THREE,
        [paid("2027-02-20", 100_000)],
        accepted_on=ACCEPTED,
        on=date(2027, 2, 28),
        policy=POLICY,
        owed=DISCOUNTED_OWED,
        waiver=DISCOUNT,
    )
    # broken on 14 Feb; 2,000.00 owed once the waiver is revoked, less 1,000.00 paid
    assert state.status is PlanStatus.BROKEN
    assert state.outstanding_minor == 100_000
    assert state.broken_reason == "an instalment 30 days late"


# ---- properties --------------------------------------------------------------------------

DAY = st.integers(min_value=0, max_value=120)
PAYMENT = st.tuples(DAY, st.integers(min_value=0, max_value=10), st.integers(1, 80_000))
POLICIES = st.sampled_from([POLICY, CURABLE])


def _payments(raw: list[tuple[int, int, int]]) -> list[KnownPayment]:
    start = date(2027, 1, 1)
    return [
        KnownPayment(Payment(start + timedelta(d), amount), start + timedelta(d + delay))
        for d, delay, amount in raw
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(PAYMENT, max_size=6), DAY, POLICIES, st.booleans())
def test_every_history_ends_in_exactly_one_state_by_allowed_moves(
    raw: list[tuple[int, int, int]], horizon: int, policy: Policy, discounted: bool
) -> None:
    through = date(2027, 1, 1) + timedelta(horizon)
    owed, waiver = (DISCOUNTED_OWED, DISCOUNT) if discounted else (OWED, Waiver())
    lived = life(
        THREE,
        _payments(raw),
        accepted_on=ACCEPTED,
        through=through,
        policy=policy,
        owed=owed,
        waiver=waiver,
    )
    state = PlanStatus.ACTIVE
    last = ACCEPTED
    for t in lived.transitions:
        assert t.before is state and t.after in ALLOWED[state], t
        assert last <= t.on <= through
        assert (t.cause is Cause.PAYMENT) == (t.payment is not None)
        state, last = t.after, t.on
    assert lived.status is state
    assert all(t.before not in CLOSED for t in lived.transitions)


@settings(max_examples=150, deadline=None)
@given(st.lists(PAYMENT, max_size=6), DAY, DAY, POLICIES)
def test_the_state_on_a_day_never_depends_on_a_later_event(
    raw: list[tuple[int, int, int]], day: int, later: int, policy: Policy
) -> None:
    # Replaying gives the same life, and what became known after ``on`` changes nothing up to
    # it: the life through ``on`` is a prefix of every later one.
    on = date(2027, 1, 1) + timedelta(day)
    payments = _payments(raw)
    known = [k for k in payments if k.known_on <= on]

    def through(d: date, ps: list[KnownPayment]) -> tuple[object, ...]:
        lived, state = plan_on(
            THREE,
            ps,
            accepted_on=ACCEPTED,
            on=d,
            policy=policy,
            owed=DISCOUNTED_OWED,
            waiver=DISCOUNT,
        )
        # a payment is named by its index in the list given: not comparable across lists
        seen = tuple((t.on, t.before, t.after, t.cause, t.detail) for t in lived.transitions)
        return seen, state.status, state.outstanding_minor, state.paid_minor

    assert through(on, payments) == through(on, known) == through(on, payments)
    after = through(on + timedelta(later), payments)[0]
    assert isinstance(after, tuple)
    assert after[: len(through(on, payments)[0])] == through(on, payments)[0]  # type: ignore[arg-type]


def test_a_plan_accepted_after_its_first_date_is_late_from_its_first_day() -> None:
    # Accepted on 20 January, five days after instalment 1's date: late that day, whatever is
    # decided or paid later on (the judgement of a day never depends on what else happens then).
    accepted = date(2027, 1, 20)

    def late(decisions: tuple[DecisionEvent, ...]) -> list[tuple[str, str]]:
        lived = life(
            THREE,
            [],
            decisions,
            accepted_on=accepted,
            through=date(2027, 1, 25),
            policy=POLICY,
            owed=OWED,
            waiver=NO_WAIVER,
        )
        return [(t.on.isoformat(), t.after.value) for t in lived.transitions]

    assert late(()) == [("2027-01-20", "late")]
    cancel = DecisionEvent(date(2027, 1, 22), Decision.CANCEL)
    assert late((cancel,)) == [("2027-01-20", "late"), ("2027-01-22", "cancelled")]


@settings(max_examples=300, deadline=None)
@given(st.lists(PAYMENT, max_size=5), PAYMENT, DAY, DAY, POLICIES, st.booleans())
# accepted already late, cancelled two days later: the day of acceptance is judged whether or
# not anything happens later (a 500 in the service before it was)
@example(raw=[], extra=(0, 0, 1), decided=21, horizon=60, policy=POLICY, late_acceptance=True)
def test_an_event_never_changes_the_days_before_it(
    raw: list[tuple[int, int, int]],
    extra: tuple[int, int, int],
    decided: int,
    horizon: int,
    policy: Policy,
    late_acceptance: bool,
) -> None:
    # A decision or one more payment, on whatever day, leaves every transition before that day
    # as it was (what the service has recorded up to a day never needs rewriting).
    start = date(2027, 1, 1)
    accepted = date(2027, 1, 20) if late_acceptance else ACCEPTED
    payments = [k for k in _payments(raw) if k.payment.paid_on >= accepted]
    through = start + timedelta(horizon)

    def moves_of(
        ps: list[KnownPayment], decisions: tuple[DecisionEvent, ...]
    ) -> list[tuple[object, ...]]:
        try:
            lived = life(
                THREE,
                ps,
                decisions,
                accepted_on=accepted,
                through=through,
                policy=policy,
                owed=DISCOUNTED_OWED,
                waiver=DISCOUNT,
            )
        except DomainError:  # a decision on a plan already closed: refused
            return []
        return [(t.on, t.before, t.after, t.cause) for t in lived.transitions]

    def until(moves: list[tuple[object, ...]], day: date) -> list[tuple[object, ...]]:
        # every move before the day, and what the day's date made of it before anything
        # else happened that day
        return [m for m in moves if m[0] < day or (m[0] == day and m[3] is Cause.DATE)]

    base = moves_of(payments, ())
    day = start + timedelta(decided)
    cancelled = moves_of(payments, (DecisionEvent(day, Decision.CANCEL),))
    if cancelled:
        assert until(base, day) == until(cancelled, day)
    [more] = _payments([extra])
    if more.payment.paid_on >= accepted:
        added = moves_of([*payments, more], ())
        assert until(base, more.known_on) == until(added, more.known_on)
