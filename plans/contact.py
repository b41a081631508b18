"""Who may be contacted, when and how often: the contact check, and reminders moved into it.

A debt has parties (debtor, co-debtor, guarantor, third party), each with a role, the channels
they gave, a locale and an IANA time zone. :func:`check_contact` answers whether a party may be
contacted on a channel at a time, given every attempt already made on the debt, under one
jurisdiction's rules (``plans.contact_rules``); a refusal names the rule, its source and the
policy version, and the next permitted time. :func:`schedule_message` moves a reminder into
permitted time or drops it; :func:`record_attempt` refuses an attempt that breaks a rule;
:func:`disclosure` says what a message to each role may contain.

Time is kept in UTC and judged in the party's zone. A local window such as 08:00–21:00 is
computed per local date: it opens at the first instant the clock reads 08:00 or later that day
and closes at the first instant it reads 21:00 or later. So a window edge inside a DST gap opens
when the clock jumps past it, and one inside a repeated hour closes at its first occurrence and
does not reopen (never more contact than the wall clock allows).
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plans.contact_rules import (
    Cap,
    Channel,
    CoolingOff,
    Jurisdiction,
    Outcome,
    Purpose,
    Role,
    Rule,
    Scope,
    jurisdiction,
)
from plans.errors import DomainError, NotAllowed

__all__ = [
    "Attempt",
    "Channel",
    "ContactNotAllowed",
    "Detail",
    "Disclosure",
    "Outcome",
    "Party",
    "Purpose",
    "Role",
    "Verdict",
    "check_contact",
    "disclosed_amount_minor",
    "disclosure",
    "jurisdiction",
    "next_permitted",
    "record_attempt",
    "schedule_message",
]

# Rules of the engine itself, whatever the jurisdiction.
NO_CHANNEL = Rule(
    "CONTACT-NO-CHANNEL",
    "The party has given no address or number for this channel.",
    "repay engine: a party is reached only on channels they gave",
)
ORDER = Rule(
    "CONTACT-ORDER",
    "This attempt, recorded before later ones, would put them inside a cooling-off period.",
    "repay engine: a record never makes an earlier-accepted attempt break a rule",
)

# next_permitted looks this far ahead before answering "never".
HORIZON = timedelta(days=400)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_TICK = timedelta(microseconds=1)
_EARLIEST, _LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Party:
    """Someone linked to a debt who might be contacted.

    ``channels`` are those the party gave; ``opted_out`` those they asked not to be used;
    ``stopped`` records a request not to be contacted at all (only the party lifts it).
    ``guaranteed_minor`` caps what a guarantor is liable for (None: the whole debt).

    Examples
    --------
    >>> p = Party("p1", Role.DEBTOR, "Asia/Shanghai", channels={"phone", "sms"})
    >>> sorted(c.value for c in p.channels), p.zone
    (['phone', 'sms'], zoneinfo.ZoneInfo(key='Asia/Shanghai'))
    """

    id: str
    role: Role
    time_zone: str
    locale: str = "zh-CN"
    channels: frozenset[Channel] = frozenset(Channel)
    opted_out: frozenset[Channel] = frozenset()
    stopped: bool = False
    guaranteed_minor: int | None = None
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            set_(self, "role", Role(self.role))
            set_(self, "channels", frozenset(Channel(c) for c in self.channels))
            set_(self, "opted_out", frozenset(Channel(c) for c in self.opted_out))
        except ValueError as exc:
            raise DomainError("party", "choice", str(exc)) from exc
        try:
            set_(self, "zone", ZoneInfo(self.time_zone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            detail = f"{self.time_zone!r} is not an IANA time zone"
            raise DomainError("party.time_zone", "iana_zone", detail) from exc
        if self.guaranteed_minor is not None and (
            isinstance(self.guaranteed_minor, bool)
            or not isinstance(self.guaranteed_minor, int)
            or self.guaranteed_minor < 0
        ):
            detail = "must be whole, non-negative minor units"
            raise DomainError("party.guaranteed_minor", "non_negative", detail)


def _utc(at: datetime, field_name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(field_name, "aware", "must carry a time zone (UTC offset)")
    return at.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt to reach a party: a call placed, a message sent. ``at`` is kept in UTC.

    Examples
    --------
    >>> from datetime import timezone
    >>> east8 = timezone(timedelta(hours=8))
    >>> Attempt("p1", Channel.PHONE, datetime(2026, 3, 2, 9, tzinfo=east8), "no_answer").at
    datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.timezone.utc)
    """

    party_id: str
    channel: Channel
    at: datetime
    outcome: Outcome

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            set_(self, "channel", Channel(self.channel))
            set_(self, "outcome", Outcome(self.outcome))
        except ValueError as exc:
            raise DomainError("attempt", "choice", str(exc)) from exc
        set_(self, "at", _utc(self.at, "attempt.at"))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to a contact check.

    Allowed: ``requires`` lists what the message must meet (an opt-out notice, no disclosure).
    Refused: the rule that forbids it (``rule_id``, ``text``, ``source``) and
    ``next_permitted``, the earliest time it would be allowed (None: not by waiting).
    """

    allowed: bool
    policy_version: str
    rule_id: str | None = None
    text: str | None = None
    source: str | None = None
    next_permitted: datetime | None = None
    requires: tuple[Rule, ...] = ()


# ---- local time --------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _first_instant(zone: ZoneInfo, day: date, wall: time) -> datetime:
    """The first instant (UTC) at which the clock in ``zone`` reads ``wall`` or later on ``day``."""
    naive = datetime.combine(day, wall)
    early = naive.replace(tzinfo=zone).astimezone(UTC)
    late = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early <= late:
        # The time exists: once, or twice in a repeated hour (fold=0 is the first).
        return early
    # A gap (spring forward): fold=0 reads the time with the old offset and lands after the
    # jump, fold=1 with the new one and lands before it. The clock passes ``wall`` at the
    # transition, a whole second of tzdata between the two: find it by bisection.
    low, high = int(late.timestamp()), int(early.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


# ---- the checks --------------------------------------------------------------------------------


def _permanent_block(
    rules: Jurisdiction, party: Party, channel: Channel, purpose: Purpose
) -> Rule | None:
    """A rule that forbids the contact whenever it is made, or None."""
    if party.stopped:
        return rules.stop
    who = rules.contactable_for(purpose)
    if party.role not in who.roles:
        return who.rule
    if channel not in party.channels:
        return NO_CHANNEL
    if channel in party.opted_out:
        return rules.opt_out
    return None


_Block = tuple[Rule, datetime | None]


def _temporal_block(
    rules: Jurisdiction, party: Party, channel: Channel, at: datetime, history: Sequence[Attempt]
) -> _Block | None:
    """The first rule that forbids contact at ``at`` and the earliest time it could stop doing so.

    The resume time is a lower bound: no instant between ``at`` and it satisfies that rule, so
    jumping there skips nothing (None: the rule never stops forbidding it).
    """
    zone = party.zone
    day = at.astimezone(zone).date()
    days = rules.no_contact_days
    if days.is_no_contact(day):
        for ahead in range(1, 367):
            if not days.is_no_contact(day + timedelta(days=ahead)):
                return days.rule, _first_instant(zone, day + timedelta(days=ahead), _MIDNIGHT)
        return days.rule, None
    for hours in rules.hours_for(channel):
        opens = _first_instant(zone, day, hours.start)
        if at < opens:
            return hours.rule, opens
        if at >= _first_instant(zone, day, hours.end):
            return hours.rule, _first_instant(zone, day + _ONE_DAY, hours.start)
    for cooling in rules.cooling_for(channel):
        until = _cooling_until(cooling, party.id, at, history)
        if until is not None:
            return cooling.rule, until
    for cap in rules.caps_for(channel):
        if party.role in cap.roles:
            blocked, resume = _cap_block(cap, party, day, at, history)
            if blocked:
                return cap.rule, resume
    return None


def _cooling_until(
    cooling: CoolingOff, party_id: str, at: datetime, history: Sequence[Attempt]
) -> datetime | None:
    """The end of the latest cooling-off period ``at`` falls in, or None."""
    period, after, channels = cooling.period, cooling.after, cooling.channels
    anyone = cooling.scope is Scope.DEBT
    until: datetime | None = None
    for a in history:
        if (
            a.at <= at < a.at + period
            and a.outcome in after
            and a.channel in channels
            and (anyone or a.party_id == party_id)
        ):
            end = a.at + period
            if until is None or end > until:
                until = end
    return until


def _counted(
    cap: Cap, party_id: str, history: Sequence[Attempt], low: datetime, high: datetime
) -> list[datetime]:
    """Times of the attempts ``cap`` counts with ``low <= at < high``, in order."""
    channels, counts = cap.channels, cap.counts
    anyone = cap.scope is Scope.DEBT
    return sorted(
        a.at
        for a in history
        if low <= a.at < high
        and a.channel in channels
        and a.outcome in counts
        and (anyone or a.party_id == party_id)
    )


def _cap_block(
    cap: Cap, party: Party, day: date, at: datetime, history: Sequence[Attempt]
) -> tuple[bool, datetime | None]:
    """Whether one more attempt at ``at`` puts some window of ``cap`` over its limit.

    Only windows that contain ``at`` change, so only they are checked, against every counted
    attempt the history holds (earlier or, for scheduled messages, later). The resume time is
    when enough counted attempts have left every such window.
    """
    window, limit = cap.window, cap.limit
    if window.rolling is not None:
        span = window.rolling
        times = _counted(cap, party.id, history, at - span + _TICK, at + span)
        if len(times) < limit:
            return False, None
        # Windows [u, u + span) that contain ``at``; the fullest starts at an attempt or at ``at``.
        worst = max(
            bisect_left(times, u + span) - bisect_left(times, u) + 1
            for u in [t for t in times if t <= at] + [at]
        )
        if worst <= limit:
            return False, None
        if times[-1] <= at:
            # Everything counted is in (at - span, at]: wait until all but limit - 1 age out.
            return True, times[len(times) - limit] + span
        # With later (scheduled) attempts too, the fullest window can only shrink when its
        # oldest attempt ages out, so the next such moment is a safe place to look again.
        return True, min(t + span for t in times if t + span > at)
    if window.local_days is not None:
        n = window.local_days
        zone = party.zone
        # Starts of the local days day-n+1 ... day+n: index i is day - n + 1 + i.
        starts = [
            _first_instant(zone, day + timedelta(days=i), _MIDNIGHT) for i in range(1 - n, n + 1)
        ]
        times = _counted(cap, party.id, history, starts[0], starts[-1])
        if len(times) < limit:
            return False, None
        index = [bisect_right(starts, t) - 1 for t in times]
        worst = max(sum(1 for i in index if s <= i < s + n) + 1 for s in range(n))
        if worst <= limit:
            return False, None
        # An attempt on day index i leaves every run containing a day from i + n on. With all
        # counted attempts on or before ``day``, all but limit - 1 must leave; with later ones
        # too, the first to leave is the next moment worth looking again.
        first_out = index[len(index) - limit] if index[-1] <= n - 1 else index[0]
        return True, _first_instant(zone, day + timedelta(days=first_out + 1), _MIDNIGHT)
    return len(_counted(cap, party.id, history, _EARLIEST, _LATEST)) + 1 > limit, None


def _search(
    rules: Jurisdiction,
    party: Party,
    channel: Channel,
    at: datetime,
    history: Sequence[Attempt],
    until: datetime,
) -> datetime | None:
    """The earliest time from ``at`` to ``until`` that no time-bound rule forbids, or None."""
    t = at
    for _ in range(100_000):
        block = _temporal_block(rules, party, channel, t, history)
        if block is None:
            return t
        resume = block[1]
        if resume is None:
            return None
        t = max(resume, t + _TICK)
        if t > until:
            return None
    return None


# ---- the public functions ----------------------------------------------------------------------


def check_contact(
    party: Party,
    channel: Channel,
    at: datetime,
    *,
    history: Sequence[Attempt] = (),
    rules: Jurisdiction,
    purpose: Purpose = Purpose.COLLECTION,
) -> Verdict:
    """May ``party`` be contacted on ``channel`` at ``at``, given the debt's ``history``?

    ``history`` holds every attempt on the debt, to every party (a per-debt cap counts them
    all; a per-party one only the party's), including messages already scheduled. The proposed
    attempt counts as one more whatever its outcome turns out to be. Checks run from the
    permanent (a stop request, a role never contacted for ``purpose``, a channel not given or
    opted out of: ``next_permitted`` None) to the time-bound (a no-contact day, hours,
    cooling-off, caps: ``next_permitted`` the earliest time all of them allow).

    Parameters
    ----------
    party : Party
        Who would be contacted.
    channel : Channel
        How.
    at : datetime
        When; any aware datetime.
    history : sequence of Attempt
        Attempts already made on the debt.
    rules : Jurisdiction
        The contact rules (``plans.contact_rules.jurisdiction("US")``, or a stored version).
    purpose : Purpose
        ``collection`` (about the debt) or ``call_back`` (asking to pass on a number).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> ny = Party("d1", Role.DEBTOR, "America/New_York")
    >>> us = jurisdiction("US")
    >>> check_contact(ny, Channel.PHONE, datetime(2026, 12, 1, 1, 59, tzinfo=UTC), rules=us)
    Verdict(allowed=True, policy_version='contact-2026-11-25', ...)
    >>> v = check_contact(ny, Channel.PHONE, datetime(2026, 12, 1, 2, 0, tzinfo=UTC), rules=us)
    >>> v.allowed, v.rule_id, v.next_permitted  # 21:00 EST; opens 08:00 EST = 13:00 UTC
    (False, 'US-HOURS', datetime.datetime(2026, 12, 1, 13, 0, tzinfo=datetime.timezone.utc))
    """
    at = _utc(at, "at")
    permanent = _permanent_block(rules, party, channel, purpose)
    if permanent is not None:
        return _refused(rules, permanent, None)
    block = _temporal_block(rules, party, channel, at, history)
    if block is None:
        return Verdict(
            True, rules.policy_version, requires=rules.obligations_for(channel, party.role)
        )
    rule, resume = block
    found = (
        None if resume is None else _search(rules, party, channel, resume, history, at + HORIZON)
    )
    return _refused(rules, rule, found)


def _refused(rules: Jurisdiction, rule: Rule, when: datetime | None) -> Verdict:
    return Verdict(False, rules.policy_version, rule.id, rule.text, rule.source, when)


def next_permitted(
    party: Party,
    channel: Channel,
    at: datetime,
    *,
    history: Sequence[Attempt] = (),
    rules: Jurisdiction,
    purpose: Purpose = Purpose.COLLECTION,
    until: datetime | None = None,
) -> datetime | None:
    """The earliest time at or after ``at`` at which :func:`check_contact` would allow it.

    The search walks forward through hours, no-contact days, cooling-off periods and cap
    windows (a rolling window frees up when its oldest counted attempt ages out). None when
    waiting never helps (a stop request, an opt-out, a role never contacted for ``purpose``, a
    lifetime cap used up) or nothing is found by ``until`` (default: 400 days on).

    Examples
    --------
    >>> sh = Party("d1", Role.DEBTOR, "Asia/Shanghai")
    >>> cn = jurisdiction("CN")
    >>> next_permitted(sh, Channel.SMS, datetime(2026, 10, 1, 2, tzinfo=UTC), rules=cn)
    datetime.datetime(2026, 10, 8, 0, 0, tzinfo=datetime.timezone.utc)
    """
    at = _utc(at, "at")
    if _permanent_block(rules, party, channel, purpose) is not None:
        return None
    limit = at + HORIZON if until is None else _utc(until, "until")
    return _search(rules, party, channel, at, history, limit)


def schedule_message(
    party: Party,
    channel: Channel,
    wanted_at: datetime,
    latest_useful: datetime,
    *,
    history: Sequence[Attempt] = (),
    rules: Jurisdiction,
    purpose: Purpose = Purpose.COLLECTION,
) -> datetime | None:
    """When to send a message wanted at ``wanted_at``: moved into permitted time, or None.

    The send time is the first permitted time from ``wanted_at`` (inside the party's hours,
    off no-contact days, within every cap, counting the messages already in ``history``). If
    that is after ``latest_useful`` (a reminder after its due date), the message is dropped.

    Examples
    --------
    >>> ldn = Party("d1", Role.DEBTOR, "Europe/London")
    >>> gb = jurisdiction("GB")
    >>> schedule_message(ldn, Channel.SMS, datetime(2026, 12, 24, 22, tzinfo=UTC),
    ...                  datetime(2026, 12, 31, 12, tzinfo=UTC), rules=gb)  # after Christmas
    datetime.datetime(2026, 12, 29, 8, 0, tzinfo=datetime.timezone.utc)
    >>> schedule_message(ldn, Channel.SMS, datetime(2026, 12, 24, 22, tzinfo=UTC),
    ...                  datetime(2026, 12, 26, 12, tzinfo=UTC), rules=gb) is None
    True
    """
    wanted_at, latest_useful = _utc(wanted_at, "wanted_at"), _utc(latest_useful, "latest_useful")
    if latest_useful < wanted_at:
        return None
    return next_permitted(
        party,
        channel,
        wanted_at,
        history=history,
        rules=rules,
        purpose=purpose,
        until=latest_useful,
    )


class ContactNotAllowed(NotAllowed):
    """An attempt the contact rules forbid; ``verdict`` says which rule and until when."""

    rule_default = "contact"

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__("attempt.at", verdict.rule_id, verdict.text or "")


def record_attempt(
    party: Party,
    attempt: Attempt,
    *,
    history: Sequence[Attempt] = (),
    rules: Jurisdiction,
    purpose: Purpose = Purpose.COLLECTION,
) -> tuple[Attempt, ...]:
    """The history with ``attempt`` added, if the rules allowed it; else ``ContactNotAllowed``.

    The attempt is checked as :func:`check_contact` would have at its time. An attempt
    recorded late, before others already on file, is also refused if its outcome would start a
    cooling-off period that a later attempt falls in.

    Examples
    --------
    >>> sh = Party("d1", Role.DEBTOR, "Asia/Shanghai")
    >>> cn = jurisdiction("CN")
    >>> call = Attempt("d1", Channel.PHONE, datetime(2026, 3, 2, 13, 59, tzinfo=UTC), "connected")
    >>> history = record_attempt(sh, call, rules=cn)  # 21:59 in Shanghai
    >>> late = Attempt("d1", Channel.PHONE, datetime(2026, 3, 2, 14, tzinfo=UTC), "no_answer")
    >>> record_attempt(sh, late, history=history, rules=cn)  # 22:00
    Traceback (most recent call last):
    ...
    plans.contact.ContactNotAllowed: attempt.at: No contact between 22:00 and 08:00 ... [CN-HOURS]
    """
    if attempt.party_id != party.id:
        raise DomainError("attempt.party_id", "party", "must be the id of the party checked")
    verdict = check_contact(
        party, attempt.channel, attempt.at, history=history, rules=rules, purpose=purpose
    )
    if not verdict.allowed:
        raise ContactNotAllowed(verdict)
    for cooling in rules.cooling_for(attempt.channel):
        if attempt.outcome in cooling.after and any(
            attempt.at < a.at < attempt.at + cooling.period
            and a.channel in cooling.channels
            and (cooling.scope is Scope.DEBT or a.party_id == party.id)
            for a in history
        ):
            raise ContactNotAllowed(_refused(rules, ORDER, None))
    return (*history, attempt)


# ---- what a message may say --------------------------------------------------------------------


class Detail(enum.StrEnum):
    """A piece of information a message might carry."""

    CALL_BACK_NUMBER = "call_back_number"
    PLAN_LINK = "plan_link"
    AMOUNT_OWED = "amount_owed"
    SCHEDULE = "schedule"
    GUARANTEED_AMOUNT = "guaranteed_amount"
    DUE_DATE = "due_date"


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What a message to a party in ``role`` may contain; anything else must be left out."""

    role: Role
    details: frozenset[Detail]

    def allows(self, detail: Detail) -> bool:
        """True if ``detail`` may appear in the message."""
        return detail in self.details


_OBLIGOR = frozenset(Detail)
_DISCLOSURES = {
    # Obligors owe the debt: plan links, amounts, schedules.
    Role.DEBTOR: _OBLIGOR,
    Role.CO_DEBTOR: _OBLIGOR,
    # A guarantor answers for the guaranteed amount only (民法典 第六百九十一条; CONC 7.1.4R).
    Role.GUARANTOR: frozenset({Detail.CALL_BACK_NUMBER, Detail.GUARANTEED_AMOUNT, Detail.DUE_DATE}),
    # A third party learns nothing of the debt (12 CFR 1006.6(d)(1); CONC 7.9.6R; CBA 2026).
    Role.THIRD_PARTY: frozenset({Detail.CALL_BACK_NUMBER}),
}


def disclosure(role: Role) -> Disclosure:
    """What a message to ``role`` may contain: the contract the templates enforce.

    Examples
    --------
    >>> sorted(d.value for d in disclosure(Role.GUARANTOR).details)
    ['call_back_number', 'due_date', 'guaranteed_amount']
    >>> disclosure(Role.THIRD_PARTY).allows(Detail.AMOUNT_OWED)
    False
    """
    return Disclosure(Role(role), _DISCLOSURES[Role(role)])


def disclosed_amount_minor(party: Party, *, owed_minor: int) -> int | None:
    """The amount a message to ``party`` may state: all of it, the guaranteed part, or none.

    Examples
    --------
    >>> g = Party("g1", Role.GUARANTOR, "Asia/Shanghai", guaranteed_minor=50_000)
    >>> disclosed_amount_minor(g, owed_minor=80_000), disclosed_amount_minor(g, owed_minor=30_000)
    (50000, 30000)
    """
    if party.role.is_obligor:
        return owed_minor
    if party.role is Role.GUARANTOR:
        return (
            owed_minor
            if party.guaranteed_minor is None
            else min(owed_minor, party.guaranteed_minor)
        )
    return None
