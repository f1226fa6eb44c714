"""Bulk import: ten files of 100,000 valid NDJSON rows (BENCH_IMPORT_FILES) through the API, one after another,
into an empty SQLite database, against raw SQLAlchemy Core executemany of the same rows in the same run, with the
server's peak memory."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
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

ROWS = 100_000  # a file
FILES = int(os.environ.get("BENCH_IMPORT_FILES", "10"))  # one million rows in all


def records(file: int) -> list[dict[str, object]]:
    """Valid records lean enough that 100,000 of them fit the default 50 MB body limit."""
    base = shiseido()
    lean = {
        **{name: base[name] for name in ("brand", "name_cn", "spec", "category", "hs_code", "origin_country")},
        "ingredients": base["ingredients"][:2],
        "shelf_life_months": 36,
        "images": ["https://img.example.com/p.jpg"],
        "documents": base["documents"][:1],
    }
    return [{"sku": f"IMP-{file:02d}-{n:06d}", **lean} for n in range(ROWS)]


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


async def main() -> dict[str, object]:
    files = [records(file) for file in range(FILES)]
    with tempfile.TemporaryDirectory() as folder:
        raw = await raw_rate(f"sqlite+aiosqlite:///{Path(folder) / 'raw.db'}", [row for rows in files for row in rows])
        url = f"sqlite+aiosqlite:///{Path(folder) / 'api.db'}"
        await asyncio.to_thread(schema.upgrade, url)
        db = Database(Settings(database_url=url))
        key = await keys.create(Context(db=db), "catalog", "bench")
        await db.dispose()
        port = free_port()
        server = serve("registry", port, {"REGISTRY_DATABASE_URL": url})
        created, seconds, each = 0, 0.0, []
        try:
            idle = peak_rss_mib(server.pid)
            for rows in files:
                body = b"".join(msgspec.json.encode(row) + b"\n" for row in rows)

                def chunks(body: bytes = body) -> object:
                    for first in range(0, len(body), 256 * 1024):
                        yield body[first : first + 256 * 1024]

                start = time.perf_counter()
                response = httpx.post(
                    f"http://127.0.0.1:{port}/v1/imports",
                    content=chunks(),  # type: ignore[arg-type]
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
                    timeout=600,
                )
                took = time.perf_counter() - start
                assert response.status_code == 200, response.text[:500]
                created, seconds = created + response.json()["created"], seconds + took
                each.append(ROWS / took)
            peak = peak_rss_mib(server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()
    api = created / seconds
    print(
        f"{FILES} files of {ROWS:,} NDJSON rows ({FILES * ROWS:,} in all), one after another into one SQLite database"
    )
    print(f"raw Core executemany:  {raw:>9,.0f} rows/s (all {FILES * ROWS:,} rows)")
    print(f"POST /v1/imports:      {api:>9,.0f} rows/s  ({seconds:.1f} s; {api / raw:.2f}x raw; target >= 0.25x)")
    print(f"  per file: {', '.join(f'{rate:,.0f}' for rate in each)} rows/s")
    print(f"created {created:,}; server memory: {idle:.0f} MiB at rest, {peak:.0f} MiB peak")
    return {
        "rows": FILES * ROWS,
        "files": FILES,
        "raw_rows_per_s": round(raw),
        "api_rows_per_s": round(api),
        "ratio": round(api / raw, 3),
        "per_file_rows_per_s": [round(rate) for rate in each],
        "server_peak_mib": round(peak),
    }


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
