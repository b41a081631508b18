"""The debtor's page in a real browser: Debian's chromium driven by Playwright.

A real server (uvicorn on a migrated SQLite file) serves a saved offer; the page opens on a
360 × 740 phone viewport in both languages; its schedule table must equal the API's numbers;
the debtor accepts and sees the accepted state; the calendar download parses; a debtor on
file opts out of text messages from the page and back in. Screenshots are
saved under artifacts/browser/ (kept by CI as test artifacts).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar

from plans.money import to_minor
from schemas.offers import STATEMENT_EXAMPLE

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "browser"
START = (date.today() + timedelta(days=20)).isoformat()
DEBT = {
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "as_of": date.today().isoformat(),  # a first payment may not be before today
    "days_past_due": 95,
}

if not os.path.exists(CHROMIUM):  # pragma: no cover - depends on the machine
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is missing: `make test` installs it with apt", pytrace=False)
    pytest.skip("chromium is not installed (make test installs it)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live server on a fresh database: its base URL and a collector key."""
    root = tmp_path_factory.mktemp("browser")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{root / 'repay.db'}", "REPAY_BASE_URL": base}
    setup = (
        "from app.core.migrate import upgrade; upgrade()\n"
        "from app.core.db import get_sessionmaker\n"
        "from app.core.keys import create_key\n"
        "s = get_sessionmaker()(); k, _ = create_key(s, 'collector', 'browser'); s.commit()\n"
        "print(k)\n"
    )
    key = subprocess.run(
        [sys.executable, "-c", setup], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, key
    finally:
        process.terminate()
        process.wait(timeout=15)


def save_offer(base: str, key: str, name: str, debt_ref: str = "CARD-2024-0012345") -> dict:
    body = {
        "debt_ref": debt_ref,
        "debtor": {"name": name},
        "locale": "zh-CN",
        "negotiate": {
            "debt": DEBT,
            "capacity": {"payment": "1250.00", "earliest_start": START},
        },
        "kind": "deferral",
    }
    response = httpx.post(
        f"{base}/v1/offers", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()


def schedule_from_page(page: Page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#schedule-table tbody tr[data-number]",
        """rows => rows.map(row => {
            const cells = {number: row.dataset.number};
            row.querySelectorAll('[data-minor]').forEach(cell => {
                cells[cell.dataset.column || cell.className] = cell.dataset.minor;
            });
            cells.all = Array.from(row.querySelectorAll('[data-minor]')).map(c => c.dataset.minor);
            return cells;
        })""",
    )


def test_a_debtor_reads_accepts_and_downloads_on_a_phone(server: tuple[str, str]) -> None:
    base, key = server
    saved = save_offer(base, key, "张小明")
    document = saved["offer"]
    currency = document["currency"]
    link = saved["link"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, accept_downloads=True)
        page = context.new_page()
        for lang, button in (("en", "Accept this plan"), ("zh-CN", "接受此还款计划")):
            page.goto(f"{link}?lang={lang}")
            assert page.locator("html").get_attribute("lang") == lang
            # readable on a 360 px phone: nothing wider than the screen but the table's own
            # scrolling wrapper
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            assert "张*明" in page.content() and "张小明" not in page.content()
            rows = schedule_from_page(page)
            lines = document["schedule"]["lines"]
            assert [int(r["number"]) for r in rows] == [x["number"] for x in lines]
            for row, line in zip(rows, lines, strict=True):
                expected = {
                    str(to_minor(line[c], currency))
                    for c in (
                        "payment",
                        "interest",
                        "fees",
                        "principal",
                        "waived",
                        "closing_balance",
                    )
                }
                assert expected <= set(row["all"]), (row, line)
            assert page.get_by_role("button", name=button).is_visible()
            page.screenshot(path=str(ARTIFACTS / f"offer-{lang}.png"), full_page=True)
        page.get_by_role("button", name="接受此还款计划").click()
        page.wait_for_load_state()
        assert "已于" in page.locator("#status").inner_text()
        assert page.get_by_role("button", name="接受此还款计划").count() == 0
        page.goto(f"{link}?lang=en")
        assert "Accepted on" in page.locator("#status").inner_text()
        page.screenshot(path=str(ARTIFACTS / "accepted-en.png"), full_page=True)
        with page.expect_download() as download_info:
            page.locator("a[href*='.ics']").first.click()
        ics_path = download_info.value.path()
        calendar = Calendar.from_ical(Path(ics_path).read_bytes())
        events = [c for c in calendar.walk("VEVENT")]
        paying = [x for x in document["schedule"]["lines"] if x["payment"] != "0.00"]
        assert [e.decoded("DTSTART").isoformat() for e in events] == [
            x["payment_date"] for x in paying
        ]
        assert all(any(a.name == "VALARM" for a in e.subcomponents) for e in events[:1])
        shutil.copy(ics_path, ARTIFACTS / "plan.ics")
        browser.close()
    # the API agrees: the offer is accepted and has a plan
    status = httpx.get(
        f"{base}/v1/offers/{saved['id']}", headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).json()
    assert status["status"] == "accepted" and status["plan_id"]


def test_a_debtor_reads_their_statement_back_on_a_phone(server: tuple[str, str]) -> None:
    # An offer negotiated from the contract's example statement (1,900.00 left each month):
    # its figures on the page, nothing wider than the phone, and the way to put one right.
    base, key = server
    body = {
        "debt_ref": "STATEMENT-PHONE",
        "debtor": {"name": "John Smith"},
        "locale": "en",
        "negotiate": {
            "debt": DEBT,
            "capacity": {"statement": STATEMENT_EXAMPLE, "earliest_start": START},
        },
        "kind": "instalment",
    }
    response = httpx.post(
        f"{base}/v1/offers", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    link = response.json()["link"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        for lang, heading, change in (
            ("en", "Your income and expenditure", "A figure is wrong?"),
            ("zh-CN", "您的收支情况", "数据有误？"),
        ):
            page.goto(f"{link}?lang={lang}")
            section = page.locator("#statement")
            assert section.get_by_role("heading", name=heading).is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            box = section.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 360
            left = section.locator('[data-column="disposable"]')
            assert left.get_attribute("data-minor") == "190000" and left.is_visible()
            section.screenshot(path=str(ARTIFACTS / f"statement-{lang}.png"))
            section.get_by_role("link", name=change).click()
            page.wait_for_load_state()
            assert "/change" in page.url
        browser.close()


def test_a_debtor_reads_a_consolidated_plan_on_a_phone(server: tuple[str, str]) -> None:
    # Two debts as one plan (issue 19): the combined schedule with each line's share per debt,
    # a table per debt and the allocation rule, readable at 360 px in both languages.
    base, key = server
    second = {**DEBT, "principal": "5000.00", "interest": "0", "fees": "0", "days_past_due": 200}
    body = {
        "debtor": {"name": "John Smith"},
        "locale": "en",
        "negotiate": {
            "debts": [{"ref": "card-0412", **DEBT}, {"ref": "loan-2291", **second}],
            "capacity": {"payment": "900.00", "earliest_start": START},
        },
        "kind": "instalment",
    }
    response = httpx.post(
        f"{base}/v1/offers", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    saved = response.json()
    lines = saved["consolidated"]["offer"]["schedule"]["lines"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        for lang, heading in (("en", "Your debts in this plan"), ("zh-CN", "本计划中的各笔债务")):
            page.goto(f"{saved['link']}?lang={lang}")
            section = page.locator("#debts")
            assert section.get_by_role("heading", name=heading).is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            box = section.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 360
            for ref in ("card-0412", "loan-2291"):
                table = section.locator(f'dl[data-debt-ref="{ref}"]')
                assert table.is_visible()
            first = page.locator('#schedule-table tr[data-number="1"]')
            shares = first.locator("small.share")
            assert shares.count() == 2
            owed = sum(to_minor(a["payment"], "CNY") for a in lines[0]["allocations"])
            cell = first.locator('[data-column="payment"]')
            assert int(cell.get_attribute("data-minor") or 0) == owed
            page.screenshot(path=str(ARTIFACTS / f"consolidated-{lang}.png"), full_page=True)
        page.get_by_role("button", name="接受此还款计划").click()
        page.wait_for_load_state()
        assert page.locator("#debts [data-column='status']").count() == 2
        browser.close()


def test_unknown_links_get_the_not_found_page(server: tuple[str, str]) -> None:
    base, _ = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        response = page.goto(f"{base}/s/{'A' * 32}")
        assert response is not None and response.status == 404
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        browser.close()


def test_a_debtor_opts_out_of_text_messages_and_back_in_on_a_phone(
    server: tuple[str, str],
) -> None:
    base, key = server
    headers = {"Authorization": f"Bearer {key}"}
    debtor = {
        "role": "debtor",
        "name": "张小明",
        "channels": {"email": "zhang@example.cn", "sms": "+8613800138000"},
        "time_zone": "Asia/Shanghai",
    }
    made = httpx.post(f"{base}/v1/debts/CARD-OPT-1/parties", json=debtor, headers=headers)
    assert made.status_code == 201, made.text
    link = save_offer(base, key, "张小明", debt_ref="CARD-OPT-1")["link"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(f"{link}?lang=en")
        stop = page.get_by_role("button", name="Stop SMS")
        stop.scroll_into_view_if_needed()
        assert stop.is_visible()
        assert stop.bounding_box()["width"] <= 360  # type: ignore[index]
        stop.click()
        page.wait_for_load_state()
        assert page.url.endswith("#contact")  # back on the page, at the section
        sms = page.locator('#contact li[data-channel="sms"]')
        assert sms.get_attribute("data-opted-out") is not None
        assert "stopped at your request" in sms.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(ARTIFACTS / "opted-out-en.png"), full_page=True)
        party = httpx.get(f"{base}/v1/debts/CARD-OPT-1/parties", headers=headers).json()
        assert party["parties"][0]["opted_out"] == ["sms"]
        page.get_by_role("button", name="Allow SMS again").click()
        page.wait_for_load_state()
        assert page.get_by_role("button", name="Stop SMS").is_visible()
        browser.close()
    party = httpx.get(f"{base}/v1/debts/CARD-OPT-1/parties", headers=headers).json()
    assert party["parties"][0]["opted_out"] == []
