"""The change pages of a consolidated offer (``app/changes/pages.py`` rendering the answer of
``plans.consolidated_counter``): each plan of the answer for all the debts, every line naming
each debt's share.

Golden files under ``tests/golden/pages/`` pin the answer to a proposal that fits (English and
Chinese) and a request made (Chinese), byte for byte. Regenerate on purpose with

    REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/app/changes/test_consolidated_change_pages.py

and review the diff like code.

By hand (see ``tests/app/changes/test_consolidated_changes.py``): 4,000.00 and 6,000.00 CNY at
0 %, 400.00 a month pro rata: 160.00 and 240.00 a month, 25 payments, 10,000.00 in all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.changes.pages import RequestView, render_change_page, render_request_page
from app.core.i18n import Words
from app.offers.consolidated import allocation_text, consolidated_summary
from plans.allocation import AllocationRule, NamedDebt
from plans.consolidated_counter import counter_consolidated
from plans.consolidation import ConsolidatedOffer
from plans.counter import Proposal
from plans.debt import Debt
from plans.policy import Policy
from schemas.common import Locale
from schemas.wire import consolidated_counter_json, consolidated_json
from tests.app.changes.test_change_pages import POLICY_USED, TODAY, cells, view
from tests.app.links.test_pages import golden

DEBTS = [
    NamedDebt("CARD-4000", Debt("CNY", 400_000, 0, 0, Decimal(0), TODAY, 120)),
    NamedDebt("LOAN-6000", Debt("CNY", 600_000, 0, 0, Decimal(0), TODAY, 60)),
]
# what the two owe together, as the group's change page shows it
WHOLE = Debt("CNY", 1_000_000, 0, 0, Decimal(0), TODAY, 120)


def document(offer: ConsolidatedOffer, locale: Locale) -> dict[str, Any]:
    return consolidated_json(
        offer,
        summary=consolidated_summary(offer, locale),
        allocation_text=allocation_text(AllocationRule.PRO_RATA, locale),
        policy=POLICY_USED,
    )


def evaluation(payment_minor: int, locale: Locale) -> dict[str, Any]:
    result = counter_consolidated(DEBTS, Proposal(payment_minor=payment_minor), policy=Policy())
    return {
        "owed": view(WHOLE).owed,
        "proposal": {
            "payment": f"{payment_minor // 100}.{payment_minor % 100:02d}",
            "start": None,
            "lump_sum": "0.00",
            "frequency": "monthly",
        },
        "result": consolidated_counter_json(
            result, rule="pro_rata", render=lambda o: document(o, locale)
        ),
        "requests_left_today": 4,
    }


def page(locale: Locale, payment_minor: int = 40_000) -> str:
    shown = view(
        WHOLE,
        locale,
        values={"payment": f"{payment_minor // 100}.00"},
        evaluation=evaluation(payment_minor, locale),
        debts_owed=[(d.ref, d.debt.total_minor) for d in DEBTS],
    )
    return render_change_page(shown, locale)


def shares(html: str, ref: str) -> list[int]:
    found = re.findall(rf'class="share" data-debt-ref="{ref}" data-minor="(\d+)"', html)
    return [int(m) for m in found]


def owed_by_debt(html: str) -> list[tuple[str, int]]:
    found = re.search(r'<dl class="facts debts">.*?</dl>', html, re.S)
    assert found is not None, "no list of what each debt owes"
    return [
        (ref, int(m))
        for ref, m in re.findall(r'data-debt-ref="([^"]+)" data-minor="(\d+)"', found.group(0))
    ]


def test_every_line_names_each_debts_share() -> None:
    html = page(Locale.EN)
    assert "Your proposal fits our rules." in html
    # what each debt owes now, besides the whole
    assert owed_by_debt(html) == [("CARD-4000", 400_000), ("LOAN-6000", 600_000)]
    assert html.count('<article class="plan"') == 1 and 'data-choice="as_proposed"' in html
    assert cells(html, "payment") == [40_000] * 25 + [1_000_000]
    assert shares(html, "CARD-4000") == [16_000] * 25
    assert shares(html, "LOAN-6000") == [24_000] * 25
    assert cells(html, "closing_balance")[-1] == 0
    assert "shared between the debts in proportion to what each owes" in html
    assert "2 debts in one plan: 25 payments of at most CN¥400.00" in html


def test_a_proposal_that_does_not_fit_shows_the_nearest_consolidated_plan() -> None:
    # 200.00 a month repays 10,000.00 in 50 months, beyond the policy's 36
    html = page(Locale.ZH_CN, 20_000)
    t = Words(Locale.ZH_CN)
    assert t.gettext("Your proposal does not fit our rules:") in html
    assert 'data-choice="longer_term"' in html
    rows = cells(html, "payment")[:-1]
    assert len(rows) == 36
    card, loan = shares(html, "CARD-4000"), shares(html, "LOAN-6000")
    assert [a + b for a, b in zip(card, loan, strict=True)] == rows


def test_golden_consolidated_change_pages() -> None:
    golden("change_consolidated.en.html", page(Locale.EN).encode())
    golden("change_consolidated.zh-CN.html", page(Locale.ZH_CN).encode())
    offer = counter_consolidated(DEBTS, Proposal(payment_minor=40_000), policy=Policy()).offer
    assert offer is not None
    sent = RequestView(
        masked_name="张*明",
        status="open",
        choice="as_proposed",
        created_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
        document=document(offer, Locale.ZH_CN),
        plan_url="/s/TOKEN?lang=zh-CN",
        change_url="/s/TOKEN/change?lang=zh-CN",
        lang_urls={lang: f"/s/TOKEN/change/requests/R?lang={lang.value}" for lang in Locale},
    )
    golden("change_consolidated_sent.zh-CN.html", render_request_page(sent, Locale.ZH_CN).encode())
