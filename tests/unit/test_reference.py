"""The shipped reference data and the checks an admin's replacement must pass."""

from __future__ import annotations

from decimal import Decimal

import pytest

from registry.domain.reference import SET_NAMES, Reference, check_set, default_sets, wco_subheadings
from tests.samples import TODAY


def test_every_shipped_set_passes_its_own_checks() -> None:
    sets = default_sets()
    for name in SET_NAMES:
        if name == "tariff-codes":  # none shipped: a deployment loads the official edition
            assert sets[name] == []
            assert [v.code for v in check_set(name, sets[name])] == ["reference.empty"]
            continue
        assert check_set(name, sets[name]) == [], name


def test_shipped_data_holds_the_facts_the_rules_rely_on() -> None:
    ref = Reference.from_sets(default_sets())
    prohibited = {entry.prefix for entry in ref.prohibited}
    assert {"0201", "0209", "3304990010"} <= prohibited
    assert not prohibited & {"02", "0210", "0407", "3304990099"}
    assert "33049900" in ref.positive_lines
    assert ref.positive_line("04079090", TODAY).remark == "列入《进出口野生动植物种商品目录》的商品除外"  # type: ignore[union-attr]
    assert all(line.source for line in ref.positive_list)  # every line says where it was read (or that it was not)
    assert all(not isinstance(entry, str) and entry.source for entry in ref.banned_ingredients["cosmetics"])
    assert "banned" in [verdict for _, verdict in ref.banned["cosmetics"].match("mercury")]
    assert ref.banned["cosmetics"].match("硫柳汞") == []
    # Personal-use imports: no registration documents; a brand authorization is the platforms' policy.
    assert {kind for kinds in ref.required_documents.values() for kind in kinds} == {"brand_authorization"}
    cosmetics = {rate.prefix: rate for rate in ref.tax_rates}
    for prefix in ("3303", "3304"):
        rate = cosmetics[prefix]
        assert (rate.vat, rate.consumption_tax) == (Decimal("0.13"), Decimal("0.15"))
        assert {(t.per, t.price) for t in rate.thresholds} == {
            ("ml", Decimal(10)),
            ("g", Decimal(10)),
            ("piece", Decimal(15)),
        }
    assert ref.brand_countries["skii"][1] == ["JP"]
    assert ref.brand_countries["lancome"][1] == ["FR"]
    assert "US" in ref.brand_countries["esteelauder"][1]


def test_wco_nomenclature_has_the_real_subheadings() -> None:
    subheadings = wco_subheadings()
    assert {"330499", "020130", "851713", "190110"} <= subheadings
    assert "330498" not in subheadings
    assert len(subheadings) > 5000


@pytest.mark.parametrize(
    ("name", "data", "pointer", "code"),
    [
        ("categories", {"toys": {"hs_prefixes": ["95"]}}, "/toys", "format.category"),
        ("categories", {"food": {"hs_prefixes": ["0x"]}}, "/food/hs_prefixes/0", "format.hs_prefix"),
        ("prohibited", [{"prefix": "02", "reason": " "}], "/0/reason", "required"),
        ("positive-list", [{"tariff_line": "3304990"}], "/0/tariff_line", "format.hs_prefix"),
        ("brands", [{"brand": "Kao", "countries": ["XX"]}], "/0/countries/0", "format.country"),
        ("required-documents", {"food": ["passport"]}, "/food/0", "format.document_kind"),
        ("tax-rates", [{"prefix": "", "vat": "1.5"}], "/0/vat", "range.rate"),
        ("tax-rates", [{"prefix": "33", "vat": "0.13"}], "", "tax.no_default"),
        ("brands", [{"brand": "Kao", "countries": ["JP"], "owner": "x"}], "/0/owner", "unknown_field"),
        ("prohibited", {"prefix": "02"}, "", "type"),
        ("positive-list", [{"tariff_line": "04090000", "mode": "bonded"}], "/0/mode", "type"),
        (
            "positive-list",
            [{"tariff_line": "04090000", "effective_from": "2027-01-01", "effective_to": "2026-01-01"}],
            "/0/effective_to",
            "format.date",
        ),
        ("banned-ingredients", {"cosmetics": [{"name": "汞", "cas": ["7439976"]}]}, "/cosmetics/0/cas/0", "format.cas"),
        ("banned-ingredients", {"cosmetics": [{"name": "汞", "kind": "metal"}]}, "/cosmetics/0/kind", "type"),
        (
            "tax-rates",
            [{"prefix": "", "vat": "0.13"}, {"prefix": "3304", "vat": "0.1", "threshold": {"per": "ml", "price": "9"}}],
            "/1/consumption_tax",
            "format.threshold",
        ),
        (
            "tax-rates",
            [{"prefix": "", "vat": "0.13", "consumption_tax": "0.15", "threshold": {"per": "ml", "price": "0"}}],
            "/0/threshold/price",
            "format.price",
        ),
        (
            "tax-rates",
            [{"prefix": "", "vat": "0.13", "consumption_tax": "0.15", "threshold": {"per": "litre", "price": "1"}}],
            "/0/threshold/per",
            "type",
        ),
    ],
)
def test_a_bad_replacement_names_what_is_wrong(name: str, data: object, pointer: str, code: str) -> None:
    problems = check_set(name, data)
    assert (pointer, code) in [(p.field, p.code) for p in problems]


def test_every_reference_set_has_its_checks() -> None:
    """A set a deployment can put is checked by the set's own checker (a missing one would fail every put)."""
    for name in SET_NAMES:  # the shipped edition passes (one shipped empty is refused as a put: reference.empty)
        assert [v.code for v in check_set(name, default_sets()[name])] in ([], ["reference.empty"]), name
