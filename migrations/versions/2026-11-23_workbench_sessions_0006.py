"""workbench sessions and the secret its forms' CSRF tokens are signed with

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 00:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ui_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_ui_session")),
    )
    op.create_index(op.f("ix_ui_session_key_id"), "ui_session", ["key_id"], unique=False)
    op.create_index(op.f("ix_ui_session_expires_at"), "ui_session", ["expires_at"], unique=False)
    secret = op.create_table(
        "ui_secret",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ui_secret")),
    )
    op.bulk_insert(secret, [{"id": 1, "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("ui_secret")
    op.drop_index(op.f("ix_ui_session_expires_at"), table_name="ui_session")
    op.drop_index(op.f("ix_ui_session_key_id"), table_name="ui_session")
    op.drop_table("ui_session")
