"""Product record structs and the text normalisation every stored or compared string goes through."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

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


class Kind(StrEnum):
    """What a record field holds, which says how it is normalised, stored, checked, documented and edited."""

    TEXT = "text"  # a text: NFKC, inner white space collapsed, trimmed; blank is none
    UPPER = "upper"  # the same, upper-cased (an ISO code)
    CODE = "code"  # a code or number: NFKC alone (white space stays, and is refused); "" is none
    NUMBER = "number"  # a whole number
    TEXTS = "texts"  # a list of texts, each normalised as a text
    DOCUMENTS = "documents"  # a list of documents


class Spec(Struct, frozen=True):
    """A record field's declaration: its kind, whether every record needs it, and (a list) how many items it may
    hold. Every field of the record is declared once, in ProductFields (and `sku` in ProductIn): the patch, the
    record as it is answered, normalisation, the row mapping, the text checks, the CSV columns, the OpenAPI
    schemas and the workbench's form are derived from these declarations (a text's length is limits.text_limit)."""

    kind: Kind
    label: str  # the field's name in the filing's language: the workbench's Chinese label
    label_en: str  # and in English
    required: bool = False
    items: int | None = None


class ProductFields(Struct, forbid_unknown_fields=True, kw_only=True):
    """The editable fields of a product record. Presence and format are checked by the rules, not the decoder,
    so that every violation is reported at once."""

    brand: Annotated[str | None, Spec(Kind.TEXT, "品牌", "Brand", required=True)] = None
    name_cn: Annotated[str | None, Spec(Kind.TEXT, "中文品名", "Chinese name", required=True)] = None
    name_foreign: Annotated[str | None, Spec(Kind.TEXT, "外文品名", "Foreign name")] = None
    spec: Annotated[str | None, Spec(Kind.TEXT, "规格型号", "Specification", required=True)] = None
    category: Annotated[str | None, Spec(Kind.TEXT, "商品类别", "Category", required=True)] = None
    hs_code: Annotated[str | None, Spec(Kind.CODE, "商品编码（HS）", "HS code", required=True)] = None
    ciq_code: Annotated[str | None, Spec(Kind.CODE, "检验检疫编码", "CIQ code")] = None
    origin_country: Annotated[str | None, Spec(Kind.UPPER, "原产国", "Country of origin", required=True)] = None
    ingredients: Annotated[list[str], Spec(Kind.TEXTS, "成分", "Ingredients", items=limits.INGREDIENTS)] = (
        msgspec.field(default_factory=list)
    )
    shelf_life_months: Annotated[int | None, Spec(Kind.NUMBER, "保质期（月）", "Shelf life (months)")] = None
    usage: Annotated[str | None, Spec(Kind.TEXT, "用途及使用方法", "Usage")] = None
    images: Annotated[list[str], Spec(Kind.TEXTS, "商品图片", "Images", items=limits.IMAGES)] = msgspec.field(
        default_factory=list
    )
    documents: Annotated[list[Document], Spec(Kind.DOCUMENTS, "随附单证", "Documents", items=limits.DOCUMENTS)] = (
        msgspec.field(default_factory=list)
    )
    # units sold a month, the catalog team's estimate: best sellers file first
    monthly_units: Annotated[int | None, Spec(Kind.NUMBER, "月销量（件）", "Monthly units")] = None
    # the customs supervision mode: 1210 (bonded) or 9610 (direct mail)
    import_mode: Annotated[str | None, Spec(Kind.CODE, "监管方式", "Import mode")] = None
    item_record_no: Annotated[str | None, Spec(Kind.CODE, "账册备案料号", "Account-book item number")] = (
        None  # the bonded account-book item number (账册备案料号)
    )
    gtin: Annotated[str | None, Spec(Kind.CODE, "条形码", "Barcode (GTIN)")] = None  # the barcode
    declared_unit: Annotated[str | None, Spec(Kind.TEXT, "申报计量单位", "Declared unit")] = (
        None  # the unit an order line counts in (瓶, 盒, 件…)
    )


EDITABLE_FIELDS: tuple[str, ...] = ProductFields.__struct_fields__


class ProductIn(ProductFields, kw_only=True):
    """A whole product record as a client sends it: create, validate, import."""

    sku: Annotated[str | None, Spec(Kind.CODE, "商品货号（SKU）", "SKU", required=True)] = None


def _specs(struct: type[Struct]) -> dict[str, Spec]:
    hints = get_type_hints(struct, include_extras=True)
    specs = {}
    for name in struct.__struct_fields__:
        found = [m for m in getattr(hints[name], "__metadata__", ()) if isinstance(m, Spec)]
        if len(found) != 1:
            raise TypeError(f"{struct.__name__}.{name} declares no Spec: annotate it as Annotated[type, Spec(...)]")
        specs[name] = found[0]
    return specs


# Every field of a record and its declaration, `sku` first (the order of the CSV columns and of the document).
FIELDS: dict[str, Spec] = {"sku": _specs(ProductIn)["sku"], **_specs(ProductFields)}
# The fields every record needs, besides its SKU.
REQUIRED: tuple[str, ...] = tuple(name for name, spec in FIELDS.items() if spec.required and name != "sku")
TEXTS: tuple[str, ...] = tuple(name for name, spec in FIELDS.items() if spec.kind in (Kind.TEXT, Kind.UPPER, Kind.CODE))
LISTS: dict[str, int] = {name: spec.items for name, spec in FIELDS.items() if spec.items is not None}

if TYPE_CHECKING:

    class ProductPatch(Struct):
        """Fields to change: every field of ProductFields, absent (UNSET) unless sent, null to clear."""

        def __getattr__(self, name: str) -> Any: ...

else:
    ProductPatch = msgspec.defstruct(
        "ProductPatch",
        [
            (name, hint | UnsetType | None, UNSET)
            for name, hint in get_type_hints(ProductFields).items()
            if name in ProductFields.__struct_fields__
        ],
        kw_only=True,
        forbid_unknown_fields=True,
        module=__name__,
    )
    ProductPatch.__doc__ = "Fields to change; an absent field keeps its value, null clears an optional one."


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


class ProductOut(ProductFields, kw_only=True):
    """A record as it is answered: its fields (each required one present once it is stored), its SKU and what the
    service derives and keeps beside them."""

    sku: str
    net_content: NetContent | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    filing: Filing


def _text(value: str | None, limit: int) -> str | None:
    """A text normalised within its limit; blank is None."""
    return None if value is None else normalize_text(value, limit) or None


def _code(value: str | None) -> str | None:
    return None if value is None or value == "" else normalize_code(value)


def _document(doc: Document) -> Document:
    return Document(
        kind=_text(doc.kind, limits.TEXT),
        number=_text(doc.number, limits.TEXT),
        issuer=_text(doc.issuer, limits.TEXT),
        valid_from=doc.valid_from,
        valid_until=doc.valid_until,
    )


def normal(name: str, value: Any) -> Any:
    """A field's value as it is checked and stored, as its kind says."""
    kind = FIELDS[name].kind
    if kind is Kind.TEXT:
        return _text(value, limits.text_limit(name))
    if kind is Kind.UPPER:
        text = _text(value, limits.text_limit(name))
        return text.upper() if text else None
    if kind is Kind.CODE:
        return _code(value)
    if kind is Kind.TEXTS:
        return [normalize_text(item, limits.LIST_ITEM) for item in value]
    if kind is Kind.DOCUMENTS:
        return [_document(doc) for doc in value]
    return value


def normalize(record: ProductIn) -> ProductIn:
    """The record with every text normalised; codes upper-cased where the standard is upper case."""
    return ProductIn(**{name: normal(name, getattr(record, name)) for name in FIELDS})


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
