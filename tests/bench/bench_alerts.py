"""The expiry scan over 1,000,000 filed records (BENCH_SCAN_RECORDS) of which 1 % are due: seconds per scan,
and the query plans."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import msgspec
from sqlalchemy import insert, select, text

from registry import schema
from registry.config import Settings
from registry.db import Database
from registry.domain.records import ProductIn, normalize
from registry.models import Product
from registry.services import alerts
from registry.services.context import Context
from tests.conftest import FakeClock
from tests.samples import TODAY, sk2

RECORDS = int(os.environ.get("BENCH_SCAN_RECORDS", "1000000"))
DUE_SHARE = 0.01


def rows(start: int, stop: int) -> list[dict[str, object]]:
    record = normalize(msgspec.convert(sk2(), ProductIn))
    base = msgspec.to_builtins(record)
    base.pop("sku")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    due_every = int(1 / DUE_SHARE)
    out = []
    for n in range(start, stop):
        due = n % due_every == 0
        valid_until = TODAY - dt.timedelta(days=1) if due else TODAY + dt.timedelta(days=60 + n % 700)
        out.append(
            {
                **base,
                "sku": f"B{n:06d}",
                "brand_key": "skii",
                "next_document_expiry": TODAY + dt.timedelta(days=400),
                "version": 3,
                "created_at": now,
                "updated_at": now,
                "status": "filed",
                "filing_no": f"{4000000000 + n}",
                "submitted_at": now,
                "filed_at": now,
                "valid_until": valid_until,
                "tax_rate": Decimal("0.091"),
                "rejection_reasons": [],
            }
        )
    return out


async def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(schema.upgrade, url)
        db = Database(Settings(database_url=url))
        clock = FakeClock(dt.datetime.combine(TODAY, dt.time(2, 0), tzinfo=dt.UTC))
        ctx = Context(db=db, clock=clock)
        async with db.writes.begin() as tx:
            for offset in range(0, RECORDS, 5000):
                await tx.execute(insert(Product), rows(offset, min(offset + 5000, RECORDS)))
        async with db.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            plans = {}
            horizon = TODAY + dt.timedelta(days=30)
            for name, stmt in {
                "due filings": select(Product.id).where(Product.status == "filed", Product.valid_until < TODAY),
                "expiring filings": select(Product.sku).where(
                    Product.status == "filed", Product.valid_until <= horizon
                ),
                "lapsing documents": select(Product.sku).where(
                    Product.status.in_(["filed", "under_review"]), Product.next_document_expiry <= horizon
                ),
            }.items():
                compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
                steps = await connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                plans[name] = " / ".join(row[3] for row in steps)
        start = time.perf_counter()
        first = await alerts.scan(ctx, (30, 7, 1))
        first_seconds = time.perf_counter() - start
        start = time.perf_counter()
        second = await alerts.scan(ctx, (30, 7, 1))
        second_seconds = time.perf_counter() - start
        await db.dispose()
    print(f"{RECORDS:,} filed records, {int(RECORDS * DUE_SHARE):,} due")
    print(f"first scan:  {first_seconds:.2f} s  ({first.expired} expired, {first.raised} alerts raised)")
    print(f"second scan: {second_seconds:.2f} s  ({second.expired} expired, {second.raised} alerts raised)")
    for name, plan in plans.items():
        print(f"plan, {name}: {plan}")
    print("target: the first scan of 1,000,000 with 1 % due <= 15 s")
    return {
        "records": RECORDS,
        "due": int(RECORDS * DUE_SHARE),
        "first_scan_s": round(first_seconds, 2),
        "second_scan_s": round(second_seconds, 2),
        "expired": first.expired,
        "raised": first.raised,
    }
