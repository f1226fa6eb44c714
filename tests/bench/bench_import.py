"""Bulk import: 100,000 valid NDJSON rows through the API into an empty SQLite database, against raw
SQLAlchemy Core executemany of the same rows in the same run, with the server's peak memory."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
from sqlalchemy import insert

from registry import schema
from registry.config import Settings
from registry.db import Database
from registry.domain.records import ProductIn, normalize
from registry.models import Product
from registry.services import keys
from registry.services.context import Context
from registry.services.products import fields_of
from tests.api.servers import free_port
from tests.bench.bench_lookup import serve
from tests.samples import shiseido

ROWS = 100_000


def records() -> list[dict[str, object]]:
    """Valid records lean enough that 100,000 of them fit the default 50 MB body limit."""
    base = shiseido()
    lean = {
        **{name: base[name] for name in ("brand", "name_cn", "spec", "category", "hs_code", "origin_country")},
        "ingredients": base["ingredients"][:2],
        "shelf_life_months": 36,
        "images": ["https://img.example.com/p.jpg"],
        "documents": base["documents"][:1],
    }
    return [{"sku": f"IMP-{n:06d}", **lean} for n in range(ROWS)]


async def raw_rate(url: str, rows: list[dict[str, object]]) -> float:
    """Core executemany of the same records as product rows, no checks and no history: the floor of the cost."""
    await asyncio.to_thread(schema.upgrade, url)
    db = Database(Settings(database_url=url))
    now = dt.datetime.now(dt.UTC)
    values = []
    for row in rows:
        record = normalize(msgspec.convert(row, ProductIn))
        values.append(
            {
                "sku": record.sku,
                **fields_of(record),
                "version": 1,
                "status": "unfiled",
                "created_at": now,
                "updated_at": now,
                "rejection_reasons": [],
            }
        )
    start = time.perf_counter()
    async with db.writes.begin() as tx:
        for first in range(0, len(values), 5000):
            await tx.execute(insert(Product), values[first : first + 5000])
    seconds = time.perf_counter() - start
    await db.dispose()
    return len(values) / seconds


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    rows = records()
    body = b"".join(msgspec.json.encode(row) + b"\n" for row in rows)
    with tempfile.TemporaryDirectory() as folder:
        raw = await raw_rate(f"sqlite+aiosqlite:///{Path(folder) / 'raw.db'}", rows)
        url = f"sqlite+aiosqlite:///{Path(folder) / 'api.db'}"
        await asyncio.to_thread(schema.upgrade, url)
        db = Database(Settings(database_url=url))
        key = await keys.create(Context(db=db), "catalog", "bench")
        await db.dispose()
        port = free_port()
        server = serve("registry", port, {"REGISTRY_DATABASE_URL": url})
        try:
            idle = peak_rss_mib(server.pid)
            start = time.perf_counter()

            def chunks() -> object:
                for first in range(0, len(body), 256 * 1024):
                    yield body[first : first + 256 * 1024]

            response = httpx.post(
                f"http://127.0.0.1:{port}/v1/imports",
                content=chunks(),  # type: ignore[arg-type]
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
                timeout=600,
            )
            seconds = time.perf_counter() - start
            peak = peak_rss_mib(server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()
    report = response.json()
    assert response.status_code == 200, response.text[:500]
    api = report["created"] / seconds
    print(f"{ROWS:,} NDJSON rows, {len(body) / 2**20:.1f} MiB, into an empty SQLite database")
    print(f"raw Core executemany:  {raw:>9,.0f} rows/s")
    print(f"POST /v1/imports:      {api:>9,.0f} rows/s  ({seconds:.1f} s; {api / raw:.2f}x raw; target >= 0.25x)")
    print(f"report: created {report['created']:,}, rejected {report['rejected']}")
    print(f"server memory: {idle:.0f} MiB at rest, {peak:.0f} MiB peak (target < 300 MiB)")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
