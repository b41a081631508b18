"""The debtor's change pages in a real browser: Debian's chromium driven by Playwright.

On the live server of ``tests/app/links/test_browser.py`` (uvicorn on a migrated SQLite file), the
debtor of a part-paid plan opens the change page on a 360 × 740 phone viewport, types a
payment the form refuses and then one it takes, reads the answer's schedule (it must equal
the API's numbers) and asks for the plan. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

from datetime import date

import httpx
from playwright.sync_api import sync_playwright

from tests.app.links.test_browser import ARTIFACTS, CHROMIUM, FLAGS, server  # noqa: F401 (fixture)


def _part_paid_plan(base: str, key: str) -> str:
    """3,000.00 in 3 x 1,000.00 (interest frozen), accepted, 1,000.00 paid: its link."""
    auth = {"Authorization": f"Bearer {key}"}
    today = date.today().isoformat()
    debt = {
        "currency": "CNY",
        "principal": "3000.00",
        "nominal_annual_rate": "0.18",
        "as_of": today,
        "days_past_due": 95,
    }
    body = {
        "debt_ref": "CARD-CHANGE-1",
        "debtor": {"name": "John Smith"},
        "locale": "en",
        "plan": {"kind": "instalment", "debt": debt, "term": 3},
    }
    saved = httpx.post(f"{base}/v1/offers", json=body, headers=auth, timeout=10)
    assert saved.status_code == 201, saved.text
    link = str(saved.json()["link"])
    plan = httpx.post(f"{link}/accept", timeout=10)
    assert plan.status_code == 201, plan.text
    paid = httpx.post(
        f"{base}/v1/plans/{plan.json()['plan_id']}/payments",
        json={"amount": "1000.00", "date": today, "reference": "WX-1"},
        headers={**auth, "Idempotency-Key": "browser-pay-1"},
        timeout=10,
    )
    assert paid.status_code == 201, paid.text
    return link


def test_a_debtor_proposes_and_asks_for_a_plan_on_a_phone(server: tuple[str, str]) -> None:  # noqa: F811
    base, key = server
    link = _part_paid_plan(base, key)
    expected = httpx.post(f"{link}/change", json={"payment": "500.00"}, timeout=10).json()
    lines = expected["result"]["offer"]["schedule"]["lines"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(f"{link}/change?lang=en")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        owed = page.locator('[data-column="owed_total"]')
        assert owed.get_attribute("data-minor") == "200000"
        # a payment with too many decimals: the form again, the message by the field
        page.get_by_label("How much can you pay each month?").fill("500.001")
        page.get_by_role("button", name="See which plans fit").click()
        page.wait_for_load_state()
        assert page.locator("#payment").get_attribute("aria-invalid") == "true"
        assert "at most 2 decimal places" in page.locator("#payment-error").inner_text()
        page.screenshot(path=str(ARTIFACTS / "change-error-en.png"), full_page=True)
        # 500.00 a month: the answer, line by line, as the API computes it
        page.get_by_label("How much can you pay each month?").fill("500.00")
        page.get_by_role("button", name="See which plans fit").click()
        page.wait_for_load_state()
        assert "Your proposal fits our rules." in page.locator("#result").inner_text()
        shown = page.eval_on_selector_all(
            "article.plan tbody tr[data-number]",
            """rows => rows.map(row => Object.fromEntries(
                Array.from(row.querySelectorAll('td[data-column]'))
                    .map(c => [c.dataset.column, c.dataset.minor])))""",
        )
        assert shown == [
            {
                c: str(int(line[c].replace(".", "")))
                for c in ("payment", "principal", "interest", "fees", "closing_balance")
            }
            for line in lines
        ]
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(ARTIFACTS / "change-answer-en.png"), full_page=True)
        page.get_by_role("button", name="Ask for this plan").click()
        page.wait_for_load_state()
        assert "We have your request" in page.locator("#request").inner_text()
        page.get_by_role("link", name="中文").click()
        page.wait_for_load_state()
        assert "我们已收到您的申请" in page.locator("#request").inner_text()
        assert "每月还款¥500.00，共4个月" in page.locator("article.plan .summary").inner_text()
        page.screenshot(path=str(ARTIFACTS / "change-sent-zh-CN.png"), full_page=True)
        browser.close()
    listed = httpx.get(
        f"{base}/v1/change-requests",
        params={"debt_ref": "CARD-CHANGE-1"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()["requests"]
    assert [(r["status"], r["offer"]["terms"]["instalments"]) for r in listed] == [("open", 4)]
