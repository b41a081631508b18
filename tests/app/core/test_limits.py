"""The request body's limit (``app.core.limits``): 1 MiB, a 413 problem document beyond it,
before the body is parsed, whether its size is declared (``Content-Length``) or streamed in
chunks; nothing is stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import Message, Receive, Scope, Send

from app.core.db import get_sessionmaker
from app.core.limits import MAX_BODY_BYTES, BodyLimit
from app.links.models import SavedOffer
from app.main import create_app
from tests.app.links.test_sharing import SMALL

OFFER = {"debt_ref": "BIG-1", "debtor": {"name": "John Smith"}, "locale": "en", "plan": SMALL}


def padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON of exactly ``size`` bytes: trailing whitespace, which JSON allows."""
    text = json.dumps(body).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def chunks(content: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """``content`` as a generator: httpx sends it chunked, with no Content-Length."""
    for start in range(0, len(content), size):
        yield content[start : start + size]


def saved_offers() -> int:
    with get_sessionmaker()() as session:
        return int(session.scalar(select(func.count()).select_from(SavedOffer)) or 0)


def assert_too_large(response: Any) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/too-large")
    assert f"{MAX_BODY_BYTES} bytes" in problem["detail"]


def test_a_body_of_exactly_the_limit_is_read(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    content = padded(OFFER, MAX_BODY_BYTES)
    headers = {**auth["collector"], "content-type": "application/json"}
    response = client.post("/v1/offers", content=content, headers=headers)
    assert response.status_code == 201, response.text


def test_a_declared_body_over_the_limit_is_a_413_and_nothing_is_stored(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    content = padded(OFFER, MAX_BODY_BYTES + 1)
    headers = {**auth["collector"], "content-type": "application/json"}
    response = client.post("/v1/offers", content=content, headers=headers)
    assert_too_large(response)
    assert saved_offers() == 0


def test_a_chunked_body_over_the_limit_is_a_413_and_nothing_is_stored(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    headers = {**auth["collector"], "content-type": "application/json"}
    response = client.post(
        "/v1/offers", content=chunks(padded(OFFER, MAX_BODY_BYTES + 1)), headers=headers
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_too_large(response)
    assert saved_offers() == 0


def test_a_chunked_body_within_the_limit_is_read(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    headers = {**auth["collector"], "content-type": "application/json"}
    content = chunks(padded(OFFER, MAX_BODY_BYTES))
    response = client.post("/v1/offers", content=content, headers=headers)
    assert response.status_code == 201, response.text


def test_the_limit_holds_before_authentication_too(client: TestClient) -> None:
    content = padded(OFFER, MAX_BODY_BYTES + 1)
    response = client.post("/v1/offers", content=content)
    assert_too_large(response)


def test_a_simulation_may_be_larger() -> None:
    # 10,000 debts do not fit in 1 MiB (schemas.simulations.MAX_BODY_BYTES): a 2 MiB body
    # gets past the limit to the key check
    content = padded({"as_of": "2026-11-25", "debts": []}, 2 * MAX_BODY_BYTES)
    with TestClient(create_app()) as client:
        response = client.post(
            "/v1/simulations", content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 401, response.text


class Recorder:
    """An ASGI app that reads the whole body, then answers 200; it records whether it ran."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        while (await receive()).get("more_body", False):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def run(app: Any, headers: list[tuple[bytes, bytes]], parts: list[bytes]) -> list[Message]:
    scope = {"type": "http", "method": "POST", "path": "/v1/offers", "headers": headers}
    incoming = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_declared_size_over_the_limit_never_reaches_the_application() -> None:
    inner = Recorder()
    sent = run(BodyLimit(inner, limit=10), [(b"content-length", b"11")], [b"x" * 11])
    assert not inner.called
    assert sent[0]["status"] == 413


def test_a_streamed_body_is_cut_at_the_first_byte_past_the_limit() -> None:
    inner = Recorder()
    sent = run(BodyLimit(inner, limit=10), [], [b"x" * 6, b"x" * 5, b"x" * 100])
    assert inner.called
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]


def test_every_operation_with_a_body_documents_the_413() -> None:
    document = create_app().openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)
                assert "bytes" in operation["responses"]["413"]["description"]
