"""Routing, generically from the application's own routes (``app.core.routing``).

Every path template gets a concrete path (each parameter from :data:`SAMPLES`); then:

- every method the path's routes do not have is a 405 problem document whose ``Allow`` names
  every method they do have;
- the path is taken by the routes of its own template and no other (no id swallows a sibling's
  literal segment), and the router's first match for each method is its own route;
- a path no route takes, or an id of the wrong shape, is a 404 problem document.

The guard answers before authentication, so no key is needed.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Match

from app.core.routing import allowed, templates
from app.main import create_app

APP = create_app()
TABLE = templates(APP.routes)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# one value each path parameter accepts; a new parameter needs one here (a test says so)
SAMPLES = {
    "offer_id": "0123456789abcdef0123456789abcdef",
    "plan_id": "0123456789abcdef0123456789abcdef",
    "consolidated_plan_id": "0123456789abcdef0123456789abcdef",
    "party_id": "0123456789abcdef0123456789abcdef",
    "message_id": "0123456789abcdef0123456789abcdef",
    "request_id": "0123456789abcdef0123456789abcdef",
    "prefix": "0123abcd",
    "policy_id": "7",
    "version": "3",
    "token": "Xq3vJ0c1mS8yRk2PbT4nWg",
    "ref": "LOAN-2026-001",
}


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda found: SAMPLES[found[1]], template)


# path template -> every method of every route with that template
BY_PATH: dict[str, set[str]] = defaultdict(set)
for _route in TABLE:
    BY_PATH[_route.path] |= _route.methods


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(APP)


def test_every_path_parameter_has_a_sample_its_route_accepts() -> None:
    for route in TABLE:
        assert route.takes(concrete(route.path)), route.path


@pytest.mark.parametrize("template", sorted(BY_PATH))
def test_a_path_is_taken_by_its_own_routes_only(template: str) -> None:
    path = concrete(template)
    assert {route.path for route in TABLE if route.takes(path)} == {template}
    assert allowed(TABLE, path) == BY_PATH[template]


@pytest.mark.parametrize("template", sorted(BY_PATH))
def test_the_router_takes_a_path_to_its_own_route(template: str) -> None:
    path = concrete(template)
    for method in BY_PATH[template]:
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        first = next(
            context
            for context in iter_route_contexts(APP.routes)
            if context.matches(scope)[0] == Match.FULL
        )
        assert first.path_format == template, (method, path)


@pytest.mark.parametrize(
    ("template", "method"),
    [(t, m) for t, methods in sorted(BY_PATH.items()) for m in METHODS if m not in methods],
)
def test_a_wrong_method_is_a_405_naming_every_method_of_the_path(
    client: TestClient, template: str, method: str
) -> None:
    response = client.request(method, concrete(template))
    assert response.status_code == 405, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.headers["allow"].split(", ")) == BY_PATH[template]
    if method != "HEAD":  # no body, by definition
        assert response.json()["type"].endswith("/method-not-allowed")


@pytest.mark.parametrize(
    "path",
    [
        "/nowhere",
        "/v1",
        "/v1/offers/",  # a trailing slash is another path, not a redirect
        "/v1/offers/not-an-id",
        "/v1/offers/0123456789ABCDEF0123456789ABCDEF",  # ids are lower-case hex
        "/v1/plans/0123/payoff",
        "/v1/policies/one",
        "/v1/keys/xyz/revoke",
        "/s/short",  # below a token's 16 characters
        "/s/Xq3vJ0c1mS8yRk2PbT4nWg.pdf",
    ],
)
def test_a_path_no_route_takes_is_a_404_problem(client: TestClient, path: str) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/not-found")


def test_a_link_path_is_not_echoed_in_a_404(client: TestClient) -> None:
    # the token is the capability (app.core.errors.problem_response)
    response = client.get("/s/short")
    assert "instance" not in response.json()
    assert response.headers["referrer-policy"] == "no-referrer"  # app.links.web.Safeguards


def test_a_literal_segment_is_not_an_id(client: TestClient) -> None:
    # GET /v1/offers/negotiate once reached GET /v1/offers/{offer_id}: a 422 for a bad id
    response = client.get("/v1/offers/negotiate")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
