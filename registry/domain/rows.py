"""Product records as import and export rows: NDJSON lines and CSV rows in the contract's field names."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from registry.domain.records import ProductIn
from registry.domain.violations import Violation, from_msgspec_error

CSV_FIELDS: tuple[str, ...] = ("sku", *(name for name in ProductIn.__struct_fields__ if name != "sku"))
LIST_FIELDS = frozenset({"ingredients", "images"})
SEPARATOR = "|"

_ndjson = msgspec.json.Decoder(ProductIn)


class RowError(Exception):
    """A row that could not be read as a record at all."""

    def __init__(self, violation: Violation, sku: str | None = None) -> None:
        super().__init__(violation.message)
        self.violation = violation
        self.sku = sku


def from_ndjson(line: bytes) -> ProductIn:
    try:
        return _ndjson.decode(line)
    except msgspec.ValidationError as exc:
        raise RowError(from_msgspec_error(exc), _sku_of(line)) from exc
    except msgspec.DecodeError as exc:
        raise RowError(Violation("", "format.json", f"not a JSON object: {exc}")) from exc


def _sku_of(line: bytes) -> str | None:
    try:
        value = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None
    sku = value.get("sku") if isinstance(value, dict) else None
    return sku if isinstance(sku, str) else None


def check_header(header: list[str]) -> list[Violation]:
    known = set(CSV_FIELDS)
    found = [
        Violation(f"/{i}", "unknown_field", f"no field {name!r}; the fields are {', '.join(CSV_FIELDS)}")
        for i, name in enumerate(header)
        if name not in known
    ]
    if "sku" not in header:
        found.append(Violation("", "required", "the header must name the sku column"))
    if len(set(header)) != len(header):
        found.append(Violation("", "format.header", "a column is named twice"))
    return found


def split_record(text: str) -> list[str]:
    """One CSV record's cells (the record may span lines inside quotes)."""
    return next(csv.reader(io.StringIO(text)), [])


def from_csv(header: list[str], cells: list[str]) -> ProductIn:
    """A record from CSV cells: empty means absent, lists are `|`-separated, documents a JSON array."""
    sku = cells[header.index("sku")] if "sku" in header and header.index("sku") < len(cells) else None
    if len(cells) != len(header):
        raise RowError(Violation("", "format.csv", f"{len(cells)} cells for {len(header)} columns"), sku)
    raw: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=True):
        if cell == "":
            continue
        if name in LIST_FIELDS:
            raw[name] = cell.split(SEPARATOR)
        elif name == "documents":
            try:
                raw[name] = msgspec.json.decode(cell)
            except msgspec.DecodeError as exc:
                raise RowError(Violation("/documents", "format.json", "documents is a JSON array"), sku) from exc
        elif name == "shelf_life_months":
            try:
                raw[name] = int(cell)
            except ValueError as exc:
                raise RowError(Violation(f"/{name}", "type", "a whole number of months"), sku) from exc
        else:
            raw[name] = cell
    try:
        return msgspec.convert(raw, ProductIn)
    except msgspec.ValidationError as exc:
        raise RowError(from_msgspec_error(exc), sku) from exc


def to_csv_row(record: ProductIn) -> list[str]:
    values = msgspec.to_builtins(record)
    row = []
    for name in CSV_FIELDS:
        value = values.get(name)
        if value is None:
            row.append("")
        elif name in LIST_FIELDS:
            row.append(SEPARATOR.join(value))
        elif name == "documents":
            row.append(msgspec.json.encode(value).decode() if value else "")
        else:
            row.append(str(value))
    return row


def csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()
