"""A completed plan's settlement certificate (结清证明): its renderer
(``app/links/certificate.py``) and its route, ``GET /s/{token}/certificate``
(``app/links/routes/links.py``). Printed in a real browser: test_print_browser.py.

Golden files under ``tests/golden/pages/`` pin the certificate of the README's worked example
(10,000.00 CNY at 12 %, 12 monthly instalments from 15 Feb 2026, all paid: 10,661.86) in both
languages, the Chinese one with 10.00 paid beyond the plan and handed back. They change only on
purpose: regenerate with

    REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest -p no:cacheprovider tests/app/links/test_certificate.py

and review the diff like code.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.core.db import get_sessionmaker
from app.core.db import utcnow as db_now
from app.core.i18n import LOCALE_DIR
from app.links.certificate import certificate_number, render_certificate
from app.links.models import SavedOffer
from app.links.views import CertificateView, ConfirmedPayment
from app.links.web import EXAMPLE_MARKER
from app.offers.summaries import day
from plans.money import to_minor
from schemas.common import Locale
from tests.app.links.test_pages import LOCALES, Page, _document, golden, readme_offer, say
from tests.app.links.test_sharing import accepted_plan, pay, saved, token_of

Json = dict[str, Any]
Headers = dict[str, dict[str, str]]
NOTHING_OWED = "Nothing more is owed on this debt under this plan."
PLAN_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# README "A worked example": eleven payments of 888.49 and a last of 888.47, 10,661.86 in all
README_TOTAL = 1_066_186


def paid_in_full(locale: Locale, *, refunded_minor: int = 0, **changes: Any) -> CertificateView:
    """The README's plan, every line paid on its payment date (the last with
    ``refunded_minor`` more, handed back)."""
    document = _document(readme_offer(), locale)
    lines = document["schedule"]["lines"]
    payments = [
        ConfirmedPayment(
            paid_on=date.fromisoformat(line["payment_date"]),
            amount_minor=to_minor(line["payment"], "CNY") + (refunded_minor if k == 12 else 0),
            reference=f"BANK-{line['payment_date'].replace('-', '')}-{k:04d}",
            principal_minor=to_minor(line["principal"], "CNY"),
            interest_minor=to_minor(line["interest"], "CNY"),
            fees_minor=0,
            balance_after_minor=to_minor(line["closing_balance"], "CNY"),
        )
        for k, line in enumerate(lines, start=1)
    ]
    fields: Json = {
        "number": certificate_number(PLAN_ID),
        "issued_on": date(2027, 1, 20),
        "debt_ref": "CARD-2024-0012345",
        "creditor": {Locale.EN: "Acme Consumer Finance", Locale.ZH_CN: "示例消费金融有限公司"}[
            locale
        ],
        "debtor_name": {Locale.EN: "John Smith", Locale.ZH_CN: "张小明"}[locale],
        "accepted_at": datetime(2026, 1, 20, 10, 30, tzinfo=UTC),
        "completed_on": payments[-1].paid_on,
        "payments": payments,
        "paid_minor": sum(p.amount_minor for p in payments) - refunded_minor,
        "refunded_minor": refunded_minor,
        "page_url": f"/s/TOKEN?lang={locale.value}",
        "lang_urls": {lang: f"/s/TOKEN/certificate?lang={lang.value}" for lang in Locale},
    }
    return CertificateView(**{**fields, **changes})


# --- the renderer ------------------------------------------------------------------------------


def test_golden_certificates() -> None:
    en = _document(readme_offer(), Locale.EN)
    zh = _document(readme_offer(), Locale.ZH_CN)
    html = render_certificate(en, paid_in_full(Locale.EN), Locale.EN)
    golden("certificate.en.html", html.encode())
    html = render_certificate(zh, paid_in_full(Locale.ZH_CN, refunded_minor=1_000), Locale.ZH_CN)
    golden("certificate.zh-CN.html", html.encode())


@pytest.mark.parametrize("locale", LOCALES)
def test_the_certificate_states_the_debt_every_payment_and_that_nothing_more_is_owed(
    locale: Locale,
) -> None:
    shown = paid_in_full(locale)
    html = render_certificate(_document(readme_offer(), locale), shown, locale)
    page = Page(html)
    assert page.html_lang == locale.value
    assert {"debt", "plan", "paid", "settled"} <= page.ids
    assert page.forms == [] and "<script" not in html and "<button" not in html
    for text in (shown.debt_ref, shown.creditor, shown.debtor_name, "CNY", shown.number):
        assert text in html
    for payment in shown.payments:
        assert f'<tr data-date="{payment.paid_on.isoformat()}"><th scope="row">' in html
        assert payment.reference in html
    assert f'<tr data-totals><th scope="row">{say(locale, "Total paid")}</th>' in html
    assert f'<td data-minor="{README_TOTAL}">' in html
    total = {Locale.EN: "CN¥10,661.86", Locale.ZH_CN: "¥10,661.86"}[locale]
    # the last payment, 888.47 on 15 Jan 2027 (README), completed the plan
    completed = {Locale.EN: "15 Jan 2027", Locale.ZH_CN: "2027年1月15日"}[locale]
    statement = {
        Locale.EN: (
            f"Acme Consumer Finance confirms that the repayment plan for debt CARD-2024-0012345,"
            f" accepted on 20 Jan 2026, was paid in full on {completed}: {total} in all."
        ),
        Locale.ZH_CN: (
            f"示例消费金融有限公司确认：债务CARD-2024-0012345的还款计划已于2026年1月20日接受，"
            f"并于{completed}全部还清，共计还款{total}。"
        ),
    }
    assert statement[locale] in html
    assert say(locale, NOTHING_OWED) in html
    issued = {Locale.EN: "20 Jan 2027", Locale.ZH_CN: "2027年1月20日"}[locale]
    assert f'<dd data-date="2027-01-20">{issued}</dd>' in html
    # nothing but its own languages and the plan's page to go to
    other = next(lang for lang in Locale if lang is not locale)
    assert page.links == [
        f"/s/TOKEN?lang={locale.value}",
        f"/s/TOKEN/certificate?lang={other.value}",
    ]


def test_what_was_paid_beyond_the_plan_is_shown_handed_back() -> None:
    shown = paid_in_full(Locale.EN, refunded_minor=1_000)
    html = render_certificate(_document(readme_offer(), Locale.EN), shown, Locale.EN)
    assert "Paid beyond the plan, returned to you" in html
    assert '<td data-minor="1000">−CN¥10.00</td>' in html
    assert f'<td data-minor="{README_TOTAL}">CN¥10,661.86</td>' in html
    plain = render_certificate(
        _document(readme_offer(), Locale.EN), paid_in_full(Locale.EN), Locale.EN
    )
    assert "returned to you" not in plain


def test_the_view_refuses_totals_that_do_not_add_up_and_links_elsewhere() -> None:
    with pytest.raises(ValueError, match="paid_minor"):
        paid_in_full(Locale.EN, paid_minor=README_TOTAL + 1)
    with pytest.raises(ValueError, match="page_url"):
        paid_in_full(Locale.EN, page_url="https://elsewhere.example/s/TOKEN")


def test_the_certificate_number_is_the_plans_and_the_same_every_time() -> None:
    assert certificate_number(PLAN_ID) == "SC-0F1E-2D3C-4B5A-6978"
    assert certificate_number(PLAN_ID) == certificate_number(PLAN_ID)
    assert certificate_number("1" + PLAN_ID[1:]) != certificate_number(PLAN_ID)


def test_the_chinese_certificate_has_no_english_words() -> None:
    shown = paid_in_full(Locale.ZH_CN, refunded_minor=1_000)
    html = render_certificate(_document(readme_offer(), Locale.ZH_CN), shown, Locale.ZH_CN)
    seen = " ".join(Page(html).text)
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        ids = [m.id for m in read_po(pot) if m.id and isinstance(m.id, str)]
    for text in ids:
        if "%(" not in text:
            assert text not in seen
    # the only Latin words: the currency code, the references, the number, the language switch
    words = set(re.findall(r"[A-Za-z]{2,}", seen))
    assert words <= {"CNY", "CARD", "BANK", "SC", "English"}


# --- the route ---------------------------------------------------------------------------------


def _completed(client: TestClient, auth: Headers, **save: Any) -> tuple[str, str]:
    """A saved offer of 3,000.00 in three instalments, accepted and paid in two payments:
    its token and its plan's id."""
    offer = saved(client, auth["collector"], **save)
    plan_id = accepted_plan(client, offer)
    for amount, key in (("1000.00", "first"), ("2000.00", "rest")):
        paid = pay(client, auth["finance"], plan_id, amount, key, reference=f"WX-{key}")
        assert paid.status_code == 201, paid.text
    return token_of(offer), plan_id


def test_a_completed_plans_certificate(client: TestClient, auth: Headers) -> None:
    token, plan_id = _completed(client, auth)
    answer = client.get(f"/s/{token}/certificate")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    html = answer.text
    today = day(date.today(), Locale.EN)
    page = Page(html)
    assert page.html_lang == "en"  # the offer's language
    for text in ("CARD-1", "John Smith", certificate_number(plan_id), "WX-first", "WX-rest"):
        assert text in html
    assert "<dd>default</dd>" in html  # the creditor: the key's organisation, by name
    assert '<td data-minor="300000">CN¥3,000.00</td>' in html
    assert f"was paid in full on {today}: CN¥3,000.00 in all." in html
    assert NOTHING_OWED in html
    # the plan's page says so and leads to it; in Chinese, both in Chinese
    plan_page = client.get(f"/s/{token}").text
    assert f'<a href="/s/{token}/certificate?lang=en">' in plan_page
    chinese = client.get(f"/s/{token}/certificate", params={"lang": "zh-CN"})
    assert say(Locale.ZH_CN, NOTHING_OWED) in chinese.text
    assert f'<a href="/s/{token}?lang=zh-CN" class="back">' in chinese.text
    # a view like the page's, in the audit trail
    offer_id = client.get(f"/v1/plans/{plan_id}", headers=auth["finance"]).json()["offer_id"]
    audit = client.get("/v1/audit", params={"offer_id": offer_id}, headers=auth["finance"])
    viewed = [e["payload"] for e in audit.json()["events"] if e["kind"] == "link_viewed"]
    assert {"what": "certificate", "locale": "zh-CN"} in viewed
    assert [v["what"] for v in viewed].count("certificate") == 2


def test_a_plan_not_completed_has_no_certificate_like_an_unknown_link(
    client: TestClient, auth: Headers
) -> None:
    offered = token_of(saved(client, auth["collector"], debt_ref="CARD-1"))
    active = saved(client, auth["collector"], debt_ref="CARD-2")
    partly = saved(client, auth["collector"], debt_ref="CARD-3")
    accepted_plan(client, active)
    paid = pay(client, auth["finance"], accepted_plan(client, partly), "2999.99", "most")
    assert paid.status_code == 201
    tokens = {
        "offered": offered,
        "active": token_of(active),
        "partly paid": token_of(partly),
        "unknown": "A" * len(offered),
    }
    for params, headers in (
        ({}, {}),
        ({"lang": "en"}, {}),
        ({}, {"Accept-Language": "en-GB,en;q=0.8"}),
    ):
        answers = {
            name: client.get(f"/s/{token}/certificate", params=params, headers=headers)
            for name, token in tokens.items()
        }
        assert {r.status_code for r in answers.values()} == {404}, params
        assert len({r.content for r in answers.values()}) == 1, (params, headers)
        assert len({tuple(sorted(r.headers.items())) for r in answers.values()}) == 1
    # and the page of each still answers (only the certificate is missing)
    assert client.get(f"/s/{token_of(active)}").status_code == 200


def test_a_revoked_or_expired_offer_has_no_certificate(client: TestClient, auth: Headers) -> None:
    revoked = saved(client, auth["collector"], debt_ref="CARD-1")
    expired = saved(client, auth["collector"], debt_ref="CARD-2")
    client.post(f"/v1/offers/{revoked['id']}/revoke", headers=auth["collector"])
    with get_sessionmaker()() as session:
        session.execute(
            update(SavedOffer)
            .where(SavedOffer.id == expired["id"])
            .values(expires_at=db_now() - timedelta(seconds=1))
        )
        session.commit()
    unknown = client.get(f"/s/{'A' * len(token_of(revoked))}/certificate")
    for offer in (revoked, expired):
        answer = client.get(f"/s/{token_of(offer)}/certificate")
        assert (answer.status_code, answer.content) == (404, unknown.content)


def test_a_completed_plan_is_reachable_after_its_offer_would_have_expired(
    client: TestClient, auth: Headers
) -> None:
    """An accepted offer's link does not expire (``sharing.is_expired``): the page and the
    certificate of a plan completed after the offer's ``expires_at`` still answer."""
    token, _ = _completed(client, auth)
    with get_sessionmaker()() as session:
        session.execute(update(SavedOffer).values(expires_at=db_now() - timedelta(days=400)))
        session.commit()
    for suffix in ("", "/certificate", ".json", ".csv", ".ics"):
        assert client.get(f"/s/{token}{suffix}").status_code == 200, suffix


def test_a_marker_of_nobody_is_the_links_404_on_the_certificate_too(
    client: TestClient, auth: Headers
) -> None:
    token, _ = _completed(client, auth)
    marked = client.get(f"/s/{token}/certificate", params={"p": EXAMPLE_MARKER, "lang": "en"})
    unknown = client.get(f"/s/{'A' * len(token)}/certificate", params={"lang": "en"})
    assert (marked.status_code, marked.content) == (404, unknown.content)
