"""The parties of a debt (contact details sealed) and the attempts to contact them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("debt_ref", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name_sealed", sa.String(length=1000), nullable=False),
        sa.Column("channels_sealed", sa.String(length=2000), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("guaranteed_minor", sa.BigInteger(), nullable=True),
        sa.Column("guaranteed_currency", sa.String(length=3), nullable=True),
        sa.Column(
            "opted_out",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('debtor', 'co_debtor', 'guarantor', 'third_party')",
            name=op.f("ck_parties_role"),
        ),
        sa.CheckConstraint(
            "jurisdiction IN ('CN', 'US', 'GB')", name=op.f("ck_parties_jurisdiction")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["api_keys.id"], name=op.f("fk_parties_created_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_debt_ref"), ["debt_ref"], unique=False)

    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debt_ref", sa.String(length=100), nullable=False),
        sa.Column("party_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('phone', 'email', 'sms')", name=op.f("ck_contact_attempts_channel")
        ),
        sa.CheckConstraint(
            "outcome IN ('no_answer', 'connected', 'message_left', 'wrong_party', 'refused')",
            name=op.f("ck_contact_attempts_outcome"),
        ),
        sa.CheckConstraint(
            "purpose IN ('collection', 'call_back')", name=op.f("ck_contact_attempts_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["api_keys.id"], name=op.f("fk_contact_attempts_created_by_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_contact_attempts_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
    )
    with op.batch_alter_table("contact_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_attempts_debt_ref"), ["debt_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contact_attempts_party_id"), ["party_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_attempts_party_id"))
        batch_op.drop_index(batch_op.f("ix_contact_attempts_debt_ref"))

    op.drop_table("contact_attempts")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_debt_ref"))

    op.drop_table("parties")
