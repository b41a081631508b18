"""Reminders of a plan (``plans/reminders.py``): hand-worked cases, and the one-day batch path
against the plan-by-plan one.

Offsets and holidays as in tests/plans/contact_cases.py (tzdata 2026): America/New_York is
UTC-5 (EST) / UTC-4 (EDT from 2026-03-08 02:00 to 2026-11-01 02:00); Asia/Shanghai UTC+8 all
year; China's National Day holiday 2026 runs 1-7 October (the 4th, a Sunday, inside the block).
The shipped rules are plans/contact_rules.json: CN and US allow 08:00-22:00 / 08:00-21:00
local, one email and one text a local day and three of each in any 168 hours per party; US
counts telephone calls separately, 7 in any 168 hours (12 CFR 1006.14(b)(2)(i)(A)).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plans.calendar import Frequency, due_dates
from plans.contact import Attempt, Channel, Outcome, Party, Purpose, Role, check_contact
from plans.contact_rules import Cap, CoolingOff, Jurisdiction, Rule, Scope, Window, jurisdiction
from plans.errors import DomainError
from plans.reminders import (
    ActivePlan,
    Due,
    DueIndex,
    Recipient,
    Reminder,
    plan_reminders,
    reminders_on,
)
from tests.plans.contact_cases import SPECIAL_DAYS, STRESS, ZONES

CN, US, GB = jurisdiction("CN"), jurisdiction("US"), jurisdiction("GB")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def plan(
    dues: Sequence[tuple[int, date]],
    *recipients: Recipient,
    days_before: tuple[int, ...] = (3, 0),
    plan_id: str = "p1",
    debt_ref: str = "CARD-1",
) -> ActivePlan:
    return ActivePlan(
        plan_id, debt_ref, tuple(Due(n, d) for n, d in dues), tuple(recipients), days_before
    )


def sent(found: Sequence[Reminder]) -> list[tuple[int, Channel, datetime | None, str | None]]:
    return [(r.days_before, r.channel, r.send_at, r.rule_id) for r in found]


def texts(
    party_id: str, times: Sequence[datetime], channel: Channel = Channel.SMS
) -> list[Attempt]:
    return [Attempt(party_id, channel, t, Outcome.MESSAGE_LEFT) for t in times]


def batch_is_scalar(
    on: date,
    plans: Sequence[ActivePlan],
    histories: Mapping[str, Sequence[Attempt]],
    now: datetime | None = None,
) -> list[Reminder]:
    """reminders_on, after checking it against plan_reminders plan by plan."""
    seen = {ref: list(h) for ref, h in histories.items()}
    expected: list[Reminder] = []
    for p in plans:
        history = seen.setdefault(p.debt_ref, [])
        found = plan_reminders(p, history=history, now=now, on=on)
        history += [
            Attempt(r.party_id, r.channel, r.send_at, Outcome.MESSAGE_LEFT)
            for r in found
            if r.send_at is not None
        ]
        expected += found
    got = reminders_on(on, plans, histories=histories, now=now)
    assert got == expected
    return got


# ---- hand-worked -------------------------------------------------------------------------------


def test_a_cn_reminder_on_a_public_holiday_waits_and_crowds_out_the_next() -> None:
    # Payment on Thursday 8 October 2026. Three days before is Monday the 5th, inside National
    # Day (CN-NO-CONTACT-DAYS): the reminder waits for 08:00 on the 8th (00:00 UTC). The one
    # on the day, wanted at 10:00 (02:00 UTC), would be a second email (text) that local day
    # (CN-EMAIL-DAY, CN-SMS-DAY) and waiting for the 9th is past 22:00 on the 8th: dropped.
    sh = Recipient(Party("d1", Role.DEBTOR, "Asia/Shanghai"), CN)
    p = plan([(1, date(2026, 10, 8))], sh)
    at = utc(2026, 10, 8, 0)
    expected = [
        (3, Channel.EMAIL, at, None),
        (0, Channel.EMAIL, None, "CN-EMAIL-DAY"),
        (3, Channel.SMS, at, None),
        (0, Channel.SMS, None, "CN-SMS-DAY"),
    ]
    found = plan_reminders(p)
    assert sent(found) == expected
    latest = datetime(2026, 10, 8, 21, 59, 59, 999_999, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert {r.latest_useful for r in found} == {latest}
    assert found[0].wanted_at == datetime(2026, 10, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    # The daily job: on the 5th it schedules both for the 8th; on the 8th, with them queued,
    # it drops the day's own.
    first = batch_is_scalar(date(2026, 10, 5), [p], {})
    assert sent(first) == [expected[0], expected[2]]
    queued = [Attempt("d1", r.channel, at, Outcome.MESSAGE_LEFT) for r in first]
    second = batch_is_scalar(date(2026, 10, 8), [p], {"CARD-1": queued})
    assert sent(second) == [expected[1], expected[3]]
    # Without them (a party added on the 6th), the day's own go out at 10:00 as wanted.
    alone = batch_is_scalar(date(2026, 10, 8), [p], {}, now=utc(2026, 10, 6))
    assert sent(alone) == [
        (0, Channel.EMAIL, utc(2026, 10, 8, 2), None),
        (0, Channel.SMS, utc(2026, 10, 8, 2), None),
    ]


@pytest.mark.parametrize(
    ("payment", "before", "on_the_day"),
    [
        # Sunday 1 November 2026, EDT ends at 02:00: Thursday 29 October 10:00 EDT is 14:00
        # UTC, Sunday 10:00 EST is 15:00 UTC.
        (date(2026, 11, 1), utc(2026, 10, 29, 14), utc(2026, 11, 1, 15)),
        # Tuesday 10 March 2026, EDT from Sunday the 8th: Saturday 7 March 10:00 EST is 15:00
        # UTC, Tuesday 10:00 EDT is 14:00 UTC.
        (date(2026, 3, 10), utc(2026, 3, 7, 15), utc(2026, 3, 10, 14)),
    ],
)
def test_a_us_party_across_the_dst_change(
    payment: date, before: datetime, on_the_day: datetime
) -> None:
    ny = Recipient(Party("d1", Role.DEBTOR, "America/New_York", channels={"sms"}), US)
    p = plan([(1, payment)], ny)
    found = plan_reminders(p)
    assert sent(found) == [(3, Channel.SMS, before, None), (0, Channel.SMS, on_the_day, None)]
    # 21:00 local on the payment date, less a microsecond, in the offset of that day
    end = datetime.combine(payment, time(21), ZoneInfo("America/New_York")).astimezone(UTC)
    assert found[0].latest_useful == end - timedelta(microseconds=1)
    assert batch_is_scalar(payment - timedelta(days=3), [p], {}) == found[:1]
    history = texts("d1", [before])
    assert sent(batch_is_scalar(payment, [p], {"CARD-1": history})) == sent(found[1:])


def test_seven_calls_in_seven_days_leave_messages_alone() -> None:
    # US-7IN7 counts telephone calls only: with 7 calls in the last 7 days a call is refused,
    # the reminders by email and text go at 10:00 EST (15:00 UTC) on Monday 7 December 2026.
    ny = Recipient(Party("d1", Role.DEBTOR, "America/New_York"), US)
    calls = [
        Attempt("d1", Channel.PHONE, utc(2026, 12, day, hour), Outcome.NO_ANSWER)
        for day, hour in [(1, 14), (2, 14), (3, 14), (4, 14), (5, 14), (6, 14), (6, 20)]
    ]
    wanted = utc(2026, 12, 7, 15)
    assert check_contact(ny.party, Channel.PHONE, wanted, history=calls, rules=US).rule_id == (
        "US-7IN7"
    )
    p = plan([(1, date(2026, 12, 10))], ny, days_before=(3,))
    assert sent(batch_is_scalar(date(2026, 12, 7), [p], {"CARD-1": calls})) == [
        (3, Channel.EMAIL, wanted, None),
        (3, Channel.SMS, wanted, None),
    ]


def test_three_texts_in_seven_days_drop_the_text_not_the_email() -> None:
    # US-SMS-WEEK: texts at 10:00 EST on 4, 5 and 6 December 2026. Wanted on Monday the 7th at
    # 15:00 UTC, a fourth waits for the oldest to be 168 hours old (Friday the 11th, 15:00
    # UTC), after the payment date's 21:00 EST (02:00 UTC on the 11th): dropped. The email
    # counts separately and goes as wanted.
    ny = Recipient(Party("d1", Role.DEBTOR, "America/New_York"), US)
    used = texts("d1", [utc(2026, 12, 4, 15), utc(2026, 12, 5, 15), utc(2026, 12, 6, 15)])
    p = plan([(1, date(2026, 12, 10))], ny)
    assert sent(plan_reminders(p, history=used)) == [
        (3, Channel.EMAIL, utc(2026, 12, 7, 15), None),
        (0, Channel.EMAIL, utc(2026, 12, 10, 15), None),
        (3, Channel.SMS, None, "US-SMS-WEEK"),
        (0, Channel.SMS, None, "US-SMS-WEEK"),
    ]
    # One text fewer and the payment a week later: the text of the 12th (a Saturday) still
    # finds two in its window and goes as wanted; the daily batch agrees.
    later = plan([(1, date(2026, 12, 15))], ny)
    assert sent(batch_is_scalar(date(2026, 12, 12), [later], {"CARD-1": used[1:]})) == [
        (3, Channel.EMAIL, utc(2026, 12, 12, 15), None),
        (3, Channel.SMS, utc(2026, 12, 12, 15), None),
    ]


def test_who_gets_reminders_and_on_which_channels() -> None:
    # A third party never (12 CFR 1006.6(d)(1)); a stopped party never; an opted-out channel
    # is not used; a guarantor is reminded of the due date.
    people = [
        Party("t1", Role.THIRD_PARTY, "Asia/Shanghai"),
        Party("s1", Role.DEBTOR, "Asia/Shanghai", stopped=True),
        Party("c1", Role.CO_DEBTOR, "Asia/Shanghai", opted_out={"sms"}),
        Party("g1", Role.GUARANTOR, "Asia/Shanghai", channels={"phone", "sms"}),
    ]
    p = plan([(1, date(2026, 12, 15))], *(Recipient(x, CN) for x in people), days_before=(0,))
    assert [(r.party_id, r.channel) for r in plan_reminders(p)] == [
        ("c1", Channel.EMAIL),
        ("g1", Channel.SMS),
    ]


def test_done_and_past_reminders_are_skipped() -> None:
    sh = Recipient(Party("d1", Role.DEBTOR, "Asia/Shanghai"), CN)
    p = dataclasses.replace(
        plan([(1, date(2026, 12, 15)), (2, date(2027, 1, 15))], sh),
        done=frozenset({(1, 0, "d1", Channel.EMAIL)}),
    )
    # 10:00 on 12 December in Shanghai is 02:00 UTC: with now just after it, that one is past
    found = plan_reminders(p, now=utc(2026, 12, 12, 2, 1))
    assert [r.key for r in found] == [
        (1, 0, "d1", Channel.SMS),
        (2, 3, "d1", Channel.EMAIL),
        (2, 0, "d1", Channel.EMAIL),
        (2, 3, "d1", Channel.SMS),
        (2, 0, "d1", Channel.SMS),
    ]


def test_bad_days_before_and_a_foreign_index() -> None:
    sh = Recipient(Party("d1", Role.DEBTOR, "Asia/Shanghai"), CN)
    with pytest.raises(DomainError, match="reminder_days_before"):
        plan([(1, date(2026, 12, 15))], sh, days_before=(-1,))
    p = plan([(1, date(2026, 12, 15))], sh)
    with pytest.raises(DomainError, match="index"):
        reminders_on(date(2026, 12, 12), [p], index=DueIndex([p, p]))
    assert DueIndex([]).plans_on(date(2026, 12, 12)).tolist() == []


# ---- the batch against the scalar path ---------------------------------------------------------

# Beside the shipped rules and the stress variant of tests/plans/contact_cases.py (a cap over
# 3 local days on every channel), one whose message caps and cooling-off count every party of
# the debt: a party with no history of its own is then not like any other.
DEBT_WIDE = dataclasses.replace(
    US,
    code="YY",
    caps=(
        *US.caps,
        Cap(
            Rule("YY-DEBT-DAY", "2 messages per debt in any 24 hours", "test"),
            frozenset({Channel.EMAIL, Channel.SMS}),
            frozenset(Outcome),
            Scope.DEBT,
            Window(rolling=timedelta(hours=24)),
            2,
        ),
    ),
    cooling_off=(
        *US.cooling_off,
        CoolingOff(
            Rule("YY-COOL", "no text on the debt for 30 hours after a conversation", "test"),
            frozenset({Channel.SMS}),
            frozenset({Outcome.CONNECTED}),
            Scope.DEBT,
            timedelta(hours=30),
        ),
    ),
)
# And one that contacts only the debtor and co-debtors about the debt: a guarantor is refused.
OBLIGORS_ONLY = dataclasses.replace(
    GB,
    code="ZZ",
    contactable=tuple(
        dataclasses.replace(c, roles=frozenset({Role.DEBTOR, Role.CO_DEBTOR}))
        if c.purpose is Purpose.COLLECTION
        else c
        for c in GB.contactable
    ),
)
RULES: list[Jurisdiction] = [CN, US, GB, STRESS, DEBT_WIDE, OBLIGORS_ONLY]


@st.composite
def recipients(draw: st.DrawFn, party_id: str, home: tuple[str, Jurisdiction]) -> Recipient:
    """A party, often in the debt's home zone and jurisdiction (where most parties are)."""
    zone, rules = draw(
        st.one_of(st.just(home), st.tuples(st.sampled_from(ZONES), st.sampled_from(RULES)))
    )
    party = Party(
        party_id,
        draw(
            st.sampled_from([Role.DEBTOR] * 3 + [Role.CO_DEBTOR, Role.GUARANTOR, Role.THIRD_PARTY])
        ),
        zone,
        channels=draw(
            st.one_of(st.just(frozenset(Channel)), st.frozensets(st.sampled_from(list(Channel))))
        ),
        opted_out=draw(
            st.one_of(
                st.just(frozenset()), st.frozensets(st.sampled_from(list(Channel)), max_size=1)
            )
        ),
        stopped=draw(st.sampled_from([False] * 9 + [True])),
    )
    return Recipient(party, rules)


@st.composite
def books(
    draw: st.DrawFn,
) -> tuple[list[ActivePlan], dict[str, list[Attempt]], date, datetime | None]:
    """Plans of a few debts (some debts with two), their histories, a day and a now."""
    anchors = st.one_of(
        st.sampled_from(SPECIAL_DAYS), st.dates(date(2026, 1, 1), date(2027, 6, 30))
    )
    plans: list[ActivePlan] = []
    histories: dict[str, list[Attempt]] = {}
    for d in range(draw(st.integers(1, 4))):
        ref = f"D{d}"
        home = (draw(st.sampled_from(ZONES)), draw(st.sampled_from(RULES)))
        people = [draw(recipients(f"{ref}-p{i}", home)) for i in range(draw(st.integers(1, 3)))]
        dates: list[date] = []
        for k in range(draw(st.sampled_from([1, 1, 2]))):
            # a second plan of the debt often on the first one's dates: one party, two reminders
            if not dates or draw(st.booleans()):
                anchor = draw(anchors) + timedelta(days=draw(st.integers(-4, 4)))
                frequency = draw(st.sampled_from(list(Frequency)))
                dates = due_dates(anchor, draw(st.integers(1, 5)), frequency)
            start = draw(st.integers(1, 3))
            plans.append(
                ActivePlan(
                    f"{ref}-plan{k}",
                    ref,
                    tuple(Due(start + i, day) for i, day in enumerate(dates)),
                    tuple(draw(st.permutations(people))),
                    draw(
                        st.one_of(
                            st.sampled_from([(3, 0), (7, 0), (14, 7, 0)]),
                            st.lists(st.integers(0, 15), max_size=4).map(tuple),
                        )
                    ),
                    frozenset(
                        draw(
                            st.lists(
                                st.tuples(
                                    st.integers(start, start + 2),
                                    st.integers(0, 8),
                                    st.sampled_from([r.party.id for r in people]),
                                    st.sampled_from(list(Channel)),
                                ),
                                max_size=3,
                            )
                        )
                    ),
                )
            )
        near = plans[-1].dues[0].payment_date
        history = []
        for _ in range(draw(st.integers(0, 12))):
            who = draw(st.sampled_from(people)).party
            day = near + timedelta(days=draw(st.integers(-12, 3)))
            minute = draw(st.integers(0, 24 * 60 - 1))
            at = datetime.combine(day, time(minute // 60, minute % 60), who.zone)
            history.append(
                Attempt(
                    who.id,
                    draw(st.sampled_from(list(Channel))),
                    at.replace(fold=draw(st.integers(0, 1))),
                    draw(st.sampled_from(list(Outcome))),
                )
            )
        if history or draw(st.booleans()):
            histories[ref] = history
    wanted_days = sorted(
        {
            due.payment_date - timedelta(days=n)
            for p in plans
            for due in p.dues
            for n in p.days_before
        }
    )
    on = draw(st.one_of(st.sampled_from(wanted_days), anchors) if wanted_days else anchors)
    now = draw(
        st.one_of(
            st.none(),
            st.integers(-36, 36).map(
                lambda h: datetime.combine(on, time(12), UTC) + timedelta(hours=h)
            ),
        )
    )
    return plans, histories, on, now


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(books())
def test_one_day_in_batch_is_the_plans_one_by_one(
    book: tuple[list[ActivePlan], dict[str, list[Attempt]], date, datetime | None],
) -> None:
    plans, histories, on, now = book
    found = batch_is_scalar(on, plans, histories, now)
    for r in found:
        assert r.wanted_at.date() == on and r.payment_date - timedelta(days=r.days_before) == on
        assert now is None or r.wanted_at >= now
        if r.send_at is None:
            assert r.rule_id is not None
        else:
            assert r.wanted_at <= r.send_at <= r.latest_useful and r.rule_id is None
    # Every day's batch, over the plans' whole span, holds each plan's reminders exactly once.
    days = {r.wanted_at.date() for p in plans for r in plan_reminders(p)}
    keys = [(r.plan_id, r.key) for day in sorted(days) for r in reminders_on(day, plans)]
    assert sorted(keys) == sorted((r.plan_id, r.key) for p in plans for r in plan_reminders(p))


@st.composite
def crowded_days(
    draw: st.DrawFn,
) -> tuple[list[ActivePlan], dict[str, list[Attempt]], date, datetime | None]:
    """Many debts due around one day, their parties in two zones under two sets of rules.

    Most parties are then like many others (where a shared schedule would be wrong if the
    zone, the role, the rules or a debt-wide count were overlooked).
    """
    on = draw(
        st.one_of(st.sampled_from(SPECIAL_DAYS), st.dates(date(2026, 1, 1), date(2027, 6, 30)))
    )
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=2, max_size=2))
    rules = draw(st.lists(st.sampled_from(RULES), min_size=2, max_size=2))
    roles = st.sampled_from([Role.DEBTOR, Role.CO_DEBTOR, Role.GUARANTOR])
    plans: list[ActivePlan] = []
    histories: dict[str, list[Attempt]] = {}
    for d in range(draw(st.integers(3, 10))):
        ref = f"D{d}"
        people = [
            Recipient(
                Party(
                    f"{ref}-p{i}",
                    draw(roles),
                    draw(st.sampled_from(zones)),
                    channels={"email", "sms"},
                ),
                draw(st.sampled_from(rules)),
            )
            for i in range(draw(st.integers(1, 3)))
        ]
        for k in range(draw(st.sampled_from([1, 1, 2]))):
            offsets = draw(
                st.lists(st.sampled_from([0, 3, 7]), min_size=1, max_size=2, unique=True)
            )
            dues = tuple(Due(i + 1, on + timedelta(days=n)) for i, n in enumerate(sorted(offsets)))
            plans.append(ActivePlan(f"{ref}-plan{k}", ref, dues, tuple(people), (7, 3, 0)))
        history = [
            Attempt(
                draw(st.sampled_from(people)).party.id,
                draw(st.sampled_from([Channel.EMAIL, Channel.SMS])),
                datetime.combine(on, time(12), UTC) + timedelta(hours=draw(st.integers(-48, 24))),
                draw(st.sampled_from(list(Outcome))),
            )
            for _ in range(draw(st.sampled_from([0, 0, 1, 3])))
        ]
        if history:
            histories[ref] = history
    now = draw(st.sampled_from([None, datetime.combine(on, time(0), UTC)]))
    return plans, histories, on, now


@PROPERTY
@given(crowded_days())
def test_a_crowded_day_in_batch_is_the_plans_one_by_one(
    book: tuple[list[ActivePlan], dict[str, list[Attempt]], date, datetime | None],
) -> None:
    plans, histories, on, now = book
    batch_is_scalar(on, plans, histories, now)
