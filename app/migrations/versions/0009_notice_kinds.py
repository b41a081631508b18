"""The outbox's new kinds of message: a plan broken, replaced or paid in full.

Downgrading first cancels nothing and deletes nothing silently: it refuses while the outbox
holds messages of the new kinds (they would break the old constraint); delete or archive them
first.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD = ("reminder", "confirmation", "missed")
NEW = (*OLD, "plan_broken", "plan_replaced", "plan_completed")


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    # batch mode: SQLite cannot alter a constraint, so the table is copied (PostgreSQL alters)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("kind", type_="check")
        batch.create_check_constraint("kind", _kinds(NEW))


def downgrade() -> None:
    found = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM outbox WHERE NOT (" + _kinds(OLD) + ")")
    )
    if found:
        raise RuntimeError(
            f"the outbox holds {found} messages of kinds before 0009 unknown"
            f" ({', '.join(NEW[len(OLD) :])}): delete or archive them before downgrading"
        )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("kind", type_="check")
        batch.create_check_constraint("kind", _kinds(OLD))
