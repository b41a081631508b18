"""The contact check (plans/contact.py): DST days, scheduling, recording, windows of caps,
disclosure, and properties.

Offsets and holidays as in tests/plans/contact_cases.py (tzdata 2026).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plans.calendar import Frequency, due_dates
from plans.contact import (
    Attempt,
    Channel,
    ContactNotAllowed,
    Detail,
    Outcome,
    Party,
    Purpose,
    Role,
    check_contact,
    disclosed_amount_minor,
    disclosure,
    next_permitted,
    record_attempt,
    schedule_message,
)
from plans.contact_rules import Cap, Hours, Jurisdiction, Rule, Scope, Window
from plans.errors import DomainError
from tests.plans.contact_cases import CN, GB, SPECIAL_DAYS, STRESS, US, ZONES, calls, debtor, utc

# ---- DST days ----------------------------------------------------------------------------------


class TestDaylightSaving:
    def test_new_york_spring_forward(self) -> None:
        # 8 March 2026: 02:00 EST -> 03:00 EDT. The window opens at 08:00 EDT = 12:00 UTC
        # (13:00 UTC the day before) and closes at 21:00 EDT = 01:00 UTC on the 9th.
        ny = debtor("America/New_York")
        assert not check_contact(ny, Channel.PHONE, utc(2026, 3, 7, 12, 30), rules=US).allowed
        for at in (utc(2026, 3, 8, 6, 59), utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 11, 59, 59)):
            v = check_contact(ny, Channel.PHONE, at, rules=US)
            assert (v.rule_id, v.next_permitted) == ("US-HOURS", utc(2026, 3, 8, 12))
        assert check_contact(ny, Channel.PHONE, utc(2026, 3, 8, 12), rules=US).allowed
        assert check_contact(ny, Channel.PHONE, utc(2026, 3, 9, 0, 59, 59), rules=US).allowed
        v = check_contact(ny, Channel.PHONE, utc(2026, 3, 9, 1), rules=US)
        assert v.next_permitted == utc(2026, 3, 9, 12)

    def test_new_york_fall_back(self) -> None:
        # 1 November 2026: 02:00 EDT -> 01:00 EST, so 01:30 happens twice (05:30 and 06:30 UTC).
        # Saturday's window closes at 21:00 EDT = 01:00 UTC; Sunday's opens at 08:00 EST = 13:00.
        ny = debtor("America/New_York")
        for at in (
            utc(2026, 11, 1, 1),
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 1, 6, 30),
            utc(2026, 11, 1, 12, 59),
        ):
            v = check_contact(ny, Channel.SMS, at, rules=US)
            assert (v.rule_id, v.next_permitted) == ("US-HOURS", utc(2026, 11, 1, 13))
        assert check_contact(ny, Channel.SMS, utc(2026, 11, 2, 1, 59), rules=US).allowed
        assert not check_contact(ny, Channel.SMS, utc(2026, 11, 2, 2), rules=US).allowed

    def test_london_both_changes(self) -> None:
        ldn = debtor("Europe/London")
        # 29 March 2026, 01:00 UTC: clocks go to 02:00 BST; 08:00 BST = 07:00 UTC.
        v = check_contact(ldn, Channel.PHONE, utc(2026, 3, 29, 1, 30), rules=GB)
        assert v.next_permitted == utc(2026, 3, 29, 7)
        assert check_contact(ldn, Channel.PHONE, utc(2026, 3, 29, 7), rules=GB).allowed
        assert not check_contact(
            ldn, Channel.PHONE, utc(2026, 3, 29, 20), rules=GB
        ).allowed  # 21:00 BST
        assert not check_contact(
            ldn, Channel.PHONE, utc(2026, 3, 28, 7, 30), rules=GB
        ).allowed  # 07:30 GMT
        # 25 October 2026, 01:00 UTC: 02:00 BST -> 01:00 GMT; 01:30 twice, 08:00 GMT = 08:00 UTC.
        for at in (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)):
            assert check_contact(ldn, Channel.PHONE, at, rules=GB).next_permitted == utc(
                2026, 10, 25, 8
            )
        assert check_contact(ldn, Channel.PHONE, utc(2026, 10, 25, 20, 59), rules=GB).allowed
        assert not check_contact(
            ldn, Channel.PHONE, utc(2026, 10, 24, 20), rules=GB
        ).allowed  # 21:00 BST

    def test_a_window_edge_inside_the_gap_opens_when_the_clock_jumps(self) -> None:
        # A policy opening at 02:30: on 8 March 2026 New York never reads 02:30; the window
        # opens at the jump, 03:00 EDT = 07:00 UTC (not 03:30).
        rules = _with_hours(US, time(2, 30), time(21))
        ny = debtor("America/New_York")
        v = check_contact(ny, Channel.PHONE, utc(2026, 3, 8, 6), rules=rules)
        assert v.next_permitted == utc(2026, 3, 8, 7)
        assert not check_contact(ny, Channel.PHONE, utc(2026, 3, 8, 6, 59, 59), rules=rules).allowed

    def test_a_window_edge_inside_the_repeated_hour_uses_its_first_occurrence(self) -> None:
        # Open 00:30-01:30 on 1 November 2026: opens 04:30 UTC, closes at the first 01:30
        # (05:30 UTC, EDT) and does not reopen when the clock falls back to 01:00 EST.
        rules = _with_hours(US, time(0, 30), time(1, 30))
        ny = debtor("America/New_York")
        assert check_contact(ny, Channel.PHONE, utc(2026, 11, 1, 5, 29), rules=rules).allowed
        v = check_contact(ny, Channel.PHONE, utc(2026, 11, 1, 6, 15), rules=rules)  # 01:15 EST
        assert v.next_permitted == utc(2026, 11, 2, 5, 30)  # 00:30 EST on the 2nd

    def test_lord_howe_half_hour_shift(self) -> None:
        # Australia/Lord_Howe: +11 until 5 April 2026 02:00, then +10:30. 08:00 on Saturday
        # the 4th is 21:00 UTC on the 3rd; 08:00 on Sunday the 5th is 21:30 UTC on the 4th.
        lh = debtor("Australia/Lord_Howe")
        v = check_contact(lh, Channel.SMS, utc(2026, 4, 3, 20, 59), rules=US)
        assert v.next_permitted == utc(2026, 4, 3, 21)
        v = check_contact(lh, Channel.SMS, utc(2026, 4, 4, 21), rules=US)  # 07:30 on the 5th
        assert v.next_permitted == utc(2026, 4, 4, 21, 30)


def _with_hours(rules: Jurisdiction, start: time, end: time) -> Jurisdiction:
    hours = Hours(Rule("TEST-HOURS", "test window", "test"), frozenset(Channel), start, end)
    return dataclasses.replace(rules, hours=(hours,), caps=(), cooling_off=())


# ---- scheduling, recording, caps, disclosure ---------------------------------------------------


def test_reminder_moves_into_hours_and_past_a_used_cap() -> None:
    sh = debtor("Asia/Shanghai")
    # Wanted at 06:00 CST: moved to 08:00 CST (00:00 UTC).
    assert schedule_message(
        sh, Channel.SMS, utc(2026, 12, 1, 22), utc(2026, 12, 3), rules=CN
    ) == utc(2026, 12, 2, 0)
    # A text already went out that day: CN-SMS-DAY moves it to 08:00 the next day.
    history = (Attempt("d1", Channel.SMS, utc(2026, 12, 2, 1), Outcome.MESSAGE_LEFT),)
    assert schedule_message(
        sh, Channel.SMS, utc(2026, 12, 2, 5), utc(2026, 12, 4), history=history, rules=CN
    ) == utc(2026, 12, 3, 0)
    # ... unless it would no longer be useful then: dropped.
    assert (
        schedule_message(
            sh, Channel.SMS, utc(2026, 12, 2, 5), utc(2026, 12, 2, 12), history=history, rules=CN
        )
        is None
    )


def test_a_later_scheduled_message_counts() -> None:
    # Three texts already scheduled for the week ahead (CN-SMS-WEEK, 3 in any 168 hours): a
    # fourth wanted before them must wait until the first of them is 168 hours old.
    sh = debtor("Asia/Shanghai")
    planned = tuple(
        Attempt("d1", Channel.SMS, utc(2026, 12, d, 2), Outcome.MESSAGE_LEFT) for d in (3, 4, 5)
    )
    when = schedule_message(
        sh, Channel.SMS, utc(2026, 12, 2, 2), utc(2026, 12, 31), history=planned, rules=CN
    )
    assert when == utc(2026, 12, 10, 2)


def test_recording_refuses_what_the_check_refuses() -> None:
    sh = debtor("Asia/Shanghai")
    late = Attempt("d1", Channel.PHONE, utc(2026, 12, 2, 14), Outcome.NO_ANSWER)
    with pytest.raises(ContactNotAllowed) as caught:
        record_attempt(sh, late, rules=CN)
    assert caught.value.rule == "CN-HOURS"
    assert caught.value.verdict.next_permitted == utc(2026, 12, 3, 0)
    with pytest.raises(DomainError):
        record_attempt(debtor("Asia/Shanghai"), dataclasses.replace(late, party_id="x"), rules=CN)


def test_a_late_record_may_not_break_a_cooling_off() -> None:
    # A call on file for 3 December; a conversation recorded afterwards for 1 December would
    # put it inside US-AFTER-CONVERSATION.
    ny = debtor("America/New_York")
    history = calls("d1", [utc(2026, 12, 3, 15)])
    earlier = Attempt("d1", Channel.PHONE, utc(2026, 12, 1, 15), Outcome.CONNECTED)
    with pytest.raises(ContactNotAllowed) as caught:
        record_attempt(ny, earlier, history=history, rules=US)
    assert caught.value.rule == "CONTACT-ORDER"
    ok = dataclasses.replace(earlier, outcome=Outcome.NO_ANSWER)
    assert record_attempt(ny, ok, history=history, rules=US)[-1] == ok


def test_a_run_of_local_days_counts_later_attempts_too() -> None:
    # At most 2 texts in any 3 consecutive local days; texts on file (one sent, one scheduled)
    # for Thursday 3 and Saturday 5 December, Shanghai. Wednesday 2nd: runs 30-2, 1-3, 2-4
    # hold at most 2 with it, allowed. Friday 4th: the run 3-5 would hold 3. From Friday, the
    # first day all runs allow is Sunday 6th (run 4-6 holds Saturday's and Sunday's), opening
    # at 08:00 CST = 00:00 UTC.
    cap = Cap(
        Rule("TEST-3DAYS", "two texts in any three local days", "test"),
        frozenset({Channel.SMS}),
        frozenset(Outcome),
        Scope.PARTY,
        Window(local_days=3),
        2,
    )
    rules = dataclasses.replace(CN, caps=(cap,))
    sh = debtor("Asia/Shanghai")
    planned = tuple(
        Attempt("d1", Channel.SMS, utc(2026, 12, d, 2), Outcome.MESSAGE_LEFT) for d in (3, 5)
    )
    assert check_contact(sh, Channel.SMS, utc(2026, 12, 2, 2), history=planned, rules=rules).allowed
    v = check_contact(sh, Channel.SMS, utc(2026, 12, 4, 2), history=planned, rules=rules)
    assert (v.rule_id, v.next_permitted) == ("TEST-3DAYS", utc(2026, 12, 6, 0))
    # Texts on 1, 2 and (scheduled) 5 December: the 3rd is refused (run 1-3), the 4th is not
    # (runs 2-4, 3-5 and 4-6 hold two each).
    planned = tuple(
        Attempt("d1", Channel.SMS, utc(2026, 12, d, 2), Outcome.MESSAGE_LEFT) for d in (1, 2, 5)
    )
    v = check_contact(sh, Channel.SMS, utc(2026, 12, 3, 2), history=planned, rules=rules)
    assert (v.rule_id, v.next_permitted) == ("TEST-3DAYS", utc(2026, 12, 4, 0))


def test_per_debt_cap_counts_every_party() -> None:
    cap = Cap(
        Rule("TEST-DEBT-DAY", "two calls a local day per debt", "test"),
        frozenset({Channel.PHONE}),
        frozenset(Outcome),
        Scope.DEBT,
        Window(local_days=1),
        2,
    )
    rules = dataclasses.replace(CN, caps=(cap,))
    history = calls("c1", [utc(2026, 12, 2, 1)]) + calls("g1", [utc(2026, 12, 2, 2)])
    v = check_contact(
        debtor("Asia/Shanghai"), Channel.PHONE, utc(2026, 12, 2, 3), history=history, rules=rules
    )
    assert (v.rule_id, v.next_permitted) == ("TEST-DEBT-DAY", utc(2026, 12, 3, 0))


def test_disclosure_by_role() -> None:
    assert disclosure(Role.DEBTOR).details == frozenset(Detail)
    assert disclosure(Role.CO_DEBTOR).allows(Detail.PLAN_LINK)
    guarantor = disclosure(Role.GUARANTOR)
    assert guarantor.details == {Detail.GUARANTEED_AMOUNT, Detail.DUE_DATE, Detail.CALL_BACK_NUMBER}
    assert not guarantor.allows(Detail.SCHEDULE)
    assert disclosure(Role.THIRD_PARTY).details == {Detail.CALL_BACK_NUMBER}
    g = Party("g1", Role.GUARANTOR, "Europe/London", guaranteed_minor=20_000)
    assert disclosed_amount_minor(g, owed_minor=55_000) == 20_000
    assert disclosed_amount_minor(Party("g2", Role.GUARANTOR, "UTC"), owed_minor=55_000) == 55_000
    assert disclosed_amount_minor(Party("t", Role.THIRD_PARTY, "UTC"), owed_minor=55_000) is None


def test_bad_inputs() -> None:
    with pytest.raises(DomainError, match="iana_zone"):
        Party("p", Role.DEBTOR, "Mars/Olympus_Mons")
    with pytest.raises(DomainError, match="aware"):
        check_contact(debtor("UTC"), Channel.PHONE, datetime(2026, 12, 2, 10), rules=GB)
    with pytest.raises(DomainError, match="aware"):
        Attempt("p", Channel.PHONE, datetime(2026, 12, 2, 10), Outcome.CONNECTED)


# ---- properties --------------------------------------------------------------------------------

RULES = {"CN": CN, "US": US, "GB": GB, "XX": STRESS}


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """An instant near a local date of interest, often a DST day, in the given zone."""
    day = draw(
        st.one_of(st.sampled_from(SPECIAL_DAYS), st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    )
    day = day + timedelta(days=draw(st.integers(-1, 1)))
    seconds = draw(st.integers(0, 86_399))
    wall = time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    return (
        datetime.combine(day, wall, tzinfo=ZoneInfo(zone))
        .replace(fold=draw(st.integers(0, 1)))
        .astimezone(UTC)
    )


@st.composite
def parties(draw: st.DrawFn, party_id: str) -> Party:
    every = frozenset(Channel)
    some = st.frozensets(st.sampled_from(list(Channel)), min_size=1)
    return Party(
        party_id,
        draw(
            st.sampled_from([Role.DEBTOR] * 3 + [Role.CO_DEBTOR, Role.GUARANTOR, Role.THIRD_PARTY])
        ),
        draw(st.sampled_from(ZONES)),
        channels=draw(st.one_of(st.just(every), st.just(every), some)),
        opted_out=draw(
            st.one_of(
                st.just(frozenset()), st.frozensets(st.sampled_from(list(Channel)), max_size=1)
            )
        ),
        stopped=draw(st.sampled_from([False] * 9 + [True])),
    )


@st.composite
def debts(draw: st.DrawFn) -> tuple[Jurisdiction, list[Party], tuple[Attempt, ...], datetime]:
    """A jurisdiction, the debt's parties and a history of attempts the rules accepted.

    Attempts are proposed mostly in waking hours over ten days, not in time order (to exercise
    late records and scheduled messages), and kept only when ``record_attempt`` accepts them.
    """
    rules = RULES[draw(st.sampled_from(sorted(RULES)))]
    people = [draw(parties(f"p{i}")) for i in range(draw(st.integers(1, 3)))]
    start = draw(instants(people[0].time_zone))
    history: tuple[Attempt, ...] = ()
    for _ in range(draw(st.integers(10, 60))):
        party = draw(st.sampled_from(people))
        day = start.astimezone(party.zone).date() + timedelta(days=draw(st.integers(0, 9)))
        minute = draw(st.integers(7 * 60, 23 * 60 - 1))
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=party.zone)
        at = wall.replace(fold=draw(st.integers(0, 1))).astimezone(UTC)
        channel = draw(st.sampled_from(list(Channel)))
        outcome = draw(st.sampled_from(list(Outcome)))
        purpose = Purpose.CALL_BACK if party.role is Role.THIRD_PARTY else Purpose.COLLECTION
        attempt = Attempt(party.id, channel, at, outcome)
        verdict = check_contact(party, channel, at, history=history, rules=rules, purpose=purpose)
        try:
            history = record_attempt(party, attempt, history=history, rules=rules, purpose=purpose)
        except ContactNotAllowed as refused:
            assert refused.rule == "CONTACT-ORDER" or not verdict.allowed
        else:
            assert verdict.allowed
    return rules, people, history, start


def _in_hours_and_open(rules: Jurisdiction, party: Party, channel: Channel, at: datetime) -> bool:
    """The rules' hours and holidays judged directly on the wall clock (an independent oracle)."""
    wall = at.astimezone(party.zone)
    days = rules.no_contact_days
    listed = (
        holidays.country_holidays(
            days.holiday_country, subdiv=days.holiday_subdivision, years=wall.year
        )
        if days.holiday_country
        else {}
    )
    if wall.date() in listed or wall.date() in days.extra_dates:
        return False
    return all(h.start <= wall.time() < h.end for h in rules.hours_for(channel))


def _caps_hold(rules: Jurisdiction, people: list[Party], history: Sequence[Attempt]) -> None:
    """Every window of every cap, recounted by brute force on local dates and UTC instants."""
    for cap in rules.caps:
        for party in people:
            if party.role not in cap.roles:
                continue
            times = sorted(
                a.at
                for a in history
                if a.channel in cap.channels
                and a.outcome in cap.counts
                and (cap.scope is Scope.DEBT or a.party_id == party.id)
            )
            if cap.window.rolling is not None:
                for t in times:
                    assert sum(t <= u < t + cap.window.rolling for u in times) <= cap.limit, (
                        cap.rule.id
                    )
            elif cap.window.local_days is not None:
                per_day: dict[date, int] = defaultdict(int)
                for t in times:
                    per_day[t.astimezone(party.zone).date()] += 1
                n = cap.window.local_days
                for first in per_day:
                    run = sum(per_day.get(first + timedelta(days=k), 0) for k in range(n))
                    assert run <= cap.limit, cap.rule.id
            else:
                assert len(times) <= cap.limit, cap.rule.id


PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(debts())
def test_accepted_attempts_keep_every_rule(
    debt: tuple[Jurisdiction, list[Party], tuple[Attempt, ...], datetime],
) -> None:
    rules, people, history, _ = debt
    by_id = {p.id: p for p in people}
    for a in history:
        party = by_id[a.party_id]
        assert (
            not party.stopped and a.channel in party.channels and a.channel not in party.opted_out
        )
        assert _in_hours_and_open(rules, party, a.channel, a.at)
    _caps_hold(rules, people, history)
    for cooling in rules.cooling_off:
        for c in history:
            if c.outcome in cooling.after and c.channel in cooling.channels:
                assert not any(
                    a is not c
                    and (cooling.scope is Scope.DEBT or a.party_id == c.party_id)
                    and a.channel in cooling.channels
                    and c.at <= a.at < c.at + cooling.period
                    for a in history
                ), cooling.rule.id


@PROPERTY
@given(debts(), st.data())
def test_verdicts_and_next_permitted(
    debt: tuple[Jurisdiction, list[Party], tuple[Attempt, ...], datetime], data: st.DataObject
) -> None:
    rules, people, history, start = debt
    party = data.draw(st.sampled_from(people))
    channel = data.draw(st.sampled_from(list(Channel)))
    at = start + timedelta(minutes=data.draw(st.integers(-3 * 24 * 60, 20 * 24 * 60)))
    purpose = data.draw(st.sampled_from(list(Purpose)))
    verdict = check_contact(party, channel, at, history=history, rules=rules, purpose=purpose)
    if verdict.allowed:
        assert _in_hours_and_open(rules, party, channel, at)
        assert verdict.rule_id is None and verdict.next_permitted is None
        return
    assert verdict.rule_id is not None and verdict.source
    found = verdict.next_permitted
    assert found == next_permitted(
        party, channel, at, history=history, rules=rules, purpose=purpose
    )
    if found is None:
        return
    assert found > at
    assert check_contact(
        party, channel, found, history=history, rules=rules, purpose=purpose
    ).allowed
    # Nothing earlier is allowed: just before it, and at a few points in between.
    span = found - at
    for fraction in (0.0, 0.25, 0.5, 0.9, 0.999):
        probe = min(at + span * fraction, found - timedelta(microseconds=1))
        assert not check_contact(
            party, channel, probe, history=history, rules=rules, purpose=purpose
        ).allowed


@PROPERTY
@given(st.sampled_from(sorted(RULES)), parties("p0"), st.sampled_from(list(Frequency)), st.data())
def test_scheduled_reminders_are_allowed_useful_and_within_caps(
    code: str, party: Party, frequency: Frequency, data: st.DataObject
) -> None:
    rules = RULES[code]
    anchor = data.draw(
        st.one_of(st.sampled_from(SPECIAL_DAYS), st.dates(date(2026, 1, 1), date(2027, 6, 30)))
    )
    history: tuple[Attempt, ...] = ()
    purpose = Purpose.CALL_BACK if party.role is Role.THIRD_PARTY else Purpose.COLLECTION
    for due in due_dates(anchor, data.draw(st.integers(1, 8)), frequency):
        for days_before in (3, 1, 0):
            channel = data.draw(st.sampled_from(list(Channel)))
            hour = data.draw(st.integers(0, 23))
            wanted = datetime.combine(
                due - timedelta(days=days_before), time(hour), tzinfo=party.zone
            ).astimezone(UTC)
            latest = datetime.combine(due, time(20), tzinfo=party.zone).astimezone(UTC)
            when = schedule_message(
                party, channel, wanted, latest, history=history, rules=rules, purpose=purpose
            )
            if when is None:
                continue
            assert wanted <= when <= latest
            assert check_contact(
                party, channel, when, history=history, rules=rules, purpose=purpose
            ).allowed
            assert _in_hours_and_open(rules, party, channel, when)
            history = record_attempt(
                party,
                Attempt(party.id, channel, when, Outcome.MESSAGE_LEFT),
                history=history,
                rules=rules,
                purpose=purpose,
            )
    _caps_hold(rules, [party], history)
