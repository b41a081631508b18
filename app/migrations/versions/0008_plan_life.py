"""A plan's recorded life: its state, the transitions that led there, and the plan it replaced.

* ``accepted_plans`` gets its debt (``debt_id``, from its offer), its recorded ``state``,
  ``state_since`` and ``reviewed_through``, and ``replaces_id``/``replaced_by_id``; a partial
  unique index allows one open plan per debt.
* ``offers`` gets ``replaces_plan_id``: the debt's open plan when the offer was saved.
* ``plan_payments`` gets ``known_on``: the day the plan's life counts a payment from (the later
  of its date and the day it was recorded).
* ``plan_transitions`` records every move.

Existing plans start ``active`` on their acceptance day, reviewed through it (the daily job
records what happened since, from their payments). Where a debt has several plans, all but the
last accepted are recorded as replaced by the next one: before this revision a new plan never
closed the old.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPEN = "state IN ('active', 'late', 'missed', 'cured', 'broken')"
STATES = (
    "state IN ('active', 'late', 'missed', 'cured', 'broken', 'completed', 'replaced',"
    " 'cancelled', 'written_off')"
)


def _day(value: Any) -> date:
    # SQLite hands a raw SELECT's timestamps back as text
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime | date)
    return when.date() if isinstance(when, datetime) else when


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("accepted_plans") as batch:
        batch.add_column(sa.Column("debt_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("state_since", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reviewed_through", sa.Date(), nullable=True))
        batch.add_column(sa.Column("replaces_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("replaced_by_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("plan_payments") as batch:
        batch.add_column(sa.Column("known_on", sa.Date(), nullable=True))
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("replaces_plan_id", sa.String(length=32), nullable=True))
    transitions = op.create_table(
        "plan_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cause IN ('date', 'payment', 'decision')", name=op.f("ck_plan_transitions_cause")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["accepted_plans.id"],
            name=op.f("fk_plan_transitions_plan_id_accepted_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["plan_payments.id"],
            name=op.f("fk_plan_transitions_payment_id_plan_payments"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["api_keys.id"], name=op.f("fk_plan_transitions_decided_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_transitions")),
        sa.UniqueConstraint("plan_id", "seq", name=op.f("uq_plan_transitions_plan_id_seq")),
    )
    op.create_index(op.f("ix_plan_transitions_plan_id"), "plan_transitions", ["plan_id"])

    for payment_id, paid_on, created_at in bind.execute(
        sa.text("SELECT id, paid_on, created_at FROM plan_payments")
    ):
        known = max(_day(paid_on), _day(created_at))
        bind.execute(
            sa.text("UPDATE plan_payments SET known_on = :k WHERE id = :i"),
            {"k": known, "i": payment_id},
        )
    plans = list(
        bind.execute(
            sa.text(
                "SELECT p.id, o.debt_id, p.accepted_at FROM accepted_plans p"
                " JOIN offers o ON o.id = p.offer_id ORDER BY o.debt_id, p.accepted_at, p.id"
            )
        )
    )
    now = datetime.now(UTC)
    rows = []
    for index, (plan_id, debt_id, accepted_at) in enumerate(plans):
        day = _day(accepted_at)
        successor = plans[index + 1] if index + 1 < len(plans) else None
        replaced = successor is not None and successor[1] == debt_id
        values = {
            "i": plan_id,
            "d": debt_id,
            "s": "replaced" if replaced else "active",
            "day": day,
            "since": _day(successor[2]) if replaced and successor else day,
            "by": successor[0] if replaced and successor else None,
            "prev": plans[index - 1][0] if index and plans[index - 1][1] == debt_id else None,
        }
        bind.execute(
            sa.text(
                "UPDATE accepted_plans SET debt_id = :d, state = :s, state_since = :since,"
                " reviewed_through = :day, replaced_by_id = :by, replaces_id = :prev"
                " WHERE id = :i"
            ),
            values,
        )
        if replaced:
            rows.append(
                {
                    "plan_id": plan_id,
                    "seq": 1,
                    "on": values["since"],
                    "from_state": "active",
                    "to_state": "replaced",
                    "cause": "decision",
                    "decision": "replace",
                    "detail": f"replaced by plan {values['by']} (recorded by revision 0008)",
                    "payment_id": None,
                    "decided_by": None,
                    "recorded_at": now,
                }
            )
    if rows:
        op.bulk_insert(transitions, rows)

    with op.batch_alter_table("plan_payments") as batch:
        batch.alter_column("known_on", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("accepted_plans") as batch:
        for column, kind in (
            ("debt_id", sa.String(length=32)),
            ("state", sa.String(length=16)),
            ("state_since", sa.Date()),
            ("reviewed_through", sa.Date()),
        ):
            batch.alter_column(column, existing_type=kind, nullable=False)
        batch.create_foreign_key(
            op.f("fk_accepted_plans_debt_id_debts"), "debts", ["debt_id"], ["id"]
        )
        batch.create_index(op.f("ix_accepted_plans_debt_id"), ["debt_id"])
        batch.create_check_constraint(op.f("ck_accepted_plans_state"), STATES)
    op.create_index(
        "uq_accepted_plans_open_debt",
        "accepted_plans",
        ["debt_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_accepted_plans_open_debt", table_name="accepted_plans")
    op.drop_index(op.f("ix_plan_transitions_plan_id"), table_name="plan_transitions")
    op.drop_table("plan_transitions")
    with op.batch_alter_table("plan_payments") as batch:
        batch.drop_column("known_on")
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("replaces_plan_id")
    with op.batch_alter_table("accepted_plans") as batch:
        batch.drop_constraint(op.f("ck_accepted_plans_state"), type_="check")
        batch.drop_index(op.f("ix_accepted_plans_debt_id"))
        batch.drop_constraint(op.f("fk_accepted_plans_debt_id_debts"), type_="foreignkey")
        for column in (
            "replaced_by_id",
            "replaces_id",
            "reviewed_through",
            "state_since",
            "state",
            "debt_id",
        ):
            batch.drop_column(column)
