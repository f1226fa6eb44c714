"""periodic review and submission counts: when each filing was approved or last reviewed, and every submit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product") as batch_op:
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_product_reviewed_at"), ["reviewed_at"], unique=False)
    # A filing approved before this revision was last looked at when it was approved.
    op.execute("UPDATE product SET reviewed_at = filed_at WHERE filed_at IS NOT NULL")
    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("codes", JSON, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission")),
    )
    with op.batch_alter_table("submission") as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_sku"), ["sku"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_decided_at"), ["decided_at"], unique=False)
    # The records under review now were submitted and passed: the reviewer's decision on them is counted too.
    op.execute(
        "INSERT INTO submission (sku, at, passed, codes) "
        "SELECT sku, submitted_at, true, '[]' FROM product WHERE status = 'under_review' AND submitted_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("submission")
    with op.batch_alter_table("product") as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_reviewed_at"))
        batch_op.drop_column("reviewed_at")
