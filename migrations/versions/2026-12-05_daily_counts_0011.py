"""daily counts: statistics add up days, never submissions; a decision records its review hours; the indexes the
statistics read alone

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 00:00:00

The counts of the submissions made before this revision are written here from the submission rows, in the days of
the customs time zone the service is configured with (REGISTRY_TIMEZONE).
"""

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from registry.config import Settings

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def upgrade() -> None:
    daily = op.create_table(
        "daily_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "measure", "key", name=op.f("pk_daily_count")),
    )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_hours", sa.Float(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_submission_decided_at"))
        batch_op.create_index("ix_submission_decided_at_review_hours", ["decided_at", "review_hours"], unique=False)
    op.create_index("ix_product_status_units", "product", ["status", "monthly_units", "submitted_at"], unique=False)

    zone = ZoneInfo(Settings.from_env().timezone)
    submission = sa.table(
        "submission",
        sa.column("id", sa.Integer),
        sa.column("sku", sa.String),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("passed", sa.Boolean),
        sa.column("codes", sa.JSON),
        sa.column("decided_at", sa.DateTime(timezone=True)),
        sa.column("decision", sa.String),
        sa.column("review_hours", sa.Float),
    )
    bind = op.get_bind()
    counts: Counter[tuple[dt.date, str, str]] = Counter()
    previous: dict[str, dt.date] = {}
    hours: list[dict[str, object]] = []
    rows = bind.execute(sa.select(submission).order_by(submission.c.id))
    for row in rows:
        day = _utc(row.at).astimezone(zone).date()
        before = previous.get(row.sku)
        key = before.isoformat() if before else ""
        previous[row.sku] = day
        counts[day, "submitted", key] += 1
        if row.passed:
            counts[day, "passed", key] += 1
        for code in row.codes or []:
            counts[day, "refused", code] += 1
        if row.decided_at is not None:
            waited = (_utc(row.decided_at) - _utc(row.at)).total_seconds() / 3600
            hours.append({"row_id": row.id, "hours": waited})
            if row.decision == "approve":
                counts[_utc(row.decided_at).astimezone(zone).date(), "approved", ""] += 1
    if counts:
        op.bulk_insert(daily, [{"day": d, "measure": m, "key": k, "count": n} for (d, m, k), n in counts.items()])
    if hours:
        bind.execute(
            submission.update()
            .where(submission.c.id == sa.bindparam("row_id"))
            .values(review_hours=sa.bindparam("hours")),
            hours,
        )


def downgrade() -> None:
    op.drop_index("ix_product_status_units", table_name="product")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_decided_at_review_hours")
        batch_op.create_index(batch_op.f("ix_submission_decided_at"), ["decided_at"], unique=False)
        batch_op.drop_column("review_hours")
    op.drop_table("daily_count")
