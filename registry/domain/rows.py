"""Product records as import and export rows: NDJSON lines and CSV rows in the contract's field names."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

import msgspec

from registry.domain.errors import ValidationFailed
from registry.domain.records import FIELDS, Kind, ProductIn
from registry.domain.violations import Violation, from_msgspec_error

CSV_FIELDS: tuple[str, ...] = tuple(FIELDS)  # a column per field, `sku` first
SEPARATOR = "|"

_ndjson = msgspec.json.Decoder(ProductIn)
BOM = b"\xef\xbb\xbf"
# A cell a spreadsheet would run as a formula. Every CSV the service writes puts a `'` before such a cell (the
# way spreadsheets themselves mark text), and an import takes it off again, so an export re-imports unchanged.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, as the surrogateescape decoder keeps them


class RowError(Exception):
    """A row that could not be read as a record at all."""

    def __init__(self, violation: Violation, sku: str | None = None) -> None:
        super().__init__(violation.message)
        self.violation = violation
        self.sku = sku


def from_ndjson(line: bytes) -> ProductIn:
    if not line.lstrip().startswith(b"{"):  # an array, a string, a number: not a record at all
        raise RowError(Violation("", "format.json", "a line is one JSON object, a record"))
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


class Row(NamedTuple):
    """One record of an import file, as read: the record, or why it could not be read."""

    line: int
    record: ProductIn | None
    error: RowError | None


def escape_cell(value: str) -> str:
    return "'" + value if value.lstrip("'").startswith(FORMULA_START) else value


def unescape_cell(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_START) else cell


def read_ndjson(handle: IO[bytes]) -> Iterator[Row]:
    """The records of an NDJSON file, a line each; a line that cannot be read is a row with its error."""
    for number, line in enumerate(handle, 1):
        raw = (line.removeprefix(BOM) if number == 1 else line).rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            yield Row(number, None, RowError(Violation("", "format.utf8", "the line is not UTF-8")))
            continue
        try:
            yield Row(number, from_ndjson(raw), None)
        except RowError as exc:
            yield Row(number, None, exc)
        except RecursionError:  # nested past what the decoder follows: no record is that deep
            yield Row(number, None, RowError(Violation("", "format.json", "the line is nested too deeply")))


def read_csv(handle: IO[bytes]) -> Iterator[Row]:
    """The records of a CSV file (UTF-8 with or without a BOM; LF, CRLF or CR line ends), in linear time.

    A row is numbered by the line it starts on; a quoted cell may span lines. A malformed row is reported and
    reading goes on with the next; a quoted cell never closed ends the file.
    """
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        reader = csv.reader(text, strict=True)
        header: list[str] | None = None
        read_to = 0
        while True:
            start = read_to + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                read_to = reader.line_num
                problem, fatal = _csv_problem(str(exc))
                yield Row(start, None, RowError(Violation("", "format.csv", problem)))
                if fatal:  # inside a quote that runs on: what follows is that cell's text, not rows
                    return
                continue
            read_to = reader.line_num
            if not any(cells):
                continue
            if any(_NOT_UTF8.search(cell) for cell in cells):
                yield Row(start, None, RowError(Violation("", "format.utf8", "the row is not UTF-8")))
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                if problems := check_header(header):
                    fields = ", ".join(CSV_FIELDS)
                    raise ValidationFailed(problems, f"the CSV header may name only {fields}; nothing was read")
                continue
            try:
                yield Row(start, from_csv(header, cells), None)
            except RowError as exc:
                yield Row(start, None, exc)
    finally:
        text.detach()  # the caller's file stays open


def _csv_problem(message: str) -> tuple[str, bool]:
    """What the csv module's complaint means to the user, and whether the rest of the file is unreadable."""
    if "unexpected end of data" in message:
        return "a quoted cell is never closed; the rest of the file is in it", True
    if "field larger than field limit" in message:
        return f"a cell is longer than {csv.field_size_limit():,} characters; the rest of the file was not read", True
    return f"not a CSV row: {message}", False


def check_header(header: list[str]) -> list[Violation]:
    known = set(CSV_FIELDS)
    found = [
        Violation(f"/{i}", "unknown_field", f"no field {name[:64]!r}")
        for i, name in enumerate(header)
        if name not in known
    ]
    if "sku" not in header:
        found.append(Violation("", "required", "the header must name the sku column"))
    if len(set(header)) != len(header):
        found.append(Violation("", "format.header", "a column is named twice"))
    return found


def from_csv(header: list[str], cells: list[str]) -> ProductIn:
    """A record from CSV cells: empty means absent, lists are `|`-separated, documents a JSON array."""
    sku = _row_sku(header, cells)
    if len(cells) != len(header):
        raise RowError(Violation("", "format.csv", f"{len(cells)} cells for {len(header)} columns"), sku)
    raw: dict[str, Any] = {}
    for name, escaped in zip(header, cells, strict=True):
        cell = unescape_cell(escaped)
        if cell != "":
            try:
                raw[name] = _read_cell(FIELDS[name].kind, cell)
            except ValueError as exc:
                raise RowError(_unreadable(name), sku) from exc
    try:
        return msgspec.convert(raw, ProductIn)
    except msgspec.ValidationError as exc:
        raise RowError(from_msgspec_error(exc), sku) from exc


def _row_sku(header: list[str], cells: list[str]) -> str | None:
    """The row's SKU as sent, to name the row by in a refusal."""
    column = header.index("sku") if "sku" in header else len(cells)
    return cells[column] if column < len(cells) else None


def _unreadable(name: str) -> Violation:
    """A cell its field's kind cannot read."""
    if FIELDS[name].kind is Kind.DOCUMENTS:
        return Violation(f"/{name}", "format.json", f"{name} is a JSON array")
    return Violation(f"/{name}", "type", "a whole number")


def _read_cell(kind: Kind, cell: str) -> Any:
    """A cell as its field's kind reads it (ValueError when it cannot)."""
    if kind is Kind.TEXTS:
        return split_items(cell)
    if kind is Kind.DOCUMENTS:
        try:
            return msgspec.json.decode(cell)
        except (msgspec.DecodeError, RecursionError) as exc:  # nested too deeply to read: not a documents array
            raise ValueError(cell) from exc
    return int(cell) if kind is Kind.NUMBER else cell


def to_csv_row(record: ProductIn) -> list[str]:
    values = msgspec.to_builtins(record)
    return [_cell(FIELDS[name].kind, values.get(name)) for name in CSV_FIELDS]


def _cell(kind: Kind, value: Any) -> str:
    if value is None:
        return ""
    if kind is Kind.TEXTS:
        return join_items(value)
    if kind is Kind.DOCUMENTS:
        return msgspec.json.encode(value).decode() if value else ""
    return str(value)


def join_items(items: list[str]) -> str:
    """A list as one cell: its items `|`-separated, a `|` or `\\` within an item written `\\|` or `\\\\`."""
    return SEPARATOR.join(item.replace("\\", "\\\\").replace(SEPARATOR, "\\" + SEPARATOR) for item in items)


def split_items(cell: str) -> list[str]:
    """The items of a list cell (join_items read back); a `\\` before any other character is kept as it is."""
    items: list[str] = []
    item: list[str] = []
    chars = iter(cell)
    for ch in chars:
        if ch == "\\":
            after = next(chars, "")
            item.append(after if after in (SEPARATOR, "\\") else ch + after)
        elif ch == SEPARATOR:
            items.append("".join(item))
            item = []
        else:
            item.append(ch)
    items.append("".join(item))
    return items


def csv_line(cells: list[str]) -> str:
    """One CSV line, as every CSV the service writes is written: formula-like cells escaped."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([escape_cell(cell) for cell in cells])
    return out.getvalue()
