"""who made and who revoked each key (a key id, or `system` for the command line); null for keys made before

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 00:00:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("created_by")
