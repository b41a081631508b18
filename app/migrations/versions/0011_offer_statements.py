"""A saved offer keeps the income and expenditure statement it was negotiated from.

``offers.statement`` holds the statement as the collector gave it and what it leaves: the
debtor's page shows it back to them (so that a wrong figure can be put right through the change
page), and the offer's fit to it. Null for an offer made from a payment alone or an explicit
plan, and for every offer saved before this revision.

Downgrading drops the column: the statements go with it (the offers' documents keep their
figures).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.add_column(
            sa.Column(
                "statement",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("statement")
