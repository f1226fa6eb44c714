"""Bulk import: NDJSON or CSV records upserted by SKU, streamed in batches, all in one transaction.

`atomic` writes nothing if any row is rejected; `partial` writes the rows that pass; a dry run writes nothing.
Either way the whole import commits once at the end, so a failure, a limit or a killed process leaves
nothing of it behind. Each written row has its history event in that same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import rules
from registry.domain.errors import RegistryError, TooLarge, ValidationFailed
from registry.domain.records import ProductIn, Status, field_changes, normalize
from registry.domain.rows import RowError, check_header, from_csv, from_ndjson, split_record
from registry.domain.violations import Violation
from registry.models import PRODUCT_TABLE, Product
from registry.services import history
from registry.services.context import Context, Principal
from registry.services.history import NewEvent
from registry.services.products import NEW_FILING, fields_of, filing_changes, to_record

BATCH = 2000
MAX_ERRORS = 10_000


CREATED_FILING = filing_changes({}, NEW_FILING)


class Mode(StrEnum):
    ATOMIC = "atomic"
    PARTIAL = "partial"


class Format(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class ImportRefused(RegistryError):
    """An atomic import with a rejected row: nothing was written; the report says why."""

    status, title, slug = 422, "Import refused", "import-refused"


class ErrorRow(msgspec.Struct):
    line: int
    sku: str | None
    violations: list[Violation]


class ImportReport(msgspec.Struct):
    written: bool = False
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[ErrorRow] = msgspec.field(default_factory=list)
    errors_truncated: bool = False


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int


class Row(NamedTuple):
    line: int
    record: ProductIn | None
    error: RowError | None


class Changed(NamedTuple):
    """What the look-up index needs of a written row."""

    sku: str
    filing_no: str | None
    hs_code: str
    tax_rate: Any
    status: str
    valid_until: dt.date | None
    version: int


async def _lines(chunks: AsyncIterator[bytes], limits: Limits) -> AsyncIterator[tuple[int, bytes]]:
    """Physical lines with their 1-based numbers, from a stream of chunks; 413 past the byte limit."""
    buffer = b""
    number = 0
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limits.max_bytes:
            raise TooLarge(f"the body is over the {limits.max_bytes:,} byte limit; nothing was written")
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            number += 1
            yield number, line.rstrip(b"\r")
    if buffer:
        yield number + 1, buffer.rstrip(b"\r")


async def _rows(chunks: AsyncIterator[bytes], fmt: Format, limits: Limits) -> AsyncIterator[Row]:
    header: list[str] | None = None
    pending: list[str] = []
    start = 0
    async for number, raw in _lines(chunks, limits):
        if fmt is Format.NDJSON:
            if raw.strip():
                try:
                    yield Row(number, from_ndjson(raw), None)
                except RowError as exc:
                    yield Row(number, None, exc)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield Row(number, None, RowError(Violation("", "format.utf8", "the line is not UTF-8")))
            continue
        if not pending:
            start = number
        pending.append(text)
        record_text = "\n".join(pending)
        if record_text.count('"') % 2:  # inside a quoted cell: the record goes on on the next line
            continue
        pending = []
        if not record_text.strip():
            continue
        cells = split_record(record_text)
        if header is None:
            header = [cell.strip() for cell in cells]
            if problems := check_header(header):
                raise ValidationFailed(problems, "the CSV header names no product fields; nothing was read")
            continue
        try:
            yield Row(start, from_csv(header, cells), None)
        except RowError as exc:
            yield Row(start, None, exc)
    if pending:
        yield Row(start, None, RowError(Violation("", "format.csv", "a quoted cell is never closed")))


class _Import:
    def __init__(self, ctx: Context, mode: Mode, dry_run: bool, actor: Principal) -> None:
        self.ctx, self.mode, self.dry_run, self.actor = ctx, mode, dry_run, actor
        self.report = ImportReport()
        self.seen: dict[str, int] = {}
        self.changed: list[Changed] = []
        self.now = ctx.now()

    def reject(self, line: int, sku: str | None, violations: list[Violation]) -> None:
        self.report.rejected += 1
        if len(self.report.errors) < MAX_ERRORS:
            self.report.errors.append(ErrorRow(line, sku, violations))
        else:
            self.report.errors_truncated = True

    async def batch(self, tx: AsyncSession, rows: Sequence[Row]) -> None:
        checked: list[tuple[int, ProductIn]] = []
        for row in rows:
            self.report.total += 1
            if row.error is not None or row.record is None:
                assert row.error is not None
                self.reject(row.line, row.error.sku, [row.error.violation])
                continue
            record = normalize(row.record)
            if violations := rules.check_fields(record):
                self.reject(row.line, record.sku, violations)
                continue
            assert record.sku is not None
            if (earlier := self.seen.get(record.sku)) is not None:
                message = f"SKU {record.sku} is on line {earlier} already"
                self.reject(row.line, record.sku, [Violation("/sku", "import.duplicate_sku", message)])
                continue
            self.seen[record.sku] = row.line
            checked.append((row.line, record))
        if not checked:
            return
        skus = [record.sku for _, record in checked]
        stmt = select(Product).where(Product.sku.in_(skus))
        existing = {p.sku: p for p in (await tx.scalars(stmt if self.dry_run else stmt.with_for_update())).all()}
        creates: list[dict[str, Any]] = []
        events: list[NewEvent] = []
        for line, record in checked:
            sku = record.sku
            assert sku is not None
            current = existing.get(sku)
            if current is None:
                self.report.created += 1
                wire = msgspec.to_builtins(record)
                values = {"sku": sku, **fields_of(record, wire), "version": 1, "status": Status.UNFILED.value}
                creates.append(values)
                changes = {name: {"old": None, "new": value} for name, value in wire.items() if value is not None}
                changes.update(CREATED_FILING)
                events.append(self._event(sku, 1, None, changes))
                self.changed.append(Changed(sku, None, values["hs_code"], None, Status.UNFILED.value, None, 1))
                continue
            old = to_record(current)
            changes = field_changes(old, record)
            if not changes:
                self.report.unchanged += 1
            elif current.status != Status.UNFILED.value:
                message = f"{sku} is {current.status}; its fields change only while unfiled (amend it first)"
                self.reject(line, sku, [Violation("", "lifecycle.locked", message)])
            else:
                self.report.updated += 1
                for name, value in fields_of(record).items():
                    setattr(current, name, value)
                current.updated_at = self.now
                events.append(self._event(sku, current.version + 1, current.status, changes))
                self.changed.append(
                    Changed(
                        sku,
                        current.filing_no,
                        record.hs_code or "",
                        current.tax_rate,
                        current.status,
                        current.valid_until,
                        current.version + 1,
                    )
                )
        if self.dry_run or (self.mode is Mode.ATOMIC and self.report.rejected):
            tx.expunge_all()
            return
        if creates:
            stamp = {"created_at": self.now, "updated_at": self.now, "rejection_reasons": []}
            await tx.execute(insert(PRODUCT_TABLE), [{**values, **stamp} for values in creates])
        await tx.flush()
        await history.append_many(tx, events)
        tx.expunge_all()

    def _event(self, sku: str, version: int, status: str | None, changes: dict[str, Any]) -> NewEvent:
        return NewEvent(
            at=self.now,
            actor=self.actor.actor,
            action="import",
            sku=sku,
            version=version,
            from_status=status,
            to_status=status or Status.UNFILED.value,
            changes=changes,
        )


async def run(
    ctx: Context,
    chunks: AsyncIterator[bytes],
    fmt: Format,
    mode: Mode,
    dry_run: bool,
    actor: Principal,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read, check and (unless a dry run, or atomic with a rejected row) write every record, in one transaction."""
    work = _Import(ctx, mode, dry_run, actor)
    sessions = ctx.db.reads if dry_run else ctx.db.writes
    async with sessions() as tx, tx.begin():
        rows: list[Row] = []
        async for row in _rows(chunks, fmt, limits):
            rows.append(row)
            if len(rows) >= BATCH:
                await _next_batch(work, tx, rows, limits, progress)
                rows = []
        await _next_batch(work, tx, rows, limits, progress)
        if dry_run or (mode is Mode.ATOMIC and work.report.rejected):
            await tx.rollback()
    if mode is Mode.ATOMIC and work.report.rejected and not dry_run:
        raise ImportRefused(
            f"{work.report.rejected} of {work.report.total} rows rejected; an atomic import writes nothing",
            report=work.report,
        )
    if not dry_run:
        work.report.written = True
        ctx.changed(work.changed)
    return work.report


async def _next_batch(
    work: _Import, tx: AsyncSession, rows: list[Row], limits: Limits, progress: Callable[[int], None] | None
) -> None:
    if work.report.total + len(rows) > limits.max_rows:
        raise TooLarge(f"more than {limits.max_rows:,} rows; nothing was written")
    await work.batch(tx, rows)
    if progress is not None:
        progress(len(rows))
