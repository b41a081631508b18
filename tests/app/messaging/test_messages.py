"""app/messaging/messages.py: every message template in both languages, pinned by golden
files, and what each role may be told.

Golden files (tests/golden/messages/) change only on purpose; regenerate with
    REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest -p no:cacheprovider tests/app/messaging/test_messages.py
and review the diff. They are rendered for a US party by email, so they carry the subject line
and the opt-out notice 12 CFR 1006.6(e) asks of every email (US-OPT-OUT-NOTICE).
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.messaging.messages import Facts, Kind, as_text, compose, needs_opt_out
from app.offers.summaries import day, money
from plans.contact import Channel, Party, Role, disclosed_amount_minor, jurisdiction
from schemas.common import Locale
from schemas.policies import DEFAULT_MISSED_PAYMENT_TEXT

GOLDEN = Path(__file__).parents[2] / "golden" / "messages"
UPDATE = os.environ.get("REPAY_UPDATE_GOLDEN") == "1"
# each message carries its party's own link: the page plus the party's marker
# (app.links.sharing.link)
LINK = "https://repay.example/s/TOKEN?p=MARKER"


def facts(locale: Locale, link: str = LINK) -> Facts:
    return Facts(
        "CNY",
        link,
        missed_text=DEFAULT_MISSED_PAYMENT_TEXT[locale],
        owed_minor=200_000,
        instalment=2,
        due_date=date(2026, 12, 25),
        amount_minor=100_000,
        remaining_minor=40_000,
        paid_on=date(2026, 11, 25),
        principal_minor=90_000,
        interest_minor=7_500,
        fees_minor=2_500,
        refunded_minor=0,
        next_due_date=date(2027, 1, 25),
        next_due_minor=100_000,
    )


CASES = [
    ("reminder", Kind.REMINDER, Role.DEBTOR),
    ("reminder_guarantor", Kind.REMINDER, Role.GUARANTOR),
    ("confirmation", Kind.CONFIRMATION, Role.DEBTOR),
    ("missed", Kind.MISSED, Role.CO_DEBTOR),
]


@pytest.mark.parametrize("locale", list(Locale), ids=str)
@pytest.mark.parametrize(("name", "kind", "role"), CASES, ids=[c[0] for c in CASES])
def test_each_template_matches_its_golden_file(
    name: str, kind: Kind, role: Role, locale: Locale
) -> None:
    party = Party("p1", role, "America/New_York", locale=locale.value, guaranteed_minor=50_000)
    # a missed notice links to the page where the debtor can propose a change
    # (app/messaging/notices.py)
    link = LINK.replace("?", "/change?") if kind is Kind.MISSED else LINK
    message = compose(kind, party, Channel.EMAIL, facts(locale, link), rules=jurisdiction("US"))
    assert message is not None
    rendered = as_text(message)
    path = GOLDEN / f"{name}.{locale.value}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"{path} is missing; create it with REPAY_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")


def test_a_text_message_has_no_subject_and_cn_rules_no_opt_out_line() -> None:
    party = Party("p1", Role.DEBTOR, "Asia/Shanghai", locale="zh-CN")
    rules = jurisdiction("CN")
    message = compose(Kind.REMINDER, party, Channel.SMS, facts(Locale.ZH_CN), rules=rules)
    assert message is not None and message.subject is None
    assert "退订" not in message.body
    assert message.body.startswith("您的还款计划第2期¥1,000.00将于2026年12月25日到期。")


# ---- what a guarantor or a third party may be told ---------------------------------------

_AMOUNT = re.compile(r"\d[\d,]*\.\d\d")
_minor = st.integers(min_value=1, max_value=10**9)
_day = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def any_facts(draw: st.DrawFn) -> Facts:
    return Facts(
        draw(st.sampled_from(["CNY", "USD", "GBP"])),
        LINK,
        missed_text=draw(st.sampled_from(["", "Missed payments end the plan."])),
        owed_minor=draw(_minor),
        instalment=draw(st.integers(1, 600)),
        due_date=draw(_day),
        amount_minor=draw(_minor),
        remaining_minor=draw(_minor),
        paid_on=draw(_day),
        principal_minor=draw(_minor),
        interest_minor=draw(_minor),
        fees_minor=draw(_minor),
        refunded_minor=draw(_minor),
        next_due_date=draw(_day),
        next_due_minor=draw(_minor),
    )


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(Kind)),
    role=st.sampled_from([Role.GUARANTOR, Role.THIRD_PARTY]),
    locale=st.sampled_from(list(Locale)),
    channel=st.sampled_from([Channel.EMAIL, Channel.SMS]),
    code=st.sampled_from(["CN", "US", "GB"]),
    guaranteed=st.none() | _minor,
    known=any_facts(),
)
def test_no_guarantor_or_third_party_learns_more_than_disclosure_allows(
    kind: Kind,
    role: Role,
    locale: Locale,
    channel: Channel,
    code: str,
    guaranteed: int | None,
    known: Facts,
) -> None:
    party = Party(
        "p1",
        role,
        "Europe/London",
        locale=locale.value,
        guaranteed_minor=guaranteed if role is Role.GUARANTOR else None,
    )
    message = compose(kind, party, channel, known, rules=jurisdiction(code))
    if role is Role.THIRD_PARTY:
        assert message is None  # nothing about the debt (12 CFR 1006.6(d)(1); CONC 7.9.6R)
        return
    if message is None:
        return
    text = as_text(message)
    # no link
    assert "http" not in text and "/s/" not in text and LINK not in text
    # no amount but the guaranteed one, capped at what is owed
    shown = disclosed_amount_minor(party, owed_minor=known.owed_minor)
    assert shown is not None
    allowed = _AMOUNT.findall(money(shown, known.currency, locale))
    assert _AMOUNT.findall(text) == allowed
    # no schedule: no date but the due date
    assert known.due_date is not None
    for other in (known.paid_on, known.next_due_date):
        if other is not None and other != known.due_date:
            assert not re.search(rf"(?<!\d){re.escape(day(other, locale))}", text)
    # the opt-out line where the rules ask for it
    if needs_opt_out(jurisdiction(code), channel, role):
        notice = {
            (Channel.SMS, Locale.EN): "Reply STOP",
            (Channel.EMAIL, Locale.EN): "reply with UNSUBSCRIBE",
            (Channel.SMS, Locale.ZH_CN): "回复TD退订",
            (Channel.EMAIL, Locale.ZH_CN): '请回复"退订"',
        }
        assert notice[channel, locale] in text
