"""Contact rules: who may be contacted, when, how often and about what, per jurisdiction.

Rules are data, not code. The shipped defaults (``plans/contact_rules.json``) cover China,
the United States and Great Britain; every rule has a stable id, a sentence for people and the
source it comes from: a regulation or standard where there is one, "repay policy" where the
number is ours. A stored policy version is read with :func:`load_rules`; ``plans.contact``
applies the rules to a party, a channel and a time.

A jurisdiction holds:

* ``hours``: the local-time window in which a channel may be used;
* ``no_contact_days``: public holidays (a ``holidays`` country), a weekend inside a holiday
  block, and the policy's own dates;
* ``caps``: at most ``limit`` attempts of some outcomes on some channels over every window
  (a rolling duration, ``n`` consecutive local days, or ever), per party or per debt;
* ``cooling_off``: a quiet period after a conversation;
* ``contactable``: which roles may be contacted for which purpose;
* ``opt_out`` and ``stop``: the rules cited when a party opted out of a channel or asked not to
  be contacted at all;
* ``obligations``: what a message must do or avoid (an opt-out notice, no disclosure).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

import holidays

from plans.errors import DomainError


class Channel(enum.StrEnum):
    """How a party is reached."""

    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"


class Role(enum.StrEnum):
    """A party's relation to the debt."""

    DEBTOR = "debtor"
    CO_DEBTOR = "co_debtor"
    GUARANTOR = "guarantor"
    THIRD_PARTY = "third_party"  # a listed contact, relative, employer: owes nothing

    @property
    def is_obligor(self) -> bool:
        """True for the debtor and co-debtors, who owe the whole debt.

        Examples
        --------
        >>> Role.CO_DEBTOR.is_obligor, Role.GUARANTOR.is_obligor
        (True, False)
        """
        return self in (Role.DEBTOR, Role.CO_DEBTOR)


class Outcome(enum.StrEnum):
    """What came of an attempt."""

    NO_ANSWER = "no_answer"
    CONNECTED = "connected"  # a conversation with the party
    MESSAGE_LEFT = "message_left"  # voicemail, or a message delivered
    WRONG_PARTY = "wrong_party"  # someone else answered
    REFUSED = "refused"  # the party answered and would not talk


class Purpose(enum.StrEnum):
    """Why a party is contacted."""

    COLLECTION = "collection"  # about the debt: reminders, plans, amounts
    CALL_BACK = "call_back"  # only asking someone to pass on a call-back number


class Scope(enum.StrEnum):
    """Whose attempts a cap or a cooling-off counts."""

    PARTY = "party"  # the party's own attempts on this debt
    DEBT = "debt"  # every party's attempts on this debt


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as cited: a stable id, a sentence and its source."""

    id: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Window:
    """The span a cap counts over: a rolling duration, ``local_days`` days, or ever.

    ``rolling``: every half-open interval of that length, in absolute time (so 7 days are
    168 hours even across a DST change). ``local_days``: every run of that many consecutive
    calendar days in the party's time zone. Neither: the debt's whole history.

    Examples
    --------
    >>> Window(local_days=1).ever, Window().ever
    (False, True)
    """

    rolling: timedelta | None = None
    local_days: int | None = None

    def __post_init__(self) -> None:
        if self.rolling is not None and self.local_days is not None:
            raise _bad("window", "one_kind", "is rolling or local days, not both")
        if self.rolling is not None and self.rolling <= timedelta(0):
            raise _bad("window.rolling", "positive", "must be longer than zero")
        if self.local_days is not None and not 1 <= self.local_days <= 366:
            raise _bad("window.local_days", "range", "must be between 1 and 366")

    @property
    def ever(self) -> bool:
        """True when the cap counts the whole history."""
        return self.rolling is None and self.local_days is None


@dataclass(frozen=True, slots=True)
class Hours:
    """``channels`` may be used from ``start`` (inclusive) to ``end`` (exclusive), local time."""

    rule: Rule
    channels: frozenset[Channel]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise _bad(f"{self.rule.id}.hours", "order", "start must come before end")


@lru_cache(maxsize=256)
def _listed_days(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


@dataclass(frozen=True, slots=True)
class NoContactDays:
    """Local dates on which nobody is contacted.

    The public holidays of ``holiday_country`` (and ``holiday_subdivision``), the policy's
    ``extra_dates``, and with ``bridge_weekends`` a Saturday or Sunday inside a holiday block:
    a weekend day whose nearest weekday on both sides is a no-contact day (Sunday 4 October 2026
    inside China's National Day week; Sunday 27 December 2026 between Boxing Day and its
    substitute). Ordinary weekends stay open.

    Examples
    --------
    >>> rule = Rule("X", "no contact on holidays", "example")
    >>> cn = NoContactDays(rule, "CN", None, frozenset(), bridge_weekends=True)
    >>> [cn.is_no_contact(date(2026, 10, d)) for d in (3, 4, 8, 10)]
    [True, True, False, False]
    """

    rule: Rule
    holiday_country: str | None
    holiday_subdivision: str | None
    extra_dates: frozenset[date]
    bridge_weekends: bool = True
    _known: dict[date, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.holiday_country is not None:
            try:
                _listed_days(self.holiday_country, self.holiday_subdivision, 2026)
            except NotImplementedError as exc:
                raise _bad("no_contact_days.holiday_country", "holidays", str(exc)) from exc
        object.__setattr__(self, "_known", {})

    def _listed(self, day: date) -> bool:
        if day in self.extra_dates:
            return True
        if self.holiday_country is None:
            return False
        return day in _listed_days(self.holiday_country, self.holiday_subdivision, day.year)

    def is_no_contact(self, day: date) -> bool:
        """True if nobody may be contacted on the local date ``day``."""
        known = self._known.get(day)
        if known is None:
            known = self._listed(day) or (
                self.bridge_weekends and day.weekday() >= 5 and self._inside_block(day)
            )
            self._known[day] = known
        return known

    def _inside_block(self, day: date) -> bool:
        before = day - _ONE_DAY
        while before.weekday() >= 5 and not self._listed(before):
            before -= _ONE_DAY
        after = day + _ONE_DAY
        while after.weekday() >= 5 and not self._listed(after):
            after += _ONE_DAY
        return self._listed(before) and self._listed(after)


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``limit`` attempts with an outcome in ``counts`` on ``channels`` per window.

    The cap applies to contacting a party whose role is in ``roles``; a proposed attempt
    counts as one more, whatever its outcome turns out to be.
    """

    rule: Rule
    channels: frozenset[Channel]
    counts: frozenset[Outcome]
    scope: Scope
    window: Window
    limit: int
    roles: frozenset[Role] = frozenset(Role)

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 10_000:
            raise _bad(f"{self.rule.id}.limit", "range", "must be between 1 and 10000")


@dataclass(frozen=True, slots=True)
class CoolingOff:
    """No attempt on ``channels`` for ``period`` after an attempt with an outcome in ``after``."""

    rule: Rule
    channels: frozenset[Channel]
    after: frozenset[Outcome]
    scope: Scope
    period: timedelta


@dataclass(frozen=True, slots=True)
class Contactable:
    """The roles that may be contacted for ``purpose``."""

    rule: Rule
    purpose: Purpose
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class Obligation:
    """What a message on ``channels`` to a party in ``roles`` must do or must avoid."""

    rule: Rule
    channels: frozenset[Channel]
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """The contact rules of one jurisdiction, as of ``policy_version``.

    Examples
    --------
    >>> us = jurisdiction("US")
    >>> [(c.rule.id, c.limit) for c in us.caps_for(Channel.PHONE)]
    [('US-7IN7', 7), ('US-THIRD-PARTY-ONCE', 1)]
    >>> [h.start.isoformat("minutes") for h in jurisdiction("CN").hours_for(Channel.SMS)]
    ['08:00']
    """

    code: str
    policy_version: str
    hours: tuple[Hours, ...]
    no_contact_days: NoContactDays
    caps: tuple[Cap, ...]
    cooling_off: tuple[CoolingOff, ...]
    contactable: tuple[Contactable, ...]
    opt_out: Rule
    stop: Rule
    obligations: tuple[Obligation, ...] = ()
    _hours: dict[Channel, tuple[Hours, ...]] = field(init=False, repr=False, compare=False)
    _caps: dict[Channel, tuple[Cap, ...]] = field(init=False, repr=False, compare=False)
    _cooling: dict[Channel, tuple[CoolingOff, ...]] = field(init=False, repr=False, compare=False)
    _who: dict[Purpose, Contactable] = field(init=False, repr=False, compare=False)
    _duties: dict[tuple[Channel, Role], tuple[Rule, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        ids = [rule.id for rule in self.rules()]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise _bad(f"{self.code}.rules", "unique_id", f"repeated ids {duplicates}")
        who = {c.purpose: c for c in self.contactable}
        if set(who) != set(Purpose) or len(self.contactable) != len(Purpose):
            raise _bad(f"{self.code}.contactable", "purposes", "needs one entry per purpose")
        # Precomputed per channel: a check looks up a handful of tuples, nothing else.
        set_ = object.__setattr__
        set_(self, "_hours", {c: tuple(h for h in self.hours if c in h.channels) for c in Channel})
        set_(self, "_caps", {c: tuple(k for k in self.caps if c in k.channels) for c in Channel})
        set_(
            self,
            "_cooling",
            {c: tuple(k for k in self.cooling_off if c in k.channels) for c in Channel},
        )
        set_(self, "_who", who)
        set_(
            self,
            "_duties",
            {
                (c, r): tuple(o.rule for o in self.obligations if c in o.channels and r in o.roles)
                for c in Channel
                for r in Role
            },
        )

    def rules(self) -> Iterable[Rule]:
        """Every rule of the jurisdiction, each once."""
        yield self.no_contact_days.rule
        yield from (h.rule for h in self.hours)
        yield from (c.rule for c in self.caps)
        yield from (c.rule for c in self.cooling_off)
        yield from (c.rule for c in self.contactable)
        yield self.opt_out
        yield self.stop
        yield from (o.rule for o in self.obligations)

    def hours_for(self, channel: Channel) -> tuple[Hours, ...]:
        """The hours that bind ``channel`` (all must hold)."""
        return self._hours[channel]

    def caps_for(self, channel: Channel) -> tuple[Cap, ...]:
        """The caps that count attempts on ``channel``."""
        return self._caps[channel]

    def cooling_for(self, channel: Channel) -> tuple[CoolingOff, ...]:
        """The cooling-off periods that bind ``channel``."""
        return self._cooling[channel]

    def contactable_for(self, purpose: Purpose) -> Contactable:
        """Who may be contacted for ``purpose``."""
        return self._who[purpose]

    def obligations_for(self, channel: Channel, role: Role) -> tuple[Rule, ...]:
        """What a message on ``channel`` to a party in ``role`` must meet."""
        return self._duties[(channel, role)]


_ONE_DAY = timedelta(days=1)


def _bad(where: str, rule: str, detail: str) -> DomainError:
    return DomainError(f"contact_rules.{where}", rule, detail)


# ---- reading rules from data ----------------------------------------------------------------


def _object(
    value: object, where: str, keys: frozenset[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, "object", "must be an object")
    missing = keys - value.keys()
    unknown = value.keys() - keys - optional
    if missing or unknown:
        raise _bad(where, "keys", f"missing {sorted(missing)}, unknown {sorted(unknown)}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(where, "text", "must be a non-empty string")
    return value


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise _bad(where, "list", "must be a list")
    return value


_E = TypeVar("_E", bound=enum.StrEnum)


def _enums(kind: type[_E], value: object, where: str) -> frozenset[_E]:
    try:
        return frozenset(kind(_text(item, where)) for item in _list(value, where))
    except ValueError as exc:
        raise _bad(where, "choice", f"must be among {[k.value for k in kind]}") from exc


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(where, "integer", "must be a whole number")
    return value


_RULE_KEYS = frozenset({"id", "text", "source"})


def _rule(data: Mapping[str, Any], where: str) -> Rule:
    return Rule(
        _text(data["id"], f"{where}.id"),
        _text(data["text"], f"{where}.text"),
        _text(data["source"], f"{where}.source"),
    )


def _window(value: object, where: str) -> Window:
    data = _object(value, where, frozenset(), frozenset({"rolling_hours", "local_days", "ever"}))
    if len(data) != 1:
        raise _bad(where, "one_kind", "needs exactly one of rolling_hours, local_days, ever")
    if "rolling_hours" in data:
        return Window(rolling=timedelta(hours=_integer(data["rolling_hours"], where)))
    if "local_days" in data:
        return Window(local_days=_integer(data["local_days"], where))
    if data["ever"] is not True:
        raise _bad(where, "ever", "ever must be true")
    return Window()


def _time(value: object, where: str) -> time:
    try:
        return time.fromisoformat(_text(value, where))
    except ValueError as exc:
        raise _bad(where, "time", "must be a local time such as 08:00") from exc


def _jurisdiction(value: object, version: str, where: str) -> Jurisdiction:
    keys = {"code", "no_contact_days", "hours", "caps", "cooling_off", "contactable"}
    data = _object(value, where, frozenset(keys | {"opt_out", "stop", "obligations"}))
    code = _text(data["code"], f"{where}.code")
    where = f"{code}"

    days = _object(
        data["no_contact_days"],
        f"{where}.no_contact_days",
        _RULE_KEYS | {"holiday_country", "holiday_subdivision", "bridge_weekends", "extra_dates"},
    )
    country, subdivision = days["holiday_country"], days["holiday_subdivision"]
    try:
        extra = frozenset(
            date.fromisoformat(_text(d, f"{where}.extra_dates"))
            for d in _list(days["extra_dates"], f"{where}.extra_dates")
        )
    except ValueError as exc:
        raise _bad(f"{where}.extra_dates", "date", "must be ISO dates") from exc
    no_contact_days = NoContactDays(
        _rule(days, f"{where}.no_contact_days"),
        None if country is None else _text(country, f"{where}.holiday_country"),
        None if subdivision is None else _text(subdivision, f"{where}.holiday_subdivision"),
        extra,
        bridge_weekends=days["bridge_weekends"] is True,
    )

    def items(
        name: str, keys: set[str], optional: frozenset[str] = frozenset()
    ) -> list[dict[str, Any]]:
        return [
            _object(item, f"{where}.{name}[{i}]", _RULE_KEYS | keys, optional)
            for i, item in enumerate(_list(data[name], f"{where}.{name}"))
        ]

    hours = tuple(
        Hours(
            _rule(h, f"{where}.hours"),
            _enums(Channel, h["channels"], f"{where}.hours.channels"),
            _time(h["start"], f"{where}.hours.start"),
            _time(h["end"], f"{where}.hours.end"),
        )
        for h in items("hours", {"channels", "start", "end"})
    )
    caps = tuple(
        Cap(
            _rule(c, f"{where}.caps"),
            _enums(Channel, c["channels"], f"{where}.caps.channels"),
            _enums(Outcome, c["counts"], f"{where}.caps.counts"),
            Scope(_text(c["scope"], f"{where}.caps.scope")),
            _window(c["window"], f"{where}.caps.window"),
            _integer(c["limit"], f"{where}.caps.limit"),
            _enums(Role, c["roles"], f"{where}.caps.roles") if "roles" in c else frozenset(Role),
        )
        for c in items(
            "caps", {"channels", "counts", "scope", "window", "limit"}, frozenset({"roles"})
        )
    )
    cooling = tuple(
        CoolingOff(
            _rule(c, f"{where}.cooling_off"),
            _enums(Channel, c["channels"], f"{where}.cooling_off.channels"),
            _enums(Outcome, c["after"], f"{where}.cooling_off.after"),
            Scope(_text(c["scope"], f"{where}.cooling_off.scope")),
            timedelta(hours=_integer(c["hours"], f"{where}.cooling_off.hours")),
        )
        for c in items("cooling_off", {"channels", "after", "scope", "hours"})
    )
    contactable = tuple(
        Contactable(
            _rule(c, f"{where}.contactable"),
            Purpose(_text(c["purpose"], f"{where}.contactable.purpose")),
            _enums(Role, c["roles"], f"{where}.contactable.roles"),
        )
        for c in items("contactable", {"purpose", "roles"})
    )
    obligations = tuple(
        Obligation(
            _rule(o, f"{where}.obligations"),
            _enums(Channel, o["channels"], f"{where}.obligations.channels"),
            _enums(Role, o["roles"], f"{where}.obligations.roles"),
        )
        for o in items("obligations", {"channels", "roles"})
    )
    return Jurisdiction(
        code,
        version,
        hours,
        no_contact_days,
        caps,
        cooling,
        contactable,
        _rule(_object(data["opt_out"], f"{where}.opt_out", _RULE_KEYS), f"{where}.opt_out"),
        _rule(_object(data["stop"], f"{where}.stop", _RULE_KEYS), f"{where}.stop"),
        obligations,
    )


def load_rules(data: object) -> dict[str, Jurisdiction]:
    """Contact rules from their JSON form: ``{"policy_version", "jurisdictions": [...]}``.

    Raises ``DomainError`` (field ``contact_rules.…``) on anything malformed: unknown keys,
    unknown channels or outcomes, hours out of order, a repeated rule id.

    Examples
    --------
    >>> rules = load_rules(json.loads(_SHIPPED.read_text("utf-8")))
    >>> sorted(rules), rules["GB"].policy_version == rules["CN"].policy_version
    (['CN', 'GB', 'US'], True)
    >>> load_rules({"policy_version": "x", "jurisdictions": [{"code": "US"}]})
    Traceback (most recent call last):
    ...
    plans.errors.DomainError: contact_rules.jurisdictions[0]: missing [...] [keys]
    """
    top = _object(data, "", frozenset({"policy_version", "jurisdictions"}), frozenset({"about"}))
    version = _text(top["policy_version"], "policy_version")
    try:
        parsed = [
            _jurisdiction(item, version, f"jurisdictions[{i}]")
            for i, item in enumerate(_list(top["jurisdictions"], "jurisdictions"))
        ]
    except (KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, DomainError):
            raise
        raise _bad("jurisdictions", "invalid", str(exc)) from exc
    by_code = {j.code: j for j in parsed}
    if len(by_code) != len(parsed):
        raise _bad("jurisdictions", "unique_code", "each jurisdiction appears once")
    return by_code


_SHIPPED = resources.files("plans").joinpath("contact_rules.json")


def shipped_rules_data() -> dict[str, Any]:
    """The shipped defaults in their JSON form (a new copy each call), for policies to embed.

    Examples
    --------
    >>> data = shipped_rules_data()
    >>> data["policy_version"], [j["code"] for j in data["jurisdictions"]]
    ('contact-2026-11-25', ['CN', 'US', 'GB'])
    """
    found: dict[str, Any] = json.loads(_SHIPPED.read_text("utf-8"))
    return found


@lru_cache(maxsize=1)
def shipped_rules() -> Mapping[str, Jurisdiction]:
    """The shipped defaults, by jurisdiction code.

    Examples
    --------
    >>> shipped_rules()["CN"].contactable_for(Purpose.COLLECTION).rule.id
    'CN-OBLIGORS-ONLY'
    """
    return load_rules(shipped_rules_data())


def jurisdiction(code: str) -> Jurisdiction:
    """The shipped rules of one jurisdiction (``"CN"``, ``"US"``, ``"GB"``).

    Examples
    --------
    >>> jurisdiction("GB").no_contact_days.holiday_subdivision
    'ENG'
    """
    try:
        return shipped_rules()[code]
    except KeyError:
        detail = f"no shipped contact rules for {code!r}"
        raise DomainError("jurisdiction", "unknown", detail) from None
