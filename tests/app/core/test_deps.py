"""app/core/deps.py: the request session and role-based API-key authentication, on a small app."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from app.core import deps
from app.core.access import Actor
from app.core.db import get_engine, get_sessionmaker
from app.core.deps import AdminKey, CollectorKey, DbSession, FinanceKey
from app.core.errors import Problem
from app.core.keys import create_key, revoke_key
from app.core.models import Role
from app.finance.store import create_policy, list_policies
from tests.app.conftest import Clock


def _small_app() -> FastAPI:
    api = FastAPI()

    @api.exception_handler(Problem)
    def problem(_request: Request, exc: Problem) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @api.get("/collector")
    def collector(key: CollectorKey) -> dict[str, str]:
        return {"prefix": key.prefix}

    @api.get("/finance")
    def finance(key: FinanceKey) -> dict[str, str]:
        return {"prefix": key.prefix}

    @api.get("/admin")
    def admin(key: AdminKey) -> dict[str, str]:
        return {"prefix": key.prefix}

    @api.post("/policies/{name}")
    def write(name: str, db: DbSession, key: FinanceKey, fail: bool = False) -> dict[str, bool]:
        create_policy(db, name, {}, key.id)
        if fail:
            raise Problem(422, "refused", "Refused")
        # the caller is a plain value bound to no session, so a cached verification survives
        # any later request's rollback
        return {"detached": isinstance(key, Actor)}

    return api


@pytest.fixture
def keys(migrated_url: str) -> dict[str, str]:
    with get_sessionmaker().begin() as session:
        made = {role.value: create_key(session, role, role.value)[0] for role in Role}
        revoked, key = create_key(session, Role.ADMIN, "revoked")
        revoke_key(session, key.prefix)
    return {**made, "revoked": revoked}


@pytest.fixture
def client(migrated_url: str) -> TestClient:
    return TestClient(_small_app())


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("holder", "path", "status"),
    [
        ("collector", "/collector", 200),
        ("collector", "/finance", 403),
        ("collector", "/admin", 403),
        ("finance", "/collector", 200),
        ("finance", "/finance", 200),
        ("finance", "/admin", 403),
        ("admin", "/collector", 200),
        ("admin", "/finance", 200),
        ("admin", "/admin", 200),
        ("revoked", "/collector", 401),
    ],
)
def test_roles_include_the_ones_below(
    client: TestClient, keys: dict[str, str], holder: str, path: str, status: int
) -> None:
    response = client.get(path, headers=_bearer(keys[holder]))
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"prefix": keys[holder].split("_")[1]}


def test_forbidden_names_the_role_needed_and_the_role_held(
    client: TestClient, keys: dict[str, str]
) -> None:
    response = client.get("/admin", headers=_bearer(keys["finance"]))
    detail = response.json()["detail"]
    assert response.status_code == 403
    assert "admin role" in detail and "finance role" in detail


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer rk_00000000_nope"}, {"Authorization": "Basic dXNlcjpwdw=="}],
)
def test_without_a_valid_key_it_is_401(
    client: TestClient, keys: dict[str, str], headers: dict[str, str]
) -> None:
    response = client.get("/collector", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["type"].endswith("/unauthorized")


def test_docs_offer_bearer_authorization(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["ApiKey"]["type"] == "http"
    assert schemes["ApiKey"]["scheme"] == "bearer"


def test_a_request_commits_on_success_and_rolls_back_on_error(
    client: TestClient, keys: dict[str, str]
) -> None:
    ok = client.post("/policies/kept", headers=_bearer(keys["finance"]))
    assert ok.json() == {"detached": True}
    failed = client.post("/policies/dropped?fail=true", headers=_bearer(keys["finance"]))
    assert failed.status_code == 422
    with get_sessionmaker()() as session:
        assert [policy.name for policy, _ in list_policies(session)] == ["kept"]


# ---- the verified-key cache: how soon a revocation elsewhere applies ------------------------

CACHE_SECONDS = 2.0  # Settings.cache_seconds' default


def _revoke_elsewhere(key: str) -> None:
    # as another process would (another worker, the CLI): nothing here is told
    with get_sessionmaker().begin() as session:
        revoke_key(session, key.split("_")[1])


def test_a_key_revoked_elsewhere_stops_working_once_its_cached_check_expires(
    client: TestClient, keys: dict[str, str], clock: Clock
) -> None:
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 200
    _revoke_elsewhere(keys["collector"])
    clock.advance(CACHE_SECONDS - 0.01)
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 200
    clock.advance(0.02)
    # the first request after the cached check expires asks the database, and is refused
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 401
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 401


def test_a_revocation_elsewhere_applies_within_twice_the_cache_time_at_most(
    client: TestClient, keys: dict[str, str], clock: Clock
) -> None:
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 200
    _revoke_elsewhere(keys["collector"])
    clock.advance(CACHE_SECONDS + 0.01)
    # a request refreshing the check has not answered yet (or failed): the others in the
    # meantime are still answered from the expired entry, for one more cache time
    assert deps._verified.get((get_engine(), keys["collector"])) is None
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 200
    clock.advance(CACHE_SECONDS)
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 401


def test_a_key_revoked_through_this_process_stops_at_once(
    client: TestClient, keys: dict[str, str], clock: Clock
) -> None:
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 200
    _revoke_elsewhere(keys["collector"])
    deps.forget_key(keys["collector"].split("_")[1])  # what DELETE /v1/keys/{prefix} does
    assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 401


def test_a_warm_key_check_makes_no_session(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = []
    real = deps.get_sessionmaker
    monkeypatch.setattr(deps, "get_sessionmaker", lambda: made.append(1) or real())
    for _ in range(3):
        assert client.get("/collector", headers=_bearer(keys["collector"])).status_code == 200
    assert len(made) == 1
