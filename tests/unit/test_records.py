"""Text normalisation and the record helpers, without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.records import (
    ProductIn,
    ProductPatch,
    apply_patch,
    brand_key,
    field_changes,
    normalize,
    normalize_text,
)


def test_normalize_text_trims_collapses_and_applies_nfkc() -> None:
    assert normalize_text("  SK-II\t\u3000Facial   Treatment\nEssence ") == "SK-II Facial Treatment Essence"
    assert normalize_text("２３０ｍｌ") == "230ml"
    assert normalize_text("ＳＫ－ＩＩ") == "SK-II"


def test_brand_comparison_ignores_case_punctuation_and_width() -> None:
    assert brand_key("SK-II") == brand_key("sk ii") == brand_key("ＳＫ－ＩＩ") == "skii"
    assert brand_key("Estée Lauder") == brand_key("ESTÉE-LAUDER")
    assert brand_key("Shiseido") != brand_key("Kao")


@given(st.text())
def test_normalize_text_is_idempotent(value: str) -> None:
    once = normalize_text(value)
    assert normalize_text(once) == once
    assert once == once.strip()
    assert "  " not in once


@given(st.text())
def test_brand_key_is_stable_under_normalisation_and_case(value: str) -> None:
    assert brand_key(normalize_text(value)) == brand_key(value)
    assert brand_key(value.upper()) == brand_key(value.upper().lower())


def test_normalize_upper_cases_country_and_drops_blank_optionals() -> None:
    record = normalize(ProductIn(sku="Ａ-1", brand="  ", origin_country=" jp ", name_foreign="", ingredients=[" 水 "]))
    assert record.sku == "A-1"
    assert record.brand is None
    assert record.name_foreign is None
    assert record.origin_country == "JP"
    assert record.ingredients == ["水"]


def test_patch_keeps_absent_fields_and_clears_null_lists() -> None:
    record = ProductIn(sku="A", brand="Kao", spec="1件", ingredients=["water"])
    patched = apply_patch(record, ProductPatch(spec="2件", ingredients=None))
    assert patched.brand == "Kao"
    assert patched.spec == "2件"
    assert patched.ingredients == []
    assert field_changes(record, patched) == {
        "spec": {"old": "1件", "new": "2件"},
        "ingredients": {"old": ["water"], "new": []},
    }
