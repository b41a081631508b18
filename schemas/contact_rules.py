"""The contact section of a policy: who may be contacted, when, how often, per jurisdiction.

The same shape as the shipped defaults (``plans/contact_rules.json``), which fill it when a
policy leaves it out. Every rule carries an ``id``, a ``text`` for people and the ``source`` it
comes from (a regulation, a standard, or "repay policy" for a number that is ours). The engine
(``plans.contact_rules.load_rules``) checks what a schema cannot: hours in order, rule ids
unique, one entry per purpose. A policy must give rules for every jurisdiction a party can
have (CN, US and GB).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Literal

from pydantic import Field, StrictBool, model_validator

from plans.contact_rules import (
    Channel,
    Jurisdiction,
    Outcome,
    Purpose,
    Role,
    Scope,
    load_rules,
    shipped_rules_data,
)
from plans.errors import DomainError
from schemas.common import Integer, IsoDate, Model, MultiLine, OneLine

JURISDICTIONS = ("CN", "US", "GB")
Text = Annotated[MultiLine, Field(min_length=1, max_length=2000)]
Citation = Annotated[OneLine, Field(min_length=1, max_length=2000)]
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["08:00"])]
Channels = Annotated[list[Channel], Field(min_length=1, max_length=3)]
Outcomes = Annotated[list[Outcome], Field(min_length=1, max_length=5)]
Roles = Annotated[list[Role], Field(min_length=1, max_length=4)]


class RuleFields(Model):
    """A rule as cited: a stable id, a sentence and its source."""

    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,39}$", examples=["CN-HOURS"])
    text: Text
    source: Citation


class NoContactDaysBody(RuleFields):
    """Public holidays (a ``holidays`` country), weekends inside a holiday block and the
    policy's own dates, on which nobody is contacted."""

    holiday_country: str | None = Field(pattern=r"^[A-Z]{2}$", examples=["CN"])
    holiday_subdivision: OneLine | None = Field(max_length=10, examples=["ENG"])
    bridge_weekends: StrictBool
    extra_dates: list[IsoDate] = Field(max_length=366, description="The policy's own dates.")


class HoursBody(RuleFields):
    """``channels`` may be used from ``start`` (inclusive) to ``end`` (exclusive), local time."""

    channels: Channels
    start: LocalTime
    end: LocalTime


class WindowBody(Model):
    """Exactly one: a rolling window in hours, ``local_days`` consecutive local days, or ever."""

    rolling_hours: Integer | None = Field(None, ge=1, le=24 * 366)
    local_days: Integer | None = Field(None, ge=1, le=366)
    ever: Literal[True] | None = None


class CapBody(RuleFields):
    """At most ``limit`` attempts with an outcome in ``counts`` on ``channels`` per window,
    to parties in ``roles`` (every role if omitted)."""

    channels: Channels
    counts: Outcomes
    scope: Scope
    window: WindowBody
    limit: Integer = Field(ge=1, le=10_000)
    roles: Roles | None = None


class CoolingOffBody(RuleFields):
    """No attempt on ``channels`` for ``hours`` after an attempt with an outcome in ``after``."""

    channels: Channels
    after: Outcomes
    scope: Scope
    hours: Integer = Field(ge=1, le=24 * 366)


class ContactableBody(RuleFields):
    """The roles that may be contacted for ``purpose``."""

    purpose: Purpose
    roles: Roles


class ObligationBody(RuleFields):
    """What a message on ``channels`` to a party in ``roles`` must do or avoid."""

    channels: Channels
    roles: Roles


class JurisdictionBody(Model):
    """The contact rules of one jurisdiction."""

    code: Literal["CN", "US", "GB"]
    no_contact_days: NoContactDaysBody
    hours: list[HoursBody] = Field(max_length=8)
    caps: list[CapBody] = Field(max_length=32)
    cooling_off: list[CoolingOffBody] = Field(max_length=8)
    contactable: list[ContactableBody] = Field(min_length=2, max_length=2)
    opt_out: RuleFields
    stop: RuleFields
    obligations: list[ObligationBody] = Field(default_factory=list, max_length=16)


class ContactRulesBody(Model):
    """The policy's contact rules: ``edition`` names the text they follow (the shipped
    defaults' edition unless the finance team wrote their own)."""

    edition: OneLine = Field(min_length=1, max_length=80, examples=["contact-2026-11-25"])
    jurisdictions: list[JurisdictionBody] = Field(min_length=3, max_length=3)

    @model_validator(mode="after")
    def _complete(self) -> ContactRulesBody:
        codes = sorted(j.code for j in self.jurisdictions)
        if codes != sorted(JURISDICTIONS):
            raise DomainError(
                "policy.contact.jurisdictions",
                "every_jurisdiction",
                f"must give CN, US and GB once each, not {codes}",
            )
        try:
            self.to_engine("check")  # the engine's own checks
        except DomainError as exc:
            # the engine names a rule by jurisdiction and id ("contact_rules.CN-HOURS.hours")
            field = exc.field.removeprefix("contact_rules.")
            raise DomainError(field, exc.rule, exc.detail) from None
        return self

    def to_engine(self, policy_version: str) -> Mapping[str, Jurisdiction]:
        """The engine's rules by jurisdiction code, each naming ``policy_version``."""
        data = self.model_dump(mode="json", exclude_none=True)
        jurisdictions = data["jurisdictions"]
        for item in jurisdictions:
            # the engine reads absent optional roles as "every role"; null dates are not sent
            days = item["no_contact_days"]
            days.setdefault("holiday_country", None)
            days.setdefault("holiday_subdivision", None)
        return load_rules({"policy_version": policy_version, "jurisdictions": jurisdictions})


@cache
def _shipped() -> ContactRulesBody:
    shipped = shipped_rules_data()
    return ContactRulesBody.model_validate(
        {"edition": shipped["policy_version"], "jurisdictions": shipped["jurisdictions"]}
    )


def shipped_contact_rules() -> ContactRulesBody:
    """The shipped defaults as a policy's ``contact`` section (immutable, parsed once).

    Examples
    --------
    >>> body = shipped_contact_rules()
    >>> body.edition, [j.code for j in body.jurisdictions]
    ('contact-2026-11-25', ['CN', 'US', 'GB'])
    >>> body.to_engine("default@1")["CN"].policy_version
    'default@1'
    """
    return _shipped()
