"""The transactional outbox: reminders, confirmations and notices to a debt's parties.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("debt_ref", sa.String(length=100), nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=True),
        sa.Column("party_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("instalment", sa.Integer(), nullable=True),
        sa.Column("content_sealed", sa.Text(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_reason", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reminder', 'confirmation', 'missed')", name=op.f("ck_outbox_kind")
        ),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_outbox_channel")),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'cancelled')", name=op.f("ck_outbox_status")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_outbox_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["accepted_plans.id"], name=op.f("fk_outbox_plan_id_accepted_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_debt_ref"), ["debt_ref"], unique=False)
        batch_op.create_index("ix_outbox_due", ["status", "send_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_party_id"), ["party_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_plan_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_party_id"))
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_debt_ref"))

    op.drop_table("outbox")
