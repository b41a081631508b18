"""The ``repay`` command: migrate the database, manage API keys, serve the API.

Whatever a user must copy (a key, a curl command) goes to stdout with plain ``print`` so it is
never wrapped or decorated; explanations go to stderr. A malformed setting stops any command
that needs the settings before it does anything: one line per variable on stderr, exit 2.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import links, messaging
from app.audit import checkpoint as audit_checkpoints
from app.audit import trail
from app.core import migrate
from app.core.access import actor_of, require_debt
from app.core.db import get_sessionmaker
from app.core.keys import (
    DEFAULT,
    create_key,
    find_key,
    list_keys,
    organisation_named,
    revoke_key,
    team_named,
)
from app.core.models import ApiKey, Role
from app.core.settings import (
    DEFAULT_BASE_URL,
    SettingsError,
    generate_secret_key_text,
    get_settings,
)
from app.finance.models import Policy
from app.finance.policies import default_policy_id
from app.links import plans as links_plans
from app.links import sharing
from app.messaging import notices, outbox
from app.messaging import webhook as webhook_
from schemas.debts import TEAM_NAME
from schemas.sharing import AuditVerification, SaveNegotiated

DEMO_KEY_NAME = "demo (repay serve)"

app = typer.Typer(
    help="Repayment-plan negotiation calculator.", no_args_is_help=True, add_completion=False
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
outbox_app = typer.Typer(help="Reminders and confirmations to be sent.", no_args_is_help=True)
secret_app = typer.Typer(help="The service's secret key (REPAY_SECRET_KEY).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
orgs_app = typer.Typer(help="Organisations (tenants).", no_args_is_help=True)
teams_app = typer.Typer(help="Teams of an organisation.", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs")
app.add_typer(teams_app, name="teams")
app.add_typer(outbox_app, name="outbox")
plans_app = typer.Typer(help="Accepted plans and their recorded life.", no_args_is_help=True)
app.add_typer(plans_app, name="plans")
app.add_typer(secret_app, name="secret")
audit_app = typer.Typer(
    help="The audit trail: its signed checkpoint, its offline check.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")

err = Console(stderr=True)
# Commands that run without the service's settings: making a key must work while the one
# configured is malformed, and a simulation touches no database.
WITHOUT_SETTINGS = {"secret", "simulate"}
CONFIGURATION_ERROR = 2  # as for a bad option: the command was not usable as given


def _refuse_configuration(error: SettingsError) -> typer.Exit:
    # Plain lines, not rich's: never wrapped at the terminal's width, never read as markup.
    for line in error.lines:
        print(line, file=sys.stderr)
    return typer.Exit(CONFIGURATION_ERROR)


@app.callback()
def _wire(ctx: typer.Context) -> None:
    """Before any command: the settings are checked (a bad one stops it before it starts),
    and the rooms talk through the bus, as in the service (``app.main``)."""
    # A command's --help is read after this (Click parses a command's options when it runs
    # it), and must work whatever the settings.
    wants_help = "--help" in sys.argv[1:]
    if ctx.invoked_subcommand not in WITHOUT_SETTINGS and not wants_help:
        try:
            get_settings()
        except SettingsError as error:
            raise _refuse_configuration(error) from None
    links.install()
    messaging.install()


@secret_app.command("generate")
def secret_generate() -> None:
    """Print a new secret key for REPAY_SECRET_KEY: 32 random bytes, URL-safe base64.

    export REPAY_SECRET_KEY=$(repay secret generate). Changing the key of a database in use
    makes what is sealed under the old one unreadable.
    """
    print(generate_secret_key_text())


def _database() -> str:
    # Never print a password that may be in DATABASE_URL.
    return make_url(get_settings().database_url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    migrate.upgrade()
    err.print(f"Database {_database()} is at the latest schema.")


@orgs_app.command("create")
def orgs_create(name: str = typer.Argument(..., help="The organisation's name.")) -> None:
    """Create an organisation (with its team ``default``); nothing if it exists."""
    migrate.upgrade()
    with get_sessionmaker().begin() as session:
        organisation = organisation_named(session, _named(name, "organisation"))
        err.print(f"Organisation {organisation.name!r} (id {organisation.id}) is there.")


@teams_app.command("create")
def teams_create(
    team: str = typer.Argument(..., help="The team's name."),
    org: str = typer.Option(..., "--org", help="The organisation (made if missing)."),
) -> None:
    """Create a team of an organisation; nothing if it exists."""
    migrate.upgrade()
    with get_sessionmaker().begin() as session:
        organisation = organisation_named(session, _named(org, "organisation"))
        made = team_named(session, organisation, _named(team, "team"))
        err.print(f"Team {made.name!r} of {organisation.name!r} (id {made.id}) is there.")


def _named(value: str, what: str) -> str:
    if not re.fullmatch(TEAM_NAME, value):
        err.print(f"A {what} name is 1 to 120 letters, digits, spaces, '.', '_' or '-': {value!r}")
        raise typer.Exit(2)
    return value


@keys_app.command("create")
def keys_create(
    role: Role = typer.Option(
        ..., help="What the key may do (admin ⊇ finance ⊇ supervisor ⊇ collector)."
    ),
    name: str | None = typer.Option(None, help="Who or what uses the key, for `keys list`."),
    org: str = typer.Option(DEFAULT, "--org", help="Its organisation (made if missing)."),
    team: str | None = typer.Option(
        None, "--team", help="A collector's or supervisor's team (made if missing; else default)."
    ),
    service: bool = typer.Option(
        False, "--service", help="A key of the organisation (a processor, a sender), no member."
    ),
) -> None:
    """Create an API key and print it once: a new member's of the organisation (and team), or
    the organisation's own with --service."""
    migrate.upgrade()  # so this works as the first command on a new machine
    if team is not None and not role.works_in_a_team:
        err.print(
            f"A {role} works for the whole organisation: --team is for collectors and supervisors."
        )
        raise typer.Exit(2)
    with get_sessionmaker().begin() as session:
        plaintext, key = create_key(
            session,
            role,
            name or f"{role} key",
            organisation=_named(org, "organisation"),
            team=None if team is None else _named(team, "team"),
            service=service,
        )
    print(plaintext)
    err.print(
        f"[bold]{role}[/] key {key.prefix} created. Store it now: it is not shown again "
        "(only its hash is kept)."
    )
    where = "the organisation's own" if service else f"a member's, team {team or DEFAULT}"
    err.print(f"Organisation {org}; {where if role.works_in_a_team or service else 'a member'}.")


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (prefix, role, name, dates); keys themselves are never stored."""
    migrate.upgrade()
    with get_sessionmaker()() as session:
        keys = list_keys(session)
    table = Table("prefix", "role", "name", "created (UTC)", "revoked (UTC)")
    for key in keys:
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
        table.add_row(key.prefix, key.role, key.name, f"{key.created_at:%Y-%m-%d %H:%M}", revoked)
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    prefix: str = typer.Argument(..., help="The key's prefix, from `keys list`."),
) -> None:
    """Revoke an API key: requests with it get 401 from now on."""
    migrate.upgrade()
    with get_sessionmaker().begin() as session:
        key = revoke_key(session, prefix)
    if key is None:
        err.print(f"No key with prefix {prefix!r}.")
        raise typer.Exit(1)
    err.print(f"Key {prefix} ({key.role}, {key.name!r}) is revoked.")


def _seed_demo(session: Session) -> tuple[str, list[str]] | None:
    """On a demo database, a fresh demo key and the prefixes of the demo keys it replaced.

    A database with no policy gets the ``default`` policy and a demo collector key. A database
    with a demo key from an earlier run gets a new one: the old plaintext cannot be shown
    again, and keeping several live demo keys nobody can see helps nobody, so they are revoked.
    Any other database is left alone (``None``).
    """
    fresh = session.scalar(select(Policy.id).limit(1)) is None
    if fresh:
        # the demo organisation's default policy, the engine's defaults stored in full
        default_policy_id(session, organisation_named(session).id)
    old_demo_keys = list(
        session.scalars(
            select(ApiKey).where(ApiKey.name == DEMO_KEY_NAME, ApiKey.revoked_at.is_(None))
        )
    )
    if not fresh and not old_demo_keys:
        return None
    for old in old_demo_keys:
        revoke_key(session, old.prefix)
    plaintext, _ = create_key(session, Role.COLLECTOR, DEMO_KEY_NAME)
    return plaintext, [old.prefix for old in old_demo_keys]


def _demo_offer(session: Session, plaintext: str, *, today: date) -> str:
    """Save a demo offer for a demo debt; return its page's path."""
    row = find_key(session, plaintext)
    assert row is not None
    key = actor_of(session, row)
    request = SaveNegotiated.model_validate(
        {
            "debt_ref": "DEMO-0001",
            "debtor": {"name": "张小明"},
            "locale": "zh-CN",
            "negotiate": demo_negotiation(today),
        }
    )
    saved = sharing.save_offer(session, request, key, None)
    return "/s/" + str(saved["link"]).rsplit("/s/", 1)[1]


DEMO_DEBT_REF = "DEMO-0001"
DEMO_PARTIES = (
    {
        "role": "debtor",
        "name": "张小明",
        "channels": {
            "phone": "+8613800138000",
            "sms": "+8613800138000",
            "email": "zhang.xiaoming@example.cn",
        },
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
    },
    {
        "role": "guarantor",
        "name": "李华",
        "channels": {"phone": "+8613900139000", "email": "li.hua@example.cn"},
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "guaranteed": {"amount": "3000.00", "currency": "CNY"},
    },
)


def _demo_debt(session: Session, plaintext: str, *, today: date) -> str:
    """Record the demo debt (CN) with a debtor and a guarantor, once; the debtor's party id."""
    from app.contacts import debts, parties
    from app.core.models import Debt
    from schemas.contacts import PartyIn
    from schemas.debts import DebtRecordIn

    row = find_key(session, plaintext)
    assert row is not None
    key = actor_of(session, row)
    debt = session.scalar(
        select(Debt).where(Debt.organisation_id == key.organisation_id, Debt.ref == DEMO_DEBT_REF)
    )
    if debt is None or debt.recorded_at is None:
        terms = demo_negotiation(today)["debt"]
        debts.record_debt(
            session,
            DEMO_DEBT_REF,
            DebtRecordIn.model_validate({"jurisdiction": "CN", "terms": terms}),
            key,
        )
    debt = require_debt(session, key, DEMO_DEBT_REF)
    listed = parties.listed(session, debt.id)
    if not listed:
        for party in DEMO_PARTIES:
            parties.add_party(session, DEMO_DEBT_REF, PartyIn.model_validate(party), key)
        listed = parties.listed(session, debt.id)
    # The demo debt is the demo team's, and the demo key of this run its collector.
    debt.team_id, debt.assignee_id = key.team_id or debt.team_id, key.member_id
    return next(p.id for p in listed if p.role == "debtor")


def demo_contact_check(base_url: str, key: str, party_id: str, *, today: date) -> str:
    """A curl command asking whether the demo debtor may be called at 23:00 Beijing time.

    Examples
    --------
    >>> print(demo_contact_check("http://h", "rk_x", "p" * 32, today=date(2026, 11, 25)))
    ... # doctest: +ELLIPSIS
    curl -sS -X POST http://h/v1/contact-checks ..."at":"2026-11-25T23:00:00+08:00"...
    """
    body = {
        "debt_ref": DEMO_DEBT_REF,
        "party_id": party_id,
        "channel": "phone",
        "at": f"{today.isoformat()}T23:00:00+08:00",
        "purpose": "collection",
    }
    return _curl(base_url, key, "POST", "/v1/contact-checks", body)


def _curl(base_url: str, key: str, method: str, path: str, body: Any = None) -> str:
    argv = ["curl", "-sS", "-X", method, f"{base_url}{path}", "-H", f"Authorization: Bearer {key}"]
    if body is not None:
        argv += [
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(body, separators=(",", ":")),
        ]
    return shlex.join(argv)


def _base_url(host: str, port: int) -> str:
    base_url = get_settings().base_url
    if base_url != DEFAULT_BASE_URL:
        return base_url
    # No REPAY_BASE_URL: point the example at the address actually being served.
    reachable = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    return f"http://[{reachable}]:{port}" if ":" in reachable else f"http://{reachable}:{port}"


def demo_negotiation(today: date) -> dict[str, Any]:
    """The demo: a CNY card debt 95 days past due, and a debtor who can pay 1,250 a month.

    Examples
    --------
    >>> demo_negotiation(date(2026, 11, 25))["capacity"]["earliest_start"]
    '2026-12-15'
    """
    return {
        "debt": {
            "currency": "CNY",
            "principal": "10000.00",
            "interest": "350.00",
            "fees": "150.00",
            "nominal_annual_rate": "0.18",
            "as_of": today.isoformat(),
            "days_past_due": 95,
        },
        "capacity": {
            "payment": "1250.00",
            "lump_sum": "0.00",
            "earliest_start": (today + timedelta(days=20)).isoformat(),
            "frequency": "monthly",
        },
    }


def demo_curl(base_url: str, key: str, *, today: date) -> str:
    """A one-line curl command that asks the API to negotiate a CNY debt.

    Examples
    --------
    >>> print(demo_curl("http://127.0.0.1:8000", "rk_x_y", today=date(2026, 11, 25)))
    ... # doctest: +ELLIPSIS
    curl -sS -X POST http://127.0.0.1:8000/v1/offers/negotiate -H 'Authorization: Bearer rk_x_y' ...
    """
    return _curl(base_url, key, "POST", "/v1/offers/negotiate", demo_negotiation(today))


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        None,
        min=1,
        show_default="the number of cores",
        help="Server processes. Each keeps its own caches (REPAY_CACHE_SECONDS).",
    ),
) -> None:
    """Migrate, seed a demo policy and key on a fresh database, and serve the API."""
    migrate.upgrade()
    with get_sessionmaker().begin() as session:
        demo = _seed_demo(session)
    if demo is None:
        err.print("Create an API key with: repay keys create --role collector")
    else:
        plaintext, replaced = demo
        if replaced:
            err.print(
                f"The demo key from an earlier run ({', '.join(replaced)}) cannot be shown "
                "again (only its hash is stored); it is revoked and replaced by a new one."
            )
        err.print("[bold]Demo collector API key[/] (shown once):")
        print(plaintext)
        err.print("[bold]Try it[/] once the server is up:")
        print(demo_curl(_base_url(host, port), plaintext, today=date.today()))
        with get_sessionmaker().begin() as session:
            page = _demo_offer(session, plaintext, today=date.today())
        err.print("[bold]A demo debtor's page[/] (open it in a browser):")
        print(_base_url(host, port) + page)
        with get_sessionmaker().begin() as session:
            debtor_id = _demo_debt(session, plaintext, today=date.today())
        err.print(f"[bold]The demo debt[/] {DEMO_DEBT_REF}, with a debtor and a guarantor:")
        print(_curl(_base_url(host, port), plaintext, "GET", f"/v1/debts/{DEMO_DEBT_REF}"))
        err.print("[bold]May the debtor be called at 23:00 Beijing time?[/] (no: CN-HOURS)")
        print(demo_contact_check(_base_url(host, port), plaintext, debtor_id, today=date.today()))
    err.print(f"Database: {_database()}")

    import uvicorn  # only this command needs the server

    # uvicorn[standard]: httptools and uvloop, chosen by uvicorn's "auto" when installed
    uvicorn.run("app.main:app", host=host, port=port, workers=workers or cores())


@app.command()
def simulate(
    portfolio: Path = typer.Argument(
        ..., exists=True, help="The debts: .parquet or .csv, one row per debt."
    ),
    grid: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="YAML: policy variants to try, and the base."
    ),
    as_of: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="The date the debts are owed on (default: today)."
    ),
    engine: str = typer.Option("pandas", help="pandas (this process) or dask (a cluster)."),
    scheduler: str | None = typer.Option(
        None, help="Dask scheduler, tcp://host:8786 (default: a local cluster)."
    ),
    workers: int = typer.Option(2, min=1, help="Local Dask worker processes, or pandas threads."),
    out: Path | None = typer.Option(None, file_okay=False, help="Directory for the results."),
    fmt: str = typer.Option("parquet", "--format", help="Result files: parquet or csv."),
    top: int = typer.Option(10, min=1, help="Grid points shown per currency, best first."),
    consolidate: bool = typer.Option(
        False,
        help="Negotiate each debtor's debts together (a debtor_id column): each debt's capacity"
        " and lump sum become its share of its debtor's, pro rata by balance (on dask, after"
        " a shuffle that puts each debtor's debts in one partition).",
    ),
) -> None:
    """Simulate a portfolio under a grid of policies: every offer of every debt, and totals.

    Columns: currency, principal, interest, fees, nominal_annual_rate, days_past_due, capacity
    (a month), lump_sum, in major units as decimals ("1234.56", "0.18"), or as integers under
    principal_minor, ..., nominal_annual_rate_ppm; debt_id is echoed (the dask engine needs
    it). Writes the offers and the totals to --out, and prints the best grid points per
    currency by expected recovery.

    Example: repay simulate portfolio.parquet --grid grid.yaml --engine dask --scheduler
    tcp://host:8786 --out results/
    """
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from app.finance import simulations
    from plans.errors import DomainError
    from plans.simulation.debtors import pro_rata_portfolio

    try:
        chosen, file_format = simulations.Engine(engine), simulations.Format(fmt)
    except ValueError:
        raise typer.BadParameter(
            f"--engine is pandas or dask, --format parquet or csv (not {engine}, {fmt})"
        ) from None
    day = as_of.date() if as_of else date.today()
    if day.day > 28:
        err.print(
            "Note: the simulation measures APRs in whole months, exact for as-of days up to the"
            " 28th; other figures are exact."
        )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        points = simulations.read_grid(grid)
        with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
            what = "debts" if chosen is simulations.Engine.PANDAS else "partitions"
            task = bar.add_task(f"Simulating {len(points)} grid point(s): {what}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if chosen is simulations.Engine.PANDAS:
                frame = simulations.read_portfolio(portfolio)
                if consolidate:
                    frame = pro_rata_portfolio(frame)
                sim = simulations.run_pandas(
                    frame,
                    points,
                    as_of=day,
                    workers=workers,
                    out=out,
                    fmt=file_format,
                    progress=progress,
                )
            else:
                with simulations.dask_client(scheduler, workers=workers) as client:
                    sim = simulations.run_dask(
                        portfolio,
                        points,
                        as_of=day,
                        client=client,
                        out=out,
                        fmt=file_format,
                        progress=progress,
                        consolidate=consolidate,
                    )
    except (DomainError, ValueError, OSError) as exc:
        err.print(f"[red]Cannot simulate:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    for table in simulations.summary_tables(sim, top=top):
        Console().print(table)
    if out is not None:
        written = simulations.write_results(sim, out, file_format)
        err.print(f"Results in {out}/: offers/, {', '.join(p.name for p in written)}")


def main() -> None:
    """Entry point of the ``repay`` console script."""
    try:
        app()
    except SettingsError as error:  # read first by a command in WITHOUT_SETTINGS
        raise SystemExit(_refuse_configuration(error).exit_code) from None


@outbox_app.command("schedule")
def outbox_schedule(
    on: str | None = typer.Option(None, help="Judge instalments on this date (default today)."),
) -> None:
    """Queue missed-payment notices and the coming reminders not queued yet (run daily, cron).

    Reminders wanted that day and the next: those of a party or a channel added to a debt
    after its plan was accepted. One transaction: all of it or nothing.
    """
    day_ = date.fromisoformat(on) if on else date.today()
    with get_sessionmaker().begin() as session:
        moved = links_plans.review_plans(session, on=day_)
        queued = notices.missed_notices(session, on=day_)
        reminders = notices.coming_reminders(session, on=day_)
    err.print(f"Recorded {moved} plan transitions through {day_}.")
    err.print(f"Queued {queued} missed-payment notices (instalments judged on {day_}).")
    err.print(
        f"Queued {reminders.queued} reminders, dropped {reminders.dropped} that cannot be sent"
        f" in time ({reminders.plans} plans; wanted on {day_} or the day after)."
    )


@plans_app.command("review")
def plans_review(
    on: str | None = typer.Option(None, help="Record plans' lives through this date (today)."),
) -> None:
    """Record every open plan's life through the day: late, missed, broken as dates pass, each
    transition audited and its notice queued (run daily; ``outbox schedule`` does it too).
    Running it again for the same day records nothing."""
    day_ = date.fromisoformat(on) if on else date.today()
    with get_sessionmaker().begin() as session:
        moved = links_plans.review_plans(session, on=day_)
    err.print(f"Recorded {moved} plan transitions through {day_}.")


@outbox_app.command("drain")
def outbox_drain(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print what is due, addresses masked; claim nothing."
    ),
    limit: int = typer.Option(100, min=1, help="At most this many messages."),
) -> None:
    """Show the messages a sender would claim now. Senders claim through GET /v1/outbox, or
    send them with `repay outbox send`."""
    if not dry_run:
        err.print(
            "Only --dry-run: senders claim messages through GET /v1/outbox (finance key);"
            " `repay outbox send` sends them to a webhook."
        )
        raise typer.Exit(2)
    with get_sessionmaker()() as session:
        due = list(outbox.preview(session, limit=limit))
    for message in due:
        print(
            f"{message['id']}  {message['kind']:<12} {message['channel']:<5} "
            f"{message['to'] or '(no address)'}  {message['send_at'].isoformat()}  "
            f"{message['debt_ref']}"
        )
        print("    " + message["text"].rstrip("\n").replace("\n", "\n    "))
    err.print(f"{len(due)} message(s) due; nothing was claimed.")


@outbox_app.command("send")
def outbox_send(
    webhook: str | None = typer.Option(
        None, "--webhook", metavar="URL", help="POST messages here (default REPAY_WEBHOOK_URL)."
    ),
    once: bool = typer.Option(False, "--once", help="Send what is due now, then exit."),
    limit: int = typer.Option(50, min=1, max=500, help="Messages claimed at a time."),
    lease: float = typer.Option(
        60.0, min=1, max=3600, help="Seconds a claim is held; none is sent too late to ack."
    ),
    timeout: float = typer.Option(webhook_.TIMEOUT, min=0.1, help="Seconds per request."),
    poll: float = typer.Option(2.0, min=0.01, help="Seconds between looks when nothing is due."),
) -> None:
    """Send due messages to a webhook, signed (Repay-Signature), until SIGTERM/SIGINT.

    Each is acknowledged once the receiver answers 2xx; see app/messaging/webhook.py for the scheme.
    --once exits 1 if a message claimed was not delivered.
    """
    settings = get_settings()
    url = webhook or settings.webhook_url
    if not url:
        err.print("No webhook: pass --webhook URL or set REPAY_WEBHOOK_URL.")
        raise typer.Exit(2)
    if not settings.webhook_secret:
        err.print("REPAY_WEBHOOK_SECRET is required: receivers check the signature with it.")
        raise typer.Exit(2)
    try:
        sender = webhook_.Sender(
            url,
            settings.webhook_secret,
            limit=limit,
            lease=timedelta(seconds=lease),
            timeout=timeout,
        )
    except ValueError as exc:
        err.print(f"Cannot send: {exc}.")
        raise typer.Exit(2) from None
    # A stop finishes the message in hand and gives the rest of its batch back.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: sender.stop.set())
    with sender.client:
        total = sender.run(once=once, poll=poll)
    if once and total.delivered < total.claimed:
        raise typer.Exit(1)


def _verification(path: Path | None) -> AuditVerification:
    with get_sessionmaker()() as session:
        result = trail.verify(session, checkpoint_path=path)
    return AuditVerification.model_validate(trail.as_verification_json(result))


@audit_app.command("verify")
def audit_verify(
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        metavar="FILE",
        help="The signed checkpoint to compare with (default REPAY_AUDIT_CHECKPOINT_PATH).",
    ),
) -> None:
    """Check the audit trail offline, as GET /v1/audit/verify does, from DATABASE_URL and
    REPAY_SECRET_KEY: every keyed hash, then the chain's length and head against the checkpoint.

    Prints the verification as JSON; exits 0 if the trail holds, 1 if it does not.
    """
    path = checkpoint or get_settings().audit_checkpoint_path
    verified = _verification(path)
    print(verified.model_dump_json(indent=2))
    if path is None:
        err.print("No checkpoint (--checkpoint FILE or REPAY_AUDIT_CHECKPOINT_PATH): a truncated")
        err.print("trail cannot be told from a short one.")
    if not verified.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    to: Path | None = typer.Option(
        None, "--to", metavar="FILE", help="Write here (default REPAY_AUDIT_CHECKPOINT_PATH)."
    ),
) -> None:
    """Verify the audit trail, then write a signed checkpoint of its head (count, last hash,
    time). The service writes one every REPAY_AUDIT_CHECKPOINT_EVERY events; run this from cron
    for one in time too. A trail that does not verify gets none (exit 1): it would bless the
    break. A checkpoint of fewer events than the one in the file is not written."""
    path = to or get_settings().audit_checkpoint_path
    if path is None:
        err.print("Where to? Pass --to FILE or set REPAY_AUDIT_CHECKPOINT_PATH.")
        raise typer.Exit(2)
    verified = _verification(path)
    if not verified.ok:
        print(verified.model_dump_json(indent=2))
        err.print(f"The audit trail does not verify ({verified.reason}): no checkpoint written.")
        raise typer.Exit(1)
    with get_sessionmaker()() as session:
        head = trail.head(session)
    if audit_checkpoints.write(path, head):
        print(json.dumps(head.document(), indent=2))
        err.print(f"Checkpoint of {head.events} events written to {path}.")
    else:
        err.print(f"{path} holds a checkpoint of as many events or more: kept.")
