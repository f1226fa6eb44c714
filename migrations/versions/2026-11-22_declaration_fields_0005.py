"""declaration fields and tax terms: import mode, account-book item number, barcode, declared unit; the VAT,
consumption tax and any price threshold fixed at approval

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:30:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tax-rates set shipped before this revision: a filing approved under it had its composite rate from the
# longest of these prefixes that its HS code starts with (unless an admin had replaced the set, read below).
SHIPPED_RATES = [
    {"prefix": "", "vat": "0.13", "consumption_tax": "0"},
    {"prefix": "0409", "vat": "0.09", "consumption_tax": "0"},
    {"prefix": "1507", "vat": "0.09", "consumption_tax": "0"},
    {"prefix": "1509", "vat": "0.09", "consumption_tax": "0"},
    {"prefix": "2204", "vat": "0.13", "consumption_tax": "0.10"},
]


def upgrade() -> None:
    with op.batch_alter_table("product") as batch_op:
        batch_op.add_column(sa.Column("import_mode", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("item_record_no", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("gtin", sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column("declared_unit", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("vat", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("consumption_tax", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("tax_rate_above", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("threshold_per", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("threshold_price", sa.String(length=24), nullable=True))
    # A filing approved before this revision gets the VAT and consumption tax its composite rate was made of.
    bind = op.get_bind()
    stored = bind.execute(sa.text("SELECT data FROM reference_set WHERE name = 'tax-rates'")).scalar()
    rates = SHIPPED_RATES if stored is None else (stored if isinstance(stored, list) else _json(stored))
    by_length = sorted(rates, key=lambda rate: len(rate["prefix"]), reverse=True)
    rows = bind.execute(sa.text("SELECT id, hs_code FROM product WHERE tax_rate IS NOT NULL")).all()
    for row_id, hs_code in rows:
        rate = next(rate for rate in by_length if hs_code.startswith(rate["prefix"]))
        bind.execute(
            sa.text("UPDATE product SET vat = :vat, consumption_tax = :ct WHERE id = :id"),
            {
                "vat": str(Decimal(str(rate["vat"]))),
                "ct": str(Decimal(str(rate.get("consumption_tax", "0")))),
                "id": row_id,
            },
        )


def _json(text: str) -> list[dict[str, str]]:
    import json

    value: list[dict[str, str]] = json.loads(text)
    return value


def downgrade() -> None:
    with op.batch_alter_table("product") as batch_op:
        for name in (
            "threshold_price",
            "threshold_per",
            "tax_rate_above",
            "consumption_tax",
            "vat",
            "declared_unit",
            "gtin",
            "item_record_no",
            "import_mode",
        ):
            batch_op.drop_column(name)
