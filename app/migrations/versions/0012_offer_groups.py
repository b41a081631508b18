"""Consolidated offers and plans: several debts' offers saved, accepted and paid as one.

``offer_groups`` holds a consolidated offer's link (its token's hash and sealed copy, as
``offers`` keeps them), its combined document, its summaries and the order in which its
allocation rule pays the debts; each debt's offer (``offers.group_id``,
``offers.group_position``) stays a row of its own with its single-debt document, accepted as a
plan of its own. ``group_payments`` holds the money received against a consolidated plan once
per Idempotency-Key; each debt's share of it is a row of ``plan_payments``
(``plan_payments.group_payment_id``).

Every existing offer and payment is a single debt's: the new columns are null for them.
Downgrading drops the tables and columns, and with them any consolidated offer's grouping (each
debt's offer, plan and payments remain, as single-debt rows).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "offer_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_sealed", sa.String(length=200), nullable=False),
        sa.Column("allocation_rule", sa.String(length=20), nullable=False),
        sa.Column("debt_order", JSON, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("summaries", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_groups")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_offer_groups_token_hash")),
    )
    op.create_table(
        "group_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["offer_groups.id"], name=op.f("fk_group_payments_group_id_offer_groups")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["api_keys.id"], name=op.f("fk_group_payments_created_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_payments")),
        sa.UniqueConstraint(
            "group_id", "idempotency_key", name=op.f("uq_group_payments_group_id_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_group_payments_group_id"), "group_payments", ["group_id"])
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("group_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("group_position", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_offers_group_id_offer_groups"), "offer_groups", ["group_id"], ["id"]
        )
        batch.create_index(batch.f("ix_offers_group_id"), ["group_id"])
    with op.batch_alter_table("plan_payments") as batch:
        batch.add_column(sa.Column("group_payment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_plan_payments_group_payment_id_group_payments"),
            "group_payments",
            ["group_payment_id"],
            ["id"],
        )
        batch.create_index(batch.f("ix_plan_payments_group_payment_id"), ["group_payment_id"])


def downgrade() -> None:
    with op.batch_alter_table("plan_payments") as batch:
        batch.drop_index(batch.f("ix_plan_payments_group_payment_id"))
        batch.drop_constraint(
            batch.f("fk_plan_payments_group_payment_id_group_payments"), type_="foreignkey"
        )
        batch.drop_column("group_payment_id")
    with op.batch_alter_table("offers") as batch:
        batch.drop_index(batch.f("ix_offers_group_id"))
        batch.drop_constraint(batch.f("fk_offers_group_id_offer_groups"), type_="foreignkey")
        batch.drop_column("group_position")
        batch.drop_column("group_id")
    op.drop_index(op.f("ix_group_payments_group_id"), table_name="group_payments")
    op.drop_table("group_payments")
    op.drop_table("offer_groups")
