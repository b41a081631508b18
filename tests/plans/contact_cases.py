"""Shared cases of the contact tests: clocks, a debtor, calls, zones and days worth probing,
and a stress variant of the shipped rules (tests/plans/test_contact.py, test_contact_rules.py,
test_reminders.py).

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
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from plans.contact import Attempt, Channel, Outcome, Party, Role
from plans.contact_rules import Cap, CoolingOff, Rule, Scope, Window, jurisdiction

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
