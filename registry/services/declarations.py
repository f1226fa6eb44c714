"""The order check: what the registry holds of each SKU of an order, read in one go, priced by the domain."""

from __future__ import annotations

from sqlalchemy import select

from registry.domain import declaration, lifecycle, limits, rules
from registry.domain.declaration import DeclarationIn, DeclarationOut, Filed
from registry.domain.errors import ValidationFailed
from registry.domain.records import read_sku
from registry.domain.spec import net_content
from registry.domain.violations import Violation
from registry.models import Product
from registry.services.context import Context
from registry.services.lookup import threshold

CHUNK = 500  # SKUs per IN list


async def check(ctx: Context, order: DeclarationIn) -> DeclarationOut:
    """Price an order from the records as they are now (not the look-up index, which may trail another
    instance's change by its staleness)."""
    if len(order.items) > limits.BATCH:
        raise ValidationFailed([Violation("/items", "format.too_many", f"at most {limits.BATCH:,} lines an order")])
    skus = sorted({read_sku(item.sku) for item in order.items if rules.SKU.fullmatch(read_sku(item.sku))})
    today = ctx.today()
    found: dict[str, Filed] = {}
    async with ctx.db.reads() as tx:
        for start in range(0, len(skus), CHUNK):
            rows = await tx.scalars(select(Product).where(Product.sku.in_(skus[start : start + CHUNK])))
            for row in rows:
                found[row.sku] = Filed(
                    sku=row.sku,
                    status=row.status,
                    declarable=lifecycle.declarable(row.status, row.valid_until, today),
                    valid_until=row.valid_until,
                    filing_no=row.filing_no,
                    hs_code=row.hs_code,
                    name_cn=row.name_cn,
                    import_mode=row.import_mode,
                    item_record_no=row.item_record_no,
                    gtin=row.gtin,
                    origin_country=row.origin_country,
                    declared_unit=row.declared_unit,
                    net=net_content(row.spec),
                    vat=row.vat,
                    consumption_tax=row.consumption_tax,
                    threshold=threshold(row.threshold_per, row.threshold_price),
                )
    return declaration.price(order, {item.sku: found.get(read_sku(item.sku)) for item in order.items})
