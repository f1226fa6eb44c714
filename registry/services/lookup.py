"""Declaration look-ups: what an order line needs to declare a SKU by its filing number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec
from sqlalchemy import select

from registry.domain import lifecycle
from registry.domain.errors import NotFound
from registry.models import FilingNumber, Product
from registry.services.context import Context


class FilingOut(msgspec.Struct, omit_defaults=True):
    sku: str
    filing_no: str | None
    hs_code: str
    tax_rate: Decimal | None
    status: str
    declarable: bool
    valid_until: dt.date | None
    superseded_by: str | None = None


async def by_filing_no(ctx: Context, filing_no: str) -> FilingOut:
    """A filing number, current or old: an old one names the number that superseded it and is not declarable."""
    async with ctx.db.reads() as tx:
        issued = await tx.get(FilingNumber, filing_no)
        product = await tx.scalar(select(Product).where(Product.sku == issued.sku)) if issued else None
    if issued is None or product is None:
        raise NotFound(f"no filing number {filing_no}")
    current = product.filing_no == filing_no
    return FilingOut(
        sku=product.sku,
        filing_no=filing_no,
        hs_code=product.hs_code,
        tax_rate=product.tax_rate,
        status=product.status,
        declarable=current and lifecycle.declarable(product.status, product.valid_until, ctx.today()),
        valid_until=product.valid_until if current else issued.valid_until,
        superseded_by=issued.superseded_by,
    )
