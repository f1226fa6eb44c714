"""The order check: what the registry holds of each SKU of an order, read in one go, priced by the domain with the
tax rates in force on the declaration day."""

from __future__ import annotations

from sqlalchemy import select

from registry.domain import declaration, lifecycle, limits, rules
from registry.domain.declaration import DeclarationIn, DeclarationOut, Filed
from registry.domain.errors import ValidationFailed
from registry.domain.records import read_sku
from registry.domain.spec import net_content
from registry.domain.tax import terms_for
from registry.domain.violations import Violation
from registry.models import Product
from registry.services import reference
from registry.services.context import Context
from registry.services.lookup import hold_codes

CHUNK = 500  # SKUs per IN list


async def check(ctx: Context, order: DeclarationIn) -> DeclarationOut:
    """Price an order from the records as they are now (not the look-up index, which may trail another
    instance's change by its staleness), each line with the `tax-rates` edition in force on `declared_on`."""
    if len(order.items) > limits.BATCH:
        raise ValidationFailed([Violation("/items", "format.too_many", f"at most {limits.BATCH:,} lines an order")])
    skus = sorted({read_sku(item.sku) for item in order.items if rules.SKU.fullmatch(read_sku(item.sku))})
    day = order.declared_on or ctx.today()
    found: dict[str, Filed] = {}
    async with ctx.db.reads() as tx:
        ref = await reference.on(ctx, tx, day)
        for start in range(0, len(skus), CHUNK):
            rows = await tx.scalars(select(Product).where(Product.sku.in_(skus[start : start + CHUNK])))
            for row in rows:
                net = net_content(row.spec)
                hold = hold_codes(row.hold_violations)
                terms = terms_for(row.hs_code, net, ref) if row.vat is not None else None  # filed: priced
                duty, unit = ref.duty(row.hs_code), ref.legal_unit(row.hs_code)
                found[row.sku] = Filed(
                    sku=row.sku,
                    status=row.status,
                    declarable=lifecycle.declarable(row.status, row.valid_until, day, held=hold is not None),
                    valid_until=row.valid_until,
                    filing_no=row.filing_no,
                    hs_code=row.hs_code,
                    name_cn=row.name_cn,
                    import_mode=row.import_mode,
                    item_record_no=row.item_record_no,
                    gtin=row.gtin,
                    origin_country=row.origin_country,
                    declared_unit=row.declared_unit,
                    net=net,
                    vat=terms.vat if terms else None,
                    consumption_tax=terms.consumption_tax if terms else None,
                    threshold=terms.threshold if terms else None,
                    hold=hold,
                    specific=terms.specific if terms else None,
                    duty=duty.rate if duty else None,
                    unit1=unit.unit1 if unit else None,
                    brand=row.brand,
                    spec=row.spec,
                )
    return declaration.price(order, {item.sku: found.get(read_sku(item.sku)) for item in order.items})
