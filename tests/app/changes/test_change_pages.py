"""The debtor's change pages (``app/changes/pages.py``), from the real engine and wire format.

Golden files under ``tests/golden/pages/`` pin four pages byte for byte: the answer to a
proposal that fits (English), the answer to one that does not, with its nearest alternative
(Chinese), the form again with the broken rules (English), and a request made (Chinese).
Regenerate on purpose with

    REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/app/changes/test_change_pages.py

and review the diff like code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.changes.pages import (
    ChangeView,
    RequestView,
    render_change_page,
    render_request_page,
)
from app.core.errors import FieldError
from app.core.i18n import Words
from app.offers.summaries import summary
from plans.counter import Proposal, counter_offer
from plans.debt import Debt
from plans.policy import Policy
from schemas.common import Locale
from schemas.wire import counter_json, offer_json
from tests.app.links.test_pages import golden

POLICY_USED = {"id": 1, "name": "default", "version": 1}
TODAY = date(2026, 12, 1)
LATEST = date(2027, 1, 15)  # TODAY + the default policy's 45 days


def owed(debt: Debt) -> dict[str, Any]:
    def fmt(minor: int) -> str:
        return f"{minor // 100}.{minor % 100:02d}"

    return {
        "currency": debt.currency,
        "as_of": debt.as_of,
        "principal": fmt(debt.principal_minor),
        "interest": fmt(debt.interest_minor),
        "fees": fmt(debt.fees_minor),
        "total": fmt(debt.total_minor),
    }


def evaluation(debt: Debt, payment_minor: int, locale: Locale) -> dict[str, Any]:
    result = counter_offer(debt, Proposal(payment_minor=payment_minor), policy=Policy())
    return {
        "owed": owed(debt),
        "proposal": {
            "payment": f"{payment_minor // 100}.{payment_minor % 100:02d}",
            "start": None,
            "lump_sum": "0.00",
            "frequency": "monthly",
        },
        "result": counter_json(result, summarise=lambda o: summary(o, locale), policy=POLICY_USED),
        "requests_left_today": 4,
    }


def view(debt: Debt, lang: Locale = Locale.EN, **changes: Any) -> ChangeView:
    fields: dict[str, Any] = {
        "masked_name": "J*** S****" if lang is Locale.EN else "张*明",
        "owed": owed(debt),
        "frequency": "monthly",
        "plan_url": f"/s/TOKEN?lang={lang}",
        "form_url": f"/s/TOKEN/change?lang={lang}",
        "request_url": f"/s/TOKEN/change/requests?lang={lang}",
        "lang_urls": {lang: f"/s/TOKEN/change?lang={lang.value}" for lang in Locale},
        "earliest_start": TODAY,
        "latest_start": LATEST,
        "min_payment_minor": 10_000,
        "max_term_months": 36,
        "requests_left": 4,
        **changes,
    }
    return ChangeView(**fields)


# 2,000.00 left of the SMALL plan of tests/app/links/test_sharing.py (3,000.00, 1,000.00 paid)
LEFT = Debt("CNY", 200_000, 0, 0, Decimal(0), TODAY, 0)
# tests/app/links/test_sharing.py's debt: 10,000.00 + 350.00 interest + 150.00 fees, interest frozen
BIG = Debt("CNY", 1_000_000, 35_000, 15_000, Decimal(0), TODAY, 95)


def cells(page: str, column: str) -> list[int]:
    return [int(m) for m in re.findall(rf'data-column="{column}" data-minor="(-?\d+)"', page)]


def test_a_proposal_that_fits_shows_it_line_by_line() -> None:
    # 2,000.00 at 500.00 a month under the interest freeze: 2,000.00 / 500.00 = 4 payments,
    # exactly (no residue for the last to absorb), each all principal; APR 0.
    page = render_change_page(
        view(LEFT, values={"payment": "500.00"}, evaluation=evaluation(LEFT, 50_000, Locale.EN)),
        Locale.EN,
    )
    assert "Your proposal fits our rules." in page
    assert page.count('<article class="plan"') == 1 and 'data-choice="as_proposed"' in page
    payments = cells(page, "payment")
    assert payments == [50_000] * 4 + [200_000]  # four rows, then the totals row
    assert cells(page, "principal") == [50_000] * 4 + [200_000]
    assert cells(page, "interest") == [0] * 5 and cells(page, "fees") == [0] * 5
    assert cells(page, "closing_balance") == [150_000, 100_000, 50_000, 0]
    rates = re.findall(r'data-rate="([^"]+)">([^<]+)<', page)
    # the APR, then the effective rate
    assert [(Decimal(r), text) for r, text in rates] == [(Decimal(0), "0.00%")] * 2
    # one form per plan, carrying the proposal and the choice, never the plan itself
    form = page[page.index('action="/s/TOKEN/change/requests?lang=en"') :]
    form = form[: form.index("</form>")]
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
    assert hidden == {"payment": "500.00", "start": "", "lump_sum": "0.00", "choice": "as_proposed"}
    assert "<script" not in page and "http" not in page.replace('http-equiv="', "")


def test_a_proposal_that_does_not_fit_shows_the_nearest_plan() -> None:
    # 10,500.00 at 250.00 a month would take 42 months, beyond the policy's 36: the nearest
    # plan is the longest allowed, 10,500.00 / 36 = 291.666... -> 291.67 for 35 months and
    # 10,500.00 - 35 x 291.67 = 291.55 for the last.
    zh_view = view(BIG, Locale.ZH_CN, evaluation=evaluation(BIG, 25_000, Locale.ZH_CN))
    page = render_change_page(zh_view, Locale.ZH_CN)
    assert "您提出的方案不符合我们的规则" in page
    assert "按此金额还款，期限将超过规则允许的最长期限（36个月）" in page
    assert 'data-choice="longer_term"' in page and "延长期限" in page
    payments = cells(page, "payment")
    assert payments[:-1] == [29_167] * 35 + [29_155]
    assert payments[-1] == sum(payments[:-1]) == 1_050_000


def test_the_totals_row_is_the_sum_of_the_rows() -> None:
    page = render_change_page(view(BIG, evaluation=evaluation(BIG, 60_000, Locale.EN)), "en")
    for column in ("payment", "principal", "interest", "fees"):
        for article in page.split('<article class="plan"')[1:]:
            values = cells(article, column)
            assert values[-1] == sum(values[:-1]), column


def test_broken_rules_are_shown_by_field_with_what_was_typed() -> None:
    errors = [
        FieldError("payment", "max_decimals", "CNY allows at most 2 decimal places"),
        FieldError("start", "max_start_delay", "the policy lets a plan start by 2027-01-15"),
        FieldError("lump_sum", "non_negative", "must not be negative"),
    ]
    typed = {"payment": "5.001", "start": "2027-03-01", "lump_sum": "-1"}
    page = render_change_page(view(LEFT, values=typed, errors=errors), Locale.EN)
    assert 'role="alert"' in page
    assert "Amounts in CNY have at most 2 decimal places." in page
    assert "The first payment can be on 15 Jan 2027 at the latest." in page
    assert "The amount cannot be negative." in page
    assert page.count(' aria-invalid="true"') == 3  # (the CSS names it too, unspaced)
    assert 'value="5.001"' in page and 'value="-1"' in page
    assert 'id="result"' not in page


def test_typed_text_is_escaped() -> None:
    page = render_change_page(view(LEFT, values={"payment": '"><b>x'}), Locale.EN)
    assert '"><b>x' not in page and "&#34;&gt;&lt;b&gt;x" in page


@pytest.mark.parametrize("locale", list(Locale), ids=str)
def test_notices(locale: Locale) -> None:
    t = Words(locale)
    nothing = render_change_page(view(LEFT, locale, notice="nothing_owed"), locale)
    assert t.gettext("Nothing is owed on this plan: there is nothing to change.") in nothing
    assert "<form" not in nothing
    limited = render_change_page(
        view(LEFT, locale, notice="rate_limited", evaluation=evaluation(LEFT, 50_000, locale)),
        locale,
    )
    assert (
        t.gettext(
            "You have sent as many requests as one link may send in a day."
            " Please try again tomorrow, or contact us."
        )
        in limited
    )
    assert "/change/requests" not in limited  # no button to ask once more


# That every word exists in both languages, with the same fields: tests/app/core/test_i18n.py.


def test_a_view_refuses_an_address_elsewhere() -> None:
    with pytest.raises(ValueError, match="same-site"):
        view(LEFT, form_url="https://elsewhere.example/steal")


def _request_view(status: str, document: Mapping[str, Any]) -> RequestView:
    return RequestView(
        masked_name="张*明",
        status=status,
        choice="as_proposed",
        created_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
        document=document,
        plan_url="/s/TOKEN?lang=zh-CN",
        change_url="/s/TOKEN/change?lang=zh-CN",
        lang_urls={lang: f"/s/TOKEN/change/requests/R?lang={lang.value}" for lang in Locale},
    )


def test_golden_change_pages() -> None:
    golden(
        "change.en.html",
        render_change_page(
            view(
                LEFT, values={"payment": "500.00"}, evaluation=evaluation(LEFT, 50_000, Locale.EN)
            ),
            Locale.EN,
        ).encode(),
    )
    zh = view(
        BIG,
        Locale.ZH_CN,
        values={"payment": "250.00"},
        evaluation=evaluation(BIG, 25_000, Locale.ZH_CN),
    )
    golden("change.zh-CN.html", render_change_page(zh, Locale.ZH_CN).encode())
    errors = [FieldError("payment", "number", "must be a number such as 500.00")]
    golden(
        "change_errors.en.html",
        render_change_page(view(LEFT, values={"payment": "five"}, errors=errors), "en").encode(),
    )
    offer = counter_offer(LEFT, Proposal(payment_minor=50_000), policy=Policy()).offer
    assert offer is not None
    document = offer_json(offer, summary=summary(offer, Locale.ZH_CN), policy=POLICY_USED)
    golden(
        "change_sent.zh-CN.html",
        render_request_page(_request_view("open", document), Locale.ZH_CN).encode(),
    )


STATUS_TEXT = {
    "open": "We have your request and will reply to you.",
    "offered": "We have made you a new offer for this request: we will send it to you.",
    "declined": "We could not agree to this plan. You can propose another one.",
}


@pytest.mark.parametrize("status", ["open", "offered", "declined"])
def test_a_request_page_says_where_it_stands(status: str) -> None:
    offer = counter_offer(LEFT, Proposal(payment_minor=50_000), policy=Policy()).offer
    assert offer is not None
    document = offer_json(offer, summary="", policy=POLICY_USED)
    page = render_request_page(_request_view(status, document), Locale.ZH_CN)
    assert Words(Locale.ZH_CN).gettext(STATUS_TEXT[status]) in page
    assert "您于2026年12月1日申请了此方案。" in page
    assert cells(page, "payment") == [50_000] * 4 + [200_000]
    assert "<form" not in page
