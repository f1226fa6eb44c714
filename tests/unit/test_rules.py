"""Field and logic rules as pure functions over a record and the reference data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain import rules
from registry.domain.records import ProductIn, normalize
from registry.domain.reference import Reference, default_sets, wco_subheadings
from registry.domain.spec import SPEC_UNIT
from tests.samples import TODAY, beef, shiseido, sk2

REF = Reference.from_sets(default_sets())


def check(data: dict[str, Any]) -> list[tuple[str, str]]:
    record = normalize(msgspec.convert(data, ProductIn))
    return [(v.field, v.code) for v in rules.validate(record, REF, wco_subheadings(), TODAY)]


def test_the_sk2_example_passes_every_rule() -> None:
    assert check(sk2()) == []


def test_the_shiseido_example_passes_and_fails_with_a_us_origin() -> None:
    assert check(shiseido()) == []
    assert check(shiseido(origin_country="US")) == [("/origin_country", "origin.brand_mismatch")]


def test_the_brand_registry_compares_brands_loosely() -> None:
    assert check(sk2(brand="ＳＫ－ＩＩ", origin_country="FR")) == [("/origin_country", "origin.brand_mismatch")]
    assert check(sk2(brand="sk ii")) == []


def test_chilled_beef_is_prohibited() -> None:
    assert ("/hs_code", "hs.prohibited") in check(beef())


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"hs_code": "8517130000"}, ("/hs_code", "hs.category_mismatch")),
        ({"spec": "big bottle"}, ("/spec", "format.spec_unit")),
        ({"hs_code": "33049900"}, ("/hs_code", "format.hs_code")),
        ({"hs_code": "3304980000"}, ("/hs_code", "hs.unknown_subheading")),
        ({"hs_code": "3307900000"}, ("/hs_code", "hs.not_on_positive_list")),
        ({"origin_country": "XX"}, ("/origin_country", "format.country")),
        ({"ciq_code": "12"}, ("/ciq_code", "format.ciq_code")),
        ({"images": ["ftp://img.example.com/a.jpg"]}, ("/images/0", "format.url")),
        ({"images": []}, ("/images", "images.missing")),
        ({"brand": "  "}, ("/brand", "required")),
        ({"shelf_life_months": None}, ("/shelf_life_months", "required")),
        ({"ingredients": ["water", "Mercury chloride"]}, ("/ingredients/1", "ingredients.banned_class")),
        ({"ingredients": ["water", "Formaldehyde"]}, ("/ingredients/1", "ingredients.banned")),
        ({"spec": "30粒"}, ("/spec", "tax.net_content")),
        ({"gtin": "4979006070355"}, ("/gtin", "format.gtin")),
        ({"import_mode": "1239"}, ("/import_mode", "format.import_mode")),
        ({"item_record_no": "SK2 FTE"}, ("/item_record_no", "format.item_record_no")),
        ({"declared_unit": "bottle"}, ("/declared_unit", "format.declared_unit")),
        ({"ingredients": ["水", "汞"]}, ("/ingredients/1", "ingredients.banned")),
        ({"category": "toys"}, ("/category", "format.category")),
        ({"sku": "-bad sku"}, ("/sku", "format.sku")),
    ],
)
def test_each_rule_reports_its_code_at_its_field(overrides: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in check(sk2(**overrides))


def test_document_rules() -> None:
    record = sk2()
    record["documents"][0]["valid_until"] = (TODAY - dt.timedelta(days=1)).isoformat()
    record["documents"][1]["valid_from"] = "2027-01-01"
    record["documents"][1]["valid_until"] = "2026-12-31"
    found = check(record)
    assert ("/documents/0/valid_until", "documents.expired") in found
    assert ("/documents/1/valid_until", "documents.dates") in found
    assert check(sk2(documents=[])) == [("/documents", "documents.missing")]
    # The channel imports personal-use articles: no hygiene certificate or formula registration is required.
    assert check(sk2(documents=sk2()["documents"][:1])) == []


def test_every_violation_is_reported_at_once() -> None:
    found = check(sk2(brand=None, spec="big bottle", hs_code="8517130000", origin_country="Japan", images=[]))
    codes = {code for _, code in found}
    assert {"required", "format.spec_unit", "hs.category_mismatch", "format.country", "images.missing"} <= codes


def test_a_word_inside_another_is_not_a_banned_ingredient() -> None:
    assert check(sk2(ingredients=["water", "leadwort extract"])) == []  # "lead" is banned, leadwort is not lead
    assert check(sk2(ingredients=["lead-free pigment", "formaldehyde-free resin"])) == []


@pytest.mark.parametrize(
    ("ingredient", "expected"),
    [
        ("lead", [("/ingredients/0", "ingredients.banned")]),
        ("铅", [("/ingredients/0", "ingredients.banned")]),
        ("防腐剂 (formaldehyde)", [("/ingredients/0", "ingredients.banned")]),  # a name in brackets is a term
        ("preservative 50-00-0", [("/ingredients/0", "ingredients.banned")]),  # formaldehyde by its CAS number
        ("lead acetate", [("/ingredients/0", "ingredients.banned_class")]),  # may be a lead compound: a reviewer
        ("醋酸汞", [("/ingredients/0", "ingredients.banned_class")]),
        ("硫柳汞", []),  # thiomersal: a permitted preservative, not the mercury class
        ("Thimerosal", []),
        ("槟榔提取物", [("/ingredients/0", "ingredients.banned")]),  # a botanical: any part or extract of the plant
        ("Areca catechu L. seed extract", [("/ingredients/0", "ingredients.banned")]),
        ("paraformaldehyde-free", []),
    ],
)
def test_banned_ingredients_match_whole_terms(ingredient: str, expected: list[tuple[str, str]]) -> None:
    assert check(sk2(ingredients=[ingredient])) == expected


def test_a_bonded_only_line_refuses_direct_mail_and_warns_a_record_without_a_mode() -> None:
    sets = default_sets()
    lines = [{**line, "mode": "bonded_only", "remark": "仅限网购保税商品"} for line in sets["positive-list"]]
    ref = Reference.from_sets({**sets, "positive-list": lines})

    def found(**overrides: Any) -> list[tuple[str, str, str]]:
        record = normalize(msgspec.convert(sk2(**overrides), ProductIn))
        return [(v.field, v.code, v.severity) for v in rules.check_logic(record, ref, wco_subheadings(), TODAY)]

    assert found(import_mode="9610") == [("/import_mode", "positive_list.mode", "error")]
    assert found(import_mode=None) == [("/import_mode", "positive_list.mode", "warning")]
    assert found(import_mode="1210") == []


def test_a_positive_list_line_counts_only_while_in_force() -> None:
    sets = default_sets()
    lines = [
        {**line, "effective_from": "2027-01-01"} if line["tariff_line"] == "33049900" else line
        for line in sets["positive-list"]
    ]
    ref = Reference.from_sets({**sets, "positive-list": lines})
    record = normalize(msgspec.convert(sk2(), ProductIn))
    codes = [v.code for v in rules.check_logic(record, ref, wco_subheadings(), TODAY)]
    assert codes == ["hs.not_on_positive_list"]
    assert rules.check_logic(record, ref, wco_subheadings(), dt.date(2027, 1, 1)) == []


quantities = st.integers(min_value=1, max_value=5000)
units = st.sampled_from(["g", "kg", "ml", "mL", "L", "件", "粒", "片", "pcs", "tablets", "oz"])


@given(n=quantities, unit=units, space=st.sampled_from(["", " "]), pack=st.one_of(st.none(), quantities))
def test_any_quantity_with_a_unit_is_a_spec(n: int, unit: str, space: str, pack: int | None) -> None:
    spec = f"{pack}×{n}{space}{unit}" if pack else f"{n}{space}{unit}"
    assert SPEC_UNIT.search(spec)


@given(st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=30))
def test_words_without_a_number_are_never_a_spec(words: str) -> None:
    assert not SPEC_UNIT.search(words)


@given(st.from_regex(r"\A[0-9]{10}\Z"))  # ASCII digits: other scripts' are format.hs_code
def test_hs_logic_never_crashes_and_prohibited_chapters_always_flag(hs: str) -> None:
    found = check(sk2(hs_code=hs, category="other"))
    assert (("/hs_code", "hs.prohibited") in found) == hs.startswith(
        ("01", *(f"020{n}" for n in range(1, 10)), "0601", "0602", "2401", "2402", "2403", "36", "93", "3304990010")
    )


def test_prohibition_is_a_property_of_the_whole_code() -> None:
    """Cosmetics with mercury (3304990010) are prohibited, other cosmetics of the subheading (3304990099) are
    not; salted and dried meat (0210) is a positive-list matter, fresh meat (0201) is prohibited."""
    assert ("/hs_code", "hs.prohibited") in check(sk2(hs_code="3304990010"))
    assert ("/hs_code", "hs.prohibited") not in check(sk2(hs_code="3304990099"))
    assert ("/hs_code", "hs.prohibited") not in check(sk2(hs_code="0210190000", category="other"))
    assert ("/hs_code", "hs.prohibited") in check(sk2(hs_code="0201300000", category="other"))
