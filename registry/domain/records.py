"""Product record structs and the text normalisation every stored or compared string goes through."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from registry.domain import limits
from registry.domain.violations import Violation

_SPACE = re.compile(r"\s+")


def normalize_text(value: str, limit: int | None = None) -> str:
    """NFKC, inner white space collapsed to one space, trimmed. A text longer than `limit` comes back as it was
    sent: a limit counts the characters sent (the published maxLength), so the rules refuse such a text however
    much normalising would shorten it."""
    if limit is not None and len(value) > limit:
        return value
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def normalize_code(value: str) -> str:
    """A code or number (HS, CIQ, filing number) as it is checked and stored: NFKC alone, so full-width
    digits read as ASCII, while white space, a trailing newline or another script's digits stay and are refused."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def read_sku(value: str) -> str:
    """A SKU as it is checked and stored, and as a path or a look-up names it: a code (NFKC alone), so a full-width
    SKU finds its record, while white space or a final newline stays and is refused."""
    return normalize_code(value)


def is_digits(value: str, length: int) -> bool:
    """Exactly `length` ASCII digits 0-9 (`str.isdigit` alone accepts every script's digits)."""
    return len(value) == length and value.isascii() and value.isdigit()


def brand_key(value: str) -> str:
    """The form brands are compared in: `SK-II`, `sk ii` and `ＳＫ－ＩＩ` are one brand."""
    return "".join(ch for ch in normalize_text(value).casefold() if ch.isalnum())


class Category(StrEnum):
    COSMETICS = "cosmetics"
    INFANT_FORMULA = "infant_formula"
    HEALTH_FOOD = "health_food"
    FOOD = "food"
    BABY_CARE = "baby_care"
    APPAREL = "apparel"
    ELECTRONICS = "electronics"
    HOUSEHOLD = "household"
    OTHER = "other"


class DocumentKind(StrEnum):
    BRAND_AUTHORIZATION = "brand_authorization"
    IMPORT_LICENSE = "import_license"
    HYGIENE_CERTIFICATE = "hygiene_certificate"
    TEST_REPORT = "test_report"
    CERTIFICATE_OF_ORIGIN = "certificate_of_origin"
    FORMULA_REGISTRATION = "formula_registration"


class Status(StrEnum):
    UNFILED = "unfiled"
    UNDER_REVIEW = "under_review"
    FILED = "filed"
    EXPIRED = "expired"


class Document(Struct, forbid_unknown_fields=True, kw_only=True):
    kind: str | None = None
    number: str | None = None
    issuer: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class ProductFields(Struct, forbid_unknown_fields=True, kw_only=True):
    """The editable fields of a product record. Presence and format are checked by the rules, not the decoder,
    so that every violation is reported at once."""

    brand: str | None = None
    name_cn: str | None = None
    name_foreign: str | None = None
    spec: str | None = None
    category: str | None = None
    hs_code: str | None = None
    ciq_code: str | None = None
    origin_country: str | None = None
    ingredients: list[str] = msgspec.field(default_factory=list)
    shelf_life_months: int | None = None
    usage: str | None = None
    images: list[str] = msgspec.field(default_factory=list)
    documents: list[Document] = msgspec.field(default_factory=list)
    monthly_units: int | None = None  # units sold a month, the catalog team's estimate: best sellers file first
    import_mode: str | None = None  # the customs supervision mode: 1210 (bonded) or 9610 (direct mail)
    item_record_no: str | None = None  # the bonded account-book item number (账册备案料号)
    gtin: str | None = None  # the barcode
    declared_unit: str | None = None  # the unit an order line counts in (瓶, 盒, 件…)


EDITABLE_FIELDS: tuple[str, ...] = ProductFields.__struct_fields__


class ProductIn(ProductFields, kw_only=True):
    """A whole product record as a client sends it: create, validate, import."""

    sku: str | None = None


class ProductPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields to change; an absent field keeps its value, null clears an optional one."""

    brand: str | UnsetType | None = UNSET
    name_cn: str | UnsetType | None = UNSET
    name_foreign: str | UnsetType | None = UNSET
    spec: str | UnsetType | None = UNSET
    category: str | UnsetType | None = UNSET
    hs_code: str | UnsetType | None = UNSET
    ciq_code: str | UnsetType | None = UNSET
    origin_country: str | UnsetType | None = UNSET
    ingredients: list[str] | UnsetType | None = UNSET
    shelf_life_months: int | UnsetType | None = UNSET
    usage: str | UnsetType | None = UNSET
    images: list[str] | UnsetType | None = UNSET
    documents: list[Document] | UnsetType | None = UNSET
    monthly_units: int | UnsetType | None = UNSET
    import_mode: str | UnsetType | None = UNSET
    item_record_no: str | UnsetType | None = UNSET
    gtin: str | UnsetType | None = UNSET
    declared_unit: str | UnsetType | None = UNSET


class ImportMode(StrEnum):
    BONDED = "1210"  # 网购保税: goods held in a bonded warehouse
    DIRECT_MAIL = "9610"  # 直购


NET_UNITS = ("ml", "g", "piece")  # what a piece's net content is counted in


class NetContent(Struct):
    """What a piece holds, in ml, g or pieces (from `spec`)."""

    amount: Decimal
    unit: str


class Hold(Struct, kw_only=True):
    """A filed record that the reference in force no longer passes: not declarable until released (a later edition
    passes it again), amended or expired. `reference` names the editions (`NAME@VERSION`) it was checked against."""

    since: dt.datetime
    reference: str
    violations: list[Violation]


class Filing(Struct, kw_only=True):
    status: Status
    filing_no: str | None = None
    submitted_at: dt.datetime | None = None
    filed_at: dt.datetime | None = None
    valid_until: dt.date | None = None
    tax_rate: Decimal | None = None
    rejection_reasons: list[str] = msgspec.field(default_factory=list)
    hold: Hold | None = None


class ProductOut(Struct, kw_only=True):
    sku: str
    brand: str
    name_cn: str
    name_foreign: str | None
    spec: str
    category: str
    hs_code: str
    ciq_code: str | None
    origin_country: str
    ingredients: list[str]
    shelf_life_months: int | None
    usage: str | None
    images: list[str]
    documents: list[Document]
    monthly_units: int | None
    import_mode: str | None
    item_record_no: str | None
    gtin: str | None
    declared_unit: str | None
    net_content: NetContent | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    filing: Filing


def _normalize_optional(owner: Any, field: str) -> str | None:
    """`owner`'s text field normalised within its limit; blank is None."""
    value = getattr(owner, field)
    if value is None:
        return None
    return normalize_text(value, limits.text_limit(field)) or None


def _code(value: str | None) -> str | None:
    return None if value is None or value == "" else normalize_code(value)


def normalize(record: ProductIn) -> ProductIn:
    """The record with every text normalised; codes upper-cased where the standard is upper case."""
    country = _normalize_optional(record, "origin_country")
    return ProductIn(
        sku=_code(record.sku),
        brand=_normalize_optional(record, "brand"),
        name_cn=_normalize_optional(record, "name_cn"),
        name_foreign=_normalize_optional(record, "name_foreign"),
        spec=_normalize_optional(record, "spec"),
        category=_normalize_optional(record, "category"),
        hs_code=_code(record.hs_code),
        ciq_code=_code(record.ciq_code),
        origin_country=country.upper() if country else None,
        ingredients=[normalize_text(item, limits.LIST_ITEM) for item in record.ingredients],
        shelf_life_months=record.shelf_life_months,
        usage=_normalize_optional(record, "usage"),
        images=[normalize_text(url, limits.LIST_ITEM) for url in record.images],
        documents=[
            Document(
                kind=_normalize_optional(doc, "kind"),
                number=_normalize_optional(doc, "number"),
                issuer=_normalize_optional(doc, "issuer"),
                valid_from=doc.valid_from,
                valid_until=doc.valid_until,
            )
            for doc in record.documents
        ],
        monthly_units=record.monthly_units,
        import_mode=_code(record.import_mode),
        item_record_no=_code(record.item_record_no),
        gtin=_code(record.gtin),
        declared_unit=_normalize_optional(record, "declared_unit"),
    )


def apply_patch(record: ProductIn, patch: ProductPatch) -> ProductIn:
    """The record with the patch's present fields replacing its own; null lists become empty."""
    changes: dict[str, Any] = {}
    for name in ProductPatch.__struct_fields__:
        value = getattr(patch, name)
        if value is UNSET:
            continue
        if value is None and isinstance(getattr(record, name), list):
            value = []
        changes[name] = value
    return msgspec.structs.replace(record, **changes)


def field_changes(old: ProductIn | None, new: ProductIn) -> dict[str, dict[str, Any]]:
    """`{field: {old, new}}` for every field that differs, in wire form."""
    after = msgspec.to_builtins(new)
    if old is None:
        return {name: {"old": None, "new": value} for name, value in after.items() if value is not None}
    before = msgspec.to_builtins(old)
    return {
        name: {"old": before.get(name), "new": after[name]}
        for name in ProductIn.__struct_fields__
        if before.get(name) != after[name]
    }
