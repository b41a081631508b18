"""Change requests: a plan the debtor asked for through their link, and the decision on it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("offer_id", sa.String(length=32), nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=True),
        sa.Column("debt_ref", sa.String(length=100), nullable=False),
        sa.Column("choice", sa.String(length=20), nullable=False),
        sa.Column("proposal", _json(), nullable=False),
        sa.Column("owed", _json(), nullable=False),
        sa.Column("document", _json(), nullable=False),
        sa.Column("summaries", _json(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision_offer_id", sa.String(length=32), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'offered', 'declined')", name=op.f("ck_change_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_change_requests_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["accepted_plans.id"],
            name=op.f("fk_change_requests_plan_id_accepted_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_offer_id"],
            ["offers.id"],
            name=op.f("fk_change_requests_decision_offer_id_offers"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["api_keys.id"], name=op.f("fk_change_requests_decided_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
        sa.UniqueConstraint(
            "offer_id", "request_hash", name=op.f("uq_change_requests_offer_id_request_hash")
        ),
    )
    with op.batch_alter_table("change_requests") as batch_op:
        batch_op.create_index(batch_op.f("ix_change_requests_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_requests_debt_ref"), ["debt_ref"], unique=False)


def downgrade() -> None:
    op.drop_table("change_requests")
