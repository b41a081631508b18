"""The safeguards on every answer under ``/s/`` (``app.links.web.Safeguards``).

Every ``/s/`` operation of the OpenAPI document is asked with a live token (its 2xx and, from a
browser's form, its 303), an unknown one (the links' 404) and a malformed one (a path no route
takes: the 404 of ``app.core.routing``); each answer carries the whole of :data:`EXPECTED`.
The operations come from the document, so a new route under ``/s/`` is checked without being
listed here. Whether a browser obeys them is ``tests/app/links/test_frame_browser.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.links.test_sharing import SMALL

# Written out, not imported: the test pins the values, the code must match them.
EXPECTED = {
    "content-security-policy": (
        "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none';"
        " frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "permissions-policy": (
        "accelerometer=(), browsing-topics=(), camera=(), geolocation=(), gyroscope=(),"
        " interest-cohort=(), magnetometer=(), microphone=(), payment=(), usb=()"
    ),
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-robots-tag": "noindex",
}
UNKNOWN = "A" * 32  # the pattern's, but no link's
MALFORMED = "short"  # under the 16 characters a token has: no route's path, a 404
FORM = {"content-type": "application/x-www-form-urlencoded"}
# What each form or JSON client sends (the pages' own fields); absent: no body.
BODIES: dict[str, dict[str, str]] = {
    "/s/{token}/preferences": {"change": "opt_out", "channel": "sms"},
    "/s/{token}/change": {"payment": "500.00", "start": "", "lump_sum": ""},
    "/s/{token}/change/requests": {
        "payment": "500.00",
        "start": "",
        "lump_sum": "",
        "choice": "as_proposed",
    },
}


def safeguarded(answer: httpx.Response) -> bool:
    return all(answer.headers.get(name) == value for name, value in EXPECTED.items()) and all(
        len(answer.headers.get_list(name)) == 1 for name in EXPECTED
    )


def _live_link(client: TestClient, auth: dict[str, dict[str, str]]) -> str:
    """A saved offer's token: 3,000.00 in three instalments, accepted, 1,000.00 paid."""
    body = {"debt_ref": "CARD-1", "debtor": {"name": "John Smith"}, "locale": "en", "plan": SMALL}
    saved = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert saved.status_code == 201, saved.text
    token = str(saved.json()["link"]).rsplit("/", 1)[1]
    accepted = client.post(f"/s/{token}/accept")
    assert accepted.status_code == 201, accepted.text
    payment = {"amount": "1000.00", "date": date.today().isoformat(), "reference": "pay-1"}
    paid = client.post(
        f"/v1/plans/{accepted.json()['plan_id']}/payments",
        json=payment,
        headers={**auth["collector"], "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    return token


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    found = [(m.upper(), p) for p, ops in paths.items() if p.startswith("/s/") for m in ops]
    assert len(found) >= 10  # the page, its three downloads, accept, preferences, changes
    return found


def _ask(client: TestClient, method: str, template: str, token: str, request_id: str) -> list[Any]:
    url = template.replace("{token}", token).replace("{request_id}", request_id)
    if method == "GET":
        return [client.get(url, follow_redirects=False)]
    fields = BODIES.get(template, {})
    return [
        client.post(url, json=fields or None, follow_redirects=False),
        client.post(url, data=fields, headers=FORM, follow_redirects=False),
    ]


def test_every_answer_under_s_carries_the_safeguards(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    token = _live_link(client, auth)
    asked = client.post(f"/s/{token}/change/requests", json=BODIES["/s/{token}/change/requests"])
    assert asked.status_code == 201, asked.text
    request_id = str(asked.json()["id"])
    statuses: dict[str, set[int]] = {}
    for method, template in _operations(client.app):  # type: ignore[arg-type]
        for which, link, row in (
            ("live", token, request_id),
            ("unknown", UNKNOWN, "0" * 32),
            ("malformed", MALFORMED, "0" * 32),
        ):
            for answer in _ask(client, method, template, link, row):
                where = f"{method} {template} ({which}): {answer.status_code}"
                assert safeguarded(answer), (where, dict(answer.headers))
                statuses.setdefault(which, set()).add(answer.status_code)
    seen = set().union(*statuses.values())
    assert {200, 201, 303, 404} <= seen, statuses
    assert statuses["unknown"] == {404} and statuses["malformed"] == {404}


def test_downloads_keep_their_own_headers_too(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    token = _live_link(client, auth)
    for suffix in (".ics", ".csv"):
        answer = client.get(f"/s/{token}{suffix}")
        assert answer.status_code == 200 and safeguarded(answer)
        assert answer.headers["content-disposition"] == f'attachment; filename="plan{suffix}"'
    json = client.get(f"/s/{token}.json")
    assert json.status_code == 200 and safeguarded(json)


def test_answers_no_route_gives_carry_them_too() -> None:
    """Under /s/ a 404 of no route, a 405 and a crash's 500 are safeguarded like the rest."""
    app = create_app()

    @app.get("/s/{token}/crash")
    def crash(token: str) -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        for answer, status in (
            (client.get("/s/"), 404),
            (client.get(f"/s/{UNKNOWN}/accept"), 405),
            (client.get(f"/s/{UNKNOWN}/crash"), 500),
        ):
            assert answer.status_code == status and safeguarded(answer), answer
        # the service's own API is not a page: no frame rules asked of it
        assert "x-frame-options" not in client.get("/openapi.json").headers
