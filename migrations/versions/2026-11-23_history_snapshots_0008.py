"""history snapshots: an as_of read starts from the last snapshot before its moment; events by (sku, seq)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 00:00:00

Records changed before this revision gain snapshots as they change again; until then an as_of read of them walks
their events from the first, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_snapshot",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.PrimaryKeyConstraint("sku", "seq", name=op.f("pk_history_snapshot")),
    )
    with op.batch_alter_table("history_event", schema=None) as batch_op:
        batch_op.create_index("ix_history_event_sku_seq", ["sku", "seq"], unique=False)
        batch_op.drop_index("ix_history_event_sku")


def downgrade() -> None:
    with op.batch_alter_table("history_event", schema=None) as batch_op:
        batch_op.create_index("ix_history_event_sku", ["sku"], unique=False)
        batch_op.drop_index("ix_history_event_sku_seq")
    op.drop_table("history_snapshot")
