"""Pricing an order as customs does, and the registry's part of each line of the customs inventory message.

Per line: the dutiable value D is the goods' value plus its share of freight and insurance (shared by value). Within
the limits (5,000 CNY an order, 26,000 CNY a buyer's year) the duty is 0 and the consumption tax (CT) and VAT are
70 % of the full amounts (财关税〔2016〕18号, 〔2018〕49号); a single piece above 5,000 CNY (below the year's limit)
pays the full amounts and the most-favoured-nation duty, the duty part of the CT and VAT base. With a specific rate s
(CNY per litre or kg of the line's net content):

    CT = (D + duty + s) / (1 − c) × c + s,   VAT = (D + duty + CT) × v,

each rounded half-up to the fen. With a price threshold (high-end cosmetics per ml, g or sheet, 财税〔2016〕103号;
watches per article, 财税〔2006〕33号) the ad-valorem CT applies only from that dutiable price on. An order the channel
cannot take (over 5,000 CNY and not one piece, or past the year's limit) is answered as general trade, unpriced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

import msgspec

from registry.domain import customs, limits
from registry.domain.errors import ValidationFailed
from registry.domain.records import ImportMode, NetContent
from registry.domain.reference import Specific, Threshold
from registry.domain.tax import CROSS_BORDER_SHARE, composite_rate, is_price, specific_quantity
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
    annual_used: Decimal | None = None  # the buyer's dutiable total so far this calendar year (the order service's)


class Channel(StrEnum):
    RETAIL = "retail"  # cross-border retail import: within the limits, or a single piece above the order's
    GENERAL_TRADE = "general_trade"  # outside the channel's limits: declared as general trade, not priced here


class LineOut(msgspec.Struct):
    sku: str
    filing_no: str
    gcode: str  # the 10-digit HS code
    gname: str  # the Chinese name
    gmodel: str  # brand and spec as declared
    item_record_no: str | None
    bar_code: str  # the GTIN, or "无" when the record has none
    country: str | None  # the origin's 3-digit customs code
    unit: str | None  # the declared unit's 3-digit customs code
    currency: str  # "142": CNY
    qty1: Decimal | None  # the quantity in the first legal unit
    unit1: str | None  # the first legal unit's 3-digit customs code
    quantity: int
    unit_price: Decimal
    value: Decimal  # quantity × unit price
    dutiable_value: Decimal  # with its share of freight and insurance
    tax_rate: Decimal | None  # the composite ad-valorem rate applied to this line (null: general trade)
    duty: Decimal | None
    consumption_tax: Decimal | None
    vat: Decimal | None
    tax: Decimal | None  # duty + CT + VAT


class DeclarationOut(msgspec.Struct):
    channel: Channel
    reason: str | None  # why the order is general trade
    lines: list[LineOut]
    total_value: Decimal
    freight: Decimal
    insurance: Decimal
    dutiable_value: Decimal
    total_tax: Decimal | None  # null: general trade, no retail tax
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
    specific: Specific | None = None
    duty: Decimal | None = None  # the MFN duty rate of its code (None: no row)
    unit1: str | None = None  # the first legal unit's code of its code
    brand: str = ""
    spec: str = ""


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
    """Whether the ad-valorem consumption tax applies at this dutiable price of one article: always without a
    threshold; per article (`each`) from its price on; per ml, g or sheet of the net content from its price per
    unit on (a net content not in its unit cannot be measured against it, so the tax applies)."""
    if threshold is None:
        return True
    if threshold.per == "each":
        return unit_price >= threshold.price
    if net is None or net.unit != threshold.per:
        return True
    return unit_price / net.amount >= threshold.price


def line_taxes(
    dutiable: Decimal, vat: Decimal, consumption_tax: Decimal, portion: Decimal, specific: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """(CT, VAT) of a line, each rounded half-up to the fen: CT = (D + s)/(1 − c)·c + s and VAT = (D + CT)·v =
    (D + s)/(1 − c)·v, times `portion` (0.7 within the limits, 1 for a single piece above them). D includes the
    duty where one is owed; s is the specific tax."""
    base = (dutiable + specific) / (Decimal(1) - consumption_tax)  # the composite taxable price
    ct = (portion * (base * consumption_tax + specific)).quantize(FEN, rounding=ROUND_HALF_UP)
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
    """Price an order with each SKU's tax terms; any line that cannot be declared refuses it all.

    `filings` holds what the registry knows of each SKU the order names (None: no such product)."""
    problems: list[Violation] = []
    if not order.items:
        problems.append(Violation("/items", "required", "an order has at least one line"))
    if order.declared_on is not None and not limits.FIRST_DAY <= order.declared_on <= limits.LAST_DAY:
        problems.append(Violation("/declared_on", "format.date", "a date lies in years 1900–9999"))
    for name in ("freight", "insurance", "annual_used"):
        amount = getattr(order, name)
        if amount is not None and not is_amount(amount):
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
    reason = general_trade(dutiable_total, pieces, order.annual_used or ZERO)
    single_piece = not within and reason is None
    portion = Decimal(1) if single_piece else CROSS_BORDER_SHARE
    lined = [
        (item, filings[item.sku], value + added) for item, value, added in zip(order.items, values, extra, strict=True)
    ]
    if reason is None:
        unpriced = [v for i, (item, filed, _) in enumerate(lined) for v in unpriceable(i, item, filed, single_piece)]
        if unpriced:
            raise ValidationFailed(unpriced, "the order cannot be priced; no line was priced")
    lines = [line(item, filed, dutiable, portion if reason is None else None) for item, filed, dutiable in lined]
    return DeclarationOut(
        channel=Channel.RETAIL if reason is None else Channel.GENERAL_TRADE,
        reason=reason,
        lines=lines,
        total_value=goods,
        freight=order.freight,
        insurance=order.insurance,
        dutiable_value=dutiable_total,
        total_tax=None if reason else sum((ln.tax or ZERO for ln in lines), ZERO),
        within_order_limit=within,
        single_piece_exception=single_piece,
    )


def general_trade(dutiable: Decimal, pieces: int, used: Decimal) -> str | None:
    """Why the retail channel cannot take the order, if it cannot: over the order limit and not one piece, or
    past the buyer's annual limit (a single piece above the order limit only while the year stays below it)."""
    if dutiable > ORDER_LIMIT and pieces != 1:
        return f"the dutiable value {dutiable} CNY is over the {ORDER_LIMIT:,} CNY order limit and not a single piece"
    if dutiable > ORDER_LIMIT and used + dutiable >= ANNUAL_LIMIT:
        return (
            f"a single piece of {dutiable} CNY with {used} CNY used this year is not below the {ANNUAL_LIMIT:,} CNY "
            "annual limit"
        )
    if used + dutiable > ANNUAL_LIMIT:
        return f"{dutiable} CNY with {used} CNY used this year is past the {ANNUAL_LIMIT:,} CNY annual limit"
    return None


def unpriceable(i: int, item: LineIn, filed: Filed | None, single_piece: bool) -> list[Violation]:
    """Why a retail line cannot be priced exactly: a single piece with no duty rate for its code, or a specific
    rate with no net content to charge it on (never priced without them)."""
    assert filed is not None  # line_problems saw to it
    where = pointer("items", i, "sku")
    found = []
    if single_piece and filed.duty is None:
        found.append(
            Violation(
                where,
                "declaration.no_duty_rate",
                f"no mfn-duty row covers HS {filed.hs_code}: the single "
                "piece above the order limit owes duty at full rate",
            )
        )
    if filed.specific is not None and specific_quantity(filed.specific, filed.net, item.quantity) is None:
        found.append(
            Violation(
                where,
                "tax.net_content",
                f"HS {filed.hs_code} is taxed per {filed.specific.per}: the spec of "
                f"{filed.sku} states no net content in that unit",
            )
        )
    return found


def line(item: LineIn, filed: Filed | None, dutiable: Decimal, portion: Decimal | None) -> LineOut:
    """A line of the inventory message, priced at `portion` (None: general trade, unpriced)."""
    assert filed is not None  # line_problems saw to all three
    assert filed.filing_no is not None
    assert filed.vat is not None
    assert filed.consumption_tax is not None
    taxes: tuple[Decimal | None, ...] = (None, None, None, None, None)
    if portion is not None:
        duty = ZERO
        if portion == 1:  # a single piece above the order limit: the duty in full, part of the base
            assert filed.duty is not None  # unpriceable saw to it
            duty = (dutiable * filed.duty).quantize(FEN, rounding=ROUND_HALF_UP)
        specific = ZERO
        if filed.specific is not None:
            litres = specific_quantity(filed.specific, filed.net, item.quantity)
            assert litres is not None  # unpriceable saw to it
            specific = filed.specific.amount * litres
        ct_rate = filed.consumption_tax if applies_above(filed.threshold, filed.net, dutiable / item.quantity) else ZERO
        ct, vat = line_taxes(dutiable + duty, filed.vat, ct_rate, portion, specific)
        taxes = (composite_rate(filed.vat, ct_rate, portion), duty, ct, vat, duty + ct + vat)
    rate, duty_amount, ct_amount, vat_amount, tax = taxes
    return LineOut(
        sku=filed.sku,
        filing_no=filed.filing_no,
        gcode=filed.hs_code,
        gname=filed.name_cn,
        gmodel=f"{filed.brand}|{filed.spec}",
        item_record_no=filed.item_record_no,
        bar_code=filed.gtin or "无",
        country=customs.countries().get(filed.origin_country),
        unit=customs.units().get(filed.declared_unit) if filed.declared_unit else None,
        currency=customs.CNY,
        qty1=legal_quantity(filed.unit1, filed.net, item.quantity),
        unit1=filed.unit1,
        quantity=item.quantity,
        unit_price=item.unit_price,
        value=(item.unit_price * item.quantity).quantize(FEN, rounding=ROUND_HALF_UP),
        dutiable_value=dutiable,
        tax_rate=rate,
        duty=duty_amount,
        consumption_tax=ct_amount,
        vat=vat_amount,
        tax=tax,
    )


# The first legal units measured in the net content: code → (net content unit, how many of it one is).
_MEASURED = {
    "035": ("g", Decimal(1000)),
    "036": ("g", Decimal(1)),
    "095": ("ml", Decimal(1000)),
    "096": ("ml", Decimal(1)),
}


def legal_quantity(unit1: str | None, net: NetContent | None, quantity: int) -> Decimal | None:
    """The line's quantity in its first legal unit: kilograms or litres of net content (null when the spec states
    none in that dimension), else the count of articles."""
    if unit1 is None:
        return None
    measured = _MEASURED.get(unit1)
    if measured is None:
        return Decimal(quantity)
    if net is None or net.unit != measured[0]:
        return None
    return Decimal(format((net.amount * quantity / measured[1]).normalize(), "f"))
