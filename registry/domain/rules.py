"""Field and logic validation: pure functions from a record (and the reference data) to every violation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from registry.domain import customs, limits
from registry.domain.ingredients import Banned, Verdict
from registry.domain.records import (
    LISTS,
    REQUIRED,
    TEXTS,
    Document,
    ImportMode,
    NetContent,
    ProductIn,
    brand_key,
    is_digits,
)
from registry.domain.reference import CATEGORIES, DOCUMENT_KINDS, Reference, TaxRate, is_country
from registry.domain.spec import SPEC_UNIT, net_content
from registry.domain.tax import SPECIFIC_UNITS, rate_row
from registry.domain.violations import Violation, err, pointer, text_problems

# Matched with fullmatch: `$` would let a final newline through.
SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
IMPORT_MODES = frozenset(mode.value for mode in ImportMode)


class Format(NamedTuple):
    """A present value's format: the check it must pass, and the violation when it does not."""

    ok: Callable[[Any], object]
    code: str
    message: str


# Each field's format (a field without a row is free text, checked for its length and unseen characters only).
FORMATS: dict[str, Format] = {
    "sku": Format(SKU.fullmatch, "format.sku", "1–64 characters: letters, digits, '.', '_' or '-', not first"),
    "spec": Format(
        SPEC_UNIT.search, "format.spec_unit", "the spec must state a quantity with a unit, e.g. 120g or 2×50ml"
    ),
    "category": Format(
        CATEGORIES.__contains__, "format.category", f"unknown category; one of {', '.join(sorted(CATEGORIES))}"
    ),
    "hs_code": Format(lambda v: is_digits(v, 10), "format.hs_code", "the HS code is exactly 10 ASCII digits 0-9"),
    "ciq_code": Format(lambda v: is_digits(v, 3), "format.ciq_code", "the CIQ code is exactly 3 ASCII digits 0-9"),
    "origin_country": Format(is_country, "format.country", "the origin is an ISO 3166-1 alpha-2 code such as JP"),
    "shelf_life_months": Format(
        lambda v: 0 < v <= limits.SHELF_LIFE_MONTHS,
        "format.range",
        f"the shelf life is a whole number of months from 1 to {limits.SHELF_LIFE_MONTHS}",
    ),
    "monthly_units": Format(
        lambda v: 0 <= v <= limits.MONTHLY_UNITS,
        "format.range",
        f"monthly units are a whole number from 0 to {limits.MONTHLY_UNITS:,}",
    ),
    "import_mode": Format(IMPORT_MODES.__contains__, "format.import_mode", "1210 (bonded) or 9610 (direct mail)"),
    "item_record_no": Format(
        customs.ITEM_RECORD_NO.fullmatch,
        "format.item_record_no",
        "1–30 characters: ASCII letters, digits, '.', '_' or '-'",
    ),
    "gtin": Format(
        customs.is_gtin, "format.gtin", "a GTIN is 8, 12, 13 or 14 ASCII digits ending in its GS1 check digit"
    ),
    "declared_unit": Format(
        lambda v: v in customs.units(),
        "format.declared_unit",
        "not a customs unit; one such as 瓶, 盒, 件, 罐, 支, 袋, 片",
    ),
}
# What each item of a list must be (besides a text within limits.LIST_ITEM): the check and the violation.
ITEMS: dict[str, Format] = {
    "ingredients": Format(bool, "required", "an ingredient may not be blank"),
    "images": Format(lambda url: _is_http_url(url), "format.url", "an image is an http(s) URL"),
}


def check_fields(record: ProductIn) -> list[Violation]:
    """Field validation, on every write: presence and format of each field, every violation at once."""
    found: list[Violation] = []
    for name in TEXTS:
        value = getattr(record, name)
        if value is not None:
            found += text_problems(value, limits.text_limit(name), name)
    found += _list_texts(record)
    for name in ("sku", *REQUIRED):
        if getattr(record, name) is None:
            message = "sku is required" if name == "sku" else f"{name} is required and may not be blank"
            found.append(err(pointer(name), "required", message))
    for name, rule in FORMATS.items():
        value = getattr(record, name)
        if value is not None and not rule.ok(value):
            found.append(err(pointer(name), rule.code, rule.message))
    for name, rule in ITEMS.items():
        for i, item in enumerate(getattr(record, name)):
            if not rule.ok(item):
                found.append(err(pointer(name, i), rule.code, rule.message))
    for i, doc in enumerate(record.documents):
        found += _document_fields(doc, i)
    return found


def _list_texts(record: ProductIn) -> list[Violation]:
    """Each list within its size, each item's text within its limit, each document's texts and days."""
    found: list[Violation] = []
    for name, most in LISTS.items():
        if len(getattr(record, name)) > most:
            found.append(err(pointer(name), "format.too_many", f"at most {most} {name}"))
    for name in ITEMS:
        for i, item in enumerate(getattr(record, name)):
            found += text_problems(item, limits.LIST_ITEM, name, i)
    for i, doc in enumerate(record.documents):
        found += _document_texts(doc, i)
    return found


def _document_texts(doc: Document, i: int) -> list[Violation]:
    found: list[Violation] = []
    for name in ("kind", "number", "issuer"):
        value = getattr(doc, name)
        if value is not None:
            found += text_problems(value, limits.TEXT, "documents", i, name)
    for name in ("valid_from", "valid_until"):
        day = getattr(doc, name)
        if day is not None and not limits.FIRST_DAY <= day <= limits.LAST_DAY:
            found.append(err(pointer("documents", i, name), "format.date", "a date lies in years 1900–9999"))
    return found


def _document_fields(doc: Document, i: int) -> list[Violation]:
    found: list[Violation] = []
    if doc.kind is None:
        found.append(err(pointer("documents", i, "kind"), "required", "the document kind is required"))
    elif doc.kind not in DOCUMENT_KINDS:
        kinds = ", ".join(sorted(DOCUMENT_KINDS))
        found.append(
            err(pointer("documents", i, "kind"), "format.document_kind", f"unknown document kind; one of {kinds}")
        )
    for name in ("number", "valid_from", "valid_until"):
        if getattr(doc, name) is None:
            found.append(err(pointer("documents", i, name), "required", f"the document {name} is required"))
    if doc.valid_from is not None and doc.valid_until is not None and doc.valid_until < doc.valid_from:
        found.append(err(pointer("documents", i, "valid_until"), "documents.dates", "valid_until is before valid_from"))
    return found


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def check_logic(record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date) -> list[Violation]:
    """Logic validation, at submit and on demand: the record against the reference data and the HS nomenclature.

    Assumes field validation ran; a field that failed it is skipped here rather than reported twice.
    """
    found: list[Violation] = []
    for check in LOGIC:
        found += check(record, ref, subheadings, today)
    return found


def _hs(record: ProductIn) -> str | None:
    """The record's HS code, when it passed field validation."""
    return record.hs_code if record.hs_code and is_digits(record.hs_code, 10) else None


def _category(record: ProductIn) -> str | None:
    return record.category if record.category in CATEGORIES else None


def _nomenclature(record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date) -> list[Violation]:
    """The HS code in the nomenclature, the tariff in force and the category's headings."""
    hs, category = _hs(record), _category(record)
    if hs is None:
        return []
    found: list[Violation] = []
    if hs[:6] not in subheadings:
        found.append(err("/hs_code", "hs.unknown_subheading", f"{hs[:6]} is not a subheading of HS 2022"))
    rule = ref.categories.get(category) if category else None
    if rule and rule.hs_prefixes and not hs.startswith(tuple(rule.hs_prefixes)):
        headings = ", ".join(rule.hs_prefixes)
        found.append(
            err("/hs_code", "hs.category_mismatch", f"HS {hs[:4]} is not a heading for {category} ({headings})")
        )
    return found + _tariff(hs, ref, today)


def _prohibitions(record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date) -> list[Violation]:
    """Goods prohibited by their HS code, or from their origin."""
    hs = _hs(record)
    if hs is None:
        return []
    found: list[Violation] = []
    for entry in ref.prohibited:
        if not hs.startswith(entry.prefix):
            continue
        if not entry.origin:
            found.append(err("/hs_code", "hs.prohibited", f"HS {entry.prefix} is prohibited: {entry.reason}"))
        elif record.origin_country in entry.origin:
            message = f"HS {entry.prefix} from {record.origin_country} is prohibited: {entry.reason}"
            found.append(err("/origin_country", "hs.prohibited_origin", message))
    return found


def _positive_list(record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date) -> list[Violation]:
    """The tariff line on the positive list in force, in the record's import mode; the net content its tax needs."""
    hs = _hs(record)
    if hs is None:
        return []
    found: list[Violation] = []
    line = ref.positive_line(hs[:8], today)
    if line is None:
        found.append(err("/hs_code", "hs.not_on_positive_list", f"tariff line {hs[:8]} is not on the positive list"))
    elif line.mode == "bonded_only" and record.import_mode != ImportMode.BONDED:
        message = f"tariff line {hs[:8]} is admitted for bonded import (1210) only: {line.remark}".rstrip(": ")
        # Direct mail is refused; a record that states no mode is told before it is declared as such.
        direct = record.import_mode == ImportMode.DIRECT_MAIL
        found.append(Violation("/import_mode", "positive_list.mode", message, "error" if direct else "warning"))
    if record.spec is not None and SPEC_UNIT.search(record.spec) is not None:  # else format.spec_unit
        found += _net_content(rate_row(hs, ref), net_content(record.spec))
    return found


def _category_rules(record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date) -> list[Violation]:
    """What the record's category bans, requires of its fields and requires as documents."""
    category = _category(record)
    if category is None:
        return []
    found: list[Violation] = []
    catalogue = ref.banned.get(category)
    for i, ingredient in enumerate(record.ingredients if catalogue else ()):
        for banned, verdict in catalogue.match(ingredient) if catalogue else ():
            found.append(_banned(banned, verdict, ingredient, category, i))
    rule = ref.categories.get(category)
    for name in rule.required_fields if rule else []:
        if getattr(record, name) in (None, [], ""):
            found.append(err(pointer(name), "required", f"{name} is required for {category}"))
    present = {doc.kind for doc in record.documents}
    for kind in ref.required_documents.get(category, []):
        if kind not in present:
            found.append(err("/documents", "documents.missing", f"a {kind} is required for {category}"))
    return found


def _brand_origin(record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date) -> list[Violation]:
    """A brand registered with other origins: a warning for the reviewer (brands make goods in several countries,
    so it does not block)."""
    if not (record.brand and record.origin_country and is_country(record.origin_country)):
        return []
    registered = ref.brand_countries.get(brand_key(record.brand))
    if registered is None or record.origin_country in registered[1]:
        return []
    brand, countries = registered
    message = f"{brand} is registered with origin {', '.join(countries)}, not {record.origin_country}"
    return [Violation("/origin_country", "origin.brand_mismatch", message, "warning")]


def _documents_and_images(
    record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date
) -> list[Violation]:
    """Documents in force today, and at least one image."""
    found = [
        err(pointer("documents", i, "valid_until"), "documents.expired", f"the {doc.kind} expired on {doc.valid_until}")
        for i, doc in enumerate(record.documents)
        if doc.valid_until is not None and doc.valid_until < today
    ]
    if not record.images:
        found.append(err("/images", "images.missing", "at least one image is required"))
    return found


# The logic checks, each a function of the record, the reference in force, the nomenclature and the day.
LOGIC: tuple[Callable[[ProductIn, Reference, frozenset[str], dt.date], list[Violation]], ...] = (
    _nomenclature,
    _prohibitions,
    _positive_list,
    _category_rules,
    _brand_origin,
    _documents_and_images,
)


def _net_content(rate: TaxRate, net: NetContent | None) -> list[Violation]:
    """A rate measured on the net content (a threshold per ml, g or sheet; a specific rate per L or kg) needs the
    spec to state it in that unit."""
    content: list[str] = [t.per for t in rate.thresholds if t.per != "each"]
    if rate.specific is not None:
        content.append(SPECIFIC_UNITS[rate.specific.per][0])
    if not content or (net is not None and net.unit in content):
        return []
    return [
        err(
            "/spec",
            "tax.net_content",
            f"HS {rate.prefix} is taxed by its net content per {' or '.join(content)}: "
            "the spec must state the net content in that unit (e.g. 50ml)",
        )
    ]


def _tariff(hs: str, ref: Reference, today: dt.date) -> list[Violation]:
    """The code against the tariff edition in force, when one is loaded: known, and not retired by today."""
    if not ref.tariff:
        return []
    entry = ref.tariff.get(hs)
    if entry is None:
        return [err("/hs_code", "hs.code_unknown", f"{hs} is not a code of the customs tariff in force")]
    if entry.retired_on is not None and entry.retired_on <= today:
        successors = f"; it was replaced by {', '.join(entry.successors)}" if entry.successors else ""
        return [
            err("/hs_code", "hs.code_retired", f"{hs} was retired from the tariff on {entry.retired_on}{successors}")
        ]
    return []


def _banned(entry: Banned, verdict: Verdict, ingredient: str, category: str, i: int) -> Violation:
    if verdict == "banned":
        return err(pointer("ingredients", i), "ingredients.banned", f"{entry.name} is banned in {category}")
    message = f"{ingredient} may belong to {entry.name}, banned in {category}: a reviewer checks it"
    return Violation(pointer("ingredients", i), "ingredients.banned_class", message, "warning")


def validate(record: ProductIn, ref: Reference, subheadings: frozenset[str], today: dt.date) -> list[Violation]:
    """Full validation: field rules, then logic rules."""
    return check_fields(record) + check_logic(record, ref, subheadings, today)


def blocks(violations: list[Violation]) -> bool:
    return any(v.severity == "error" for v in violations)


def errors(violations: list[Violation]) -> list[Violation]:
    """The violations that block: what a hold names."""
    return [v for v in violations if v.severity == "error"]
