"""The calculations answered directly (``app.core.direct``): the same answer as the route gives,
byte for byte and header for header, whoever asks and whatever they send; the route answers
whatever the middleware cannot (a cold cache, a bad key, a bad body, an error)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.core import direct
from app.core.deps import CollectorKey, DbOnDemand, DbSession
from app.core.limits import MAX_BODY_BYTES
from app.core.models import Role
from app.main import create_app
from app.offers.routes import direct as calculated
from tests.app.core.test_limits import chunks
from tests.app.offers.test_request_path import CALCULATIONS, DEBT

Headers = dict[str, dict[str, str]]
LATER = (date.today() + timedelta(days=40)).isoformat()


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths answered by the middleware itself, in order."""
    seen: list[str] = []
    real = direct._answer

    def counted(operation: direct.Direct, scope: Any, body: bytes) -> Any:
        document = real(operation, scope, body)
        if document is not None:
            seen.append(scope["path"])
        return document

    monkeypatch.setattr(direct, "_answer", counted)
    return seen


@pytest.fixture
def plain(client: TestClient) -> Iterator[TestClient]:
    """The same service on the same database with every calculation through FastAPI."""
    with TestClient(create_app(direct=False)) as test_client:
        yield test_client


def _same(client: TestClient, plain: TestClient, path: str, **request: Any) -> tuple[int, bytes]:
    via_route = plain.post(path, **request)
    for _ in range(2):  # the first may fill a cache; the second is the direct one
        answer = client.post(path, **request)
        assert answer.status_code == via_route.status_code, answer.text
        assert answer.content == via_route.content
        assert answer.headers.items() == via_route.headers.items()
    return answer.status_code, answer.content


@pytest.mark.parametrize(("path", "body"), CALCULATIONS, ids=[p for p, _ in CALCULATIONS])
def test_every_calculation_answers_as_its_route_does(
    client: TestClient,
    plain: TestClient,
    auth: Headers,
    answered: list[str],
    path: str,
    body: dict[str, Any],
) -> None:
    status, _ = _same(client, plain, path, json=body, headers=auth["collector"])
    assert status == 200
    assert answered == [path, path]


CONSOLIDATED = {
    "debts": [
        {**DEBT, "ref": "card"},
        {**DEBT, "principal": "4000.00", "ref": "loan"},
    ],
    "capacity": {"payment": "1500.00"},
    "locale": "zh-CN",
}
REFUSED: list[tuple[str, dict[str, Any]]] = [
    # a rule of the engine broken: the route's 422 naming the field and the rule
    ("currency", {"debt": {**DEBT, "currency": "XXY"}, "capacity": {"payment": "900.00"}}),
    (
        "first payment",
        {"debt": DEBT, "capacity": {"payment": "900", "earliest_start": "2001-01-01"}},
    ),
    # the contract's validation: the route's 422
    ("amount", {"debt": {**DEBT, "principal": "10.001"}, "capacity": {"payment": "900.00"}}),
    ("missing", {"debt": DEBT}),
    ("unknown field", {"debt": DEBT, "capacity": {"payment": "900.00"}, "colour": "red"}),
    ("not an object", [1, 2]),
]


@pytest.mark.parametrize(("name", "body"), REFUSED, ids=[n for n, _ in REFUSED])
def test_what_is_refused_is_refused_by_the_route(
    client: TestClient,
    plain: TestClient,
    auth: Headers,
    answered: list[str],
    name: str,
    body: Any,
) -> None:
    status, _ = _same(client, plain, "/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert status == 422
    assert answered == []


def test_several_debts_and_a_named_version_are_answered_directly_too(
    client: TestClient, plain: TestClient, auth: Headers, answered: list[str]
) -> None:
    made = client.post(
        "/v1/policies", json={"name": "cards", "body": {}}, headers=auth["finance"]
    ).json()
    named = {"id": made["id"], "version": made["version"]}
    status, _ = _same(
        client, plain, "/v1/offers/negotiate", json=CONSOLIDATED, headers=auth["collector"]
    )
    assert status == 200
    body = {"debt": DEBT, "capacity": {"payment": "900.00"}, "policy": named}
    _same(client, plain, "/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert answered == ["/v1/offers/negotiate"] * 4
    # a newer version published: a collector may no longer offer from the one named
    client.post(f"/v1/policies/{made['id']}/versions", json={"body": {}}, headers=auth["finance"])
    status, content = _same(
        client, plain, "/v1/offers/negotiate", json=body, headers=auth["collector"]
    )
    assert status == 422 and b"current_policy_version" in content
    assert answered == ["/v1/offers/negotiate"] * 4


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rk_nope_nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ],
    ids=["no key", "unknown key", "not bearer", "empty bearer"],
)
def test_without_a_known_key_the_route_answers(
    client: TestClient, plain: TestClient, answered: list[str], headers: dict[str, str]
) -> None:
    body = {"debt": DEBT, "capacity": {"payment": "900.00"}}
    status, _ = _same(client, plain, "/v1/offers/negotiate", json=body, headers=headers)
    assert status == 401
    assert answered == []


def test_a_body_not_sent_as_json_is_the_routes_to_read(
    client: TestClient, plain: TestClient, auth: Headers, answered: list[str]
) -> None:
    body = json.dumps({"debt": DEBT, "capacity": {"payment": "900.00"}}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = dict(auth["collector"])
        if content_type:
            headers["Content-Type"] = content_type
        _same(client, plain, "/v1/offers/negotiate", content=body, headers=headers)
    _same(client, plain, "/v1/offers/negotiate", content=b"", headers=auth["collector"])
    _same(client, plain, "/v1/offers/negotiate", content=b"{", headers=auth["collector"])
    assert answered == []
    json_headers = {**auth["collector"], "Content-Type": "application/json; charset=utf-8"}
    _same(client, plain, "/v1/offers/negotiate", content=body, headers=json_headers)
    assert answered == ["/v1/offers/negotiate"] * 2


def test_a_query_a_method_or_another_path_goes_past(
    client: TestClient, plain: TestClient, auth: Headers, answered: list[str]
) -> None:
    body = {"debt": DEBT, "capacity": {"payment": "900.00"}}
    _same(client, plain, "/v1/offers/negotiate?x=1", json=body, headers=auth["collector"])
    _same(client, plain, "/v1/offers/negotiate/", json=body, headers=auth["collector"])
    for method in ("GET", "PUT"):
        via_route = plain.request(method, "/v1/offers/negotiate", headers=auth["collector"])
        answer = client.request(method, "/v1/offers/negotiate", headers=auth["collector"])
        assert (answer.status_code, answer.content) == (via_route.status_code, via_route.content)
    assert answered == []


def test_a_revoked_key_is_refused_on_the_direct_path_too(
    client: TestClient, auth: Headers, keys: dict[str, str], answered: list[str]
) -> None:
    body = {"debt": DEBT, "capacity": {"payment": "900.00"}}
    for _ in range(2):
        assert client.post("/v1/offers/negotiate", json=body, headers=auth["collector"]).is_success
    assert answered == ["/v1/offers/negotiate"]
    prefix = keys["collector"].split("_")[1]
    assert client.post(f"/v1/keys/{prefix}/revoke", headers=auth["admin"]).is_success
    refused = client.post("/v1/offers/negotiate", json=body, headers=auth["collector"])
    assert refused.status_code == 401
    assert answered == ["/v1/offers/negotiate"]


def test_only_a_route_of_a_key_and_a_body_can_be_answered_directly() -> None:
    router = APIRouter()

    @router.post("/v1/x")
    async def x(body: dict[str, int], db: DbSession, key: CollectorKey) -> None: ...

    @router.post("/v1/y")
    async def y(body: dict[str, int], n: int, db: DbOnDemand, key: CollectorKey) -> None: ...

    @router.post("/v1/z")
    async def z(body: dict[str, int], db: DbOnDemand) -> None: ...

    application = FastAPI()
    application.include_router(router)
    for endpoint in (x, y, z):
        with pytest.raises(ValueError, match="cannot be answered directly"):
            direct.answered_directly(
                application.routes, {endpoint: lambda request, key, database: {}}
            )


def test_the_service_answers_its_calculations_directly() -> None:
    served = direct.answered_directly(create_app().routes, calculated.ANSWERS)
    assert sorted(served) == sorted(p for p, _ in CALCULATIONS)
    assert {operation.role.value for operation in served.values()} == {"collector"}


def test_a_body_over_the_limit_is_handed_on_and_refused_as_before(
    client: TestClient, plain: TestClient, auth: Headers, answered: list[str]
) -> None:
    # the middleware sits outside the body limit (app.core.limits): it reads no further than
    # the limit, and what it read reaches the limit's own check, declared size or streamed
    body = json.dumps({"debt": DEBT, "capacity": {"payment": "900.00"}}).encode()
    headers = {**auth["collector"], "Content-Type": "application/json"}
    over = body + b" " * (MAX_BODY_BYTES + 1 - len(body))
    exactly = over[:-1]
    status, _ = _same(client, plain, "/v1/offers/negotiate", content=over, headers=headers)
    assert status == 413
    status, _ = _same(
        client, plain, "/v1/offers/negotiate", content=list(chunks(over)), headers=headers
    )
    assert status == 413
    assert answered == []
    status, _ = _same(client, plain, "/v1/offers/negotiate", content=exactly, headers=headers)
    assert status == 200
    assert answered == ["/v1/offers/negotiate"] * 2


def _streamed(parts: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, list[bytes]]:
    """How many of the body's ``parts`` the middleware left unread when it handed the request
    on, and what the application then received of the body, read to its end."""
    incoming: list[Message] = [
        {"type": "http.request", "body": part, "more_body": k < len(parts) - 1}
        for k, part in enumerate(parts)
    ]
    seen: list[bytes] = []
    unread: list[int] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        unread.append(len(incoming))
        while True:
            message = await receive()
            seen.append(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        raise AssertionError("answered directly")

    operation = direct.Direct(Role.COLLECTOR, None, lambda request, key, database: {})  # type: ignore[arg-type]
    middleware = direct.DirectAnswers(inner, answers={"/x": operation}, limit=10)
    scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b""}
    asyncio.run(middleware({**scope, "headers": headers}, receive, send))
    return unread[0], seen


def test_the_middleware_reads_no_further_than_its_limit() -> None:
    # streamed: it stops at the part that passes the limit and hands on all of it, in order
    parts = [b"x" * 6, b"x" * 5, b"x" * 100]
    assert _streamed(parts, []) == (1, parts)
    # declared over the limit: not read at all, the inner application reads it
    assert _streamed([b"x" * 11], [(b"content-length", b"11")]) == (1, [b"x" * 11])
    # within it: read whole, then handed on (the operation's key check fails here)
    assert _streamed([b"x" * 6, b"x" * 4], []) == (0, [b"x" * 6, b"x" * 4])


def test_the_direct_answers_are_outside_every_layer_of_the_stack() -> None:
    application = create_app()
    stack = application.build_middleware_stack()
    assert isinstance(stack, direct.DirectAnswers)
    assert not isinstance(create_app(direct=False).build_middleware_stack(), direct.DirectAnswers)
