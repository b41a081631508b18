"""The shipped contact rules (plans/contact_rules.py, plans/contact_rules.json): hand-worked
cases per jurisdiction, every rule citing its source, and malformed rules refused.

Offsets and holidays as in tests/plans/contact_cases.py (tzdata 2026).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import plans
from plans.contact import (
    Attempt,
    Channel,
    Outcome,
    Party,
    Purpose,
    Role,
    check_contact,
    next_permitted,
    record_attempt,
    schedule_message,
)
from plans.contact_rules import load_rules
from plans.errors import DomainError
from tests.plans.contact_cases import CN, GB, US, calls, debtor, local, utc

SHIPPED = Path(plans.__file__).parent / "contact_rules.json"


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


# ---- the rules file ----------------------------------------------------------------------------


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
