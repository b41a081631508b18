"""app/core/settings.py: every variable typed and checked once, and a bad one stops the service
at start with one line naming it, never a request later.

The commands run as the ``repay`` script runs (``app.cli.main``) in a subprocess with a short
timeout: a command that started listening instead of exiting fails the test by its timeout.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from app.core import settings as settings_module
from app.core.settings import (
    PROJECT_ROOT,
    SettingsError,
    get_settings,
    read_settings,
    secret_key_from_text,
)
from tests.app.live import free_port

VARIABLES = (
    "DATABASE_URL",
    "REPAY_BASE_URL",
    "REPAY_KEY_PEPPER",
    "REPAY_CACHE_SECONDS",
    "REPAY_SECRET_KEY",
    "REPAY_WEBHOOK_URL",
    "REPAY_WEBHOOK_SECRET",
    "REPAY_AUDIT_CHECKPOINT_PATH",
    "REPAY_AUDIT_CHECKPOINT_EVERY",
)
# The key of bytes 0, 1, ..., 31, encoded by hand from RFC 4648's table (section 5, base64url):
# 0x000102 -> "AAEC", 0x030405 -> "AwQF", ... and the last two bytes 0x1e1f -> "Hh8" (+ "=").
KEY_0_TO_31 = bytes(range(32))
KEY_0_TO_31_TEXT = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
EXPECTED_KEY = "expected 32 bytes as URL-safe base64 (43 characters, or 44 ending in '=')"
# Each malformed value and the one line it gives, exactly (README's table says the same).
MALFORMED = {
    "secret key, the 12 characters of a password": (
        "REPAY_SECRET_KEY",
        "correcthorse",
        f"REPAY_SECRET_KEY: {EXPECTED_KEY}, got 12 characters;"
        " generate one with: repay secret generate",
    ),
    "secret key of 33 bytes (token_urlsafe(33))": (
        "REPAY_SECRET_KEY",
        KEY_0_TO_31_TEXT + "IA",
        f"REPAY_SECRET_KEY: {EXPECTED_KEY}, got 45 characters;"
        " generate one with: repay secret generate",
    ),
    "secret key of 43 characters with one not base64": (
        "REPAY_SECRET_KEY",
        KEY_0_TO_31_TEXT[:-1] + "!",
        f"REPAY_SECRET_KEY: {EXPECTED_KEY}, got 43 characters that are not such base64;"
        " generate one with: repay secret generate",
    ),
    "database URL that is none": (
        "DATABASE_URL",
        "repay.db",
        "DATABASE_URL: expected sqlite:///path or postgresql://user:password@host/db,"
        " got a value that is not a database URL",
    ),
    "database the service does not support": (
        "DATABASE_URL",
        "mysql://repay:hunter2@db/repay",
        "DATABASE_URL: expected sqlite:///path or postgresql://user:password@host/db,"
        " got a 'mysql' URL",
    ),
    "base URL without a scheme": (
        "REPAY_BASE_URL",
        "repay.example.com",
        "REPAY_BASE_URL: expected an absolute http:// or https:// URL with a host,"
        " got 'repay.example.com'",
    ),
    "pepper with a pasted newline": (
        "REPAY_KEY_PEPPER",
        "pepper-of-this-install\n",
        "REPAY_KEY_PEPPER: expected text without spaces at either end or control characters,"
        " got 23 characters with a space at an end",
    ),
    "cache seconds that are no number": (
        "REPAY_CACHE_SECONDS",
        "2s",
        "REPAY_CACHE_SECONDS: expected a number of seconds from 0 (no cache) to 3600, got '2s'",
    ),
    "cache seconds below 0": (
        "REPAY_CACHE_SECONDS",
        "-1",
        "REPAY_CACHE_SECONDS: expected a number of seconds from 0 (no cache) to 3600, got '-1'",
    ),
    "webhook URL without a scheme (not shown: it may hold a token)": (
        "REPAY_WEBHOOK_URL",
        "hooks.example.com/repay?token=abc",
        "REPAY_WEBHOOK_URL: expected an absolute http:// or https:// URL with a host,"
        " got a value without http(s):// and a host",
    ),
    "audit checkpoint in a directory that does not exist": (
        "REPAY_AUDIT_CHECKPOINT_PATH",
        "/nonexistent/audit/checkpoint.json",
        "REPAY_AUDIT_CHECKPOINT_PATH: expected the path of a file in an existing directory,"
        " got '/nonexistent/audit/checkpoint.json', whose directory does not exist",
    ),
    "audit checkpoint every 0 events": (
        "REPAY_AUDIT_CHECKPOINT_EVERY",
        "0",
        "REPAY_AUDIT_CHECKPOINT_EVERY: expected a whole number of events from 1 to 1000000,"
        " got '0'",
    ),
    "audit checkpoint every hour, a time where a count is wanted": (
        "REPAY_AUDIT_CHECKPOINT_EVERY",
        "1h",
        "REPAY_AUDIT_CHECKPOINT_EVERY: expected a whole number of events from 1 to 1000000,"
        " got '1h'",
    ),
    "webhook secret too short": (
        "REPAY_WEBHOOK_SECRET",
        "short",
        "REPAY_WEBHOOK_SECRET: expected at least 16 characters, got 5 characters",
    ),
}


def clean_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """This process's environment without any of ours, a database in ``tmp_path``, and
    ``variables``."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'repay.db'}"
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return {**env, **variables}


def run_repay(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from app.cli import main; main()", *args]
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """None of our variables set, a database in ``tmp_path``; the settings re-read."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'repay.db'}")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_variable_stops_serve_before_it_listens(case: str, tmp_path: Path) -> None:
    name, value, line = MALFORMED[case]
    done = run_repay(clean_environment(tmp_path, **{name: value}), "serve", "--port", "0")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n")
    assert not (tmp_path / "repay.db").exists()  # stopped before migrating anything


def test_each_malformed_variable_has_its_line(tmp_path: Path) -> None:
    secret = MALFORMED["secret key, the 12 characters of a password"]
    cache = MALFORMED["cache seconds that are no number"]
    env = clean_environment(tmp_path, **{secret[0]: secret[1], cache[0]: cache[1]})
    done = run_repay(env, "keys", "list")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [cache[2], secret[2]]


@pytest.mark.parametrize(
    "args",
    [
        ["db", "upgrade"],
        ["keys", "create", "--role", "collector"],
        ["keys", "list"],
        ["keys", "revoke", "abcdef12"],
        ["outbox", "schedule"],
        ["outbox", "drain", "--dry-run"],
        ["outbox", "send", "--once"],
        ["audit", "verify"],
        ["audit", "checkpoint", "--to", "checkpoint.json"],
    ],
)
def test_every_command_that_needs_settings_refuses_them_first(
    args: list[str], environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("REPAY_SECRET_KEY", "correcthorse")
    result = CliRunner().invoke(cli, args)
    line = MALFORMED["secret key, the 12 characters of a password"][2]
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")


def test_uvicorn_refuses_to_build_the_app(tmp_path: Path) -> None:
    port = free_port()
    env = clean_environment(tmp_path, REPAY_SECRET_KEY="correcthorse")
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert MALFORMED["secret key, the 12 characters of a password"][2] in done.stderr


def test_a_generated_key_round_trips(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("REPAY_SECRET_KEY", "correcthorse")  # what it is run to replace
    runner = CliRunner()
    made = [runner.invoke(cli, ["secret", "generate"]) for _ in range(2)]
    assert [r.exit_code for r in made] == [0, 0]
    [first], [second] = (r.stdout.splitlines() for r in made)
    assert first != second and len(first) == 43 and made[0].stderr == ""
    environment.setenv("REPAY_SECRET_KEY", first)
    get_settings.cache_clear()
    key = get_settings().secret_key
    assert key == base64.urlsafe_b64decode(first + "=") and len(key) == 32


def test_the_unpadded_token_of_the_issue_is_accepted(environment: pytest.MonkeyPatch) -> None:
    # secrets.token_urlsafe(32) gives 43 characters without "=": the same 32 bytes as the
    # padded form, so both are the key (README: lenient about padding, strict about length).
    for text in (KEY_0_TO_31_TEXT, KEY_0_TO_31_TEXT + "="):
        environment.setenv("REPAY_SECRET_KEY", text)
        get_settings.cache_clear()
        assert get_settings().secret_key == KEY_0_TO_31


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (KEY_0_TO_31_TEXT, KEY_0_TO_31),
        # RFC 4648 tables: "-_" (URL-safe) and "+/" (standard) are 62 and 63, so each "-_-_" is
        # the bits 111110 111111 111110 111111 = 0xfb 0xff 0xbf; the last "-_8" (62 63 60)
        # is 0xfb 0xff and two zero bits
        ("-_" * 21 + "8", b"\xfb\xff\xbf" * 10 + b"\xfb\xff"),
        ("+/" * 21 + "8=", b"\xfb\xff\xbf" * 10 + b"\xfb\xff"),
    ],
)
def test_either_alphabet_with_or_without_padding(text: str, key: bytes) -> None:
    assert secret_key_from_text(text) == key


@pytest.mark.parametrize(
    "text",
    [
        KEY_0_TO_31_TEXT[:-1],  # 42 characters: 31 bytes and a half
        KEY_0_TO_31_TEXT + "==",  # padded twice: not 32 bytes' padding
        KEY_0_TO_31_TEXT + "A",  # 44 characters without "=": 33 bytes less a few bits
        KEY_0_TO_31_TEXT[:-1] + "9",  # "9" leaves bits set past the 32nd byte: not canonical
        KEY_0_TO_31_TEXT[:20] + "=" + KEY_0_TO_31_TEXT[21:],  # padding inside
        KEY_0_TO_31_TEXT[:20] + " " + KEY_0_TO_31_TEXT[21:],
        "",
    ],
)
def test_any_other_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected 32 bytes"):
        secret_key_from_text(text)


def test_settings_are_read_once(environment: pytest.MonkeyPatch) -> None:
    reads = []
    real = settings_module.read_settings
    environment.setattr(settings_module, "read_settings", lambda: reads.append(1) or real())
    environment.setenv("REPAY_BASE_URL", "https://one.example/")
    first = get_settings()
    environment.setenv("REPAY_BASE_URL", "https://two.example")
    assert get_settings() is first and first.base_url == "https://one.example"
    assert len(reads) == 1
    get_settings.cache_clear()
    assert get_settings().base_url == "https://two.example" and len(reads) == 2


def test_unset_or_empty_is_the_default(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("REPAY_CACHE_SECONDS", "")
    environment.setenv("REPAY_WEBHOOK_URL", "")
    read = read_settings()
    assert (read.cache_seconds, read.webhook_url, read.base_url) == (
        2.0,
        None,
        "http://127.0.0.1:8000",
    )


def test_without_a_key_one_is_made_in_var_once(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "var" / "secret.key"
    environment.setattr(settings_module, "SECRET_KEY_FILE", path)
    first = read_settings().secret_key
    assert path.exists() and len(first) == 32
    assert read_settings().secret_key == first
    path.write_text("correcthorse\n")
    with pytest.raises(SettingsError) as refused:
        read_settings()
    assert str(refused.value) == (
        f"REPAY_SECRET_KEY: unset, so {path} is read, which is malformed: {EXPECTED_KEY},"
        " got 12 characters"
    )


def test_the_audit_checkpoint_settings(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert (get_settings().audit_checkpoint_path, get_settings().audit_checkpoint_every) == (
        None,
        1,
    )
    environment.setenv("REPAY_AUDIT_CHECKPOINT_PATH", str(tmp_path / "checkpoint.json"))
    environment.setenv("REPAY_AUDIT_CHECKPOINT_EVERY", "100")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.audit_checkpoint_path == tmp_path / "checkpoint.json"
    assert settings.audit_checkpoint_every == 100
    environment.setenv("REPAY_AUDIT_CHECKPOINT_PATH", str(tmp_path))
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="got the directory"):
        get_settings()


def test_secrets_stay_out_of_repr(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("DATABASE_URL", "postgresql://repay:hunter2@db.example/repay")
    environment.setenv("REPAY_KEY_PEPPER", "pepper-of-this-install")
    environment.setenv("REPAY_WEBHOOK_URL", "https://hooks.example/repay?token=abc")
    environment.setenv("REPAY_WEBHOOK_SECRET", "whsec-0123456789abcdef")
    shown = repr(read_settings())
    for secret in ("hunter2", "pepper-of", "token=abc", "whsec"):
        assert secret not in shown


def test_var_is_under_the_checkout() -> None:
    # app/core/settings.py moved from app/ once and took var/ (and a dev key) with it
    assert (PROJECT_ROOT / "pyproject.toml").exists()
    assert settings_module.SECRET_KEY_FILE == PROJECT_ROOT / "var" / "secret.key"
