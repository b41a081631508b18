"""The debtor's shared-plan page (``app/links/pages.py``); its calendar and CSV are
tests/app/links/test_downloads.py.

Documents come from the real engine and wire format (``plans.compare.negotiate``,
``schemas.wire.offer_json``), so the page is checked against exactly what ``GET /s/{token}.json``
serves: every amount cell's ``data-minor`` equals the document's decimal string in minor units.

Golden files under ``tests/golden/pages/`` pin the README's worked example (10,000.00 CNY at
12 %, 12 monthly instalments from 15 Feb 2026) byte for byte: the English page (offered, nobody
on file), the Chinese page (accepted, one payment made, read by a party with three messages
and SMS opted out, what finishes the plan today), the English page of the same accepted plan
(read by nobody on file) and, in test_downloads.py, the .ics (fixed DTSTAMP) and the .csv. They
change only on purpose: regenerate with

    REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest -p no:cacheprovider tests/app/links/test_pages.py

and review the diff like code.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from app.core.i18n import LOCALE_DIR, Words
from app.core.masking import mask_name
from app.links.pages import render_not_found, render_offer_page
from app.links.views import (
    ChannelChoice,
    ConfirmedPayment,
    ContactView,
    InstalmentStatus,
    OfferView,
    PayoffView,
    SentMessage,
)
from app.offers.summaries import summary
from plans.compare import negotiate
from plans.debt import Capacity, Debt
from plans.deferral import deferral_plan
from plans.instalment import instalment_plan
from plans.money import to_minor
from plans.offer import Offer
from plans.policy import ArrearsTreatment, DeferralInterest, Policy
from schemas.common import Locale
from schemas.wire import offer_json

Json = dict[str, Any]
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "pages"
UPDATE_GOLDEN = os.environ.get("REPAY_UPDATE_GOLDEN") == "1"
LOCALES = list(Locale)
SHANGHAI = timezone(timedelta(hours=8))
POLICY_USED = {"id": 1, "name": "default", "version": 1}
MISSED = {
    Locale.EN: "If a payment is more than 30 days late, the plan ends.",
    Locale.ZH_CN: "如任何一期还款逾期超过30天，本计划将终止。",
}
REAL_NAMES = {Locale.EN: "John Smith", Locale.ZH_CN: "张小明"}


def say(locale: Locale, message: str) -> str:
    """A sentence of the page in ``locale``, as its catalog (app/locale) has it."""
    return Words(locale).gettext(message)


# --- documents ---------------------------------------------------------------------------------


def _document(offer: Offer, locale: Locale) -> Json:
    return offer_json(offer, summary=summary(offer, locale), policy=POLICY_USED)


@cache
def _negotiated() -> tuple[Offer, ...]:
    # 200 days past due: every kind is offered (the settlement at the policy's 10 % band).
    debt = Debt("CNY", 1_000_000, 50_000, 10_000, Decimal("0.18"), date(2026, 11, 25), 200)
    capacity = Capacity(125_000, lump_sum_minor=900_000, earliest_start=date(2026, 12, 15))
    result = negotiate(debt, capacity, policy=Policy(plan_rate=None))
    return result.ranked


@cache
def _extra() -> tuple[Offer, ...]:
    debt = Debt("CNY", 1_000_000, 50_000, 10_000, Decimal("0.18"), date(2026, 11, 25), 200)
    waived_deferral = deferral_plan(
        debt,
        policy=Policy(plan_rate=None, deferral_interest=DeferralInterest.WAIVE),
        capacity=Capacity(125_000),
    )
    waived_arrears = instalment_plan(
        debt, policy=Policy(plan_rate=None, arrears=ArrearsTreatment.WAIVE), term=6
    )
    yen = instalment_plan(
        Debt("JPY", 300_000, 4_000, 1_500, Decimal("0.15"), date(2026, 3, 31), 45),
        policy=Policy(plan_rate=None),
        term=5,
    )
    return waived_deferral, waived_arrears, yen


def _offers() -> list[Offer]:
    return [*_negotiated(), *_extra()]


OFFER_IDS = [
    *("instalment", "deferral", "settlement_plan", "settlement"),  # negotiated, best first
    *("deferral_waived", "arrears_waived", "jpy"),
]


@cache
def readme_offer() -> Offer:
    """README "A worked example": 10,000.00 CNY, 12 % contractual, 12 monthly from 15 Feb 2026."""
    debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 40)
    return instalment_plan(debt, policy=Policy(plan_rate=None), term=12)


def view(locale: Locale = Locale.EN, **changes: Any) -> OfferView:
    fields: Json = {
        "state": "offered",
        "expires_at": datetime(2026, 1, 29, 23, 59, tzinfo=SHANGHAI),
        "masked_name": mask_name(REAL_NAMES[locale]),
        "missed_payment_text": MISSED[locale],
        "accept_url": "/s/TOKEN/accept",
        "lang_urls": {Locale.EN: "/s/TOKEN?lang=en", Locale.ZH_CN: "/s/TOKEN?lang=zh-CN"},
        "ics_url": "/s/TOKEN.ics",
        "csv_url": "/s/TOKEN.csv",
        "json_url": "/s/TOKEN.json",
        "change_url": "/s/TOKEN/change",
    }
    fields.update(changes)
    return OfferView(**fields)


# The README example after accepted_view's payments, quoted on 20 Mar 2026 (line 2, due Mon
# 16 Mar, paid 300.00 of which 92.12 interest): principal 9,211.51 - 207.88 = 9,003.63; 4 days
# at 12 %: 9,003.63 x 0.12 x 4/365 = 11.8404 -> 11.84, half waived (5.92): 9,009.55, for that
# day only (interest accrues daily). test_payoff_page.py checks it against the engine.
README_PAYOFF = PayoffView(
    on=date(2026, 3, 20),
    valid_until=date(2026, 3, 20),
    principal_minor=900_363,
    interest_minor=1_184,
    accrued_interest_minor=1_184,
    fees_minor=0,
    waived_minor=592,
    amount_minor=900_955,
)


def accepted_view(locale: Locale, document: Json) -> OfferView:
    """Accepted, the first paying line paid in full, the next one partly."""
    paying = [x for x in document["schedule"]["lines"] if to_minor(x["payment"], "CNY")]
    first, second = paying[0], paying[1]
    amount = to_minor(first["payment"], "CNY")
    balance = to_minor(first["closing_balance"], "CNY")
    first_due, second_due = (date.fromisoformat(x["due_date"]) for x in (first, second))
    return view(
        locale,
        state="accepted",
        accepted_at=datetime(2026, 1, 20, 10, 30, tzinfo=UTC),
        plan_status="active",
        payments=(
            ConfirmedPayment(
                paid_on=date.fromisoformat(first["payment_date"]),
                amount_minor=amount,
                reference="BANK-20260224-0001",
                principal_minor=to_minor(first["principal"], "CNY"),
                interest_minor=to_minor(first["interest"], "CNY"),
                fees_minor=to_minor(first["fees"], "CNY"),
                balance_after_minor=balance,
            ),
            ConfirmedPayment(
                paid_on=date.fromisoformat(second["due_date"]),
                amount_minor=30_000,
                reference="BANK-20260315-0002",
                principal_minor=30_000 - 9_212,
                interest_minor=9_212,
                fees_minor=0,
                balance_after_minor=balance - (30_000 - 9_212),
            ),
        ),
        instalments=(
            InstalmentStatus(first["number"], first_due, "paid", amount, amount),
            InstalmentStatus(second["number"], second_due, "partly_paid", amount, 30_000),
        ),
        payoff=README_PAYOFF,
    )


def preferences_url(locale: Locale) -> str:
    return f"/s/TOKEN/preferences?p=MARKER&lang={locale.value}"


def contact_view(
    locale: Locale = Locale.EN, *, stopped: bool = False, email: bool = True
) -> ContactView:
    """The reader's messages (a reminder of the README's second payment, 888.49 due 16 Mar
    2026; the first payment's confirmation; a missed notice told by its kind alone) and
    channels, SMS opted out; times in Shanghai."""
    return ContactView(
        messages=(
            SentMessage(
                datetime(2026, 3, 13, 10, 0, tzinfo=SHANGHAI),
                "sms",
                "reminder",
                amount_minor=88_849,
                day=date(2026, 3, 16),
                number=2,
                count=12,
            ),
            SentMessage(
                datetime(2026, 2, 24, 11, 30, tzinfo=SHANGHAI),
                "email",
                "confirmation",
                amount_minor=88_849,
                day=date(2026, 2, 24),
            ),
            SentMessage(datetime(2026, 2, 20, 9, 5, tzinfo=SHANGHAI), "sms", "missed"),
        ),
        channels=(
            *([ChannelChoice("email", "z***@example.cn")] if email else []),
            ChannelChoice("sms", "+86 *********00", datetime(2026, 3, 14, 8, 15, tzinfo=SHANGHAI)),
            ChannelChoice("phone", "+86 *********00"),
        ),
        preferences_url=preferences_url(locale),
        stopped_at=datetime(2026, 3, 15, 20, 0, tzinfo=SHANGHAI) if stopped else None,
    )


# --- reading a page back -----------------------------------------------------------------------


class Page(HTMLParser):
    """The parts of a rendered page the tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.tags: Counter[str] = Counter()
        self.links: list[str] = []
        self.attrs: list[dict[str, str | None]] = []
        self.rows: dict[int, dict[str, int]] = {}
        self.row_attrs: dict[int, dict[str, str | None]] = {}
        self.totals: dict[str, int] = {}
        self.payments: list[list[int]] = []
        self.forms: list[dict[str, str | None]] = []
        self.html_lang: str | None = None
        self.text: list[str] = []  # what a reader sees (not the style sheet, not attributes)
        self._style = False
        self._table: str | None = None
        self._cells: dict[str, int] | list[int] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        self.attrs.append(a)
        if tag == "html":
            self.html_lang = a.get("lang")
        self._style = tag == "style"
        if a.get("id"):
            self.ids.add(str(a["id"]))
        self.links += [str(a[k]) for k in ("href", "action", "src", "xlink:href") if k in a]
        if tag == "form":
            self.forms.append(a)
        if tag == "table":
            self._table = a.get("id")
        elif tag == "tr" and self._table == "schedule-table":
            self._cells = None
            if "data-number" in a:
                number = int(str(a["data-number"]))
                self.row_attrs[number] = a
                self._cells = self.rows.setdefault(number, {})
            elif "data-totals" in a:
                self._cells = self.totals
        elif tag == "tr" and self._table == "payments-table":
            self._cells = None if "data-date" not in a else []
            if self._cells is not None:
                self.payments.append(self._cells)
        elif tag == "td" and self._cells is not None and "data-minor" in a:
            minor = int(str(a["data-minor"]))
            if isinstance(self._cells, dict):
                self._cells[str(a["data-column"])] = minor
            else:
                self._cells.append(minor)

    def handle_data(self, data: str) -> None:
        if not self._style and data.strip():
            self.text.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        self._style = False
        if tag == "table":
            self._table = None
            self._cells = None


def minor_of(document: Json, amount: str) -> int:
    return to_minor(amount, document["currency"])


def golden(name: str, content: bytes) -> None:
    """Compare ``content`` with the golden file ``name`` (or rewrite it, REPAY_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    assert path.exists(), f"{path} is missing: run with REPAY_UPDATE_GOLDEN=1 and review it"
    expected = path.read_bytes()
    if expected != content:
        diff = difflib.unified_diff(
            expected.decode().splitlines(),
            content.decode().splitlines(),
            "golden",
            "rendered",
            lineterm="",
        )
        pytest.fail(f"{name} differs from its golden file:\n" + "\n".join(list(diff)[:60]))


# --- mask_name ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小明", "张*明"),
        ("欧阳小明", "欧**明"),
        ("张", "*"),
        ("John Smith", "J*** S****"),
        ("  John   Ronald  Smith ", "J*** R***** S****"),
        ("Ng", "N*"),
        ("", "*"),
        (" \t\n", "*"),
        ("阿卜杜拉·买买提", "阿******提"),
    ],
)
def test_mask_name_examples(name: str, masked: str) -> None:
    assert mask_name(name) == masked


LATIN_WORDS = st.lists(
    st.text(st.characters(categories=["Lu", "Ll"], max_codepoint=0x2FFF), min_size=1, max_size=12),
    min_size=1,
    max_size=4,
)
HAN_NAMES = st.text(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=6
)


@given(LATIN_WORDS)
def test_latin_names_keep_each_word_length_and_initial_only(words: list[str]) -> None:
    masked = mask_name(" ".join(words)).split(" ")
    assert [len(w) for w in masked] == [len(w) for w in words]
    assert [w[0] for w in masked] == [w[0] for w in words]
    assert all(set(w[1:]) <= {"*"} for w in masked)


@given(HAN_NAMES)
def test_chinese_names_keep_length_and_only_first_and_last(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    kept = [i for i, c in enumerate(masked) if c != "*"]
    expected = {1: [], 2: [0]}.get(len(name), [0, len(name) - 1])
    assert kept == expected
    assert all(masked[i] == name[i] for i in kept)


@given(st.text(max_size=40))
def test_no_other_character_of_a_name_survives(name: str) -> None:
    masked = mask_name(name)
    words = name.split()
    allowed = {"*", " "} | {w[0] for w in words} | ({words[-1][-1]} if words else set())
    assert set(masked) <= allowed
    # at most the initials, or the first and last character of a CJK name
    assert sum(c not in "* " for c in masked) <= max(len(words), 2)


# --- the page ----------------------------------------------------------------------------------

SECTIONS = {"owed", "offer", "schedule", "schedule-table", "rates", "waived", "missed", "chart"}
SECTIONS |= {"payments", "status", "contact", "downloads"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("index", range(len(OFFER_IDS)), ids=OFFER_IDS)
def test_schedule_rows_and_totals_equal_the_document(index: int, locale: Locale) -> None:
    document = _document(_offers()[index], locale)
    page = Page(render_offer_page(document, view(locale), locale))
    lines = document["schedule"]["lines"]
    assert sorted(page.rows) == [x["number"] for x in lines]
    for line in lines:
        cells = page.rows[line["number"]]
        expected = {
            c: minor_of(document, line[c])
            for c in ("payment", "interest", "fees", "principal", "waived")
        }
        expected |= {
            "interest_accrued": minor_of(document, line["interest_accrued"]),
            "closing_balance": minor_of(document, line["closing_balance"]),
        }
        assert cells == expected, line["number"]
        attrs = page.row_attrs[line["number"]]
        assert (attrs["data-due-date"], attrs["data-payment-date"]) == (
            line["due_date"],
            line["payment_date"],
        )
    totals = document["schedule"]["totals"]
    assert page.totals == {c: minor_of(document, a) for c, a in totals.items()}
    assert page.ids >= SECTIONS
    assert page.html_lang == locale.value


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("state", ["offered", "accepted", "superseded"])
def test_nothing_loads_from_anywhere_and_nothing_runs(locale: Locale, state: str) -> None:
    document = _document(readme_offer(), locale)
    shown = view(locale) if state != "accepted" else accepted_view(locale, document)
    if state == "superseded":
        shown = view(locale, state="superseded")
    html = render_offer_page(document, shown, locale)
    lowered = html.lower()
    assert "<script" not in lowered
    assert "http://" not in lowered
    assert "https://" not in lowered
    for forbidden in ("src=", "url(", "@import", "@font-face", "<link", "<iframe", "<img"):
        assert forbidden not in lowered
    page = Page(html)
    assert not any(k.startswith("on") for a in page.attrs for k in a)
    assert all(link.startswith(("/", "#")) and not link.startswith("//") for link in page.links)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<style>" in html
    # nothing wider than a 360 px phone: no px length above 360, no width attribute at all
    assert all(float(px) <= 360 for px in re.findall(r"(\d+(?:\.\d+)?)px", html))
    assert not any("width" in a for a in page.attrs)
    assert "overflow-x: auto" in html
    assert re.search(r"body \{[^}]*font: 16px", html)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_name_is_masked_and_no_other_personal_data(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    name = REAL_NAMES[locale]
    html = render_offer_page(document, accepted_view(locale, document), locale)
    assert mask_name(name) in html
    assert name not in html
    assert {Locale.EN: "Smith", Locale.ZH_CN: "小明"}[locale] not in html
    assert "TOKEN" not in html.replace("/s/TOKEN", "")  # the token only inside the given paths


def test_the_readme_example_on_the_page() -> None:
    # README "A worked example": 888.49 a month; line 1 interest 100.00, principal 788.49,
    # closing 9,211.51, due Sunday 15 Feb 2026 (Spring Festival) and paid on 24 Feb 2026;
    # totals: paid 10,661.86, interest 661.86; APR 12.0001 %; effective annual rate 12.6826 %.
    document = _document(readme_offer(), Locale.EN)
    html = render_offer_page(document, view(), Locale.EN)
    page = Page(html)
    assert page.rows[1]["payment"] == 88_849
    assert (page.rows[1]["interest"], page.rows[1]["principal"]) == (10_000, 78_849)
    assert page.rows[1]["closing_balance"] == 921_151
    assert page.row_attrs[1]["data-payment-date"] == "2026-02-24"
    assert "moved to 24 Feb 2026" in html
    assert page.rows[12]["payment"] == 88_847
    assert (page.totals["payment"], page.totals["interest"]) == (1_066_186, 66_186)
    assert '<dd data-rate="0.120001">12.00%</dd>' in html
    assert '<dd data-rate="0.126826">12.68%</dd>' in html
    assert "This is the amount you owe on 15 Jan 2026: CN¥10,000.00." in html
    assert "Nothing is waived" in html


@pytest.mark.parametrize("locale", LOCALES)
def test_an_open_offer_has_the_accept_form(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    html = render_offer_page(document, view(locale), locale)
    page = Page(html)
    assert page.forms == [{"method": "post", "action": "/s/TOKEN/accept"}]
    button = {Locale.EN: "Accept this plan", Locale.ZH_CN: "接受此还款计划"}[locale]
    assert f'<button type="submit">{button}</button>' in html
    expires = {Locale.EN: "29 Jan 2026 23:59 (UTC+08:00)", Locale.ZH_CN: "2026年1月29日 23:59"}
    assert expires[locale] in html
    no_payments = {Locale.EN: "No payments have been confirmed yet.", Locale.ZH_CN: "暂无"}
    assert no_payments[locale] in html


@pytest.mark.parametrize("locale", LOCALES)
def test_an_accepted_plan_shows_its_payments_and_balance(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    shown = accepted_view(locale, document)
    html = render_offer_page(document, shown, locale)
    page = Page(html)
    assert page.forms == []
    accepted = {Locale.EN: "Accepted on 20 Jan 2026.", Locale.ZH_CN: "已于2026年1月20日接受。"}
    assert accepted[locale] in html
    active = {Locale.EN: "The plan is active.", Locale.ZH_CN: "计划执行中。"}
    assert active[locale] in html
    assert page.payments == [
        [p.amount_minor, p.principal_minor, p.interest_minor, p.fees_minor, p.balance_after_minor]
        for p in shown.payments
    ]
    assert "BANK-20260224-0001" in html
    # 9,211.51 after line 1 (README), less the 207.88 of principal in the partial payment
    now = {Locale.EN: "Balance now: CN¥9,003.63", Locale.ZH_CN: "当前欠款：¥9,003.63"}
    assert now[locale] in html
    assert 'data-number="1" data-kind="instalment" data-due-date="2026-02-15"' in html
    assert 'data-payment-date="2026-02-24" data-status="paid"' in html
    partly = {Locale.EN: "Partly paid: CN¥300.00 of CN¥888.49", Locale.ZH_CN: "部分已还"}
    assert partly[locale] in html


PLAN_STATUS_TEXT = {
    "completed": "The plan is complete: nothing more is owed.",
    "broken": "The plan has ended because payments were missed; see “If you miss a payment”.",
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("plan_status", ["completed", "broken"])
def test_plan_status_is_stated(locale: Locale, plan_status: str) -> None:
    document = _document(readme_offer(), locale)
    shown = view(
        locale,
        state="accepted",
        accepted_at=datetime(2026, 1, 20, tzinfo=UTC),
        plan_status=plan_status,
    )
    html = render_offer_page(document, shown, locale)
    assert say(locale, PLAN_STATUS_TEXT[plan_status]) in html


@pytest.mark.parametrize("locale", LOCALES)
def test_a_superseded_offer_cannot_be_accepted(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    html = render_offer_page(document, view(locale, state="superseded"), locale)
    assert Page(html).forms == []
    superseded = (
        "A newer offer has replaced this one, so it can no longer be accepted."
        " Please use the link in the most recent message we sent you."
    )
    assert say(locale, superseded) in html
    assert say(locale, "Accept this plan") not in html


@pytest.mark.parametrize("locale", LOCALES)
def test_the_chart_is_an_accessible_inline_svg(locale: Locale) -> None:
    document = _document(_negotiated()[1], locale)  # the deferral: the balance rises, then falls
    html = render_offer_page(document, view(locale), locale)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'viewBox="0 0 320 200" role="img" aria-label="' in svg
    assert svg.count("<circle") == len(document["schedule"]["lines"]) + 1
    label = {Locale.EN: "Chart of the balance you owe", Locale.ZH_CN: "欠款余额图"}[locale]
    assert f"<title>{label}" in svg
    # axis labels: the highest balance (after the capitalised deferral), zero, first/last date
    highest = {Locale.EN: "CN¥10,848.63", Locale.ZH_CN: "¥10,848.63"}[locale]
    assert f">{highest}</text>" in svg
    first = {Locale.EN: "25 Nov 2026", Locale.ZH_CN: "2026年11月25日"}[locale]
    assert f">{first}</text>" in svg


@pytest.mark.parametrize("locale", LOCALES)
def test_what_is_waived_by_component(locale: Locale) -> None:
    settlement = next(o for o in _negotiated() if o.kind.value == "settlement")
    document = _document(settlement, locale)
    html = render_offer_page(document, view(locale), locale)
    waiver = document["waiver"]
    for part in ("fees", "interest", "principal", "total"):
        assert (
            f'data-column="waived_{part}" data-minor="{minor_of(document, waiver[part])}"' in html
        )
    assert say(locale, "Nothing is waived: the plan repays everything you owe.") not in html


@pytest.mark.parametrize("locale", LOCALES)
def test_untrusted_text_is_escaped(locale: Locale) -> None:
    document = _document(readme_offer(), locale) | {"summary": "<script>alert(1)</script>"}
    evil = "<script>alert(2)</script>"
    payment = ConfirmedPayment(date(2026, 2, 24), 100, evil, 100, 0, 0, 999_900)
    shown = view(locale, missed_payment_text=evil, masked_name=evil, payments=(payment,))
    html = render_offer_page(document, shown, locale)
    assert "<script" not in html
    assert "&lt;script&gt;alert(2)" in html


CONTACT_TEXT = {
    Locale.EN: [
        "13 Mar 2026 10:00 (UTC+08:00) · SMS",
        "Reminder: payment 2 of 12, CN¥888.49 due on 16 Mar 2026",
        "24 Feb 2026 11:30 (UTC+08:00) · Email",
        "Payment confirmed: CN¥888.49 received on 24 Feb 2026",
        "20 Feb 2026 09:05 (UTC+08:00) · SMS",
        "Missed payment notice",
    ],
    Locale.ZH_CN: [
        "2026年3月13日 10:00 (UTC+08:00) · 短信",
        "还款提醒：第2期（共12期）¥888.49，2026年3月16日到期",
        "2026年2月24日 11:30 (UTC+08:00) · 电子邮件",
        "还款确认：已于2026年2月24日收到¥888.49",
        "2026年2月20日 09:05 (UTC+08:00) · 短信",
        "逾期通知",
    ],
}
PREFERENCE_TEXT = {
    Locale.EN: [
        ("Email to z***@example.cn: allowed", "opt_out", "email", "Stop email"),
        (
            "SMS to +86 *********00: stopped at your request on 14 Mar 2026 08:15 (UTC+08:00)",
            "opt_in",
            "sms",
            "Allow SMS again",
        ),
        ("Phone calls to +86 *********00: allowed", "opt_out", "phone", "Stop phone calls"),
    ],
    Locale.ZH_CN: [
        ("电子邮件（z***@example.cn）：允许", "opt_out", "email", "停止电子邮件"),
        (
            "短信（+86 *********00）：已应您的要求于2026年3月14日 08:15 (UTC+08:00)停止",
            "opt_in",
            "sms",
            "恢复短信",
        ),
        ("电话（+86 *********00）：允许", "opt_out", "phone", "停止电话"),
    ],
}


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}"')
    return html[start : html.index("</section>", start)]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_readers_messages_and_a_form_per_preference(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    shown = replace(accepted_view(locale, document), contact=contact_view(locale))
    section = _section(render_offer_page(document, shown, locale), "contact")
    page = Page(section)
    items = [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li data-kind.*?</li>", section)]
    expected = CONTACT_TEXT[locale]
    assert items == [when + what for when, what in zip(expected[::2], expected[1::2], strict=True)]
    kinds = [(a["data-kind"], a["data-channel"]) for a in page.attrs if "data-kind" in a]
    assert kinds == [("reminder", "sms"), ("confirmation", "email"), ("missed", "sms")]
    # one form per channel given and one to stop all contact, each posting to the same place
    # (the "&" of the query escaped in the attribute)
    assert page.forms == [{"method": "post", "action": preferences_url(locale)}] * 4
    for text, change, channel, button in PREFERENCE_TEXT[locale]:
        item = section[section.index(f'<li data-channel="{channel}"') :]
        item = item[: item.index("</li>")]
        assert f"<p>{text}</p>" in item
        assert f'<input type="hidden" name="change" value="{change}">' in item
        assert f'<input type="hidden" name="channel" value="{channel}">' in item
        assert f'<button type="submit" class="secondary">{button}</button>' in item
    assert ('data-channel="sms" data-opted-out') in section
    assert '<input type="hidden" name="change" value="stop">' in section
    assert say(locale, "Stop contacting me") in section
    assert "data-stopped" not in section


@pytest.mark.parametrize("locale", LOCALES)
def test_a_party_who_asked_not_to_be_contacted_sees_when_and_can_lift_it(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    shown = view(locale, contact=contact_view(locale, stopped=True))
    section = _section(render_offer_page(document, shown, locale), "contact")
    when = {Locale.EN: "15 Mar 2026 20:00 (UTC+08:00)", Locale.ZH_CN: "2026年3月15日 20:00"}
    assert "data-stopped" in section and when[locale] in section
    assert '<input type="hidden" name="change" value="resume">' in section
    assert 'value="stop"' not in section
    assert say(locale, "You may contact me again") in section


@pytest.mark.parametrize("locale", LOCALES)
def test_with_no_reader_the_section_says_no_messages_and_has_no_form(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    section = _section(render_offer_page(document, view(locale), locale), "contact")
    assert say(locale, "We have not sent you any messages.") in section
    assert "<form" not in section and "<button" not in section


def test_the_contact_view_refuses_unknown_kinds_channels_and_links_elsewhere() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="kind"):
        SentMessage(at, "sms", "letter")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channel"):
        SentMessage(at, "fax", "reminder")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channel"):
        ChannelChoice("fax", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same-site path"):
        ContactView((), (), "https://evil.example/p")


def test_the_view_summary_overrides_the_documents() -> None:
    document = _document(readme_offer(), Locale.EN)
    html = render_offer_page(document, view(Locale.ZH_CN, summary="中文摘要。"), Locale.ZH_CN)
    assert "中文摘要。" in html
    assert document["summary"] not in html


@pytest.mark.parametrize(
    "url", ["https://evil.example/x", "//evil.example/x", "javascript:alert(1)", "/\\evil", "/a b"]
)
def test_the_view_refuses_links_elsewhere(url: str) -> None:
    with pytest.raises(ValueError, match="same-site path"):
        view(accept_url=url)
    with pytest.raises(ValueError, match="same-site path"):
        view(lang_urls={Locale.EN: url})


def test_the_view_refuses_unknown_states() -> None:
    with pytest.raises(ValueError, match="state"):
        view(state="pending")
    with pytest.raises(ValueError, match="accepted_at"):
        view(state="accepted")
    with pytest.raises(ValueError, match="status"):
        InstalmentStatus(1, date(2026, 1, 1), "skipped", 1, 0)  # type: ignore[arg-type]


# That both languages have every message, with the same fields: tests/app/core/test_i18n.py.


def test_the_chinese_page_has_no_english_words() -> None:
    document = _document(_negotiated()[1], Locale.ZH_CN)
    accepted = replace(
        accepted_view(Locale.ZH_CN, document), contact=contact_view(Locale.ZH_CN, email=False)
    )
    html = render_offer_page(document, accepted, Locale.ZH_CN)
    seen = " ".join(Page(html).text)
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        ids = [m.id for m in read_po(pot) if m.id and isinstance(m.id, str)]
    for text in ids:
        if "%(" not in text:  # a sentence with fields is checked by the words around them
            assert text not in seen
    # the only Latin words: the currency code, APR, file types and the language switch
    words = set(re.findall(r"[A-Za-z]{2,}", seen))
    assert words <= {"APR", "CNY", "English", "ics", "csv", "json", "BANK", "UTC"}


# --- the 404 page ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_the_not_found_page_is_one_page(locale: Locale) -> None:
    html = render_not_found(locale)
    assert html == render_not_found(locale.value)
    assert html == render_not_found.__wrapped__(locale)  # rendered afresh: the same bytes
    page = Page(html)
    assert page.html_lang == locale.value
    assert page.links == []
    assert "<script" not in html and "http://" not in html and "https://" not in html
    not_found = (
        "This link does not work. It may have expired or been withdrawn."
        " Please contact us and we will send you a new one."
    )
    assert say(locale, not_found) in html


# --- golden files ------------------------------------------------------------------------------


def test_golden_pages() -> None:
    en = _document(readme_offer(), Locale.EN)
    zh = _document(readme_offer(), Locale.ZH_CN)
    golden("offer.en.html", render_offer_page(en, view(Locale.EN), Locale.EN).encode())
    # the Chinese page read by a party: their messages, SMS opted out
    accepted = replace(accepted_view(Locale.ZH_CN, zh), contact=contact_view(Locale.ZH_CN))
    golden("offer.zh-CN.html", render_offer_page(zh, accepted, Locale.ZH_CN).encode())
    golden("not_found.en.html", render_not_found(Locale.EN).encode())
    # the English page of the accepted plan: its payments and what finishes it today
    accepted_en = render_offer_page(en, accepted_view(Locale.EN, en), Locale.EN)
    golden("offer_accepted.en.html", accepted_en.encode())


def test_the_page_links_to_asking_for_a_change_until_the_plan_is_complete() -> None:
    document = _document(readme_offer(), Locale.EN)
    link = '<a href="/s/TOKEN/change">'
    offered = render_offer_page(document, view(), Locale.EN)
    assert link in offered and "Tell us what you can afford" in offered
    accepted = accepted_view(Locale.ZH_CN, document)
    assert link in render_offer_page(document, accepted, Locale.ZH_CN)
    done = replace(accepted, plan_status="completed")
    assert link not in render_offer_page(document, done, Locale.ZH_CN)
    replaced = render_offer_page(document, view(state="superseded"), Locale.EN)
    assert link not in replaced
    with pytest.raises(ValueError, match="change_url"):
        view(change_url="https://elsewhere.example/change")
