"""texts fit their columns: actors, alert subjects and brand keys sized from registry.domain.limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, old length, new length); the new lengths are those of registry.domain.limits at this revision.
WIDENED = (
    ("history_event", "actor", 200, 217),
    ("alert", "subject", 200, 222),
    ("alert", "acknowledged_by", 200, 217),
    ("reference_set", "updated_by", 200, 217),
    ("product", "brand_key", 200, 600),
)


def upgrade() -> None:
    for table, column, old, new in WIDENED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, type_=sa.String(length=new), existing_type=sa.String(length=old))


def downgrade() -> None:
    for table, column, old, new in reversed(WIDENED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, type_=sa.String(length=old), existing_type=sa.String(length=new))
