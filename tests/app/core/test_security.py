"""What a share link and the service's records give away: nothing beyond what they must.

- a link's token is a 192-bit secret, stored only as its SHA-256 and a sealed (AES-GCM) copy;
- the logs of the app, uvicorn and SQLAlchemy, even at DEBUG, carry no debtor's name and no
  token;
- a collector's key sees only its own offers and plans (others answer 404); finance sees all;
- the debtor's JSON view names no one; unknown, revoked and expired links answer alike.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text, update

from app.core.db import get_engine, get_sessionmaker, utcnow
from app.core.keys import create_key
from app.core.masking import mask_name
from app.core.settings import get_settings
from app.links.models import SavedOffer
from tests.app.links.test_sharing import SMALL, debt, offer_status, pay, save, saved, token_of
from tests.app.live import server_thread

Headers = dict[str, dict[str, str]]
NAMES = ("张小明", "John Smith")
URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def every_stored_value() -> str:
    """Every value of every row of every table, as one text."""
    engine = get_engine()
    values = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                values.extend(str(v) for v in row)
    return "\n".join(values)


# ---- the token -----------------------------------------------------------------------------


def test_tokens_are_long_random_and_never_repeat(client: TestClient, auth: Headers) -> None:
    tokens = [token_of(saved(client, auth["collector"], debt_ref=f"CARD-{n}")) for n in range(40)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        # at least 128 bits: 22 base64url characters; these are 32 (24 random bytes)
        assert len(token) >= 22 and URL_SAFE.match(token)
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    # 40 x 32 characters drawn uniformly from 64 symbols: every symbol turns up, and the
    # observed entropy is close to log2(64) = 6 bits a character (a fixed or low-entropy
    # generator, a counter or a timestamp, would be far below)
    characters = Counter("".join(tokens))
    entropy = -sum(n / 1280 * math.log2(n / 1280) for n in characters.values())
    assert len(characters) >= 60 and entropy > 5.8
    assert entropy * min(len(t) for t in tokens) >= 128


def test_the_token_is_stored_only_as_its_hash_and_sealed(client: TestClient, auth: Headers) -> None:
    offer = saved(client, auth["collector"])
    token = token_of(offer)
    client.get(f"/s/{token}.json")
    plan = client.post(f"/s/{token}/accept").json()["plan_id"]
    assert pay(client, auth["collector"], plan, "10.00", "p-1").status_code == 201
    with get_sessionmaker()() as session:
        row = session.get(SavedOffer, offer["id"])
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        sealed = base64.urlsafe_b64decode(row.token_sealed)
        # 12-byte nonce + ciphertext as long as the token + 16-byte tag; opens only with the
        # service's secret key, and only for the "share-link" purpose
        assert len(sealed) == 12 + len(token) + 16 and token.encode() not in sealed
        key = AESGCM(get_settings().secret_key)
        assert key.decrypt(sealed[:12], sealed[12:], b"share-link") == token.encode()
        with pytest.raises(InvalidTag):
            key.decrypt(sealed[:12], sealed[12:], b"something-else")
    # nowhere in the database in clear: not in the offer, the plan, a payment, the audit trail
    assert token not in every_stored_value()
    # the link is found by its hash only
    with get_sessionmaker()() as session:
        assert session.scalar(select(SavedOffer).where(SavedOffer.token_hash == token)) is None


# ---- logs ----------------------------------------------------------------------------------

WATCHED = ("app", "uvicorn", "sqlalchemy")


def test_no_name_and_no_token_in_any_log(
    migrated_url: str, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    for name in (*WATCHED, "uvicorn.access", "uvicorn.error", "sqlalchemy.engine"):
        caplog.set_level(logging.DEBUG, logger=name)
    secrets: list[str] = list(NAMES)
    headers = {"Authorization": f"Bearer {keys['collector']}"}
    with server_thread() as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        for n, name in enumerate(NAMES):
            body = {"debt_ref": f"CARD-{n}", "debtor": {"name": name}, "plan": SMALL}
            made = http.post("/v1/offers", json=body, headers=headers)
            assert made.status_code == 201, made.text
            token = token_of(made.json())
            secrets.append(token)
            for suffix in ("", ".json", ".ics", ".csv", "?lang=zh-CN"):
                assert http.get(f"/s/{token}{suffix}").status_code == 200, suffix
            # a party's marker names who the link went to: hidden like the token
            marker = f"Mk{n}" + "x" * 19
            secrets.append(marker)
            assert http.get(f"/s/{token}?p={marker}&lang=en").status_code == 404
            # the page shows the name masked, and only that
            page = http.get(f"/s/{token}").text
            assert mask_name(name) in page and name not in page
            accepted = http.post(f"/s/{token}/accept")
            assert accepted.status_code == 201
            assert http.post(f"/s/{token}/accept").status_code == 409
            plan_id = accepted.json()["plan_id"]
            assert http.get(f"/v1/plans/{plan_id}", headers=headers).status_code == 200
    records = [r for r in caplog.records if r.name.split(".")[0] in WATCHED]
    # the server was heard: requests, SQL, rows (so a silent logger cannot pass this test)
    assert any(r.name == "uvicorn.access" for r in records)
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in records
    )
    assert "/s/" in logged  # link requests are logged, their tokens are not
    for secret in secrets:
        assert secret not in logged, secret


# ---- who may see what ------------------------------------------------------------------------


@pytest.fixture
def other_collector(client: TestClient) -> dict[str, str]:
    with get_sessionmaker()() as session:
        key, _ = create_key(session, "collector", "another agent", team="elsewhere")
        session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_a_collector_sees_only_its_teams_offers_and_plans(
    client: TestClient, auth: Headers, other_collector: dict[str, str]
) -> None:
    offer = saved(client, auth["collector"])
    revocable = saved(client, auth["collector"], debt_ref="CARD-2")
    plan_id = client.post(f"/s/{token_of(offer)}/accept").json()["plan_id"]
    body = {"amount": "10.00", "date": offer["created_at"][:10], "reference": "WX-1"}
    foreign = [
        ("get", f"/v1/offers/{offer['id']}", None),
        ("post", f"/v1/offers/{revocable['id']}/revoke", None),
        ("get", f"/v1/plans/{plan_id}", None),
        ("get", f"/v1/plans/{plan_id}/payoff", None),
        ("post", f"/v1/plans/{plan_id}/payments", body),
        ("get", f"/v1/audit?offer_id={offer['id']}", None),
        ("get", f"/v1/audit?plan_id={plan_id}", None),
    ]
    for method, path, json in foreign:
        headers = {**other_collector, "Idempotency-Key": "k-1"}
        theirs = client.request(method, path, json=json, headers=headers)
        assert theirs.status_code == 404, (path, theirs.text)
        # the same answer as for an offer or plan that does not exist at all
        missing = path.replace(offer["id"], "0" * 32).replace(revocable["id"], "0" * 32)
        missing = missing.replace(plan_id, "0" * 32)
        none = client.request(method, missing, json=json, headers=headers)
        assert none.status_code == 404
        assert scrub(theirs.json(), path) == scrub(none.json(), missing)
    # nothing happened on their behalf
    assert offer_status(client, auth["collector"], revocable["id"]) == "offered"
    # finance (a payment processor's integration) sees and pays any plan
    for method, path, json in foreign:
        if "revoke" in path:
            continue
        headers = {**auth["finance"], "Idempotency-Key": "k-2"}
        mine = client.request(method, path, json=json, headers=headers)
        assert mine.status_code in (200, 201), (path, mine.text)


def scrub(problem: dict[str, Any], path: str) -> str:
    """A problem document, with the ids the path names replaced by a placeholder."""
    scrubbed = str(problem)
    for found in re.findall(r"[0-9a-f]{32}", path):
        scrubbed = scrubbed.replace(found, "<id>")
    return scrubbed


def test_the_debtors_json_view_names_no_one(client: TestClient, auth: Headers) -> None:
    for n, name in enumerate(NAMES):
        offer = saved(client, auth["collector"], name=name, debt_ref=f"CARD-{n}")
        view = client.get(f"/s/{token_of(offer)}.json")
        assert view.status_code == 200
        assert name not in view.text and mask_name(name) not in view.text
        assert "debtor" not in view.text and "name" not in view.json()
        # nor does the collector's view of the saved offer: the name is kept for the page only
        mine = client.get(f"/v1/offers/{offer['id']}", headers=auth["collector"]).text
        assert name not in mine and mask_name(name) not in mine


def test_every_link_route_answers_unknown_revoked_and_expired_alike(
    client: TestClient, auth: Headers
) -> None:
    revoked, expired = (saved(client, auth["collector"], debt_ref=r) for r in ("A-1", "A-2"))
    client.post(f"/v1/offers/{revoked['id']}/revoke", headers=auth["collector"])
    with get_sessionmaker()() as session:
        session.execute(
            update(SavedOffer)
            .where(SavedOffer.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(days=1))
        )
        session.commit()
    unknown = "x" * 32
    for method, suffix in [
        ("get", ".json"),
        ("post", "/accept"),
        ("get", ""),
        ("get", "?lang=en"),
        ("get", ".ics"),
        ("get", ".csv"),
    ]:
        answers = [
            client.request(method, f"/s/{token}{suffix}")
            for token in (token_of(revoked), token_of(expired), unknown)
        ]
        assert {r.status_code for r in answers} == {404}
        assert len({(r.content, tuple(sorted(r.headers.items()))) for r in answers}) == 1, suffix
    # saving for a debt whose earlier offer was revoked is as good as for a new one
    again = save(client, auth["collector"], debt_ref="A-1", plan={**SMALL, "debt": debt()})
    assert again.status_code == 201
