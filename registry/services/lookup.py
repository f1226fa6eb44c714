"""Declaration look-ups: the hot path. An in-process index, encoded once per change, read without the database.

Each instance keeps every product's look-up body in memory, encoded when the product changes, not when it is
read. A change made on this instance reaches the index as its transaction commits; a change made on another
instance is found by polling the history (its seq orders every change) within the configured staleness, and on
PostgreSQL sooner: each committed change NOTIFYs, and a listening index refreshes at once.
`declarable` is decided at read time from the stored valid_until, so a filing past its day is never declarable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import operator
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.domain import lifecycle
from registry.domain.errors import NotFound
from registry.domain.records import Status, read_sku
from registry.domain.reference import Threshold
from registry.models import FilingNumber, HistoryEvent, HistoryHead, Product
from registry.services.context import Context
from registry.services.history import CHANGES_CHANNEL

log = logging.getLogger("registry.lookup")
_TRUE = b'"declarable":true'
_FALSE = b'"declarable":false'
STOP_SECONDS = 10.0
LOOKUP_COLUMNS = (
    "sku",
    "filing_no",
    "hs_code",
    "tax_rate",
    "status",
    "valid_until",
    "version",
    "tax_rate_above",
    "threshold_per",
    "threshold_price",
)
_COLUMNS = tuple(getattr(Product, name) for name in LOOKUP_COLUMNS)


def lookup_columns(values: Any) -> tuple[Any, ...]:
    """What the index needs of a product (a row, or a mapping of its columns), as a plain tuple."""
    if isinstance(values, dict):  # a new record's columns: it has no filing yet
        return tuple(values.get(name) for name in LOOKUP_COLUMNS)
    return tuple(getattr(values, name) for name in LOOKUP_COLUMNS)


class LookupOut(msgspec.Struct, omit_defaults=True):
    """A filing as the declaration path reads it. A filing under a price threshold also carries the composite rate
    above the threshold and the threshold; no other body carries (or grows by) them."""

    sku: str
    filing_no: str | None
    hs_code: str
    tax_rate: Decimal | None
    status: str
    declarable: bool
    valid_until: dt.date | None
    tax_rate_above: Decimal | None = None
    threshold: Threshold | None = None


class FilingOut(LookupOut, omit_defaults=True):
    """A look-up by filing number: an old number also names the one that superseded it."""

    superseded_by: str | None = None


# (body, last_day, version): the body encoded with declarable true when filed, false otherwise; the ordinal of
# valid_until while filed, -1 when never declarable; the record's version. A plain tuple of atoms, which the
# garbage collector stops tracking: a million entries never lengthen a collection (a NamedTuple stays tracked).
Entry = tuple[bytes, int, int]


def _entry(
    sku: str,
    filing_no: str | None,
    hs_code: str,
    tax_rate: Decimal | None,
    status: str,
    valid_until: dt.date | None,
    version: int,
    tax_rate_above: Decimal | None,
    threshold_per: str | None,
    threshold_price: Decimal | None,
) -> Entry:
    filed = status == Status.FILED.value and valid_until is not None
    threshold = Threshold(threshold_per, threshold_price) if threshold_per and threshold_price else None  # type: ignore[arg-type]
    body = msgspec.json.encode(
        LookupOut(sku, filing_no, hs_code, tax_rate, status, filed, valid_until, tax_rate_above, threshold)
    )
    return body, valid_until.toordinal() if filed and valid_until else -1, version


class _Bodies(dict[str, bytes | None]):
    """SKU → encoded body; an unknown SKU reads as None, so a batch is read by one C-level `itemgetter` call."""

    def __missing__(self, sku: str) -> None:
        return None


class LookupIndex:
    """SKU → encoded look-up body for every product, kept current by this instance's writes, by polling and,
    on PostgreSQL, by NOTIFY."""

    def __init__(self, ctx: Context, staleness_ms: int) -> None:
        self._ctx = ctx
        self._entries: dict[str, Entry] = {}
        # For batches, which are counted per SKU: the bodies alone, and the filed SKUs that have lapsed as of
        # `_today` (found when the day turns, from `_lapse_on`: last valid day → SKUs), so that a look-up in a
        # batch is one dictionary read, done in C.
        self._bodies = _Bodies()
        self._lapsed: set[str] = set()
        self._lapse_on: dict[int, list[str]] = {}
        self._today = ctx.today().toordinal()
        self._seq = 0
        self._interval = max(staleness_ms, 10) / 2000
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._listener: AsyncConnection | None = None
        ctx.watchers.append(self.apply)

    def __len__(self) -> int:
        return len(self._entries)

    def apply(self, rows: Sequence[Any]) -> None:
        """Take in products this instance just changed (their transaction has committed): rows with the look-up
        columns as attributes, or tuples of them in `lookup_columns` order."""
        for row in rows:
            self._put(*(row if isinstance(row, tuple) else lookup_columns(row)))

    def _put(self, sku: str, *fields: Any) -> None:
        entry = _entry(sku, *fields)
        body, last_day, version = entry
        current = self._entries.get(sku)
        if current is not None and current[2] > version:  # never step back to an older read
            return
        self._entries[sku] = entry
        self._bodies[sku] = body
        self._lapsed.discard(sku)
        if last_day >= 0:
            if last_day < self._today:
                self._lapsed.add(sku)
            else:
                self._lapse_on.setdefault(last_day, []).append(sku)

    def _turn_day(self, today: int) -> None:
        """Bring `_lapsed` to `today`: forward by the days that passed, backward (a clock set back) by a rebuild."""
        if today > self._today:
            for day in sorted(day for day in self._lapse_on if day < today):
                for sku in self._lapse_on.pop(day):
                    entry = self._entries.get(sku)
                    if entry is not None and entry[1] == day:
                        self._lapsed.add(sku)
        else:
            self._lapsed = {sku for sku, (_, last_day, _) in self._entries.items() if 0 <= last_day < today}
            self._lapse_on = {}
            for sku, (_, last_day, _) in self._entries.items():
                if last_day >= today:
                    self._lapse_on.setdefault(last_day, []).append(sku)
        self._today = today

    async def load(self) -> None:
        """Read every product once; changes from the head's seq on are picked up by `refresh`."""
        async with self._ctx.db.reads() as tx:
            self._seq = await tx.scalar(select(HistoryHead.last_seq).where(HistoryHead.id == 1)) or 0
            result = await tx.stream(select(*_COLUMNS).execution_options(yield_per=10_000))
            async for row in result:
                self._put(*row)
        log.info("look-up index loaded: %d products", len(self._entries))

    async def refresh(self) -> int:
        """Re-read the products changed since the last look; returns how many."""
        async with self._ctx.db.reads() as tx:
            head = await tx.scalar(select(HistoryHead.last_seq).where(HistoryHead.id == 1)) or 0
            if head <= self._seq:
                return 0
            skus = (
                await tx.scalars(
                    select(HistoryEvent.sku)
                    .where(HistoryEvent.seq > self._seq, HistoryEvent.seq <= head, HistoryEvent.sku.is_not(None))
                    .distinct()
                )
            ).all()
            for start in range(0, len(skus), 500):
                rows = await tx.execute(select(*_COLUMNS).where(Product.sku.in_(skus[start : start + 500])))
                for row in rows:
                    self._put(*row)
        self._seq = head
        return len(skus)

    async def _poll(self) -> None:
        failing = False
        while True:
            try:
                await self._listen()
                await self.refresh()
                for refresher in self._ctx.refreshers:
                    await refresher()
            except Exception as exc:
                if not failing:  # once per outage, not at every poll
                    log.warning("look-up index refresh failed (%s); retrying until it succeeds", exc, exc_info=True)
                failing = True
            else:
                if failing:
                    log.info("look-up index refresh succeeded again")
                failing = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            if self._stopping:
                return

    async def _listen(self) -> None:
        """On PostgreSQL, hold a connection that LISTENs for committed changes; again after it was lost."""
        if self._ctx.db.engine.dialect.name != "postgresql":
            return
        if self._listener is not None:
            driver = (await self._listener.get_raw_connection()).driver_connection
            if driver is not None and not driver.is_closed():
                return
            await self._unlisten()
        connection = await self._ctx.db.engine.connect()
        try:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.add_listener(CHANGES_CHANNEL, self._notified)
        except BaseException:
            await connection.invalidate()
            raise
        self._listener = connection
        self._wake.set()  # changes may have committed while no one listened

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _unlisten(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):  # not back into the pool: the LISTEN would stay with it
                await self._listener.invalidate()
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name="lookup-index-poll")

    async def stop(self) -> None:
        """Let the poller finish the refresh it may be in (cancelled mid-query, a pooled connection could be left
        half-used and the shutdown wait on it), then let the listening connection go."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._unlisten(), STOP_SECONDS)

    def body(self, sku: str, today: int) -> tuple[bytes, str] | None:
        """The encoded look-up and its ETag, with `declarable` as of the day `today` (an ordinal)."""
        entry = self._entries.get(sku if sku.isascii() else read_sku(sku))
        if entry is None:
            return None
        body, last_day, version = entry
        if 0 <= last_day < today:
            return body.replace(_TRUE, _FALSE, 1), f'"{version}-0"'
        return body, f'"{version}-{1 if last_day >= 0 else 0}"'

    def batch(self, skus: Sequence[str], today: int) -> bytes:
        """`{items, missing}` for SKUs in request order: an item per position, each unknown SKU once."""
        if today != self._today:
            self._turn_day(today)
        if not skus:
            return b'{"items":[],"missing":[]}'
        # itemgetter reads the 100s of SKUs without a Python-level step per SKU: half the time of a loop here,
        # where each read is mostly a cache miss on a large dict.
        found = operator.itemgetter(*skus)(self._bodies) if len(skus) > 1 else (self._bodies[skus[0]],)
        if None not in found and self._lapsed.isdisjoint(skus):  # the common case: all known, none lapsed
            return b'{"items":[' + b",".join(found) + b'],"missing":[]}'  # type: ignore[arg-type]
        bodies: list[bytes] = []
        missing: dict[str, None] = {}
        for sku, body in zip(skus, found, strict=True):
            if body is None:
                missing[sku] = None
            elif sku in self._lapsed:
                bodies.append(body.replace(_TRUE, _FALSE, 1))
            else:
                bodies.append(body)
        return b'{"items":[' + b",".join(bodies) + b'],"missing":' + msgspec.json.encode(list(missing)) + b"}"

    def record(self, sku: str, today: int) -> LookupOut | None:
        found = self.body(sku, today)
        return None if found is None else msgspec.json.decode(found[0], type=LookupOut)


async def by_filing_no(ctx: Context, filing_no: str) -> FilingOut:
    """A filing number, current or old: an old one names the number that superseded it and is not declarable."""
    async with ctx.db.reads() as tx:
        issued = await tx.get(FilingNumber, filing_no)
        product = await tx.scalar(select(Product).where(Product.sku == issued.sku)) if issued else None
    if issued is None or product is None:
        raise NotFound(f"no filing number {filing_no}")
    current = product.filing_no == filing_no
    threshold = threshold_of(product)
    return FilingOut(
        sku=product.sku,
        filing_no=filing_no,
        hs_code=product.hs_code,
        tax_rate=product.tax_rate,
        status=product.status,
        declarable=current and lifecycle.declarable(product.status, product.valid_until, ctx.today()),
        valid_until=product.valid_until if current else issued.valid_until,
        tax_rate_above=product.tax_rate_above,
        threshold=threshold,
        superseded_by=issued.superseded_by,
    )


def threshold_of(product: Product) -> Threshold | None:
    if product.threshold_per is None or product.threshold_price is None:
        return None
    return Threshold(product.threshold_per, product.threshold_price)  # type: ignore[arg-type]
