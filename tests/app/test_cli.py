"""app/cli.py: the ``repay`` command, through Typer's test runner."""

from __future__ import annotations

import json
import os
import shlex
from datetime import date
from typing import Any

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from app.cli import app, cores
from app.core.db import get_engine, get_sessionmaker
from app.core.keys import find_key, list_keys
from app.finance.store import create_policy, list_policies

runner = CliRunner()


def repay(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_db_upgrade_creates_the_tables(app_database_url: str) -> None:
    result = repay("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert {"api_keys", "policies", "policy_versions"} <= set(
        inspect(get_engine()).get_table_names()
    )
    assert repay("db", "upgrade").exit_code == 0  # nothing left to do is fine


def test_keys_create_prints_a_working_key_once(app_database_url: str) -> None:
    result = repay("keys", "create", "--role", "collector")  # also migrates a new database
    assert result.exit_code == 0, result.output
    [plaintext] = result.stdout.splitlines()  # the key alone on stdout
    assert "not shown again" in result.stderr
    assert plaintext not in result.stderr
    with get_sessionmaker()() as session:
        key = find_key(session, plaintext)
        assert key is not None
        assert (key.role, key.name) == ("collector", "collector key")


def test_keys_create_takes_a_name(app_database_url: str) -> None:
    [plaintext] = repay("keys", "create", "--role", "admin", "--name", "ops").stdout.splitlines()
    with get_sessionmaker()() as session:
        key = find_key(session, plaintext)
        assert key is not None and (key.role, key.name) == ("admin", "ops")


def test_keys_create_refuses_an_unknown_role(app_database_url: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--role", "auditor"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_keys_list_shows_prefixes_never_keys(app_database_url: str) -> None:
    [plaintext] = repay("keys", "create", "--role", "finance", "--name", "ledger").stdout.split()
    result = repay("keys", "list")
    assert result.exit_code == 0
    prefix, secret = plaintext.split("_", 2)[1:]
    assert prefix in result.stdout and "ledger" in result.stdout and "finance" in result.stdout
    assert secret not in result.stdout


def test_keys_revoke(app_database_url: str) -> None:
    [plaintext] = repay("keys", "create", "--role", "collector").stdout.split()
    prefix = plaintext.split("_")[1]
    assert repay("keys", "revoke", prefix).exit_code == 0
    with get_sessionmaker()() as session:
        assert find_key(session, plaintext) is None
    assert repay("keys", "revoke", "ffffffff").exit_code == 1


def _expected_body(today: date) -> str:
    # The body the brief for `repay serve` specifies, character for character.
    return (
        '{"debt":{"currency":"CNY","principal":"10000.00","interest":"350.00","fees":"150.00",'
        f'"nominal_annual_rate":"0.18","as_of":"{today.isoformat()}","days_past_due":95}},'
        '"capacity":{"payment":"1250.00","lump_sum":"0.00",'
        f'"earliest_start":"{date.fromordinal(today.toordinal() + 20).isoformat()}",'
        '"frequency":"monthly"}}'
    )


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Calls to uvicorn.run, which is replaced so that `repay serve` returns."""
    import uvicorn

    calls: list[dict[str, Any]] = []

    def run(target: str, **options: Any) -> None:
        calls.append({"target": target, **options})

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_serve_on_a_new_database_seeds_a_demo(
    app_database_url: str, served: list[dict[str, Any]]
) -> None:
    result = repay("serve", "--port", "8000")
    assert result.exit_code == 0, result.output
    plaintext, curl, page, _debt, _check = result.stdout.splitlines()
    assert served == [
        {"target": "app.main:app", "host": "127.0.0.1", "port": 8000, "workers": cores()}
    ]

    with get_sessionmaker()() as session:
        key = find_key(session, plaintext)
        assert key is not None and key.role == "collector"
        [(policy, version)] = list_policies(session)
        assert (policy.name, version.version) == ("default", 1)
        assert version.body["max_term_months"] == 36  # the defaults, spelled out

    argv = shlex.split(curl)
    assert argv[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:8000/v1/offers/negotiate"]
    assert f"Authorization: Bearer {plaintext}" in argv
    assert "Content-Type: application/json" in argv
    body = argv[argv.index("-d") + 1]
    assert body == _expected_body(date.today())
    assert json.loads(body)["debt"]["currency"] == "CNY"
    # and a demo debtor's page to open in a browser
    assert page.startswith("http://127.0.0.1:8000/s/") and len(page.rsplit("/", 1)[1]) >= 22


def _request(command: str) -> tuple[str, str, dict[str, str], Any]:
    """A printed curl command as (method, URL, headers, JSON body or None)."""
    argv = shlex.split(command)
    headers = dict(h.split(": ", 1) for h in (argv[i + 1] for i, a in enumerate(argv) if a == "-H"))
    body = json.loads(argv[argv.index("-d") + 1]) if "-d" in argv else None
    return argv[argv.index("-X") + 1], argv[argv.index("-X") + 2], headers, body


def test_serve_seeds_a_demo_debt_whose_debtor_may_not_be_called_at_23_00(
    app_database_url: str, served: list[dict[str, Any]]
) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    lines = repay("serve").stdout.splitlines()
    with TestClient(create_app()) as client:
        method, url, headers, _ = _request(lines[3])
        assert (method, url) == ("GET", "http://127.0.0.1:8000/v1/debts/DEMO-0001")
        debt = client.get("/v1/debts/DEMO-0001", headers=headers).json()
        assert debt["jurisdiction"] == "CN"
        assert debt["terms"]["principal"] == "10000.00"
        debtor, guarantor = debt["parties"]
        assert (debtor["role"], debtor["masked_name"]) == ("debtor", "张*明")
        assert (guarantor["role"], guarantor["guaranteed"]) == (
            "guarantor",
            {"amount": "3000.00", "currency": "CNY"},
        )
        [offer] = debt["offers"]
        assert (
            lines[2].endswith("/s/" + lines[2].rsplit("/s/", 1)[1]) and offer["status"] == "offered"
        )

        method, url, headers, body = _request(lines[4])
        assert (method, url) == ("POST", "http://127.0.0.1:8000/v1/contact-checks")
        assert body["party_id"] == debtor["id"]
        assert body["at"] == f"{date.today().isoformat()}T23:00:00+08:00"
        verdict = client.post("/v1/contact-checks", json=body, headers=headers).json()
        assert verdict["allowed"] is False
        assert verdict["rule"]["id"] == "CN-HOURS"
        assert verdict["next_permitted"].endswith("T08:00:00+08:00")

    # a second run replaces the key but adds no second debtor or guarantor
    again = repay("serve").stdout.splitlines()
    with TestClient(create_app()) as client:
        _, _, headers, body = _request(again[4])
        debt = client.get("/v1/debts/DEMO-0001", headers=headers).json()
        assert [p["role"] for p in debt["parties"]] == ["debtor", "guarantor"]
        assert body["party_id"] == debtor["id"]


def test_serve_again_replaces_the_demo_key_and_says_so(
    app_database_url: str, served: list[dict[str, Any]]
) -> None:
    first = repay("serve").stdout.splitlines()[0]
    result = repay("serve")
    second = result.stdout.splitlines()[0]
    assert second != first
    assert first.split("_")[1] in result.stderr and "cannot be shown" in result.stderr
    with get_sessionmaker()() as session:
        assert find_key(session, second) is not None
        assert find_key(session, first) is None
        assert len(list_policies(session)) == 1  # the demo policy is not seeded twice


def test_serve_leaves_a_real_database_alone(
    migrated_url: str, served: list[dict[str, Any]]
) -> None:
    with get_sessionmaker().begin() as session:
        create_policy(session, "retail", {"max_term_months": 24}, None)
    result = repay("serve", "--host", "0.0.0.0", "--port", "9000")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "repay keys create" in result.stderr
    assert served == [
        {"target": "app.main:app", "host": "0.0.0.0", "port": 9000, "workers": cores()}
    ]
    with get_sessionmaker()() as session:
        assert list_keys(session) == []


def test_serve_runs_a_worker_per_core_unless_told(
    app_database_url: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2}, raising=False)
    assert repay("serve").exit_code == 0
    assert repay("serve", "--workers", "1").exit_code == 0
    assert [call["workers"] for call in served] == [3, 1]
    assert repay("serve", "--workers", "0").exit_code == 2


def test_serve_points_the_example_at_the_served_port(
    app_database_url: str, served: list[dict[str, Any]]
) -> None:
    curl = repay("serve", "--host", "0.0.0.0", "--port", "9000").stdout.splitlines()[1]
    assert "http://127.0.0.1:9000/v1/offers/negotiate" in shlex.split(curl)


def test_serve_uses_repay_base_url(
    app_database_url: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.settings import get_settings

    monkeypatch.setenv("REPAY_BASE_URL", "https://repay.example/")
    get_settings.cache_clear()
    curl = repay("serve").stdout.splitlines()[1]
    assert "https://repay.example/v1/offers/negotiate" in shlex.split(curl)
