"""Bulk import: NDJSON or CSV records upserted by SKU, in batches, all in one transaction.

The file is whole before anything is written (an HTTP upload is received into a temporary file first), so a
slow or stalled client never holds the write lock. Rows are read, normalised and field-checked in a child
process of the import's own, a batch at a time, in linear time, while this process writes the batches before
them: the checking neither keeps the event loop from other requests nor takes their share of the interpreter.
`atomic` writes nothing if any row is rejected; `partial` writes the rows that pass; a dry run writes nothing.
Either way the whole import commits once at the end, so a failure, a limit or a killed process leaves
nothing of it behind. Each written row has its history event in that same transaction.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from multiprocessing.connection import Connection
from typing import IO, Any, NamedTuple

import msgspec
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import limits as bounds
from registry.domain import rules
from registry.domain.errors import Conflict, RegistryError, TooLarge, ValidationFailed
from registry.domain.records import ProductIn, normalize
from registry.domain.rows import Row, read_csv, read_ndjson
from registry.domain.violations import Violation, capped
from registry.models import PRODUCT_TABLE, Product
from registry.services import history
from registry.services.context import Context, Principal
from registry.services.history import NewEvent
from registry.services.lookup import lookup_columns
from registry.services.products import creation_event, new_values, rewrite, update_event

# Rows a batch: each batch's writing runs on the event loop between two awaits, so its size bounds how long a
# look-up waits behind an import (1,000 made the look-up's p99 under a running import ~25x idle; 100, ~3.5x,
# at the same import speed).
BATCH = 100
INDEX_STEP = 5000  # rows given to the look-up index between two turns of the event loop


class Mode(StrEnum):
    ATOMIC = "atomic"
    PARTIAL = "partial"


class Format(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class ImportRefused(RegistryError):
    """An atomic import with a rejected row: nothing was written; the report says why."""

    status, title, slug = 422, "Import refused", "import-refused"


class ErrorRow(msgspec.Struct, omit_defaults=True):
    line: int
    sku: str | None
    violations: list[Violation]
    truncated: bool = False  # the row had more violations than are listed


class ImportReport(msgspec.Struct):
    written: bool = False
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[ErrorRow] = msgspec.field(default_factory=list)
    truncated: bool = False  # more rows were rejected than are listed


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int


class Checked(NamedTuple):
    """A row after reading and field validation: its record, or what is wrong with it."""

    line: int
    sku: str | None
    record: ProductIn | None
    violations: list[Violation]


def _check(row: Row) -> Checked:
    if row.error is not None or row.record is None:
        assert row.error is not None
        return Checked(row.line, row.error.sku, None, [row.error.violation])
    record = normalize(row.record)
    return Checked(row.line, record.sku, record, rules.check_fields(record))


def _next_batch(rows: Iterator[Row]) -> list[Checked]:
    """Up to BATCH rows read and checked; a refused row without its record (what it holds may not even be
    encodable: a number past 2⁶⁴), it is reported by its line, SKU and violations alone."""
    batch = [_check(row) for row in itertools.islice(rows, BATCH)]
    return [row._replace(record=None) if row.violations else row for row in batch]


def _check_file(source: str | bytes, fmt: Format, out: Connection) -> None:
    """In the checker process: every row of the file (a path, or its bytes) read and checked, a batch at a time,
    each sent down `out` with the file position reached; then an empty message. A failure is sent as its text."""
    try:
        encode = msgspec.msgpack.Encoder().encode
        with open(source, "rb") if isinstance(source, str) else io.BytesIO(source) as handle:
            rows = read_csv(handle) if fmt is Format.CSV else read_ndjson(handle)
            while batch := _next_batch(rows):
                out.send_bytes(encode((handle.tell(), batch)))
        out.send_bytes(b"")
    except BrokenPipeError:  # the import ended early (a limit, a refusal, its client gone): nothing to tell
        pass
    except ValidationFailed as exc:  # the file as a whole refused (a CSV header): the client is told why
        out.send_bytes(b"?" + msgspec.msgpack.encode((exc.violations, exc.detail, bool(exc.extra.get("truncated")))))
    except BaseException as exc:
        out.send_bytes(b"!" + repr(exc).encode())
    finally:
        out.close()


# The checker processes come from a fork server started with this module loaded: a clean process (not a fork of
# the threaded server), each checker forked from it in milliseconds.
_PROCESSES = multiprocessing.get_context("forkserver")
_PROCESSES.set_forkserver_preload([__name__])
_BATCHES = msgspec.msgpack.Decoder(tuple[int, list[Checked]])
_REFUSAL = msgspec.msgpack.Decoder(tuple[list[Violation], str, bool])


class _Checker:
    """An import's checker process and the pipe its batches come through (backpressure: it waits while the pipe
    is full, so it is never more than a pipe's worth ahead of the writing)."""

    def __init__(self, source: IO[bytes]) -> None:
        name = getattr(source, "name", None)
        # A file on disk is opened by the checker itself; anything else (a small upload held in memory) is sent.
        self.source: str | bytes = name if isinstance(name, str) and os.path.isfile(name) else source.read()
        self.incoming: Connection | None = None
        self.process: Any = None

    def start(self, fmt: Format) -> None:
        """Start the checker (blocking: run in a worker thread; the first start also starts the fork server)."""
        self.incoming, outgoing = _PROCESSES.Pipe(duplex=False)
        self.process = _PROCESSES.Process(target=_check_file, args=(self.source, fmt, outgoing), daemon=True)
        self.process.start()
        outgoing.close()

    def next(self) -> tuple[int, list[Checked]] | None:
        """The next batch and the file position after it; None at the end (blocking: run in a worker thread)."""
        assert self.incoming is not None
        message = self.incoming.recv_bytes()
        if not message:
            return None
        if message[:1] == b"?":
            violations, detail, truncated = _REFUSAL.decode(message[1:])
            refusal = ValidationFailed(violations, detail)
            refusal.extra["truncated"] = truncated or None  # of the violations the checker had, these are shown
            raise refusal
        if message[:1] == b"!":
            raise RuntimeError(f"the import's checker failed: {message[1:].decode(errors='replace')}")
        return _BATCHES.decode(message)

    def stop(self) -> None:
        if self.incoming is not None:
            self.incoming.close()
        if self.process is not None:
            self.process.kill()
            self.process.join()


class _Import:
    def __init__(self, ctx: Context, mode: Mode, dry_run: bool, actor: Principal) -> None:
        self.ctx, self.mode, self.dry_run, self.actor = ctx, mode, dry_run, actor
        self.report = ImportReport()
        self.seen: dict[str, int] = {}
        self.changed: list[Any] = []
        self.now = ctx.now()

    @property
    def writes(self) -> bool:
        return not self.dry_run and not (self.mode is Mode.ATOMIC and self.report.rejected)

    def reject(self, line: int, sku: str | None, violations: list[Violation]) -> None:
        self.report.rejected += 1
        if len(self.report.errors) < bounds.ERROR_ROWS:
            shown, truncated = capped(violations)
            self.report.errors.append(ErrorRow(line, sku, shown, truncated))
        else:
            self.report.truncated = True

    async def batch(self, tx: AsyncSession, rows: list[Checked]) -> None:
        ready: list[tuple[int, ProductIn]] = []
        for line, sku, record, violations in rows:
            self.report.total += 1
            if violations or record is None or sku is None:
                self.reject(line, sku, violations)
                continue
            if (earlier := self.seen.get(sku)) is not None:
                message = f"SKU {sku} is on line {earlier} already"
                self.reject(line, sku, [Violation("/sku", "import.duplicate_sku", message)])
                continue
            self.seen[sku] = line
            ready.append((line, record))
        if not ready:
            return
        stmt = select(Product).where(Product.sku.in_([record.sku for _, record in ready]))
        existing = {p.sku: p for p in (await tx.scalars(stmt if self.dry_run else stmt.with_for_update())).all()}
        # The comparisons and the new rows' values and events, in a worker thread: the rows read above belong to
        # this coroutine alone, which waits for it.
        creates, events, updated = await asyncio.to_thread(self._decide, ready, existing)
        if not self.writes:
            tx.expunge_all()
            return
        if creates:
            await tx.execute(insert(PRODUCT_TABLE), creates)
        await tx.flush()  # the rewritten rows, each at its next version
        events += [update_event(row, changes, self.now, self.actor, "import") for row, changes in updated]
        await history.append_many(tx, events)
        self.changed += [lookup_columns(values) for values in creates]  # plain tuples: nothing for the GC to walk
        self.changed += [lookup_columns(row) for row, _ in updated]
        tx.expunge_all()

    def _decide(
        self, ready: list[tuple[int, ProductIn]], existing: dict[str, Product]
    ) -> tuple[list[dict[str, Any]], list[NewEvent], list[tuple[Product, dict[str, Any]]]]:
        """Each ready row as a create, an update, unchanged, or refused as locked."""
        creates: list[dict[str, Any]] = []
        events: list[NewEvent] = []
        updated: list[tuple[Product, dict[str, Any]]] = []
        for line, record in ready:
            current = existing.get(record.sku or "")
            if current is None:
                self.report.created += 1
                creates.append(new_values(record, self.now))
                events.append(creation_event(record, self.now, self.actor, "import"))
                continue
            try:
                changes = rewrite(current, record, self.now)
            except Conflict as exc:
                self.reject(line, record.sku, [Violation("", "lifecycle.locked", exc.detail)])
                continue
            if changes:
                self.report.updated += 1
                updated.append((current, changes))
            else:
                self.report.unchanged += 1
        return creates, events, updated


async def run(
    ctx: Context,
    source: IO[bytes],
    fmt: Format,
    mode: Mode,
    dry_run: bool,
    actor: Principal,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read, check and (unless a dry run, or atomic with a rejected row) write every record of a whole file,
    in one transaction. `progress` is told the file position after each batch."""
    work = _Import(ctx, mode, dry_run, actor)
    checker = _Checker(source)
    sessions = ctx.db.reads if dry_run else ctx.db.writes
    try:
        await asyncio.to_thread(checker.start, fmt)
        async with sessions() as tx, tx.begin():
            if tx.get_bind().dialect.name == "postgresql":
                # The table's statistics predate this transaction's own inserts, so the planner would read each
                # batch's SKUs by scanning the whole growing table (quadratic: 100,000 rows took 106 s, not 18 s).
                await tx.execute(text("SET LOCAL enable_seqscan = off"))
            while checked := await asyncio.to_thread(checker.next):
                position, batch = checked
                if work.report.total + len(batch) > limits.max_rows:
                    raise TooLarge(f"more than {limits.max_rows:,} rows; nothing was written")
                await work.batch(tx, batch)
                if progress is not None:
                    progress(position)
            if not work.writes:
                await tx.rollback()
    finally:
        await asyncio.to_thread(checker.stop)
    if mode is Mode.ATOMIC and work.report.rejected and not dry_run:
        raise ImportRefused(
            f"{work.report.rejected} of {work.report.total} rows rejected; an atomic import writes nothing",
            report=work.report,
        )
    if not dry_run:
        work.report.written = True
        for start in range(0, len(work.changed), INDEX_STEP):  # a large import reaches the index in steps
            ctx.changed(work.changed[start : start + INDEX_STEP])
            await asyncio.sleep(0)
    return work.report
