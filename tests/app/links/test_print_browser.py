"""The plan's page and its settlement certificate on paper: Debian's chromium, driven by
Playwright, prints them to A4 PDFs (``emulate_media("print")``, ``page.pdf(format="A4")``),
and pypdf reads the text back.

A live service (uvicorn on a migrated SQLite file) serves a 12-instalment plan, accepted with
one payment made, and a 3-instalment plan paid in full in two payments. Each prints on one
page in both languages, with its amounts, dates and references; the certificate with its
number and the sentence that nothing more is owed.

Debian's chromium brings no CJK font (``fonts-noto-cjk`` is not one of its dependencies):
without one the Chinese characters print as empty boxes that pypdf reads back as nothing, so
in Chinese only the Latin letters, digits and ``¥`` are compared (``2026年12月15日`` as
``20261215``), and the Chinese sentences are checked on the printed page's DOM instead. On a
machine with a CJK font the Chinese sentences are read back from the PDF too: `make test`
installs Debian's ``fonts-noto-cjk`` (the Makefile's ``chromium`` target), and under CI a
missing CJK font fails the run rather than checking less. The PDFs are
saved under artifacts/browser/ (kept by CI as test artifacts).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from app.core.i18n import Words
from app.links.certificate import certificate_number
from app.offers.summaries import day, money
from plans.money import to_minor
from schemas.common import Locale
from tests.app.links.test_sharing import SMALL, debt
from tests.app.live import server_process

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "browser"
NOTHING_OWED = "Nothing more is owed on this debt under this plan."
# 10,000.00 at 12 % a year in 12 monthly instalments, nothing in arrears
TWELVE = {
    "kind": "instalment",
    "debt": debt(principal="10000.00", interest="0", fees="0", nominal_annual_rate="0.12"),
    "term": 12,
}

if not os.path.exists(CHROMIUM):  # pragma: no cover - depends on the machine
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is missing: `make test` installs it with apt", pytrace=False)
    pytest.skip("chromium is not installed (make test installs it)", allow_module_level=True)

from playwright.sync_api import Browser, sync_playwright  # noqa: E402


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:  # pragma: no cover - fontconfig comes with chromium
        return False
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


CJK_FONT = _has_cjk_font()
if not CJK_FONT and os.environ.get("CI", "").lower() == "true":  # pragma: no cover
    pytest.fail("no CJK font: `make test` installs fonts-noto-cjk with apt", pytrace=False)


@dataclass(frozen=True)
class Live:
    base: str
    accepted: dict[str, Any]  # the 12-instalment plan: its offer, token and one payment
    completed: dict[str, Any]  # the 3-instalment plan paid in full: its offer, token, plan id


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("print")
    database_url = f"sqlite:///{root / 'repay.db'}"
    setup = (
        "from app.core.migrate import upgrade; upgrade()\n"
        "from app.core.db import get_sessionmaker\n"
        "from app.core.keys import create_key\n"
        "s = get_sessionmaker()(); k, _ = create_key(s, 'collector', 'print'); s.commit()\n"
        "print(k)\n"
    )
    env = {**os.environ, "DATABASE_URL": database_url}
    key = subprocess.run(
        [sys.executable, "-c", setup], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    today = date.today().isoformat()
    with server_process(database_url, root / "server.log") as base:

        def accepted_plan(ref: str, request: dict[str, Any]) -> dict[str, Any]:
            body = {"debt_ref": ref, "debtor": {"name": "John Smith"}, "locale": "en"}
            saved = httpx.post(f"{base}/v1/offers", json={**body, "plan": request}, headers=headers)
            assert saved.status_code == 201, saved.text
            token = saved.json()["link"].rsplit("/", 1)[1]
            accepted = httpx.post(f"{base}/s/{token}/accept")
            assert accepted.status_code == 201, accepted.text
            return {
                "offer": saved.json()["offer"],
                "token": token,
                "plan_id": accepted.json()["plan_id"],
            }

        def pay(plan: dict[str, Any], amount: str, reference: str) -> None:
            paid = httpx.post(
                f"{base}/v1/plans/{plan['plan_id']}/payments",
                json={"amount": amount, "date": today, "reference": reference},
                headers={**headers, "Idempotency-Key": reference},
            )
            assert paid.status_code == 201, paid.text

        accepted = accepted_plan("CARD-PRINT-12", TWELVE)
        pay(accepted, accepted["offer"]["schedule"]["lines"][0]["payment"], "BANK-PRINT-0001")
        completed = accepted_plan("CARD-PRINT-3", SMALL)
        pay(completed, "1000.00", "WX-PRINT-1")
        pay(completed, "2000.00", "WX-PRINT-2")
        yield Live(base, accepted, completed)


def _pdf(browser: Browser, url: str, name: str) -> tuple[list[str], str]:
    """The address printed to A4: the text of each page, and the printed page's DOM text."""
    page = browser.new_page()
    try:
        answer = page.goto(url)
        assert answer is not None and answer.status == 200, url
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
        shown = page.inner_text("body")
    finally:
        page.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages], shown


def _squashed(text: str) -> str:
    # ligatures (ﬁ) as letters, and no spaces or line breaks: a sentence may wrap anywhere
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _legible(text: str) -> str:
    """What survives printing without a CJK font: Latin letters, digits, punctuation, ¥ (not
    the full-width punctuation of Chinese, which is printed as empty boxes too)."""
    return re.sub(r"[^\x21-\x7e¥]", "", text)


def _assert_printed(pages: list[str], shown: str, expected: list[str], locale: Locale) -> None:
    text = "".join(pages)
    for item in expected:
        if locale is Locale.EN or CJK_FONT:
            assert _squashed(item) in _squashed(text), item
        else:
            assert _legible(item) in _legible(text), item
            assert _squashed(item) in _squashed(shown), item


@pytest.mark.parametrize("locale", list(Locale))
def test_an_accepted_12_line_plan_prints_on_one_a4_page(live: Live, locale: Locale) -> None:
    offer, token = live.accepted["offer"], live.accepted["token"]
    lines = offer["schedule"]["lines"]
    assert len(lines) == 12
    t = Words(locale)

    def m(amount: str) -> str:
        return money(to_minor(amount, "CNY"), "CNY", locale)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages, shown = _pdf(
            browser, f"{live.base}/s/{token}?lang={locale.value}", f"plan-{locale.value}"
        )
        browser.close()
    assert len(pages) == 1, [len(p) for p in pages]
    today = day(date.today(), locale)
    expected = [
        t.gettext("Accepted on %(date)s.", date=today),
        m(offer["metrics"]["total_paid"]),
        *(m(x["payment"]) for x in (lines[0], lines[-1])),
        *(day(date.fromisoformat(x["payment_date"]), locale) for x in (lines[0], lines[-1])),
        m(lines[0]["closing_balance"]),
        "BANK-PRINT-0001",
    ]
    _assert_printed(pages, shown, expected, locale)
    # nothing to press or follow on paper: no language switch, no downloads, no forms
    for screen_only in ("English", ".ics", ".csv"):
        assert screen_only not in pages[0], screen_only
    assert _squashed(t.gettext("Stop contacting me")) not in _squashed(pages[0])


@pytest.mark.parametrize("locale", list(Locale))
def test_a_completed_plans_certificate_prints_on_one_a4_page(live: Live, locale: Locale) -> None:
    token, plan_id = live.completed["token"], live.completed["plan_id"]
    t = Words(locale)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages, shown = _pdf(
            browser,
            f"{live.base}/s/{token}/certificate?lang={locale.value}",
            f"certificate-{locale.value}",
        )
        browser.close()
    assert len(pages) == 1
    today = day(date.today(), locale)
    total = money(300_000, "CNY", locale)
    expected = [
        t.gettext("Settlement certificate"),
        certificate_number(plan_id),
        "CARD-PRINT-3",
        "John Smith",
        money(100_000, "CNY", locale),
        money(200_000, "CNY", locale),
        "WX-PRINT-1",
        "WX-PRINT-2",
        t.gettext(
            "%(creditor)s confirms that the repayment plan for debt %(ref)s, accepted on"
            " %(accepted)s, was paid in full on %(completed)s: %(paid)s in all.",
            creditor="default",
            ref="CARD-PRINT-3",
            accepted=today,
            completed=today,
            paid=total,
        ),
        t.gettext(NOTHING_OWED),
    ]
    _assert_printed(pages, shown, expected, locale)
    # the language switch and the way back to the plan are not printed
    assert "English" not in pages[0]
    if locale is Locale.EN:
        assert "Your repayment plan" not in pages[0]
