"""An offer negotiated from an income and expenditure statement keeps it (``offers.statement``),
and the debtor's page shows it back (``app/links/statement.py``): each figure as given, the
totals, what is left each month, the policy's share of it, how the plan fits, an amount above
the policy's guideline marked and kept, and the change page's link to put a figure right
(issue 19: "The page shows the debtor their own statement back, so they can correct it through
the change page").

By hand, for the contract's example statement (``schemas.offers.STATEMENT_EXAMPLE``): income
6,000.00 + 500.00 = 6,500.00; essential costs 2,500.00 + 1,500.00 + 400.00 = 4,400.00; priority
debts 200.00; left each month 6,500.00 - 4,400.00 - 200.00 = 1,900.00. Under a policy that lets
a plan ask 80 % of it: 1,520.00 a month. 10,000.00 owed at 0 % within 1,520.00 a month is 7
payments (6 would need 1,666.67): 10,000.00 / 7 = 1,428.571..., 1,428.57 six times (half up)
and a last one of 1,428.58, the largest, which is 1,428.58 / 1,900.00 = 75.19 % of what is left.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.links.pages import render_offer_page
from schemas.common import Locale
from schemas.offers import STATEMENT_EXAMPLE
from tests.app.links.test_pages import _document, golden, readme_offer, say, view

Headers = dict[str, dict[str, str]]
DEBT = {
    "currency": "CNY",
    "principal": "10000.00",
    "nominal_annual_rate": "0",
    "as_of": "2026-11-25",
    "days_past_due": 95,
}
# travel of 400.00 for a household of two is above this guideline: flagged, never changed
GUIDELINE = {"currency": "CNY", "group": "travel", "household_size": 2, "monthly": "300"}


# What the service saves for the offer below (the test after next checks it): the statement as
# given, and negotiate's affordability with this offer's fit alone, its sentence in the offer's
# locale (the page writes its own in the page's language).
STORED = {
    "given": STATEMENT_EXAMPLE,
    "affordability": {
        "income": "6500.00",
        "expenditure": "4400.00",
        "priority_debts": "200.00",
        "disposable": "1900.00",
        "share_bps": 8000,
        "available": "1520.00",
        "per_period": "1520.00",
        "stated_payment": None,
        "capacity_payment": "1520.00",
        "bounded_by": "statement",
        "flags": [{"group": "travel", "amount": "400.00", "guideline": "300.00"}],
        "fits": [
            {
                "kind": "instalment",
                "monthly": "1428.58",
                "share": "0.7519",
                "sentence": "CN¥1,428.58 a month of CN¥1,900.00 disposable (75%)",
            }
        ],
    },
}


def _policy(client: TestClient, auth: Headers) -> dict[str, Any]:
    body = {"affordable_share_bps": 8000, "spending_guidelines": [GUIDELINE], "plan_rate": "0"}
    made = client.post(
        "/v1/policies", json={"name": "afford", "body": body}, headers=auth["finance"]
    )
    assert made.status_code == 201, made.text
    return {"id": made.json()["id"]}


def _saved(client: TestClient, auth: Headers, capacity: dict[str, Any]) -> dict[str, Any]:
    body = {
        "debt_ref": "STATEMENT-1",
        "debtor": {"name": "John Smith"},
        "locale": "en",
        "negotiate": {"debt": DEBT, "capacity": capacity, "policy": _policy(client, auth)},
        "kind": "instalment",
    }
    response = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert response.status_code == 201, response.text
    saved: dict[str, Any] = response.json()
    return saved


def _section(html: str) -> str:
    found = re.search(r'<section id="statement">.*?</section>', html, re.S)
    assert found is not None, "no #statement section"
    return found.group(0)


def test_the_saved_offer_keeps_the_statement_and_how_the_plan_fits_it(
    client: TestClient, auth: Headers
) -> None:
    saved = _saved(client, auth, {"statement": STATEMENT_EXAMPLE})
    payments = [line["payment"] for line in saved["offer"]["schedule"]["lines"]]
    assert payments == ["1428.57"] * 6 + ["1428.58"]
    statement = saved["statement"]
    assert statement == STORED
    afford = statement["affordability"]
    assert (afford["income"], afford["expenditure"], afford["priority_debts"]) == (
        "6500.00",
        "4400.00",
        "200.00",
    )
    assert (afford["disposable"], afford["available"], afford["bounded_by"]) == (
        "1900.00",
        "1520.00",
        "statement",
    )
    assert afford["flags"] == [{"group": "travel", "amount": "400.00", "guideline": "300.00"}]
    (fit,) = afford["fits"]
    assert (fit["kind"], fit["monthly"], fit["share"]) == ("instalment", "1428.58", "0.7519")
    again = client.get(f"/v1/offers/{saved['id']}", headers=auth["collector"])
    assert again.json()["statement"] == statement


@pytest.mark.parametrize("locale", list(Locale))
def test_the_page_shows_the_statement_back_with_the_way_to_correct_it(
    client: TestClient, auth: Headers, locale: Locale
) -> None:
    saved = _saved(client, auth, {"statement": STATEMENT_EXAMPLE})
    page = client.get(f"/s/{saved['token']}", params={"lang": locale.value})
    assert page.status_code == 200
    section = _section(page.text)
    minors = dict(re.findall(r'data-column="([a-z_]+)" data-minor="(\d+)"', section))
    assert minors == {
        "income_total": "650000",
        "expenditure_total": "440000",
        "priority_debts_total": "20000",
        "disposable": "190000",
    }
    row = r'<dt>([^<]+)(?:<small[^>]*>[^<]*</small>)?</dt><dd data-minor="(\d+)"'
    rows = re.findall(row, section)
    assert rows == [
        (say(locale, "Salary"), "600000"),
        (say(locale, "Benefits"), "50000"),
        (say(locale, "Home and contents"), "250000"),  # the SFS's order of groups
        (say(locale, "Travel"), "40000"),
        (say(locale, "Food and housekeeping"), "150000"),
        (say(locale, "Gas, electricity and water"), "20000"),
    ]
    assert section.count('class="flag"') == 1  # travel, above its guideline
    expected = {
        Locale.EN: (
            "This plan asks at most CN¥1,428.58 a month of CN¥1,900.00 disposable (75%).",
            "A plan may ask at most 80% of it: CN¥1,520.00 a month.",
            "1 adult, 1 child",
        ),
        Locale.ZH_CN: (
            "本计划每月最多还款 ¥1,428.58，占每月可支配收入 ¥1,900.00 的 75%。",
            "还款计划最多可占其中的 80%：每月 ¥1,520.00。",
            "1 名成人，1 名子女",
        ),
    }[locale]
    for sentence in expected:
        assert sentence in section
    change = f'href="/s/{saved["token"]}/change?lang={locale.value}"'
    assert change in section
    # the change page recalls what the statement left, where a figure is put right
    form = client.get(f"/s/{saved['token']}/change", params={"lang": locale.value})
    assert form.status_code == 200
    left = {
        Locale.EN: "You told us that CN¥1,900.00 is left each month",
        Locale.ZH_CN: "扣除必要开支和优先债务后每月剩余 ¥1,900.00",
    }[locale]
    assert left in form.text and 'class="statement" data-minor="190000"' in form.text


def test_an_offer_made_from_a_payment_alone_has_no_statement(
    client: TestClient, auth: Headers
) -> None:
    saved = _saved(client, auth, {"payment": "1520.00"})
    assert saved["statement"] is None
    page = client.get(f"/s/{saved['token']}", params={"lang": "en"})
    assert page.status_code == 200 and 'id="statement"' not in page.text
    form = client.get(f"/s/{saved['token']}/change", params={"lang": "en"})
    assert form.status_code == 200 and 'class="statement"' not in form.text


def test_golden_statement_pages() -> None:
    # The README's worked offer shown with the statement above, in both languages: the section
    # and its place on the page, byte for byte (REPAY_UPDATE_GOLDEN=1 rewrites them).
    for locale in Locale:
        document = _document(readme_offer(), locale)
        page = render_offer_page(document, view(locale, statement=STORED), locale)
        golden(f"offer_statement.{locale.value}.html", page.encode())
