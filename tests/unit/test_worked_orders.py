"""Orders worked by hand, to the fen, against the shipped reference data: the compliance audit's 22 (W…, with the
formulas it used) and ten more from the same sources (O…). Notation: D the line's dutiable value, c and v the CT
and VAT rates, s the specific CT (CNY per L × litres), p 0.7 within the limits (1 for a single piece above them);
CT = p·((D + duty + s)/(1 − c)·c + s), VAT = p·(D + duty + s)/(1 − c)·v, each rounded half-up to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from registry.domain import declaration
from registry.domain.declaration import DeclarationIn, DeclarationOut, Filed, LineIn
from registry.domain.errors import ValidationFailed
from tests.unit.test_declaration import filed

SERUM = ("3304990099", "30ml")
CREAM = ("3304990099", "50ml")
FORMULA = ("1901101090", "900g")
HONEY = ("0409000000", "500g")
WINE = ("2204210000", "750ml")
BAG = ("4202220000", "1件")
PERFUME_100 = ("3303000010", "100ml")
WATCH = ("9102210090", "1只")
WHISKY = ("2208300000", "700ml")
SPIRIT = ("2208909091", "700ml")


def record(sku: str, hs_code: str, spec: str) -> Filed:
    """A filed record as the order check reads it, from a French brand."""
    return filed(sku, spec, hs_code, name_cn="商品", origin_country="FR", brand="Brand")


def order(
    *lines: tuple[tuple[str, str], int, str], freight: str = "0", insurance: str = "0", annual_used: str | None = None
) -> DeclarationOut:
    filings = {f"L{i}": record(f"L{i}", *goods) for i, (goods, _, _) in enumerate(lines)}
    body = DeclarationIn(
        [LineIn(f"L{i}", quantity, Decimal(price)) for i, (_, quantity, price) in enumerate(lines)],
        Decimal(freight),
        Decimal(insurance),
        annual_used=Decimal(annual_used) if annual_used is not None else None,
    )
    return declaration.price(body, dict(filings))


def taxes(out: DeclarationOut) -> list[tuple[str | None, ...]]:
    """(duty, CT, VAT) of each line, as strings."""
    return [tuple(str(x) if x is not None else None for x in (ln.duty, ln.consumption_tax, ln.vat)) for ln in out.lines]


# (name, lines, freight, expected (duty, CT, VAT) per line, total tax)
WORKED = [
    # W1: 400/50 = 8 CNY/ml < 10, no CT; VAT = 0.7·400·0.13 = 36.40
    ("W1", [(CREAM, 1, "400.00")], "0", [("0", "0.00", "36.40")], "36.40"),
    # W2: 15/ml ≥ 10: CT = 0.7·450/0.85·0.15 = 55.588; VAT = 0.7·529.41·0.13 = 48.176
    ("W2", [(SERUM, 1, "450.00")], "0", [("0", "55.59", "48.18")], "103.77"),
    # W3: D = 509.50, 10.19/g ≥ 10: CT = 0.7·509.5/0.85·0.15 = 62.94; VAT = 0.7·599.41·0.13 = 54.55
    ("W3", [(("3304990099", "50g"), 1, "499.50")], "10.00", [("0", "62.94", "54.55")], "117.49"),
    # W3b: 9.99/g < 10: VAT = 0.7·499.5·0.13 = 45.45
    ("W3b", [(("3304990099", "50g"), 1, "499.50")], "0", [("0", "0.00", "45.45")], "45.45"),
    # W4a: 14.999/片 < 15: VAT = 0.7·149.99·0.13 = 13.65
    ("W4a", [(("3304990099", "10片"), 1, "149.99")], "0", [("0", "0.00", "13.65")], "13.65"),
    # W4b: 15.00/片 ≥ 15: CT = 0.7·150/0.85·0.15 = 18.53; VAT = 0.7·176.47·0.13 = 16.06
    ("W4b", [(("3304990099", "10片"), 1, "150.00")], "0", [("0", "18.53", "16.06")], "34.59"),
    # W5: perfume exactly 10/ml: CT = 0.7·588.235·0.15 = 61.76; VAT = 0.7·588.235·0.13 = 53.53
    ("W5", [(("3303000010", "50ml"), 1, "500.00")], "0", [("0", "61.76", "53.53")], "115.29"),
    # W6: wine D = 600: CT = 0.7·600/0.9·0.10 = 46.67; VAT = 0.7·666.67·0.13 = 60.67
    ("W6", [(WINE, 2, "300.00")], "0", [("0", "46.67", "60.67")], "107.34"),
    # W7: formula is 13 %: VAT = 0.7·1074·0.13 = 97.73
    ("W7", [(FORMULA, 3, "358.00")], "0", [("0", "0.00", "97.73")], "97.73"),
    # W8: honey 9 %: VAT = 0.7·200·0.09 = 12.60
    ("W8", [(HONEY, 1, "200.00")], "0", [("0", "0.00", "12.60")], "12.60"),
    # W9: cashews 9 %: VAT = 0.7·200·0.09 = 12.60
    ("W9", [(("0801320000", "200g"), 1, "200.00")], "0", [("0", "0.00", "12.60")], "12.60"),
    # W10a: goods 4,940 + freight 60 = 5,000.00, within (≤); freight 21.74 / 38.26; D 1,811.74 and 3,188.26;
    # line 1 VAT 0.7·1811.74·0.13 = 164.87; line 2 (15.18/ml) CT 0.7·3188.26/0.85·0.15 = 393.84, VAT 341.33
    (
        "W10a",
        [(FORMULA, 5, "358.00"), (SERUM, 7, "450.00")],
        "60.00",
        [("0", "0.00", "164.87"), ("0", "393.84", "341.33")],
        "900.04",
    ),
    # W12: one perfume at 6,000: duty 3 % = 180.00; CT = (6000+180)/0.85·0.15 = 1,090.59; VAT = 7,270.59·0.13 = 945.18
    ("W12", [(PERFUME_100, 1, "6000.00")], "0", [("180.00", "1090.59", "945.18")], "2215.77"),
    # W13: one watch at 20,000 (≥ 10,000 a piece): duty 11 % = 2,200; CT = 22,200/0.8·0.2 = 5,550; VAT = 27,750·0.13
    ("W13", [(WATCH, 1, "20000.00")], "0", [("2200.00", "5550.00", "3607.50")], "11357.50"),
    # W14: whisky 700 ml at 400: s = 0.912·0.7 = 0.6384; base = 400.6384/0.8 = 500.80; CT = 0.7·(500.80·0.2 + 0.6384)
    # = 70.56; VAT = 0.7·500.80·0.13 = 45.57
    ("W14", [(WHISKY, 1, "400.00")], "0", [("0", "70.56", "45.57")], "116.13"),
    # W16: freight 7.77 shared: D 183.74 / 102.08 / 93.01; the 5 ml mini at 12.25/ml pays CT
    (
        "W16",
        [(("3304990099", "5ml"), 3, "59.99"), (WINE, 1, "99.99"), (("0409000000", "250g"), 2, "45.55")],
        "7.77",
        [("0", "22.70", "19.67"), ("0", "7.94", "10.32"), ("0", "0.00", "5.86")],
        "66.49",
    ),
    # W17: `1件 (50ml)` is 50 ml: 6/ml < 10, VAT = 0.7·300·0.13 = 27.30
    ("W17", [(("3304990099", "1件 (50ml)"), 1, "300.00")], "0", [("0", "0.00", "27.30")], "27.30"),
    # W18: `50ml+50ml` is 100 ml: 8/ml < 10, VAT = 0.7·800·0.13 = 72.80
    ("W18", [(("3304990099", "50ml+50ml"), 1, "800.00")], "0", [("0", "0.00", "72.80")], "72.80"),
    # O1: spirits 2 × 500 ml at 150: s = 0.912·0.5·2 = 0.912; base = 300.912/0.8 = 376.14;
    # CT = 0.7·(376.14·0.2 + 0.912) = 53.30; VAT = 0.7·376.14·0.13 = 34.23
    ("O1", [(("2208909091", "500ml"), 2, "150.00")], "0", [("0", "53.30", "34.23")], "87.53"),
    # O2: 黄酒 4 × 500 ml at 25: s = 0.2495·0.5·4 = 0.499, c = 0: CT = 0.7·0.499 = 0.35; VAT = 0.7·100.499·0.13 = 9.15
    ("O2", [(("2206001000", "500ml"), 4, "25.00")], "0", [("0", "0.35", "9.15")], "9.50"),
    # O3: a watch at 3,000, under 10,000 a piece: no CT; VAT = 0.7·3000·0.13 = 273.00
    ("O3", [(WATCH, 1, "3000.00")], "0", [("0", "0.00", "273.00")], "273.00"),
    # O4: one watch at 8,000 (single piece, under the CT threshold): duty 880; VAT = 8,880·0.13 = 1,154.40
    ("O4", [(WATCH, 1, "8000.00")], "0", [("880.00", "0.00", "1154.40")], "2034.40"),
    # O5: one watch at exactly 10,000 (the threshold is inclusive): duty 1,100; CT = 11,100/0.8·0.2 = 2,775;
    # VAT = 13,875·0.13 = 1,803.75
    ("O5", [(WATCH, 1, "10000.00")], "0", [("1100.00", "2775.00", "1803.75")], "5678.75"),
    # O6: eggs 9 %: VAT = 0.7·50·0.09 = 3.15
    ("O6", [(("0407909090", "30个"), 1, "50.00")], "0", [("0", "0.00", "3.15")], "3.15"),
    # O7: olive oil 9 %: VAT = 0.7·240·0.09 = 15.12
    ("O7", [(("1509200000", "1L"), 2, "120.00")], "0", [("0", "0.00", "15.12")], "15.12"),
    # O8: one 5 L olive oil tin at 5,200: duty 10 % = 520; VAT = 5,720·0.09 = 514.80
    ("O8", [(("1509200000", "5L"), 1, "5200.00")], "0", [("520.00", "0.00", "514.80")], "1034.80"),
    # O11: one bottle of spirits at 6,000: duty 600; s = 0.6384; base = 6600.6384/0.8 = 8,250.80;
    # CT = 8250.80·0.2 + 0.6384 = 1,650.80; VAT = 8250.80·0.13 = 1,072.60
    ("O11", [(SPIRIT, 1, "6000.00")], "0", [("600.00", "1650.80", "1072.60")], "3323.40"),
]


@pytest.mark.parametrize(("name", "lines", "freight", "expected", "total"), WORKED, ids=[w[0] for w in WORKED])
def test_a_worked_order_is_priced_to_the_fen(
    name: str, lines: list[tuple[tuple[str, str], int, str]], freight: str, expected: list[tuple[str, ...]], total: str
) -> None:
    out = order(*lines, freight=freight)
    assert out.channel == "retail"
    assert taxes(out) == [tuple(x if x != "0" else "0.00" for x in row) for row in expected]
    assert out.total_tax == Decimal(total)


def test_w15_freight_and_insurance_are_shared_by_value_to_the_fen() -> None:
    """Freight 10.00 + insurance 0.01 over 33.33 / 33.33 / 33.34: shares 3.34 / 3.33 / 3.34 (largest remainder);
    VAT 0.7·36.67·0.13 = 3.34, 0.7·36.66·0.09 = 2.31, 0.7·36.68·0.13 = 3.34: 8.99."""
    out = order((CREAM, 1, "33.33"), (HONEY, 1, "33.33"), (FORMULA, 1, "33.34"), freight="10.00", insurance="0.01")
    assert [line.dutiable_value for line in out.lines] == [Decimal("36.67"), Decimal("36.66"), Decimal("36.68")]
    assert [line.vat for line in out.lines] == [Decimal("3.34"), Decimal("2.31"), Decimal("3.34")]
    assert out.total_tax == Decimal("8.99")


def test_orders_the_channel_cannot_take_are_general_trade_and_unpriced() -> None:
    # W10b: 5,000.01 in 12 pieces: over the order limit and not one piece.
    over = order((FORMULA, 5, "358.00"), (SERUM, 7, "450.00"), freight="60.01")
    # W11b: one piece of 26,000: not below the annual limit.
    bag = order((BAG, 1, "26000.00"))
    # O9: 3,000 with 24,000 used this year: 27,000 past the annual 26,000.
    year = order((FORMULA, 1, "3000.00"), annual_used="24000.00")
    for out in (over, bag, year):
        assert (out.channel, out.total_tax, out.single_piece_exception) == ("general_trade", None, False)
        assert out.reason
        assert all(line.tax is None and line.vat is None and line.duty is None for line in out.lines)
    # O10: 5,000 with 21,000 used: exactly 26,000, within; VAT = 0.7·5000·0.13 = 455.00.
    edge = order((FORMULA, 10, "500.00"), annual_used="21000.00")
    assert (edge.channel, edge.total_tax) == ("retail", Decimal("455.00"))
    # A single piece above 5,000 counts toward the year: with 20,000 used, 6,000 more is not below 26,000.
    assert order((PERFUME_100, 1, "6000.00"), annual_used="20000.00").channel == "general_trade"


def test_w11a_a_single_piece_without_a_duty_row_is_refused_never_priced_without_duty() -> None:
    with pytest.raises(ValidationFailed) as refused:
        order((BAG, 1, "5000.01"))
    assert [(v.field, v.code) for v in refused.value.violations] == [("/items/0/sku", "declaration.no_duty_rate")]


def test_a_specific_rate_without_net_content_refuses_the_order() -> None:
    with pytest.raises(ValidationFailed) as refused:
        order((("2208909091", "1瓶"), 1, "300.00"))
    assert [(v.field, v.code) for v in refused.value.violations] == [("/items/0/sku", "tax.net_content")]


def test_the_inventory_line_carries_gmodel_currency_legal_quantity_and_bar_code() -> None:
    whisky, watch, serum = order((SPIRIT, 2, "150.00"), (WATCH, 1, "3000.00"), (SERUM, 1, "450.00")).lines
    assert (whisky.gmodel, whisky.currency, whisky.bar_code) == ("Brand|700ml", "142", "无")
    assert (whisky.unit1, whisky.qty1) == ("095", Decimal("1.4"))  # litres: 0.7 L × 2
    assert (watch.unit1, watch.qty1) == ("008", Decimal(1))  # 只: the count
    assert (serum.unit1, serum.qty1) == ("035", None)  # kilograms of a content stated in ml: not known here
