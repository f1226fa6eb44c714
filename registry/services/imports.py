"""Bulk import: NDJSON or CSV records upserted by SKU, in batches, all in one transaction.

The file is whole before anything is written (an HTTP upload is received into a temporary file first), so a
slow or stalled client never holds the write lock. Rows are read, normalised and field-checked in a checker
process (services/checker.py), a batch at a time, in linear time, while this process writes the batches before
them: the checking neither keeps the event loop from other requests nor takes their share of the interpreter.
`atomic` writes nothing if any row is rejected; `partial` writes the rows that pass; a dry run writes nothing.
Either way the whole import commits once at the end, so a failure, a limit or a killed process leaves
nothing of it behind. Each written row has its history event in that same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any, ClassVar

import msgspec
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import limits as bounds
from registry.domain.errors import Conflict, RegistryError, TooLarge, Unavailable, ValidationFailed
from registry.domain.records import ProductIn
from registry.domain.violations import Violation, capped
from registry.models import PRODUCT_TABLE, Product
from registry.services import checker, history
from registry.services.checker import Checked, Format
from registry.services.context import Context, Principal
from registry.services.history import NewEvent
from registry.services.lookup import lookup_columns
from registry.services.products import creation_event, new_values, rewrite, update_event

log = logging.getLogger("registry.imports")

__all__ = ["Format", "ImportRefused", "ImportReport", "Limits", "Mode", "run"]

INDEX_STEP = 5000  # rows given to the look-up index between two turns of the event loop


class Mode(StrEnum):
    ATOMIC = "atomic"
    PARTIAL = "partial"


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
    checkers: int = 2  # idle checker processes kept for the next import (REGISTRY_IMPORT_CHECKERS)


class _Checker:
    """The checker process an import's rows come from (services/checker.py): an idle one if there is one, else a
    new one; given back when the file was read to its end, stopped when the import ended before (a limit, a
    refusal, its client gone), since it may be part-way through the file."""

    _idle: ClassVar[list[subprocess.Popen[bytes]]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, source: IO[bytes], keep: int = 2) -> None:
        self.keep = keep  # idle checkers kept at most: beyond, a finished one is stopped
        name = getattr(source, "name", None)
        # A file on disk is opened by the checker itself; anything else (a small upload held in memory) is sent.
        self.source: str | bytes = name if isinstance(name, str) and os.path.isfile(name) else source.read()
        self.process: subprocess.Popen[bytes] | None = None
        self.done = False

    def start(self, fmt: Format) -> None:
        """Hand the file to a checker (blocking: run in a worker thread)."""
        with self._lock:
            idle = self._idle.pop() if self._idle else None
        if idle is not None and idle.poll() is not None:  # gone while idle (killed, out of memory): not to be asked
            _reap(idle)
            idle = None
        self.process = idle or subprocess.Popen(
            [sys.executable, "-m", "registry.services.checker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdin is not None
        path, content = (self.source, None) if isinstance(self.source, str) else (None, self.source)
        checker.send(self.process.stdin, msgspec.msgpack.encode((path, content, fmt)))
        self.process.stdin.flush()

    def next(self) -> tuple[int, list[Checked]] | None:
        """The next batch and the file position after it; None at the end (blocking: run in a worker thread)."""
        assert self.process is not None
        assert self.process.stdout is not None
        message = checker.receive(self.process.stdout)
        if message is None:
            status = self.process.poll()
            log.warning("an import's checker ended (exit status %s); the import wrote nothing", status)
            raise Unavailable("the import's checker stopped before the end of the file; nothing was written: retry")
        kind, body = message[:1], message[1:]
        if kind == b"B":
            return _BATCH.decode(body)
        if kind == b"E":
            self.done = True
            return None
        if kind == b"?":
            violations, detail, truncated = _REFUSAL.decode(body)
            refusal = ValidationFailed(violations, detail)
            refusal.extra["truncated"] = truncated or None  # of the violations the checker had, these are shown
            self.done = True
            raise refusal
        raise RuntimeError(f"the import's checker failed: {body.decode(errors='replace')}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.done and self.process.poll() is None:
            with self._lock:
                kept = len(self._idle) < self.keep
                if kept:
                    self._idle.append(self.process)
            if kept:
                return
        self.process.kill()
        _reap(self.process)


def _reap(process: subprocess.Popen[bytes]) -> None:
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


_BATCH = msgspec.msgpack.Decoder(tuple[int, list[Checked]])
_REFUSAL = msgspec.msgpack.Decoder(tuple[list[Violation], str, bool])


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
    checker = _Checker(source, limits.checkers)
    sessions = ctx.db.reads if dry_run else ctx.db.writes
    try:
        await asyncio.to_thread(checker.start, fmt)
        async with sessions.begin() as tx:
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
