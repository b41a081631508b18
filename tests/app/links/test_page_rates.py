"""The debtor's page names the annual rate as the debt's jurisdiction's law does
(``app/links/pages.py``, ``rate_rows``): 年化利率 (CN), "APR" (GB), "Annual percentage rate" (US),
with one sentence on how it is measured, in both languages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.links.pages import render_offer_page
from app.offers.summaries import summary
from plans.debt import Debt
from plans.flat import flat_plan
from plans.instalment import instalment_plan
from plans.offer import Offer
from plans.policy import Policy
from schemas.common import Locale
from schemas.wire import offer_json
from tests.app.links.test_pages import POLICY_USED, readme_offer, view


def _document(offer: Offer, locale: Locale) -> dict[str, Any]:
    return offer_json(offer, summary=summary(offer, locale), policy=POLICY_USED)


@pytest.mark.parametrize(
    ("jurisdiction", "locale", "label", "shown", "how"),
    [
        # PBOC Announcement [2021] No. 3: 年化利率, by the IRR method, 2 places
        ("CN", Locale.ZH_CN, "年化利率", "12.00%", "内部收益率法"),
        ("CN", Locale.EN, "Annualised rate (年化利率)", "12.00%", "internal-rate-of-return"),
        # CONC App 1.1: "APR", (1 + 0.12 / 12)^12 - 1 = 12.68 % to one place
        ("GB", Locale.EN, "APR", "12.7%", "CONC App 1.1"),
        ("GB", Locale.ZH_CN, "APR（年度百分率）", "12.7%", "CONC App 1.1"),
        # Regulation Z: "Annual percentage rate", 2 places
        ("US", Locale.EN, "Annual percentage rate", "12.00%", "Appendix J"),
        ("US", Locale.ZH_CN, "Annual percentage rate（年度百分率）", "12.00%", "附录J"),
    ],
)
def test_the_page_names_the_jurisdictions_rate_as_its_law_does(
    jurisdiction: str, locale: Locale, label: str, shown: str, how: str
) -> None:
    debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 40, jurisdiction)
    document = _document(instalment_plan(debt, policy=Policy(plan_rate=None), term=12), locale)
    html = render_offer_page(document, view(locale), locale)
    start = html.index('<section id="rates"')
    rates = html[start : html.index("</section>", start)]
    assert f"<dt>{label}</dt>" in rates and f">{shown}</dd>" in rates
    assert how in rates
    assert rates.count("<dt>") == 2  # the jurisdiction's rate and the effective annual rate


def test_an_offer_saved_before_its_jurisdictions_rate_shows_the_apr_as_it_did() -> None:
    document = _document(readme_offer(), Locale.EN)
    del document["metrics"]["annual_rate"]
    html = render_offer_page(document, view(), Locale.EN)
    assert "<dt>Annual percentage rate (APR)</dt>" in html and "Regulation Z, Appendix J" in html


@pytest.mark.parametrize(
    ("locale", "label", "words"),
    [
        (Locale.EN, "Flat rate (a year, on the amount first owed)",
         ("a flat charge of CN¥72.00 a month", "7.20% a year flat", "it costs 13.03% a year")),
        (Locale.ZH_CN, "名义年费率（按初始欠款计）",
         ("每月收取固定手续费¥72.00", "名义年费率为7.20%", "年化成本为13.03%")),
    ],
)  # fmt: skip
def test_a_flat_contracts_page_shows_the_flat_rate_beside_the_true_one(
    locale: Locale, label: str, words: tuple[str, ...]
) -> None:
    # 12,000.00 over 12 months at a 0.6 % monthly flat charge (手续费) on the original principal:
    # 72.00 a month, 7.20 % a year flat, a 年化利率 of 13.03 % (the published case of
    # tests/plans/test_flat.py): the page puts the two side by side, and says why they differ.
    debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 40, "CN")
    offer = flat_plan(debt, policy=Policy(), term=12, rate_per_period=Decimal("0.006"))
    html = render_offer_page(_document(offer, locale), view(locale), locale)
    start = html.index('<section id="rates"')
    rates = html[start : html.index("</section>", start)]
    assert rates.count("<dt>") == 3  # the jurisdiction's rate, the flat rate, the effective rate
    assert f'<dt>{label}</dt><dd data-rate="0.072000">7.20%</dd>' in rates
    assert ">13.03%</dd>" in rates
    note = rates[rates.index('<p class="flat">') :]
    assert all(w in note for w in words), note
