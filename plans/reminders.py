"""Payment reminders: who hears of which payment date, when, or why not.

A plan's reminders go to every party who may learn a due date (debtor, co-debtor, guarantor;
never a third party: ``plans.contact.disclosure``), on each channel a machine sends (email,
SMS) that the party gave and did not opt out of, unless they asked not to be contacted at all.
For each remaining payment date and each of the policy's ``reminder_days_before`` (by default
3 days before and on the day), one is wanted at 10:00 in the party's zone that many days
before, and moved into permitted time by :func:`plans.contact.schedule_message`: hours,
no-contact days, cooling-off and caps, against the debt's history and the reminders
scheduled before it. One that cannot go out before the end of the payment date's permitted
hours is dropped, naming the rule that stopped it; one wanted before ``now`` is skipped.

:func:`plan_reminders` is the rule for one plan. :func:`reminders_on` gives one day's
reminders for many plans with the same results: a :class:`DueIndex` (numpy, sorted payment
dates) picks the few plans with a payment date that many days ahead, and a party with nothing
in the history that the rules on its channel count (its own attempts on those channels, or
anyone's where a rule counts the whole debt) shares one schedule with every such party of its
zone, role and rules: hours and no-contact days alone decide it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from plans.contact import (
    Attempt,
    Channel,
    Detail,
    Outcome,
    Party,
    Role,
    check_contact,
    disclosure,
    schedule_message,
)
from plans.contact_rules import Cap, CoolingOff, Jurisdiction, Scope
from plans.errors import DomainError

__all__ = [
    "MESSAGE_CHANNELS",
    "REMINDER_AT",
    "ActivePlan",
    "Due",
    "DueIndex",
    "Recipient",
    "Reminder",
    "ReminderKey",
    "latest_useful",
    "message_channels",
    "plan_reminders",
    "receives_reminders",
    "reminders_on",
    "wanted_at",
]

# The wanted local time of a reminder, before it is moved into permitted time (repay policy:
# mid-morning, inside every shipped jurisdiction's hours).
REMINDER_AT = time(10, 0)
# A call is placed by a person; the outbox sends what a machine sends.
MESSAGE_CHANNELS = (Channel.EMAIL, Channel.SMS)

# (instalment, days_before, party_id, channel): one reminder of one plan
ReminderKey = tuple[int, int, str, Channel]


@dataclass(frozen=True, slots=True)
class Due:
    """A payment date still to be reminded of: the instalment's number and its date."""

    instalment: int
    payment_date: date


@dataclass(frozen=True, slots=True)
class Recipient:
    """A party of the debt and the contact rules of its jurisdiction."""

    party: Party
    rules: Jurisdiction


@dataclass(frozen=True, slots=True)
class ActivePlan:
    """What reminding one plan needs: its remaining payment dates, the debt's parties, policy.

    ``days_before`` is the policy's ``reminder_days_before`` (kept once each, largest first:
    the order reminders are scheduled in). ``done`` holds the reminders already decided
    (queued or dropped before): they are neither scheduled again nor counted twice.

    Examples
    --------
    >>> from plans.contact import jurisdiction
    >>> sh = Recipient(Party("d1", "debtor", "Asia/Shanghai"), jurisdiction("CN"))
    >>> ActivePlan("p1", "CARD-1", (Due(1, date(2026, 12, 15)),), (sh,), (0, 3, 3)).days_before
    (3, 0)
    """

    plan_id: str
    debt_ref: str
    dues: tuple[Due, ...]
    recipients: tuple[Recipient, ...]
    days_before: tuple[int, ...] = (3, 0)
    done: frozenset[ReminderKey] = frozenset()

    def __post_init__(self) -> None:
        days = self.days_before
        if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in days):
            detail = "must be whole, non-negative numbers of days"
            raise DomainError("reminder_days_before", "non_negative", detail)
        object.__setattr__(self, "days_before", tuple(sorted(set(days), reverse=True)))


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder: scheduled at ``send_at``, or dropped (``send_at`` None) by ``rule_id``.

    ``wanted_at`` and ``latest_useful`` are in the party's zone; ``send_at`` in UTC.
    """

    plan_id: str
    instalment: int
    payment_date: date
    party_id: str
    channel: Channel
    days_before: int
    wanted_at: datetime
    latest_useful: datetime
    send_at: datetime | None
    rule_id: str | None
    policy_version: str

    @property
    def dropped(self) -> bool:
        """True if it cannot be sent before the payment date's permitted hours end."""
        return self.send_at is None

    @property
    def key(self) -> ReminderKey:
        """Which reminder of its plan this is."""
        return (self.instalment, self.days_before, self.party_id, self.channel)


# ---- the rule ----------------------------------------------------------------------------------


def receives_reminders(party: Party) -> bool:
    """Whether ``party``'s role may learn a due date, which every reminder states.

    Examples
    --------
    >>> receives_reminders(Party("g1", "guarantor", "Europe/London"))
    True
    >>> receives_reminders(Party("t1", "third_party", "Europe/London"))
    False
    """
    return party.role in _REMINDED


_REMINDED = frozenset(role for role in Role if disclosure(role).allows(Detail.DUE_DATE))


def message_channels(party: Party) -> tuple[Channel, ...]:
    """The channels a message to ``party`` may be sent on: given, not opted out, not stopped.

    Examples
    --------
    >>> message_channels(Party("d1", "debtor", "Asia/Shanghai", opted_out={"email"}))
    (<Channel.SMS: 'sms'>,)
    >>> message_channels(Party("d1", "debtor", "Asia/Shanghai", stopped=True))
    ()
    """
    if party.stopped:
        return ()
    return tuple(c for c in MESSAGE_CHANNELS if c in party.channels and c not in party.opted_out)


def wanted_at(payment_date: date, days_before: int, party: Party) -> datetime:
    """When a reminder ``days_before`` a payment date is wanted: 10:00 in the party's zone.

    Examples
    --------
    >>> wanted_at(date(2026, 3, 10), 3, Party("d1", "debtor", "America/New_York")).isoformat()
    '2026-03-07T10:00:00-05:00'
    """
    return datetime.combine(payment_date - timedelta(days=days_before), REMINDER_AT, party.zone)


def latest_useful(
    rules: Jurisdiction, channel: Channel, party: Party, payment_date: date
) -> datetime:
    """The last instant of the payment date's permitted hours on ``channel``, party's zone.

    Examples
    --------
    >>> from plans.contact import jurisdiction
    >>> ny = Party("d1", "debtor", "America/New_York")
    >>> latest_useful(jurisdiction("US"), Channel.SMS, ny, date(2026, 11, 1)).isoformat()
    '2026-11-01T20:59:59.999999-05:00'
    """
    ends = [h.end for h in rules.hours_for(channel)]
    end = min(ends) if ends else time.max
    return datetime.combine(payment_date, end, party.zone) - _TICK


_TICK = timedelta(microseconds=1)


_Scheduled = tuple[datetime | None, str | None]


def _schedule(
    recipient: Recipient,
    channel: Channel,
    wanted: datetime,
    latest: datetime,
    history: Sequence[Attempt],
) -> _Scheduled:
    """The send time, or None and the rule that forbids the wanted time."""
    party, rules = recipient.party, recipient.rules
    send_at = schedule_message(party, channel, wanted, latest, history=history, rules=rules)
    if send_at is not None:
        return send_at, None
    return None, check_contact(party, channel, wanted, history=history, rules=rules).rule_id


def plan_reminders(
    plan: ActivePlan,
    *,
    history: Sequence[Attempt] = (),
    now: datetime | None = None,
    on: date | None = None,
) -> list[Reminder]:
    """The reminders of one plan, each scheduled in permitted time or dropped with its rule.

    In order of payment date, party, channel (email, SMS) and days before (most first); each
    scheduled one counts, as a message left, against the caps of those after it.

    Parameters
    ----------
    plan : ActivePlan
        The remaining payment dates, the recipients and the policy's days before.
    history : sequence of Attempt
        Every attempt on the debt so far, messages already queued included.
    now : datetime, optional
        Reminders wanted before it are skipped.
    on : date, optional
        Only the reminders wanted on this local date (in each party's zone).

    Returns
    -------
    list of Reminder

    Examples
    --------
    A text reminder 3 days before 8 October 2026 falls in China's National Day holiday and
    moves to 08:00 on the 8th; the one on the day would be a second text that day:

    >>> from plans.contact import jurisdiction
    >>> sms = Party("d1", "debtor", "Asia/Shanghai", channels={"sms"})
    >>> to = (Recipient(sms, jurisdiction("CN")),)
    >>> plan = ActivePlan("p1", "CARD-1", (Due(1, date(2026, 10, 8)),), to)
    >>> [(r.days_before, r.send_at, r.rule_id) for r in plan_reminders(plan)]
    [(3, datetime.datetime(2026, 10, 8, 0, 0, tzinfo=datetime.timezone.utc), None),
     (0, None, 'CN-SMS-DAY')]
    """
    seen = list(history)
    found: list[Reminder] = []
    offsets = [(days, timedelta(days=days)) for days in plan.days_before]
    for due in plan.dues:
        days_here = [d for d, span in offsets if on is None or due.payment_date - span == on]
        if not days_here:
            continue
        for recipient in plan.recipients:
            party = recipient.party
            if not receives_reminders(party):
                continue
            for channel in message_channels(party):
                latest: datetime | None = None
                for days in days_here:
                    if (due.instalment, days, party.id, channel) in plan.done:
                        continue
                    wanted = wanted_at(due.payment_date, days, party)
                    if now is not None and wanted < now:
                        continue
                    if latest is None:
                        latest = latest_useful(recipient.rules, channel, party, due.payment_date)
                    send_at, rule = _schedule(recipient, channel, wanted, latest, seen)
                    if send_at is not None:
                        seen.append(Attempt(party.id, channel, send_at, Outcome.MESSAGE_LEFT))
                    found.append(
                        Reminder(
                            plan.plan_id,
                            due.instalment,
                            due.payment_date,
                            party.id,
                            channel,
                            days,
                            wanted,
                            latest,
                            send_at,
                            rule,
                            recipient.rules.policy_version,
                        )
                    )
    return found


# ---- one day, many plans -----------------------------------------------------------------------


class DueIndex:
    """The payment dates of many plans, sorted: which plans have one on a given date.

    Built once for a list of plans (a day's job asks it for today and tomorrow; a benchmark
    for many days), it answers in a few binary searches instead of a pass over every date.

    Examples
    --------
    >>> from plans.contact import jurisdiction
    >>> sh = Recipient(Party("d1", "debtor", "Asia/Shanghai"), jurisdiction("CN"))
    >>> plans = [ActivePlan(f"p{d}", "C", (Due(1, date(2026, 12, d)),), (sh,)) for d in (5, 8)]
    >>> DueIndex(plans).plans_on(date(2026, 12, 5)).tolist()  # 3 days before the 8th, the 5th
    [0, 1]
    """

    def __init__(self, plans: Sequence[ActivePlan]) -> None:
        counts = np.fromiter((len(p.dues) for p in plans), np.int64, len(plans))
        ordinals = np.fromiter(
            (d.payment_date.toordinal() for p in plans for d in p.dues),
            np.int64,
            int(counts.sum()),
        )
        order = np.argsort(ordinals, kind="stable")
        self.size = len(plans)
        self._ordinals = ordinals[order]
        self._owners = np.repeat(np.arange(len(plans), dtype=np.int64), counts)[order]
        self.offsets = tuple(sorted({d for p in plans for d in p.days_before}))

    def plans_on(self, on: date) -> npt.NDArray[np.int64]:
        """Positions (ascending) of the plans with a payment date ``on`` + some days before."""
        targets = on.toordinal() + np.asarray(self.offsets, dtype=np.int64)
        low = np.searchsorted(self._ordinals, targets, side="left")
        high = np.searchsorted(self._ordinals, targets, side="right")
        hits = [self._owners[a:b] for a, b in zip(low.tolist(), high.tolist(), strict=True)]
        if not hits:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(hits))


def _counted_channels(
    rules: Jurisdiction, channel: Channel, role: Role
) -> tuple[frozenset[Channel], bool]:
    """Whose attempts matter to contacting a party in ``role`` on ``channel``.

    The channels whose attempts its caps and cooling-off periods count, and whether any of
    them counts every party's attempts on the debt (else only the party's own). A party with
    no such attempt is judged by hours and no-contact days alone.
    """
    rules_counting: list[Cap | CoolingOff] = [c for c in rules.caps_for(channel) if role in c.roles]
    rules_counting += rules.cooling_for(channel)
    channels = frozenset(x for k in rules_counting for x in k.channels)
    return channels, any(k.scope is Scope.DEBT for k in rules_counting)


class _SoFar:
    """A debt's history during a batch: the attempts on file and the reminders scheduled since.

    Attempts for the reminders are made only when a check needs the whole history.
    """

    __slots__ = ("attempts", "channels", "own", "pending")

    def __init__(self, history: Sequence[Attempt]) -> None:
        self.attempts = list(history)
        self.pending: list[tuple[str, Channel, datetime]] = []
        self.own = {(a.party_id, a.channel) for a in history}
        self.channels = {a.channel for a in history}

    def add(self, party_id: str, channel: Channel, at: datetime) -> None:
        self.pending.append((party_id, channel, at))
        self.own.add((party_id, channel))
        self.channels.add(channel)

    def history(self) -> list[Attempt]:
        if self.pending:
            self.attempts += [Attempt(p, c, t, Outcome.MESSAGE_LEFT) for p, c, t in self.pending]
            self.pending.clear()
        return self.attempts


class _Slot:
    """What reminders of one payment date, so many days before, share for parties alike.

    Alike: the same rules, zone, role and channel. The wanted and latest useful times, the
    channels whose attempts the rules count, and, for a party with none of those in the
    history, the schedule itself (found once, for the first such party).
    """

    __slots__ = ("_alone", "channel", "counted", "debt_wide", "latest", "recipient", "wanted")

    def __init__(self, recipient: Recipient, channel: Channel, payment_date: date, days: int):
        party, rules = recipient.party, recipient.rules
        self.recipient, self.channel = recipient, channel
        self.wanted = wanted_at(payment_date, days, party)
        self.latest = latest_useful(rules, channel, party, payment_date)
        self.counted, self.debt_wide = _counted_channels(rules, channel, party.role)
        self._alone: _Scheduled | None = None

    def alone(self) -> _Scheduled:
        """The schedule of a party with nothing counted against it."""
        if self._alone is None:
            self._alone = _schedule(self.recipient, self.channel, self.wanted, self.latest, ())
        return self._alone


def reminders_on(
    on: date,
    plans: Sequence[ActivePlan],
    *,
    histories: Mapping[str, Sequence[Attempt]] | None = None,
    now: datetime | None = None,
    index: DueIndex | None = None,
) -> list[Reminder]:
    """One day's reminders of many plans: those wanted on the local date ``on``.

    The same reminders, in the same order, as :func:`plan_reminders` with ``on`` for each plan
    in turn, the plans of one debt sharing its history (``histories``, by debt reference) and
    the reminders scheduled for the earlier ones. ``index`` (a :class:`DueIndex` of ``plans``)
    is built when not given.

    Examples
    --------
    On the day New York leaves daylight time, 10:00 is 15:00 UTC (it was 14:00 the day before):

    >>> from plans.contact import jurisdiction
    >>> ny = Recipient(Party("d1", "debtor", "America/New_York"), jurisdiction("US"))
    >>> plans = [ActivePlan(f"p{d}", f"C{d}", (Due(1, date(2026, 11, d)),), (ny,)) for d in (1, 4)]
    >>> found = reminders_on(date(2026, 11, 1), plans)
    >>> [(r.plan_id, r.channel.value, r.send_at.isoformat()) for r in found]
    [('p1', 'email', '2026-11-01T15:00:00+00:00'), ('p1', 'sms', '2026-11-01T15:00:00+00:00'),
     ('p4', 'email', '2026-11-01T15:00:00+00:00'), ('p4', 'sms', '2026-11-01T15:00:00+00:00')]
    """
    if index is None:
        index = DueIndex(plans)
    elif index.size != len(plans):
        raise DomainError("index", "same_plans", "must be the DueIndex of these plans")
    histories = histories or {}
    offsets = frozenset(index.offsets)
    debts: dict[str, _SoFar] = {}
    slots: dict[tuple[int, str, Role, Channel, date, int], _Slot] = {}
    found: list[Reminder] = []
    for position in index.plans_on(on).tolist():
        plan = plans[position]
        days_before = plan.days_before
        if not offsets.issuperset(days_before):
            raise DomainError("index", "same_plans", "must be the DueIndex of these plans")
        debt = debts.get(plan.debt_ref)
        if debt is None:
            debt = debts[plan.debt_ref] = _SoFar(histories.get(plan.debt_ref, ()))
        targets = [
            (recipient, message_channels(recipient.party))
            for recipient in plan.recipients
            if receives_reminders(recipient.party)
        ]
        for due in plan.dues:
            days = (due.payment_date - on).days
            if days not in days_before:
                continue
            for recipient, channels in targets:
                party, rules = recipient.party, recipient.rules
                for channel in channels:
                    if (due.instalment, days, party.id, channel) in plan.done:
                        continue
                    # Rules are told apart by identity (the plans keep them alive).
                    where = (
                        id(rules),
                        party.time_zone,
                        party.role,
                        channel,
                        due.payment_date,
                        days,
                    )
                    slot = slots.get(where)
                    if slot is None:
                        slot = slots[where] = _Slot(recipient, channel, due.payment_date, days)
                    if now is not None and slot.wanted < now:
                        continue
                    if slot.debt_wide:
                        alone = slot.counted.isdisjoint(debt.channels)
                    else:
                        alone = not any((party.id, c) in debt.own for c in slot.counted)
                    if alone:
                        send_at, rule = slot.alone()
                    else:
                        send_at, rule = _schedule(
                            recipient, channel, slot.wanted, slot.latest, debt.history()
                        )
                    if send_at is not None:
                        debt.add(party.id, channel, send_at)
                    found.append(
                        Reminder(
                            plan.plan_id,
                            due.instalment,
                            due.payment_date,
                            party.id,
                            channel,
                            days,
                            slot.wanted,
                            slot.latest,
                            send_at,
                            rule,
                            rules.policy_version,
                        )
                    )
    return found
