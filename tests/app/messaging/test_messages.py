"""app/messaging/messages.py: every message template in both languages, pinned by golden
files, and what each role may be told.

Golden files (tests/golden/messages/) change only on purpose; regenerate with
    REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest -p no:cacheprovider tests/app/messaging/test_messages.py
and review the diff. ``<name>.<locale>.txt`` is rendered for a US party by email, so it carries
the subject line and the opt-out notice 12 CFR 1006.6(e) asks of every email
(US-OPT-OUT-NOTICE); ``<name>.<locale>.sms-cn.txt`` and ``.sms-gb.txt`` are text messages to a
CN and a GB party: the signature first (CN: 【某某银行】), the opt-out instruction last. All
name the creditor and, to an obligor owing money, say how to pay (the policy's ``messages``).
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.messaging.messages import Facts, Kind, Sender, as_text, compose, needs_opt_out
from app.offers.summaries import day, money
from plans.contact import Channel, Party, Role, disclosed_amount_minor, jurisdiction
from schemas.common import Locale
from schemas.message_rules import MessagesBody, shipped_message_rules
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
        reference="CARD-2024-0012345",
        plan_id="0d1c2b3a495867768594a3b2c1d0e0f1",
        revoked_minor=60_000,
        paid_minor=120_000,
        happened_on=date(2027, 1, 10),
    )


# A lender's messages section: its name in both languages, a bank account and a pay link.
LENDER = MessagesBody.model_validate(
    {
        "creditor": {"zh-CN": "某某银行", "en": "Example Bank"},
        "bank_account": {
            "bank_name": "中国工商银行上海分行",
            "account_name": "某某银行股份有限公司",
            "account_number": "6222 0210 0104 5678 901",
        },
        "pay_link": "https://pay.example.com/{reference}",
    }
)


def sender(code: str, rules: MessagesBody = LENDER) -> Sender:
    return Sender(code, rules, "Example Organisation")


# what each notice links to (app/messaging/notices.py): a missed notice and a broken plan's
# to the page where the debtor can propose a change, a paid plan's to its certificate
LINKS = {
    Kind.MISSED: LINK.replace("?", "/change?"),
    Kind.PLAN_BROKEN: LINK.replace("?", "/change?"),
    Kind.PLAN_COMPLETED: LINK.replace("?", "/certificate?"),
}
CASES = [
    ("reminder", Kind.REMINDER, Role.DEBTOR),
    ("reminder_guarantor", Kind.REMINDER, Role.GUARANTOR),
    ("confirmation", Kind.CONFIRMATION, Role.DEBTOR),
    ("missed", Kind.MISSED, Role.CO_DEBTOR),
    ("plan_broken", Kind.PLAN_BROKEN, Role.DEBTOR),
    ("plan_broken_guarantor", Kind.PLAN_BROKEN, Role.GUARANTOR),
    ("plan_replaced", Kind.PLAN_REPLACED, Role.CO_DEBTOR),
    ("plan_completed", Kind.PLAN_COMPLETED, Role.DEBTOR),
]
# (file suffix, channel, jurisdiction, zone)
VARIANTS = [
    ("", Channel.EMAIL, "US", "America/New_York"),
    (".sms-cn", Channel.SMS, "CN", "Asia/Shanghai"),
    (".sms-gb", Channel.SMS, "GB", "Europe/London"),
]


@pytest.mark.parametrize(
    ("suffix", "channel", "code", "zone"), VARIANTS, ids=["email-us", "sms-cn", "sms-gb"]
)
@pytest.mark.parametrize("locale", list(Locale), ids=str)
@pytest.mark.parametrize(("name", "kind", "role"), CASES, ids=[c[0] for c in CASES])
def test_each_template_matches_its_golden_file(
    name: str,
    kind: Kind,
    role: Role,
    locale: Locale,
    suffix: str,
    channel: Channel,
    code: str,
    zone: str,
) -> None:
    party = Party("p1", role, zone, locale=locale.value, guaranteed_minor=50_000)
    link = LINKS.get(kind, LINK)
    message = compose(
        kind, party, channel, facts(locale, link), rules=jurisdiction(code), sender=sender(code)
    )
    assert message is not None
    rendered = as_text(message)
    path = GOLDEN / f"{name}.{locale.value}{suffix}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"{path} is missing; create it with REPAY_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")


def test_a_cn_text_message_is_signed_names_the_creditor_and_ends_with_its_opt_out() -> None:
    party = Party("p1", Role.DEBTOR, "Asia/Shanghai", locale="zh-CN")
    rules = jurisdiction("CN")
    message = compose(
        Kind.REMINDER, party, Channel.SMS, facts(Locale.ZH_CN), rules=rules, sender=sender("CN")
    )
    assert message is not None and message.subject is None
    # the policy's shipped CN rules (通信短信息服务管理规定 第十八条; the carriers' 短信签名):
    # 【签名】 first, 回T退订 last
    assert message.body.startswith("【某某银行】您在某某银行的还款计划第2期¥1,000.00将于")
    assert message.body.endswith("回T退订\n")
    assert "https://pay.example.com/CARD-2024-0012345" in message.body
    assert "附言请注明CARD-2024-0012345" in message.body


def test_the_shipped_defaults_sign_with_the_organisations_name() -> None:
    party = Party("p1", Role.DEBTOR, "Asia/Shanghai", locale="en")
    shipped = sender("CN", shipped_message_rules())
    message = compose(
        Kind.REMINDER,
        party,
        Channel.SMS,
        facts(Locale.EN),
        rules=jurisdiction("CN"),
        sender=shipped,
    )
    assert message is not None
    assert message.body.startswith("【Example Organisation】Payment 2 of your repayment plan with")
    assert message.body.endswith("Reply T to unsubscribe\n")
    assert "bank transfer" not in message.body and "Pay online" not in message.body


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
        reference="CARD-2024-0012345",
        plan_id="0d1c2b3a495867768594a3b2c1d0e0f1",
        revoked_minor=draw(_minor),
        paid_minor=draw(_minor),
        happened_on=draw(_day),
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
    message = compose(kind, party, channel, known, rules=jurisdiction(code), sender=sender(code))
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
    for other in (known.paid_on, known.next_due_date, known.happened_on):
        if other is not None and other != known.due_date:
            assert not re.search(rf"(?<!\d){re.escape(day(other, locale))}", text)
    # not how to pay the debtor's plan: no reference, no account
    assert "CARD-2024-0012345" not in text and "6222" not in text
    # who it is from: the creditor, and a CN text's signature
    assert LENDER.creditor[locale] in text
    if channel is Channel.SMS:
        assert text.startswith("【某某银行】" if code == "CN" else "")
        # a text ends with the jurisdiction's opt-out instruction
        assert text.endswith(LENDER.sender(code).opt_out_for(locale) + "\n")
    elif needs_opt_out(jurisdiction(code), channel, role):
        notice = {Locale.EN: "reply with UNSUBSCRIBE", Locale.ZH_CN: '请回复"退订"'}
        assert notice[locale] in text
