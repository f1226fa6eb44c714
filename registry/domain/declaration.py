"""Pricing an order as customs does, and the registry's part of each line of the customs inventory message.

Per line: the dutiable value is the goods' value plus its share of freight and insurance (shared by value); the
consumption tax (CT) and VAT are computed separately and each rounded to the fen; within the limits each is 70 % of
the full amount (财关税〔2016〕18号, 〔2018〕49号). With a price threshold (high-end cosmetics, 财税〔2016〕103号)
the CT applies only when the line's dutiable price per ml, g or piece of net content reaches it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import msgspec

from registry.domain import customs, limits
from registry.domain.errors import ValidationFailed
from registry.domain.records import ImportMode, NetContent
from registry.domain.reference import Threshold
from registry.domain.tax import CROSS_BORDER_SHARE, composite_rate, is_price
from registry.domain.violations import Violation, pointer

FEN = Decimal("0.01")
ORDER_LIMIT = Decimal("5000")  # CNY of dutiable value per cross-border retail order
ANNUAL_LIMIT = Decimal("26000")  # CNY per person a year: a single piece from it on is general trade
ZERO = Decimal("0.00")


class LineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: str
    quantity: int
    unit_price: Decimal


class DeclarationIn(msgspec.Struct, forbid_unknown_fields=True):
    items: list[LineIn]
    freight: Decimal = ZERO
    insurance: Decimal = ZERO
    declared_on: dt.date | None = None  # the day customs accepts the declaration: its tax rates apply (default today)


class LineOut(msgspec.Struct):
    sku: str
    filing_no: str
    gcode: str  # the 10-digit HS code
    gname: str  # the Chinese name
    item_record_no: str | None
    bar_code: str | None
    country: str | None  # the origin's 3-digit customs code
    unit: str | None  # the declared unit's 3-digit customs code
    quantity: int
    unit_price: Decimal
    value: Decimal  # quantity × unit price
    dutiable_value: Decimal  # with its share of freight and insurance
    tax_rate: Decimal  # the composite rate applied to this line
    consumption_tax: Decimal
    vat: Decimal
    tax: Decimal


class DeclarationOut(msgspec.Struct):
    lines: list[LineOut]
    total_value: Decimal
    freight: Decimal
    insurance: Decimal
    dutiable_value: Decimal
    total_tax: Decimal
    within_order_limit: bool
    single_piece_exception: bool


@dataclass(frozen=True)
class Filed:
    """What the registry holds of a SKU for a declaration line."""

    sku: str
    status: str
    declarable: bool
    valid_until: dt.date | None
    filing_no: str | None
    hs_code: str
    name_cn: str
    import_mode: str | None
    item_record_no: str | None
    gtin: str | None
    origin_country: str
    declared_unit: str | None
    net: NetContent | None
    vat: Decimal | None
    consumption_tax: Decimal | None
    threshold: Threshold | None
    hold: list[str] | None = None  # on hold: the rules the reference in force fails it on


def is_amount(value: Decimal) -> bool:
    """Freight or insurance in CNY: finite, ≥ 0 and < 10⁸, to the fen at most."""
    return value == 0 or is_price(value)


def share(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` (to the fen) split in proportion to `weights`, to the fen, summing exactly to `total`: each share
    rounded down, the fens left over going to the largest remainders (the earlier line on a tie)."""
    whole = sum(weights, Decimal(0))
    if not total or not whole:
        return [ZERO for _ in weights]
    exact = [total * weight / whole for weight in weights]
    shares = [part.quantize(FEN, rounding=ROUND_DOWN) for part in exact]
    left = int((total - sum(shares, Decimal(0))) / FEN)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += FEN
    return shares


def applies_above(threshold: Threshold | None, net: NetContent | None, unit_price: Decimal) -> bool:
    """Whether the consumption tax applies at this dutiable price per piece: always without a threshold; with one,
    from its price per ml, g or piece of the net content on (a net content not in its unit cannot be measured
    against it, so the tax applies)."""
    if threshold is None:
        return True
    if net is None or net.unit != threshold.per:
        return True
    return unit_price / net.amount >= threshold.price


def line_taxes(dutiable: Decimal, vat: Decimal, consumption_tax: Decimal, portion: Decimal) -> tuple[Decimal, Decimal]:
    """(CT, VAT) of a line, each rounded half-up to the fen: CT = D·c/(1−c), VAT = (D + CT)·v, times `portion`
    (0.7 within the limits, 1 for a single piece above them)."""
    base = dutiable / (Decimal(1) - consumption_tax)  # the composite taxable price, D + CT
    ct = (portion * base * consumption_tax).quantize(FEN, rounding=ROUND_HALF_UP)
    vat_amount = (portion * base * vat).quantize(FEN, rounding=ROUND_HALF_UP)
    return ct, vat_amount


def line_problems(i: int, item: LineIn, filed: Filed | None) -> list[Violation]:
    """Why an order line cannot be declared, if it cannot."""
    problems: list[Violation] = []
    if not 0 < item.quantity <= limits.MAX_QUANTITY:
        problems.append(
            Violation(pointer("items", i, "quantity"), "format.positive", f"quantity from 1 to {limits.MAX_QUANTITY:,}")
        )
    if not is_price(item.unit_price):
        problems.append(
            Violation(
                pointer("items", i, "unit_price"), "format.price", "a price in CNY > 0 and < 10⁸, to the fen at most"
            )
        )
    where = pointer("items", i, "sku")
    if filed is None:
        problems.append(Violation(where, "declaration.unknown_sku", f"no product {item.sku}"))
    elif filed.hold:
        problems.append(
            Violation(
                where,
                "declaration.hold",
                f"{filed.sku} is on hold: the reference in force fails it on {', '.join(filed.hold)}",
            )
        )
    elif not filed.declarable or filed.filing_no is None or filed.vat is None or filed.consumption_tax is None:
        lapsed = f", its filing lapsed on {filed.valid_until}" if filed.status == "filed" else ""
        problems.append(Violation(where, "declaration.not_declarable", f"{filed.sku} is {filed.status}{lapsed}"))
    elif filed.import_mode == ImportMode.BONDED and not filed.item_record_no:
        problems.append(
            Violation(
                where,
                "declaration.item_record_no",
                f"{filed.sku} is imported bonded (1210) and has no account-book item number (item_record_no)",
            )
        )
    return problems


def price(order: DeclarationIn, filings: dict[str, Filed | None]) -> DeclarationOut:
    """Price an order with each SKU's filed tax terms; any line that cannot be declared refuses it all.

    `filings` holds what the registry knows of each SKU the order names (None: no such product)."""
    problems: list[Violation] = []
    if not order.items:
        problems.append(Violation("/items", "required", "an order has at least one line"))
    if order.declared_on is not None and not limits.FIRST_DAY <= order.declared_on <= limits.LAST_DAY:
        problems.append(Violation("/declared_on", "format.date", "a date lies in years 1900–9999"))
    for name in ("freight", "insurance"):
        if not is_amount(getattr(order, name)):
            problems.append(Violation(f"/{name}", "format.price", "an amount in CNY ≥ 0 and < 10⁸, to the fen at most"))
    for i, item in enumerate(order.items):
        problems += line_problems(i, item, filings.get(item.sku))
    if problems:
        raise ValidationFailed(problems, "the order cannot be declared; no line was priced")

    values = [(item.unit_price * item.quantity).quantize(FEN, rounding=ROUND_HALF_UP) for item in order.items]
    goods = sum(values, ZERO)
    extra = share(order.freight + order.insurance, values)
    dutiable_total = goods + order.freight + order.insurance
    pieces = sum(item.quantity for item in order.items)
    within = dutiable_total <= ORDER_LIMIT
    single_piece = not within and pieces == 1 and dutiable_total < ANNUAL_LIMIT
    portion = Decimal(1) if single_piece else CROSS_BORDER_SHARE

    lines: list[LineOut] = []
    for item, value, added in zip(order.items, values, extra, strict=True):
        filed = filings[item.sku]
        assert filed is not None  # line_problems saw to all three
        assert filed.filing_no is not None
        assert filed.vat is not None
        assert filed.consumption_tax is not None
        dutiable = value + added
        ct_rate = (
            filed.consumption_tax if applies_above(filed.threshold, filed.net, dutiable / item.quantity) else Decimal(0)
        )
        ct, vat = line_taxes(dutiable, filed.vat, ct_rate, portion)
        rate = composite_rate(filed.vat, ct_rate, portion)
        lines.append(
            LineOut(
                sku=filed.sku,
                filing_no=filed.filing_no,
                gcode=filed.hs_code,
                gname=filed.name_cn,
                item_record_no=filed.item_record_no,
                bar_code=filed.gtin,
                country=customs.countries().get(filed.origin_country),
                unit=customs.units().get(filed.declared_unit) if filed.declared_unit else None,
                quantity=item.quantity,
                unit_price=item.unit_price,
                value=value,
                dutiable_value=dutiable,
                tax_rate=rate,
                consumption_tax=ct,
                vat=vat,
                tax=ct + vat,
            )
        )
    return DeclarationOut(
        lines=lines,
        total_value=goods,
        freight=order.freight,
        insurance=order.insurance,
        dutiable_value=dutiable_total,
        total_tax=sum((line.tax for line in lines), ZERO),
        within_order_limit=within,
        single_piece_exception=single_piece,
    )
