"""Pricing an order as customs does: the worked examples, per-line taxes to the fen, freight, the limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain import customs, declaration
from registry.domain.declaration import DeclarationIn, Filed, LineIn, share
from registry.domain.errors import ValidationFailed
from registry.domain.records import NetContent
from registry.domain.reference import Reference, default_sets
from registry.domain.spec import net_content
from registry.domain.tax import terms_for

REF = Reference.from_sets(default_sets())


def filed(sku: str, spec: str, hs_code: str = "3304990099", **more: object) -> Filed:
    """A filed record as the order check reads it: the shipped tax, duty and legal-unit rows of its HS code and
    net content."""
    terms = terms_for(hs_code, net_content(spec), REF)
    duty, unit = REF.duty(hs_code), REF.legal_unit(hs_code)
    fields: dict[str, object] = {
        "sku": sku,
        "status": "filed",
        "declarable": True,
        "valid_until": dt.date(2027, 11, 30),
        "filing_no": "2025110201",
        "hs_code": hs_code,
        "name_cn": "SK-II 护肤精华露",
        "import_mode": None,
        "item_record_no": None,
        "gtin": None,
        "origin_country": "JP",
        "declared_unit": None,
        "net": net_content(spec),
        "vat": terms.vat,
        "consumption_tax": terms.consumption_tax,
        "threshold": terms.threshold,
        "specific": terms.specific,
        "duty": duty.rate if duty else None,
        "unit1": unit.unit1 if unit else None,
        "spec": spec,
    }
    return Filed(**{**fields, **more})  # type: ignore[arg-type]


def price(*lines: tuple[Filed, int, str], freight: str = "0", insurance: str = "0") -> declaration.DeclarationOut:
    order = DeclarationIn(
        [LineIn(f.sku, quantity, Decimal(unit_price)) for f, quantity, unit_price in lines],
        Decimal(freight),
        Decimal(insurance),
    )
    return declaration.price(order, {f.sku: f for f, _, _ in lines})


def test_sk2_230_ml_at_1540_is_below_the_threshold_and_pays_9_1_percent() -> None:
    """6.70 CNY/ml is under 10 CNY/ml: VAT only, 1,540 × 0.13 × 0.7 = 140.14."""
    line = price((filed("SK2", "230 ml"), 1, "1540.00")).lines[0]
    assert (line.tax_rate, line.consumption_tax, line.vat, line.tax) == (
        Decimal("0.091"),
        Decimal("0.00"),
        Decimal("140.14"),
        Decimal("140.14"),
    )


def test_a_60_ml_cream_at_2800_pays_consumption_tax_and_vat_each_to_the_fen() -> None:
    """46.67 CNY/ml: CT = 2,800 × 0.15 / 0.85 × 0.7 = 345.88, VAT = 2,800 / 0.85 × 0.13 × 0.7 = 299.76; their sum is
    the 23.06 % composite of customs' method within a fen (2,800 × 0.7 × 0.28 / 0.85 = 645.647…)."""
    line = price((filed("CREAM", "60ml"), 1, "2800.00")).lines[0]
    assert (line.tax_rate, line.consumption_tax, line.vat) == (Decimal("0.2306"), Decimal("345.88"), Decimal("299.76"))
    exact = Decimal(2800) * Decimal("0.7") * Decimal("0.28") / Decimal("0.85")
    assert line.tax is not None
    assert abs(line.tax - exact) <= Decimal("0.01")
    # Rounding the composite first would be 2,800 × 0.2306 = 645.68: four fen off.
    assert line.tax == Decimal("645.64")


def test_the_threshold_is_met_exactly_at_its_price_and_by_the_piece() -> None:
    at = price((filed("AT", "100ml"), 1, "1000.00")).lines[0]  # 10.00 CNY/ml: from the threshold on
    under = price((filed("UNDER", "100ml"), 1, "999.99")).lines[0]
    assert (at.consumption_tax, under.consumption_tax) == (Decimal("123.53"), Decimal("0.00"))
    masks = price((filed("MASK", "5片"), 2, "74.00")).lines[0]  # 14.80 CNY a piece: under 15
    assert masks.consumption_tax == Decimal("0.00")
    assert price((filed("MASK", "5片"), 2, "75.00")).lines[0].consumption_tax == Decimal("18.53")


def test_freight_and_insurance_are_shared_by_value_and_priced_with_the_goods() -> None:
    a, b = filed("A", "230 ml"), filed("B", "120g")
    out = price((a, 1, "300.00"), (b, 1, "100.00"), freight="20.00", insurance="1.00")
    assert [line.dutiable_value for line in out.lines] == [Decimal("315.75"), Decimal("105.25")]
    assert (out.total_value, out.dutiable_value) == (Decimal("400.00"), Decimal("421.00"))
    assert out.lines[0].vat == Decimal("28.73")  # 315.75 × 0.091
    # Freight can carry a line over its threshold: 9.50 CNY/ml of goods, 10.00 with its share of freight.
    near = price((filed("NEAR", "100ml"), 1, "950.00"), freight="50.00").lines[0]
    assert near.consumption_tax == Decimal("123.53")  # 0.7 × 1,000 / 0.85 × 0.15


@given(
    total=st.decimals(min_value=0, max_value=10_000, places=2),
    weights=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=5000, places=2), min_size=1, max_size=20),
)
def test_a_shared_amount_sums_exactly_and_no_share_is_off_by_a_fen(total: Decimal, weights: list[Decimal]) -> None:
    shares = share(total, weights)
    assert sum(shares, Decimal(0)) == total
    whole = sum(weights, Decimal(0))
    for part, weight in zip(shares, weights, strict=True):
        assert abs(part - total * weight / whole) < Decimal("0.01")


def test_one_piece_above_5000_is_declared_at_full_rates_with_its_duty() -> None:
    """A test duty rate of 10 %: D 5,600, duty 560.00, VAT (5,600 + 560) × 0.13 = 800.80."""
    bag = filed("BAG", "1件", hs_code="4202220000", duty=Decimal("0.10"))
    out = price((bag, 1, "5600.00"))
    assert (out.channel, out.within_order_limit, out.single_piece_exception) == ("retail", False, True)
    line = out.lines[0]
    assert (line.tax_rate, line.duty, line.vat, line.tax) == (
        Decimal("0.13"),
        Decimal("560.00"),
        Decimal("800.80"),
        Decimal("1360.80"),
    )
    two = price((bag, 2, "2800.00"))  # two pieces over the limit: general trade, unpriced
    assert (two.channel, two.within_order_limit, two.single_piece_exception) == ("general_trade", False, False)
    assert (two.total_tax, two.lines[0].tax) == (None, None)
    assert two.reason is not None
    above_annual = price((bag, 1, "26000.00"))  # not below the annual limit
    assert (above_annual.channel, above_annual.single_piece_exception) == ("general_trade", False)
    with pytest.raises(ValidationFailed) as refused:
        price((filed("BAG", "1件", hs_code="4202220000"), 1, "5600.00"))  # no duty row: never priced without it
    assert [v.code for v in refused.value.violations] == ["declaration.no_duty_rate"]


def test_an_order_at_the_limit_is_within_it() -> None:
    out = price((filed("A", "230 ml"), 1, "4990.00"), freight="10.00")
    assert (out.dutiable_value, out.within_order_limit) == (Decimal("5000.00"), True)


def test_each_line_carries_what_the_inventory_message_needs() -> None:
    record = filed(
        "SK2",
        "230 ml",
        import_mode="1210",
        item_record_no="SK2-FTE-230-A",
        gtin="4979006070354",
        declared_unit="瓶",
        origin_country="JP",
    )
    line = price((record, 1, "1540.00")).lines[0]
    assert (line.gcode, line.gname, line.item_record_no, line.bar_code, line.country, line.unit) == (
        "3304990099",
        "SK-II 护肤精华露",
        "SK2-FTE-230-A",
        "4979006070354",
        "116",
        "142",
    )


def test_a_line_that_cannot_be_declared_refuses_the_order_with_a_violation_each() -> None:
    bonded = filed("BONDED", "230 ml", import_mode="1210")  # no account-book item number
    lapsed = filed("LAPSED", "230 ml", declarable=False)
    order = DeclarationIn(
        [LineIn("BONDED", 1, Decimal(10)), LineIn("LAPSED", 1, Decimal(10)), LineIn("NONE", 0, Decimal("0.001"))],
        freight=Decimal(-1),
    )
    with pytest.raises(ValidationFailed) as refused:
        declaration.price(order, {"BONDED": bonded, "LAPSED": lapsed, "NONE": None})
    assert {(v.field, v.code) for v in refused.value.violations} == {
        ("/freight", "format.price"),
        ("/items/0/sku", "declaration.item_record_no"),
        ("/items/1/sku", "declaration.not_declarable"),
        ("/items/2/quantity", "format.positive"),
        ("/items/2/unit_price", "format.price"),
        ("/items/2/sku", "declaration.unknown_sku"),
    }


@pytest.mark.parametrize(
    ("spec", "amount", "unit"),
    [
        ("2×50ml", "100", "ml"),
        ("230 ml", "230", "ml"),
        ("1.5 L", "1500", "ml"),
        ("120g", "120", "g"),
        ("1kg", "1000", "g"),
        ("50ml×2", "100", "ml"),
        ("2 x 100 g", "200", "g"),
        ("5片", "5", "piece"),
        ("1件 (50ml)", "50", "ml"),  # the metric figure, not the package count
        ("50ml+50ml", "100", "ml"),  # a set: its contents summed
        ("1支 3.5g", "3.5", "g"),
        ("1.7 fl oz / 50ml", "50", "ml"),
        ("10张", "10", "piece"),  # sheets are what the per-piece threshold counts
    ],
)
def test_net_content_is_read_from_the_spec(spec: str, amount: str, unit: str) -> None:
    assert net_content(spec) == NetContent(Decimal(amount), unit)


@pytest.mark.parametrize("spec", ["30粒", "2 tablets", "8 oz", "big bottle", "3盒", "1件", "2个", "1只"])
def test_a_spec_that_counts_something_else_has_no_net_content(spec: str) -> None:
    assert net_content(spec) is None


def test_the_customs_code_tables_hold_their_spot_values() -> None:
    """JGS-20 codes as the inventory message takes them (registry/domain/customs-*.csv name their sources)."""
    countries, units = customs.countries(), customs.units()
    assert {
        iso: countries[iso] for iso in ("JP", "KR", "CN", "GB", "DE", "FR", "IT", "CH", "US", "CA", "AU", "NZ")
    } == {
        "JP": "116",
        "KR": "133",
        "CN": "142",
        "GB": "303",
        "DE": "304",
        "FR": "305",
        "IT": "307",
        "CH": "331",
        "US": "502",
        "CA": "501",
        "AU": "601",
        "NZ": "609",
    }
    assert {name: units[name] for name in ("个", "件", "千克", "克", "升", "毫升", "罐", "袋", "粒", "盒", "瓶")} == {
        "个": "007",
        "件": "011",
        "千克": "035",
        "克": "036",
        "升": "095",
        "毫升": "096",
        "罐": "122",
        "袋": "136",
        "粒": "139",
        "盒": "140",
        "瓶": "142",
    }
    assert len(countries) > 200
    assert all(len(code) == 3 and code.isdigit() for code in (*countries.values(), *units.values()))
