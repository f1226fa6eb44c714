"""The request and record schemas of the OpenAPI document, derived from the domain: each record field from its
declaration (registry.domain.records.FIELDS) and each format from the constant the rules check it with
(registry.domain.rules.FORMATS), so the document states what the server enforces. registry.api.openapi puts them
into the document; tests/api/test_openapi.py holds each schema to the Struct it describes.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

import msgspec
import pycountry
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Reference
from litestar.openapi.spec import Schema as S

from registry.domain import customs, limits, rules, spec, violations
from registry.domain.records import FIELDS, LISTS, REQUIRED, Category, DocumentKind, ImportMode, Kind, Spec
from registry.domain.reference import SET_TYPES


@functools.lru_cache(maxsize=1)
def _visible() -> str:
    """A pattern for a stored text: at least one character that is not white space, and none that the rules refuse
    as unseen (control and format characters that are not white space: a tab or a line end is read as a space).
    Characters beyond the Basic Multilingual Plane are left out of the class: JSON Schema's regular expressions
    write them differently from Python's."""
    unseen = [
        cp
        for cp in range(0x10000)
        if not 0xD800 <= cp <= 0xDFFF and violations.UNSEEN.match(chr(cp)) and not chr(cp).isspace()
    ]
    ranges: list[tuple[int, int]] = []
    for cp in unseen:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    klass = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    # The one visible character may be none of the white space Python's rules collapse either: \x1c–\x1f and
    # \x85 are white space to `str.isspace` and not to ECMA-262's `\s`.
    spaces = "".join(f"\\u{cp:04x}" for cp in range(0x10000) if chr(cp).isspace())
    return f"^[^{klass}]*[^{klass}{spaces}\\s][^{klass}]*$"


def _spec() -> str:
    """The spec's rule (a quantity with a unit, anywhere in it) as an anchored pattern of visible text. The rule
    ignores case, which JSON Schema's patterns cannot say with a flag: each letter becomes a class of both cases."""
    klass = _visible()[3 : _visible().index("]")]
    out, escaped, in_class = [], False, False
    for ch in re.sub(r"\?P<\w+>", "?:", spec.SPEC_UNIT.pattern):  # no group names in ECMA-262's dialect
        if escaped or ch == "\\":
            escaped = not escaped and ch == "\\"
            out.append(ch)
        elif ch in "[]":
            in_class = ch == "["
            out.append(ch)
        elif ch.isascii() and ch.isalpha() and not in_class:
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append(ch)
    return f"^[^{klass}]*(?:{''.join(out)})[^{klass}]*$"


def _text(limit: int, **more: Any) -> S:
    return S(type=OpenAPIType.STRING, min_length=1, max_length=limit, pattern=_visible(), **more)


def _optional_text(limit: int) -> S:
    """An optional text: blank (empty, or white space only) is none, as null is; else as `_text`."""
    klass = _visible()[3 : _visible().index("]")]
    return S(type=OpenAPIType.STRING, max_length=limit, pattern=f"^[^{klass}]*$", description=_BLANK)


_BLANK = "Blank (empty, or white space only) is none, as null is."


def _nullable(schema: S | Reference) -> S:
    return S(one_of=[schema, S(type=OpenAPIType.NULL)])


def _object(title: str, properties: dict[str, S | Reference], required: list[str], **more: Any) -> S:
    return S(
        title=title,
        type=OpenAPIType.OBJECT,
        properties=properties,
        required=sorted(required),
        additional_properties=False,
        **more,
    )


def _digits(count: int, **more: Any) -> S:
    return S(type=OpenAPIType.STRING, pattern=f"^[0-9]{{{count}}}$", **more)


_AMOUNT = S(
    type=OpenAPIType.STRING,
    pattern=r"^(0*[0-9]{1,8}(\.[0-9]{1,2})?|0*\.[0-9]{1,2})$",
    description="CNY, ≥ 0 and < 10⁸, to the fen at most (default 0); part of the dutiable value, shared by value",
)
_SKU = S(type=OpenAPIType.STRING, pattern=f"^{rules.SKU.pattern}$", max_length=limits.SKU)
YEARS = "^(19|[2-9][0-9])[0-9]{2}-"  # a date or a moment in the years 1900-9999 (limits.FIRST_DAY, LAST_DAY)
_DAY = S(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE, pattern=YEARS)
_URL = S(
    type=OpenAPIType.STRING,
    format=OpenAPIFormat.URI,
    pattern=r"^https?://[^\s/?#@:]+([:/?#][^\s]*)?$",
    max_length=limits.LIST_ITEM,
)


_NONE = "An empty string is none, as null is."  # the optional codes: an empty CSV cell, or "" in JSON


def _formats() -> dict[str, S]:
    """The document's statement of each format the rules check (rules.FORMATS and rules.ITEMS), from the domain's own
    constants; a test holds the two tables to the same fields."""
    countries = sorted(country.alpha_2 for country in pycountry.countries)
    return {
        "sku": _SKU,
        "spec": S(
            type=OpenAPIType.STRING,
            max_length=limits.TEXT,
            pattern=_spec(),
            description="A quantity with a unit: `120g`, `230 ml`, `1件`, `2×50ml`, `30粒`",
        ),
        "category": S(type=OpenAPIType.STRING, enum=[c.value for c in Category]),
        "hs_code": _digits(10),
        "ciq_code": S(type=OpenAPIType.STRING, pattern="^(?:[0-9]{3})?$", description=_NONE),
        "origin_country": S(type=OpenAPIType.STRING, enum=countries, description="ISO 3166-1 alpha-2"),
        "shelf_life_months": S(type=OpenAPIType.INTEGER, minimum=1, maximum=limits.SHELF_LIFE_MONTHS),
        "images": S(type=OpenAPIType.ARRAY, items=_URL, max_items=limits.IMAGES),
        "monthly_units": S(type=OpenAPIType.INTEGER, minimum=0, maximum=limits.MONTHLY_UNITS),
        "import_mode": S(
            type=OpenAPIType.STRING,
            enum=[*(mode.value for mode in ImportMode), ""],
            description=f"The customs supervision mode: 1210 bonded (网购保税), 9610 direct mail (直购). {_NONE}",
        ),
        "item_record_no": S(
            type=OpenAPIType.STRING,
            pattern=f"^(?:{customs.ITEM_RECORD_NO.pattern})?$",
            description="The bonded account-book item number (账册备案料号); a 1210 product needs one to be "
            f"declared. {_NONE}",
        ),
        "gtin": S(
            type=OpenAPIType.STRING,
            pattern="^(?:[0-9]{8}|[0-9]{12,14})?$",
            description=f"The barcode: GTIN-8, -12, -13 or -14 with a valid GS1 check digit. {_NONE}",
        ),
        "declared_unit": S(
            type=OpenAPIType.STRING,
            enum=sorted(customs.units()),
            description="The unit an order line counts in; declared as its 3-digit customs unit code",
        ),
    }


def _by_kind(name: str, spec: Spec) -> S | Reference:
    """A field's schema as its kind says, where the rules check no format of it."""
    if spec.kind is Kind.NUMBER:
        return S(type=OpenAPIType.INTEGER)
    if spec.kind is Kind.TEXTS:
        return S(type=OpenAPIType.ARRAY, items=_text(limits.LIST_ITEM), max_items=spec.items)
    if spec.kind is Kind.DOCUMENTS:
        return S(type=OpenAPIType.ARRAY, items=Reference("#/components/schemas/Document"), max_items=spec.items)
    if spec.kind is Kind.CODE:
        return S(type=OpenAPIType.STRING, max_length=limits.text_limit(name), description=_NONE)
    return _text(limits.text_limit(name)) if spec.required else _optional_text(limits.text_limit(name))


def _record_properties() -> dict[str, S | Reference]:
    formats = _formats()
    return {name: formats.get(name) or _by_kind(name, spec) for name, spec in FIELDS.items()}


# What a record may leave out: absent or null, it is stored as null; a list absent is empty (null only in a patch).
_LISTS = set(LISTS)
_OPTIONAL = {name for name, spec in FIELDS.items() if not spec.required}


def answered(record: S) -> None:
    """The record as it is answered: every field is always there, and a field every record needs is never null."""
    properties = record.properties or {}
    record.required = sorted(properties)
    for name in ("sku", *REQUIRED):
        schema = properties[name]
        if isinstance(schema, S) and schema.one_of:
            properties[name] = next(s for s in schema.one_of if isinstance(s, S) and s.type != OpenAPIType.NULL)


def drafts(generated: dict[str, Any]) -> dict[str, S]:
    """What the validation dry run reads: a record of the right types, which it checks and reports on (200) rather
    than refuses. The field rules are its answer, not its input's schema."""
    record, document = copy.deepcopy(generated["ProductIn"]), copy.deepcopy(generated["Document"])
    record.title, document.title = "ProductDraft", "DocumentDraft"
    record.additional_properties = document.additional_properties = False
    record.properties["documents"].items = Reference("#/components/schemas/DocumentDraft")
    return {"ProductDraft": record, "DocumentDraft": document}


def request_schemas() -> dict[str, Any]:
    record = _record_properties()
    whole = {name: _nullable(schema) if name in _OPTIONAL - _LISTS else schema for name, schema in record.items()}
    # A patch: any field may be absent; null clears an optional field (a list to empty), a required one may not be.
    patch = {
        name: _nullable(schema) if name in _OPTIONAL else schema for name, schema in record.items() if name != "sku"
    }
    product_in = _object("ProductIn", whole, ["sku", *REQUIRED])
    product_in.description = "A whole product record: create, validate, import (a line of NDJSON, a CSV row)."
    sets, components = msgspec.json.schema_components(SET_TYPES.values(), ref_template="#/components/schemas/{name}")
    found: dict[str, Any] = {
        "ProductIn": product_in,
        "ProductPatch": _object("ProductPatch", patch, [], min_properties=1),
        "Document": _object(
            "Document",
            {
                "kind": S(type=OpenAPIType.STRING, enum=[k.value for k in DocumentKind]),
                "number": _text(limits.TEXT),
                "issuer": _nullable(_text(limits.TEXT)),
                "valid_from": _DAY,
                "valid_until": _DAY,
            },
            ["kind", "number", "valid_from", "valid_until"],
            description="valid_until is not before valid_from",
        ),
        "ActionIn": _object(
            "ActionIn",
            {
                "filing_no": _digits(10, description="approve: the number"),
                "valid_until": S(
                    format=OpenAPIFormat.DATE, type=OpenAPIType.STRING, description="approve: in the future"
                ),
                "reasons": S(
                    type=OpenAPIType.ARRAY,
                    items=_text(limits.REASON),
                    min_items=1,
                    max_items=limits.REASONS,
                    description="reject: at least one",
                ),
                "reason": _text(limits.REASON, description="amend, expire: kept in history"),
            },
            [],
        ),
        "ReviewIn": _object(
            "ReviewIn",
            {"note": _text(limits.REASON, description="what was reviewed and found; kept in history")},
            ["note"],
        ),
        "LineIn": _object(
            "LineIn",
            {
                "sku": S(type=OpenAPIType.STRING, min_length=1, max_length=limits.SKU),
                "quantity": S(type=OpenAPIType.INTEGER, minimum=1, maximum=limits.MAX_QUANTITY),
                "unit_price": S(
                    type=OpenAPIType.STRING,
                    pattern=r"^(0*[1-9][0-9]{0,7}(\.[0-9]{1,2})?|0*\.(0[1-9]|[1-9][0-9]?)|0+\.[0-9]?[1-9])$",
                    description="CNY, > 0 and < 10⁸, to the fen at most: `129.00`",
                ),
            },
            ["sku", "quantity", "unit_price"],
        ),
        "KeyIn": _object(
            "KeyIn",
            {"role": Reference("#/components/schemas/Role"), "name": _text(limits.KEY_NAME)},
            ["role", "name"],
        ),
        "SkusIn": _object(
            "SkusIn",
            {
                "skus": S(
                    type=OpenAPIType.ARRAY,
                    items=S(type=OpenAPIType.STRING, min_length=1, max_length=limits.SKU),
                    min_items=1,
                    max_items=limits.BATCH,
                )
            },
            ["skus"],
        ),
        "DeclarationIn": _object(
            "DeclarationIn",
            {
                "items": S(
                    type=OpenAPIType.ARRAY,
                    items=Reference("#/components/schemas/LineIn"),
                    min_items=1,
                    max_items=limits.BATCH,
                ),
                "freight": _AMOUNT,
                "insurance": _AMOUNT,
                "annual_used": S(
                    all_of=[_AMOUNT],
                    description="The buyer's dutiable total so far this calendar year (default 0)",
                ),
                "declared_on": S(
                    type=OpenAPIType.STRING,
                    format=OpenAPIFormat.DATE,
                    pattern=YEARS,
                    description="The day customs accepts the declaration; its tax rates apply (default today)",
                ),
            },
            ["items"],
        ),
        # JSON Schema as msgspec writes it, which the document carries as it is.
        "ReferenceSetIn": {
            "title": "ReferenceSetIn",
            "description": "The whole of one reference set, in the shape of the set the path names: "
            + ", ".join(f"{name} ({i + 1})" for i, name in enumerate(SET_TYPES)),
            "anyOf": list(sets),  # an empty list is valid for several sets: exactly one cannot be required
        },
        **components,
    }
    return found
