"""Contact rules: hand-worked cases per jurisdiction, DST days, and properties.

Expected instants are worked by hand from the rule and the zone's offsets (tzdata 2026):
America/New_York is UTC-5 (EST) / UTC-4 (EDT, from 2026-03-08 02:00 to 2026-11-01 02:00);
Europe/London is UTC+0 / UTC+1 (BST, from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC);
Asia/Shanghai is UTC+8 all year. Holidays: China's National Day 2026 runs 1-7 October (State
Council arrangement; the holidays package lists 1-3 and 5-7, Sunday the 4th falls inside),
US Thanksgiving is Thursday 26 November 2026, and England's Christmas 2026 runs Friday 25
(Christmas) to Monday 28 December (Boxing Day, 26th, a Saturday, substituted on the 28th).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plans
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
from plans.contact_rules import (
    Cap,
    CoolingOff,
    Hours,
    Jurisdiction,
    Rule,
    Scope,
    Window,
    jurisdiction,
    load_rules,
)
from plans.errors import DomainError

SHIPPED = Path(plans.__file__).parent / "contact_rules.json"
CN, US, GB = jurisdiction("CN"), jurisdiction("US"), jurisdiction("GB")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone))


def debtor(zone: str, **kwargs: object) -> Party:
    return Party("d1", Role.DEBTOR, zone, **kwargs)  # type: ignore[arg-type]


def calls(
    party_id: str, times: Sequence[datetime], outcome: str = "no_answer"
) -> tuple[Attempt, ...]:
    return tuple(Attempt(party_id, Channel.PHONE, t, Outcome(outcome)) for t in times)


# ---- United States -----------------------------------------------------------------------------


class TestUnitedStates:
    ny = debtor("America/New_York")

    def test_hours_end_at_21_local(self) -> None:
        # US-HOURS, 12 CFR 1006.6(b)(1)(i): 20:59:59 EST is fine, 21:00 EST = 02:00 UTC is not;
        # the next permitted time is 08:00 EST on 2 December = 13:00 UTC.
        assert check_contact(self.ny, Channel.PHONE, utc(2026, 12, 2, 1, 59, 59), rules=US).allowed
        v = check_contact(self.ny, Channel.PHONE, utc(2026, 12, 2, 2, 0), rules=US)
        assert (v.allowed, v.rule_id, v.next_permitted) == (False, "US-HOURS", utc(2026, 12, 2, 13))
        assert v.policy_version == US.policy_version
        assert v.source is not None and "1006.6(b)(1)(i)" in v.source

    def test_hours_start_at_8_local(self) -> None:
        v = check_contact(
            self.ny, Channel.EMAIL, local("America/New_York", 2026, 12, 2, 7, 59, 59), rules=US
        )
        assert (v.rule_id, v.next_permitted) == ("US-HOURS", utc(2026, 12, 2, 13))
        assert check_contact(self.ny, Channel.EMAIL, utc(2026, 12, 2, 13), rules=US).allowed

    def test_eighth_call_in_seven_days_waits_for_the_oldest_to_age_out(self) -> None:
        # US-7IN7, 12 CFR 1006.14(b)(2)(i)(A): seven unanswered calls from Monday 7 December,
        # the oldest at 09:00 EST (14:00 UTC). An eighth on Friday is refused until the oldest
        # is 168 hours old: Monday 14 December 14:00 UTC (09:00 EST).
        ny = "America/New_York"
        times = [
            local(ny, 2026, 12, 7, 9),
            local(ny, 2026, 12, 7, 11),
            local(ny, 2026, 12, 7, 13),
            local(ny, 2026, 12, 8, 9),
            local(ny, 2026, 12, 8, 11),
            local(ny, 2026, 12, 9, 9),
            local(ny, 2026, 12, 10, 9),
        ]
        history: tuple[Attempt, ...] = ()
        for attempt in calls("d1", times):
            history = record_attempt(self.ny, attempt, history=history, rules=US)
        v = check_contact(
            self.ny, Channel.PHONE, local(ny, 2026, 12, 11, 10), history=history, rules=US
        )
        assert (v.allowed, v.rule_id, v.next_permitted) == (False, "US-7IN7", utc(2026, 12, 14, 14))
        assert not check_contact(
            self.ny, Channel.PHONE, utc(2026, 12, 14, 13, 59, 59), history=history, rules=US
        ).allowed
        # A text is another medium: the call cap does not count it; every text needs the notice.
        text = check_contact(
            self.ny, Channel.SMS, local(ny, 2026, 12, 11, 10), history=history, rules=US
        )
        assert text.allowed
        assert [r.id for r in text.requires] == ["US-OPT-OUT-NOTICE"]

    def test_calls_to_another_person_do_not_count(self) -> None:
        # The presumption is per person and per debt: the co-debtor's calls are not the debtor's.
        times = [utc(2026, 12, 7, 14 + i) for i in range(7)]
        history = calls("c1", times)
        assert check_contact(
            self.ny, Channel.PHONE, utc(2026, 12, 8, 15), history=history, rules=US
        ).allowed

    def test_seven_days_are_168_hours_across_spring_forward(self) -> None:
        # Seven calls on Thursday 5 March from 09:00 EST (14:00 UTC); the eighth may be placed
        # 168 hours after the first, 12 March 14:00 UTC, which is 10:00 EDT on the wall clock.
        history = calls("d1", [utc(2026, 3, 5, 14 + i) for i in range(7)])
        v = check_contact(self.ny, Channel.PHONE, utc(2026, 3, 6, 15), history=history, rules=US)
        assert (v.rule_id, v.next_permitted) == ("US-7IN7", utc(2026, 3, 12, 14))
        assert v.next_permitted is not None
        assert v.next_permitted.astimezone(ZoneInfo("America/New_York")).hour == 10

    def test_no_call_within_seven_days_after_a_conversation(self) -> None:
        # US-AFTER-CONVERSATION, 12 CFR 1006.14(b)(2)(i)(B): a conversation on Tuesday
        # 1 December 10:00 EST (15:00 UTC) blocks calls until 8 December 15:00 UTC.
        history = calls("d1", [utc(2026, 12, 1, 15)], "connected")
        v = check_contact(self.ny, Channel.PHONE, utc(2026, 12, 3, 15), history=history, rules=US)
        assert (v.allowed, v.rule_id, v.next_permitted) == (
            False,
            "US-AFTER-CONVERSATION",
            utc(2026, 12, 8, 15),
        )
        assert check_contact(
            self.ny, Channel.EMAIL, utc(2026, 12, 3, 15), history=history, rules=US
        ).allowed
        # A refusal to talk is a conversation too; a message left is not.
        refused = calls("d1", [utc(2026, 12, 1, 15)], "refused")
        assert not check_contact(
            self.ny, Channel.PHONE, utc(2026, 12, 3, 15), history=refused, rules=US
        ).allowed
        left = calls("d1", [utc(2026, 12, 1, 15)], "message_left")
        assert check_contact(
            self.ny, Channel.PHONE, utc(2026, 12, 3, 15), history=left, rules=US
        ).allowed

    def test_thanksgiving_moves_to_the_next_morning(self) -> None:
        # US-NO-CONTACT-DAYS: Thursday 26 November 2026; next is Friday 27th 08:00 EST.
        v = check_contact(self.ny, Channel.PHONE, utc(2026, 11, 26, 15), rules=US)
        assert (v.rule_id, v.next_permitted) == ("US-NO-CONTACT-DAYS", utc(2026, 11, 27, 13))

    def test_opt_out_of_texts_but_not_calls(self) -> None:
        # US-OPT-OUT, 12 CFR 1006.14(h)(1): a medium the person refused is never used again.
        party = debtor("America/New_York", opted_out={"sms"})
        v = check_contact(party, Channel.SMS, utc(2026, 12, 2, 15), rules=US)
        assert (v.allowed, v.rule_id, v.next_permitted) == (False, "US-OPT-OUT", None)
        assert next_permitted(party, Channel.SMS, utc(2026, 12, 2, 15), rules=US) is None
        assert check_contact(party, Channel.PHONE, utc(2026, 12, 2, 15), rules=US).allowed

    def test_stop_refuses_everything_for_ever(self) -> None:
        party = debtor("America/New_York", stopped=True)
        for channel in Channel:
            v = check_contact(party, channel, utc(2026, 12, 2, 15), rules=US)
            assert (v.allowed, v.rule_id, v.next_permitted) == (False, "US-STOP", None)
            assert next_permitted(party, channel, utc(2026, 12, 2, 15), rules=US) is None
            assert (
                schedule_message(party, channel, utc(2026, 12, 2, 15), utc(2027, 1, 1), rules=US)
                is None
            )

    def test_third_party_never_for_collection_and_once_for_a_call_back(self) -> None:
        friend = Party("t1", Role.THIRD_PARTY, "America/Chicago")
        v = check_contact(friend, Channel.PHONE, utc(2026, 12, 2, 16), rules=US)
        assert (v.allowed, v.rule_id, v.next_permitted) == (False, "US-CONSUMER-ONLY", None)
        relay = check_contact(
            friend, Channel.PHONE, utc(2026, 12, 2, 16), rules=US, purpose=Purpose.CALL_BACK
        )
        assert relay.allowed
        assert [r.id for r in relay.requires] == ["US-NO-DISCLOSURE"]
        # FDCPA §804(3): once communicated with, a third party is not contacted again.
        history = (Attempt("t1", Channel.PHONE, utc(2026, 12, 2, 16), Outcome.MESSAGE_LEFT),)
        again = check_contact(
            friend,
            Channel.SMS,
            utc(2027, 2, 2, 16),
            history=history,
            rules=US,
            purpose=Purpose.CALL_BACK,
        )
        assert (again.allowed, again.rule_id, again.next_permitted) == (
            False,
            "US-THIRD-PARTY-ONCE",
            None,
        )

    def test_guarantor_is_contacted_and_told_only_the_guarantee(self) -> None:
        guarantor = Party("g1", Role.GUARANTOR, "America/New_York", guaranteed_minor=50_000)
        v = check_contact(guarantor, Channel.EMAIL, utc(2026, 12, 2, 15), rules=US)
        assert v.allowed
        assert {r.id for r in v.requires} == {"US-OPT-OUT-NOTICE", "US-GUARANTEE-ONLY"}

    def test_no_channel_given(self) -> None:
        party = debtor("America/New_York", channels={"phone"})
        v = check_contact(party, Channel.EMAIL, utc(2026, 12, 2, 15), rules=US)
        assert (v.rule_id, v.next_permitted) == ("CONTACT-NO-CHANNEL", None)


# ---- China -------------------------------------------------------------------------------------


class TestChina:
    sh = debtor("Asia/Shanghai")

    def test_fourth_connected_call_of_a_local_day(self) -> None:
        # CN-CONNECTED-DAY, GB/T 45251-2025: three connected calls on Wednesday 2 December
        # (09:00, 10:00, 11:00 CST); a fourth at 14:00 waits for 08:00 CST on the 3rd = 00:00 UTC.
        history = calls(
            "d1", [utc(2026, 12, 2, 1), utc(2026, 12, 2, 2), utc(2026, 12, 2, 3)], "connected"
        )
        v = check_contact(self.sh, Channel.PHONE, utc(2026, 12, 2, 6), history=history, rules=CN)
        assert (v.allowed, v.rule_id, v.next_permitted) == (
            False,
            "CN-CONNECTED-DAY",
            utc(2026, 12, 3, 0),
        )
        assert check_contact(
            self.sh, Channel.SMS, utc(2026, 12, 2, 6), history=history, rules=CN
        ).allowed

    def test_unanswered_calls_cap_at_six(self) -> None:
        # CN-ATTEMPTS-DAY (CBA 2026): six unanswered calls are fine, the seventh is not.
        history = calls("d1", [utc(2026, 12, 2, h) for h in range(1, 7)])
        v = check_contact(self.sh, Channel.PHONE, utc(2026, 12, 2, 8), history=history, rules=CN)
        assert (v.rule_id, v.next_permitted) == ("CN-ATTEMPTS-DAY", utc(2026, 12, 3, 0))
        assert check_contact(
            self.sh, Channel.PHONE, utc(2026, 12, 2, 8), history=history[:5], rules=CN
        ).allowed

    def test_hours_are_8_to_22(self) -> None:
        # CN-HOURS: 21:59:59 CST fine; 22:00 CST (14:00 UTC) waits for 08:00 (00:00 UTC).
        assert check_contact(self.sh, Channel.PHONE, utc(2026, 12, 2, 13, 59, 59), rules=CN).allowed
        v = check_contact(self.sh, Channel.PHONE, utc(2026, 12, 2, 14), rules=CN)
        assert (v.rule_id, v.next_permitted) == ("CN-HOURS", utc(2026, 12, 3, 0))
        v = check_contact(self.sh, Channel.PHONE, utc(2026, 12, 2, 23, 59, 59), rules=CN)
        assert (v.rule_id, v.next_permitted) == ("CN-HOURS", utc(2026, 12, 3, 0))

    def test_national_day_week(self) -> None:
        # CN-NO-CONTACT-DAYS: 1-7 October 2026 (Sunday the 4th inside the block); the next
        # permitted time is Thursday 8 October 08:00 CST = 00:00 UTC.
        for day in range(1, 8):
            v = check_contact(
                self.sh, Channel.PHONE, local("Asia/Shanghai", 2026, 10, day, 10), rules=CN
            )
            assert (v.rule_id, v.next_permitted) == ("CN-NO-CONTACT-DAYS", utc(2026, 10, 8, 0))
        # An ordinary weekend is open (Saturday 10 October is even a working day).
        assert check_contact(
            self.sh, Channel.PHONE, local("Asia/Shanghai", 2026, 10, 11, 10), rules=CN
        ).allowed

    def test_listed_contacts_never_for_collection(self) -> None:
        contact = Party("t1", Role.THIRD_PARTY, "Asia/Shanghai")
        for channel in Channel:
            v = check_contact(contact, channel, utc(2026, 12, 2, 2), rules=CN)
            assert (v.allowed, v.rule_id, v.next_permitted) == (False, "CN-OBLIGORS-ONLY", None)
        relay = check_contact(
            contact, Channel.PHONE, utc(2026, 12, 2, 2), rules=CN, purpose=Purpose.CALL_BACK
        )
        assert [r.id for r in relay.requires] == ["CN-NO-DISCLOSURE"]
        # One relay request per 30 days (repay policy): 2 November 10:00 CST -> 2 December.
        history = (Attempt("t1", Channel.PHONE, utc(2026, 11, 2, 2), Outcome.CONNECTED),)
        v = check_contact(
            contact,
            Channel.PHONE,
            utc(2026, 11, 20, 2),
            history=history,
            rules=CN,
            purpose=Purpose.CALL_BACK,
        )
        assert (v.rule_id, v.next_permitted) == ("CN-THIRD-PARTY-MONTH", utc(2026, 12, 2, 2))

    def test_co_debtor_and_guarantor_for_collection(self) -> None:
        for role in (Role.CO_DEBTOR, Role.GUARANTOR):
            assert check_contact(
                Party("p", role, "Asia/Shanghai"), Channel.PHONE, utc(2026, 12, 2, 2), rules=CN
            ).allowed

    def test_policy_dates(self) -> None:
        days = dataclasses.replace(CN.no_contact_days, extra_dates=frozenset({date(2026, 12, 2)}))
        rules = dataclasses.replace(CN, no_contact_days=days)
        v = check_contact(self.sh, Channel.SMS, utc(2026, 12, 2, 2), rules=rules)
        assert (v.rule_id, v.next_permitted) == ("CN-NO-CONTACT-DAYS", utc(2026, 12, 3, 0))


# ---- Great Britain -----------------------------------------------------------------------------


class TestGreatBritain:
    ldn = debtor("Europe/London")

    def test_reasonable_hours(self) -> None:
        assert check_contact(self.ldn, Channel.PHONE, utc(2026, 12, 1, 20, 59), rules=GB).allowed
        v = check_contact(self.ldn, Channel.PHONE, utc(2026, 12, 1, 21), rules=GB)
        assert (v.rule_id, v.next_permitted) == ("GB-HOURS", utc(2026, 12, 2, 8))
        assert v.source is not None and "CONC 7.9.4R" in v.source

    def test_christmas_to_the_next_business_morning(self) -> None:
        # 25 (Christmas), 26 (Boxing Day, Saturday), 27 (Sunday inside), 28 (Boxing Day
        # substitute): nothing before Tuesday 29 December 08:00 GMT.
        for day in (25, 26, 27, 28):
            v = check_contact(self.ldn, Channel.EMAIL, utc(2026, 12, day, 10), rules=GB)
            assert (v.rule_id, v.next_permitted) == ("GB-NO-CONTACT-DAYS", utc(2026, 12, 29, 8))
        assert check_contact(self.ldn, Channel.EMAIL, utc(2026, 12, 20, 10), rules=GB).allowed

    def test_forbearance_travels_with_the_message(self) -> None:
        v = check_contact(self.ldn, Channel.SMS, utc(2026, 12, 1, 10), rules=GB)
        assert [r.id for r in v.requires] == ["GB-FORBEARANCE", "GB-NO-LUMP-SUM-PRESSURE"]
        assert [r.source for r in v.requires] == ["FCA CONC 7.3.4R", "FCA CONC 7.3.10R"]


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


# ---- scheduling, recording, disclosure, rules data ---------------------------------------------


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


def _shipped_json() -> dict[str, object]:
    data: dict[str, object] = json.loads(SHIPPED.read_text("utf-8"))
    return data


def test_every_shipped_rule_cites_a_source() -> None:
    for rules in (CN, US, GB):
        for rule in rules.rules():
            assert rule.id.startswith(rules.code + "-")
            assert rule.text and rule.source


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda j: j["hours"][0].update(start="22:00", end="08:00"), "order"),
        (lambda j: j["hours"][0].update(channels=["fax"]), "choice"),
        (lambda j: j["caps"][0].update(id=j["caps"][1]["id"]), "unique_id"),
        (lambda j: j["caps"][0].update(window={"local_days": 1, "rolling_hours": 2}), "one_kind"),
        (lambda j: j["caps"][0].update(limit=0), "range"),
        (lambda j: j.update(colour="blue"), "keys"),
        (lambda j: j["contactable"].pop(), "purposes"),
    ],
)
def test_malformed_rules_are_refused(change: object, match: str) -> None:
    data = _shipped_json()
    jurisdictions = data["jurisdictions"]
    assert isinstance(jurisdictions, list)
    change(jurisdictions[0])  # type: ignore[operator]
    with pytest.raises(DomainError, match=match):
        load_rules(data)


# ---- properties --------------------------------------------------------------------------------

ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/St_Johns",
]
# Local dates of the 2026 DST changes of those zones (and the holidays above).
SPECIAL_DAYS = [
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 4, 5),
    date(2026, 10, 4),
    date(2026, 10, 1),
    date(2026, 11, 26),
    date(2026, 12, 25),
]
# Beside the shipped rules, a stress variant: a cap over a run of local days, per-debt caps
# and cooling-off, so that every window kind is exercised.
STRESS = dataclasses.replace(
    CN,
    code="XX",
    caps=(
        *CN.caps,
        Cap(
            Rule("XX-3DAYS", "4 contacts in any 3 local days", "test"),
            frozenset(Channel),
            frozenset(Outcome),
            Scope.PARTY,
            Window(local_days=3),
            4,
        ),
        Cap(
            Rule("XX-DEBT-36H", "3 calls per debt in any 36 hours", "test"),
            frozenset({Channel.PHONE}),
            frozenset(Outcome),
            Scope.DEBT,
            Window(rolling=timedelta(hours=36)),
            3,
        ),
    ),
    cooling_off=(
        CoolingOff(
            Rule("XX-COOL", "no call on the debt for 20 hours after a conversation", "test"),
            frozenset({Channel.PHONE}),
            frozenset({Outcome.CONNECTED}),
            Scope.DEBT,
            timedelta(hours=20),
        ),
    ),
)
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
