"""Organisations, teams and members; keys and policies belong to an organisation; the debt is a
row of its own that everything about it hangs off.

Existing data moves into one organisation, ``default``, with one team, ``default``:

* every key becomes its own member's (same name and role; collectors in the default team);
* every policy is the default organisation's (names now unique per organisation);
* every debt reference used anywhere (a recorded debt, an offer, a party, an attempt, a
  message, a change request) becomes one debt of the default organisation, assigned to the
  default team, with the recorded terms and jurisdiction where there were some; each offer,
  party, attempt, message and change request then names its debt (``debt_id``);
* audit events are the default organisation's (``organisation_id``, outside the hash: the
  chain's hashes stay as they were).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ROLES = "role IN ('collector', 'supervisor', 'finance', 'admin')"
DEFAULT = "default"
# Tables whose rows name a debt by its reference, and so get the debt's id.
CHILDREN = ("offers", "parties", "contact_attempts", "outbox", "change_requests")


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _now() -> datetime:
    return datetime.now(UTC)


def _document(value: Any) -> Any:
    # likewise a JSON column's value, which the JSON type would otherwise encode a second time
    return json.loads(value) if isinstance(value, str) else value


def _when(value: Any) -> Any:
    # SQLite hands a raw SELECT's timestamps back as text; its DateTime type takes datetimes.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def upgrade() -> None:
    bind = op.get_bind()
    now = _now()
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_teams_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("organisation_id", "name", name=op.f("uq_teams_organisation_id_name")),
    )
    op.create_index(op.f("ix_teams_organisation_id"), "teams", ["organisation_id"])
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(ROLES, name=op.f("ck_members_role")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_members_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_members_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    op.create_index(op.f("ix_members_organisation_id"), "members", ["organisation_id"])
    op.create_index(op.f("ix_members_team_id"), "members", ["team_id"])

    organisations = sa.table(
        "organisations", sa.column("id"), sa.column("name"), sa.column("created_at")
    )
    teams = sa.table(
        "teams",
        sa.column("id"),
        sa.column("organisation_id"),
        sa.column("name"),
        sa.column("created_at"),
    )
    # no explicit ids: PostgreSQL's sequences must hand out the next ones
    organisation = bind.execute(
        sa.insert(organisations).values(name=DEFAULT, created_at=now).returning(organisations.c.id)
    ).scalar_one()
    team = bind.execute(
        sa.insert(teams)
        .values(organisation_id=organisation, name=DEFAULT, created_at=now)
        .returning(teams.c.id)
    ).scalar_one()
    _keys_become_members(bind, now, organisation, team)
    _policies_belong_to_the_organisation(organisation)
    _debts_become_rows(bind, now, organisation, team)
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    bind.execute(sa.text("UPDATE audit_events SET organisation_id = :o"), {"o": organisation})
    op.create_index(op.f("ix_audit_events_organisation_id"), "audit_events", ["organisation_id"])


def _keys_become_members(bind: Any, now: datetime, organisation: int, team: int) -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
    members = sa.table(
        "members",
        sa.column("id"),
        sa.column("organisation_id"),
        sa.column("team_id"),
        sa.column("role"),
        sa.column("name"),
        sa.column("created_at"),
    )
    keys = bind.execute(sa.text("SELECT id, role, name FROM api_keys ORDER BY id")).all()
    for key_id, role, name in keys:
        member = bind.execute(
            sa.insert(members)
            .values(
                organisation_id=organisation,
                team_id=team if role == "collector" else None,
                role=role,
                name=name,
                created_at=now,
            )
            .returning(members.c.id)
        ).scalar_one()
        bind.execute(
            sa.text("UPDATE api_keys SET organisation_id = :o, member_id = :m WHERE id = :k"),
            {"o": organisation, "m": member, "k": key_id},
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("role", type_="check")
        batch.create_check_constraint("role", ROLES)
        batch.create_foreign_key(
            op.f("fk_api_keys_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        batch.create_foreign_key(
            op.f("fk_api_keys_member_id_members"), "members", ["member_id"], ["id"]
        )
        batch.create_index(op.f("ix_api_keys_organisation_id"), ["organisation_id"])
        batch.create_index(op.f("ix_api_keys_member_id"), ["member_id"])


def _policies_belong_to_the_organisation(organisation: int) -> None:
    with op.batch_alter_table("policies") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.get_bind().execute(sa.text("UPDATE policies SET organisation_id = :o"), {"o": organisation})
    with op.batch_alter_table("policies") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_policies_name", type_="unique")
        batch.create_unique_constraint(
            op.f("uq_policies_organisation_id_name"), ["organisation_id", "name"]
        )
        batch.create_foreign_key(
            op.f("fk_policies_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )


def _debts_become_rows(bind: Any, now: datetime, organisation: int, team: int) -> None:
    recorded = {
        row.ref: row
        for row in bind.execute(
            sa.text(
                "SELECT ref, jurisdiction, terms, created_by, created_at, updated_at FROM debts"
            )
        ).all()
    }
    opened_by: dict[str, int | None] = {ref: row.created_by for ref, row in recorded.items()}
    for table in ("offers", "parties", "contact_attempts"):
        found = bind.execute(
            sa.text(f"SELECT debt_ref, created_by FROM {table} ORDER BY created_at")
        ).all()
        for ref, created_by in found:
            opened_by.setdefault(ref, created_by)
    for table in ("outbox", "change_requests"):
        for (ref,) in bind.execute(sa.text(f"SELECT DISTINCT debt_ref FROM {table}")).all():
            opened_by.setdefault(ref, None)
    terms_type = _json()
    op.drop_table("debts")
    debts = op.create_table(
        "debts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("jurisdiction", sa.String(length=2), nullable=True),
        sa.Column("terms", terms_type, nullable=True),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "jurisdiction IN ('CN', 'US', 'GB')", name=op.f("ck_debts_jurisdiction")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_debts_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_debts_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["members.id"], name=op.f("fk_debts_assignee_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["api_keys.id"], name=op.f("fk_debts_opened_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debts")),
        sa.UniqueConstraint("organisation_id", "ref", name=op.f("uq_debts_organisation_id_ref")),
    )
    op.create_index(op.f("ix_debts_team_id"), "debts", ["team_id"])
    op.create_index(op.f("ix_debts_assignee_id"), "debts", ["assignee_id"])
    assert debts is not None
    rows = []
    for ref in sorted(opened_by):
        row = recorded.get(ref)
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "organisation_id": organisation,
                "ref": ref,
                "team_id": team,
                "assignee_id": None,
                "jurisdiction": None if row is None else row.jurisdiction,
                "terms": None if row is None else _document(row.terms),
                "opened_by": opened_by[ref],
                "opened_at": now if row is None else _when(row.created_at),
                "recorded_at": None if row is None else _when(row.created_at),
                "updated_at": None if row is None else _when(row.updated_at),
            }
        )
    if rows:
        op.bulk_insert(debts, rows)
    for table in CHILDREN:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("debt_id", sa.String(length=32), nullable=True))
        bind.execute(
            sa.text(
                f"UPDATE {table} SET debt_id = (SELECT debts.id FROM debts"
                f" WHERE debts.organisation_id = :o AND debts.ref = {table}.debt_ref)"
            ),
            {"o": organisation},
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("debt_id", existing_type=sa.String(length=32), nullable=False)
            batch.create_foreign_key(
                op.f(f"fk_{table}_debt_id_debts"), "debts", ["debt_id"], ["id"]
            )
            batch.create_index(op.f(f"ix_{table}_debt_id"), ["debt_id"])


def downgrade() -> None:
    """Back to one tenant: only possible while one organisation and no supervisor exist
    (their meaning has no place in the older schema); debts without recorded terms, and the
    teams and members, are dropped."""
    bind = op.get_bind()
    organisations = bind.execute(sa.text("SELECT count(*) FROM organisations")).scalar_one()
    supervisors = bind.execute(
        sa.text("SELECT count(*) FROM api_keys WHERE role = 'supervisor'")
    ).scalar_one()
    if organisations > 1 or supervisors:
        raise RuntimeError("0007 cannot go down with several organisations or supervisors")
    for table in CHILDREN:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(op.f(f"ix_{table}_debt_id"))
            batch.drop_constraint(op.f(f"fk_{table}_debt_id_debts"), type_="foreignkey")
            batch.drop_column("debt_id")
    op.drop_index(op.f("ix_audit_events_organisation_id"), table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("organisation_id")
    recorded = bind.execute(
        sa.text(
            "SELECT ref, jurisdiction, terms, opened_by, recorded_at, updated_at FROM debts"
            " WHERE recorded_at IS NOT NULL AND opened_by IS NOT NULL"
        )
    ).all()
    op.drop_table("debts")
    debts = op.create_table(
        "debts",
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("terms", _json(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "jurisdiction IN ('CN', 'US', 'GB')", name=op.f("ck_debts_jurisdiction")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["api_keys.id"], name=op.f("fk_debts_created_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_debts")),
    )
    assert debts is not None
    if recorded:
        op.bulk_insert(
            debts,
            [
                {
                    "ref": row.ref,
                    "jurisdiction": row.jurisdiction,
                    "terms": _document(row.terms),
                    "created_by": row.opened_by,
                    "created_at": _when(row.recorded_at),
                    "updated_at": _when(row.updated_at or row.recorded_at),
                }
                for row in recorded
            ],
        )
    with op.batch_alter_table("policies") as batch:
        batch.drop_constraint(op.f("fk_policies_organisation_id_organisations"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_policies_organisation_id_name"), type_="unique")
        batch.create_unique_constraint(op.f("uq_policies_name"), ["name"])
        batch.drop_column("organisation_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index(op.f("ix_api_keys_organisation_id"))
        batch.drop_index(op.f("ix_api_keys_member_id"))
        batch.drop_constraint(op.f("fk_api_keys_member_id_members"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_api_keys_organisation_id_organisations"), type_="foreignkey")
        batch.drop_constraint("role", type_="check")
        batch.create_check_constraint("role", "role IN ('collector', 'finance', 'admin')")
        batch.drop_column("member_id")
        batch.drop_column("organisation_id")
    op.drop_table("members")
    op.drop_table("teams")
    op.drop_table("organisations")
