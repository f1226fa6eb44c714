"""reference editions and holds: every version of a reference set with the day it takes effect; a filed record
the reference in force no longer passes is held

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 00:00:00

Each set an admin replaced before this revision becomes an edition in force from the day it was put, applied
(its records were checked then). Earlier versions live on in the history's reference_update events.
"""

import hashlib
from collections.abc import Sequence

import msgspec
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _entries(data: object) -> int:
    if isinstance(data, dict):
        return sum(len(entries) if isinstance(entries, list) else 1 for entries in data.values())
    return len(data) if isinstance(data, list) else 0


def upgrade() -> None:
    edition = op.create_table(
        "reference_edition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("put_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=217), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_edition")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_reference_edition_name_version")),
    )
    op.create_index(op.f("ix_reference_edition_applied_at"), "reference_edition", ["applied_at"], unique=False)
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hold_reference", sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column("hold_violations", JSON, nullable=True))
        batch_op.create_index(batch_op.f("ix_product_hold_since"), ["hold_since"], unique=False)

    sets = sa.table(
        "reference_set",
        sa.column("name", sa.String),
        sa.column("version", sa.Integer),
        sa.column("data", JSON),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by", sa.String),
    )
    rows = op.get_bind().execute(sa.select(sets)).all()
    if rows:
        op.bulk_insert(
            edition,
            [
                {
                    "name": name,
                    "version": version,
                    "effective_from": updated_at.date(),
                    "put_at": updated_at,
                    "actor": updated_by,
                    "source": None,
                    "sha256": hashlib.sha256(msgspec.json.encode(data, order="sorted")).hexdigest(),
                    "entries": _entries(data),
                    "data": data,
                    "applied_at": updated_at,
                }
                for name, version, data, updated_at, updated_by in rows
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_hold_since"))
        batch_op.drop_column("hold_violations")
        batch_op.drop_column("hold_reference")
        batch_op.drop_column("hold_since")
    op.drop_index(op.f("ix_reference_edition_applied_at"), table_name="reference_edition")
    op.drop_table("reference_edition")
