"""Another site cannot frame the debtor's page (clickjacking the Accept button): Debian's
chromium, driven by Playwright, obeys the headers of ``app.links.web.PAGE_HEADERS``.

A live service (uvicorn on a migrated SQLite file) serves a saved offer; a second server, on
another port (another origin), serves a page that frames it. The frame stays empty and the
browser reports the ``frame-ancestors`` refusal, while the same link opened top-level shows
the page and its Accept button. A frame of a route outside ``/s/`` does load in that same
page: the harness can tell a loaded frame from a refused one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.app.links.test_sharing import SMALL
from tests.app.live import server_process

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not os.path.exists(CHROMIUM):  # pragma: no cover - depends on the machine
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is missing: `make test` installs it with apt", pytrace=False)
    pytest.skip("chromium is not installed (make test installs it)", allow_module_level=True)

from playwright.sync_api import ConsoleMessage, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The live service on a fresh database, and a saved offer's link on it."""
    root = tmp_path_factory.mktemp("frame")
    database_url = f"sqlite:///{root / 'repay.db'}"
    setup = (
        "from app.core.migrate import upgrade; upgrade()\n"
        "from app.core.db import get_sessionmaker\n"
        "from app.core.keys import create_key\n"
        "s = get_sessionmaker()(); k, _ = create_key(s, 'collector', 'frame'); s.commit()\n"
        "print(k)\n"
    )
    env = {**os.environ, "DATABASE_URL": database_url}
    key = subprocess.run(
        [sys.executable, "-c", setup], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    with server_process(database_url, root / "server.log") as base:
        body = {
            "debt_ref": "CARD-FRAME-1",
            "debtor": {"name": "John Smith"},
            "locale": "en",
            "plan": SMALL,
        }
        saved = httpx.post(
            f"{base}/v1/offers", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        assert saved.status_code == 201, saved.text
        token = str(saved.json()["link"]).rsplit("/", 1)[1]
        yield base, f"{base}/s/{token}?lang=en"


@pytest.fixture
def other_site(service: tuple[str, str]) -> Iterator[str]:
    """Another origin (a port of its own) whose page frames the link and, as a control, a
    route of the service that is not a page behind a link."""
    base, link = service
    html = (
        "<!doctype html><title>another site</title>"
        f'<iframe name="link" src="{link}" width="400" height="300"></iframe>'
        f'<iframe name="control" src="{base}/healthz" width="400" height="100"></iframe>'
    ).encode()

    class Framing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Framing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_another_site_cannot_frame_the_page(service: tuple[str, str], other_site: str) -> None:
    _, link = service
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        console: list[ConsoleMessage] = []
        page.on("console", lambda message: console.append(message))
        answered: list[int] = []
        page.on("response", lambda r: answered.append(r.status) if "/s/" in r.url else None)
        page.goto(other_site, wait_until="load")
        framed = page.frame(name="link")
        control = page.frame(name="control")
        assert framed is not None and control is not None
        # the control loads, inside the same page: a frame that loads is visible as such
        assert control.url.endswith("/healthz")
        assert control.inner_text("body") == '{"status":"ok"}'
        # the link's page was sent (200) and refused by the browser: no page, no button
        assert answered == [200]
        assert framed.url != link, framed.url  # Chromium's error page instead
        assert framed.get_by_role("button").count() == 0
        refusals = [m.text for m in console if "frame-ancestors" in m.text]
        assert refusals and "'none'" in refusals[0], [m.text for m in console]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "framed-by-another-site.png"))

        # the same link, opened top-level, is the debtor's page with its Accept button
        top = browser.new_page()
        response = top.goto(link)
        assert response is not None and response.status == 200
        assert top.get_by_role("button", name="Accept this plan").is_visible()
        browser.close()
