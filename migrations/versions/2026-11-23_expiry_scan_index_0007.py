"""an index on (status, valid_until): the expiry scan reads its due filings as a range of it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_product_status_valid_until", "product", ["status", "valid_until"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_product_status_valid_until", table_name="product")
