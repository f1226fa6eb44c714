"""Field and logic validation: pure functions from a record (and the reference data) to every violation."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from registry.domain import customs, limits
from registry.domain.ingredients import Banned, Verdict
from registry.domain.records import ImportMode, NetContent, ProductIn, brand_key, is_digits
from registry.domain.reference import CATEGORIES, DOCUMENT_KINDS, Reference, TaxRate, is_country
from registry.domain.spec import SPEC_UNIT, net_content
from registry.domain.tax import SPECIFIC_UNITS, rate_row
from registry.domain.violations import Violation, err, pointer, text_problems

# Matched with fullmatch: `$` would let a final newline through.
SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
IMPORT_MODES = frozenset(mode.value for mode in ImportMode)
REQUIRED_TEXT = ("brand", "name_cn", "spec", "category", "hs_code", "origin_country")
TEXT_FIELDS = (
    "sku",
    "brand",
    "name_cn",
    "name_foreign",
    "spec",
    "category",
    "hs_code",
    "ciq_code",
    "usage",
    "import_mode",
    "item_record_no",
    "gtin",
    "declared_unit",
)
LIST_LIMITS = {"ingredients": limits.INGREDIENTS, "images": limits.IMAGES, "documents": limits.DOCUMENTS}


def check_fields(record: ProductIn) -> list[Violation]:
    """Field validation, on every write: presence and format of each field, every violation at once."""
    found: list[Violation] = []
    for name in TEXT_FIELDS:
        value = getattr(record, name)
        if value is not None:
            found += text_problems(value, limits.text_limit(name), name)
    for name, most in LIST_LIMITS.items():
        if len(getattr(record, name)) > most:
            found.append(err(pointer(name), "format.too_many", f"at most {most} {name}"))
    for name in ("ingredients", "images"):
        for i, item in enumerate(getattr(record, name)):
            found += text_problems(item, limits.LIST_ITEM, name, i)
    for i, doc in enumerate(record.documents):
        for name in ("kind", "number", "issuer"):
            value = getattr(doc, name)
            if value is not None:
                found += text_problems(value, limits.TEXT, "documents", i, name)
        for name in ("valid_from", "valid_until"):
            day = getattr(doc, name)
            if day is not None and not limits.FIRST_DAY <= day <= limits.LAST_DAY:
                found.append(err(pointer("documents", i, name), "format.date", "a date lies in years 1900–9999"))
    if record.sku is None:
        found.append(err("/sku", "required", "sku is required"))
    elif not SKU.fullmatch(record.sku):
        found.append(err("/sku", "format.sku", "1–64 characters: letters, digits, '.', '_' or '-', not first"))
    for name in REQUIRED_TEXT:
        if getattr(record, name) is None:
            found.append(err(pointer(name), "required", f"{name} is required and may not be blank"))
    if record.spec is not None and not SPEC_UNIT.search(record.spec):
        found.append(
            err("/spec", "format.spec_unit", "the spec must state a quantity with a unit, e.g. 120g or 2×50ml")
        )
    if record.category is not None and record.category not in CATEGORIES:
        found.append(err("/category", "format.category", f"unknown category; one of {', '.join(sorted(CATEGORIES))}"))
    if record.hs_code is not None and not is_digits(record.hs_code, 10):
        found.append(err("/hs_code", "format.hs_code", "the HS code is exactly 10 ASCII digits 0-9"))
    if record.ciq_code is not None and not is_digits(record.ciq_code, 3):
        found.append(err("/ciq_code", "format.ciq_code", "the CIQ code is exactly 3 ASCII digits 0-9"))
    if record.origin_country is not None and not is_country(record.origin_country):
        found.append(err("/origin_country", "format.country", "the origin is an ISO 3166-1 alpha-2 code such as JP"))
    if record.shelf_life_months is not None and not 0 < record.shelf_life_months <= limits.SHELF_LIFE_MONTHS:
        found.append(
            err(
                "/shelf_life_months",
                "format.range",
                f"the shelf life is a whole number of months from 1 to {limits.SHELF_LIFE_MONTHS}",
            )
        )
    if record.monthly_units is not None and not 0 <= record.monthly_units <= limits.MONTHLY_UNITS:
        found.append(
            err(
                "/monthly_units", "format.range", f"monthly units are a whole number from 0 to {limits.MONTHLY_UNITS:,}"
            )
        )
    if record.import_mode is not None and record.import_mode not in IMPORT_MODES:
        found.append(err("/import_mode", "format.import_mode", "1210 (bonded) or 9610 (direct mail)"))
    if record.item_record_no is not None and not customs.ITEM_RECORD_NO.fullmatch(record.item_record_no):
        found.append(
            err("/item_record_no", "format.item_record_no", "1–30 characters: ASCII letters, digits, '.', '_' or '-'")
        )
    if record.gtin is not None and not customs.is_gtin(record.gtin):
        found.append(
            err("/gtin", "format.gtin", "a GTIN is 8, 12, 13 or 14 ASCII digits ending in its GS1 check digit")
        )
    if record.declared_unit is not None and record.declared_unit not in customs.units():
        found.append(
            err("/declared_unit", "format.declared_unit", "not a customs unit; one such as 瓶, 盒, 件, 罐, 支, 袋, 片")
        )
    for i, ingredient in enumerate(record.ingredients):
        if not ingredient:
            found.append(err(pointer("ingredients", i), "required", "an ingredient may not be blank"))
    for i, url in enumerate(record.images):
        if not _is_http_url(url):
            found.append(err(pointer("images", i), "format.url", "an image is an http(s) URL"))
    for i, doc in enumerate(record.documents):
        if doc.kind is None:
            found.append(err(pointer("documents", i, "kind"), "required", "the document kind is required"))
        elif doc.kind not in DOCUMENT_KINDS:
            found.append(
                err(
                    pointer("documents", i, "kind"),
                    "format.document_kind",
                    f"unknown document kind; one of {', '.join(sorted(DOCUMENT_KINDS))}",
                )
            )
        for name in ("number", "valid_from", "valid_until"):
            if getattr(doc, name) is None:
                found.append(err(pointer("documents", i, name), "required", f"the document {name} is required"))
        if doc.valid_from is not None and doc.valid_until is not None and doc.valid_until < doc.valid_from:
            found.append(
                err(pointer("documents", i, "valid_until"), "documents.dates", "valid_until is before valid_from")
            )
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
    category = record.category if record.category in CATEGORIES else None
    hs = record.hs_code if record.hs_code and is_digits(record.hs_code, 10) else None

    if hs is not None:
        if hs[:6] not in subheadings:
            found.append(err("/hs_code", "hs.unknown_subheading", f"{hs[:6]} is not a subheading of HS 2022"))
        rule = ref.categories.get(category) if category else None
        if rule and rule.hs_prefixes and not hs.startswith(tuple(rule.hs_prefixes)):
            found.append(
                err(
                    "/hs_code",
                    "hs.category_mismatch",
                    f"HS {hs[:4]} is not a heading for {category} ({', '.join(rule.hs_prefixes)})",
                )
            )
        for entry in ref.prohibited:
            if not hs.startswith(entry.prefix):
                continue
            if not entry.origin:
                found.append(err("/hs_code", "hs.prohibited", f"HS {entry.prefix} is prohibited: {entry.reason}"))
            elif record.origin_country in entry.origin:
                found.append(
                    err(
                        "/origin_country",
                        "hs.prohibited_origin",
                        f"HS {entry.prefix} from {record.origin_country} is prohibited: {entry.reason}",
                    )
                )
        found += _tariff(hs, ref, today)
        line = ref.positive_line(hs[:8], today)
        if line is None:
            found.append(
                err("/hs_code", "hs.not_on_positive_list", f"tariff line {hs[:8]} is not on the positive list")
            )
        elif line.mode == "bonded_only" and record.import_mode != ImportMode.BONDED:
            message = f"tariff line {hs[:8]} is admitted for bonded import (1210) only: {line.remark}".rstrip(": ")
            # Direct mail is refused; a record that states no mode is told before it is declared as such.
            direct = record.import_mode == ImportMode.DIRECT_MAIL
            found.append(Violation("/import_mode", "positive_list.mode", message, "error" if direct else "warning"))

        if record.spec is not None and SPEC_UNIT.search(record.spec) is not None:  # else format.spec_unit
            found += _net_content(rate_row(hs, ref), net_content(record.spec))

    if category is not None:
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

    if record.brand and record.origin_country and is_country(record.origin_country):
        registered = ref.brand_countries.get(brand_key(record.brand))
        if registered is not None and record.origin_country not in registered[1]:
            brand, countries = registered
            # A warning for the reviewer: brands make goods in several countries, so it does not block.
            found.append(
                Violation(
                    "/origin_country",
                    "origin.brand_mismatch",
                    f"{brand} is registered with origin {', '.join(countries)}, not {record.origin_country}",
                    "warning",
                )
            )

    for i, doc in enumerate(record.documents):
        if doc.valid_until is not None and doc.valid_until < today:
            found.append(
                err(
                    pointer("documents", i, "valid_until"),
                    "documents.expired",
                    f"the {doc.kind} expired on {doc.valid_until.isoformat()}",
                )
            )

    if not record.images:
        found.append(err("/images", "images.missing", "at least one image is required"))
    return found


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
