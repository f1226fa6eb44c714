"""Filing at catalog scale: `registry submit` of 10,000 SKUs, and two batches of 1,000 through
`POST /v1/filings:submit`, on the look-up benchmark's 100,000-product SQLite database while wrk keeps the server
busy with look-ups. Prints records per second of each, and the look-up's p99 while each runs against its idle
p99 measured in the same run (medians of wrk runs; the during-figures are every wrk run that fit inside the
submission). The CLI writes from its own process; the batches are worked on the server's event loop, between
the look-ups, so under wrk's saturating load they go at what the loop has left.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from registry.config import Settings
from registry.db import Database
from registry.models import Product
from tests.api.servers import free_port
from tests.bench import bench_lookup
from tests.bench.bench_lookup import GET_LUA, PRODUCTS, serve, wrk

SUBMITTED = 10_000
BATCHES = 2  # of 1,000, over HTTP
IDLE_RUNS = 3


def unfiled(base: dict[str, object], prefix: str, count: int) -> list[dict[str, object]]:
    """`count` valid unfiled records like `base`, ready to be submitted."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        {
            **base,
            "sku": f"{prefix}{n:06d}",
            "version": 1,
            "status": "unfiled",
            "filing_no": None,
            "submitted_at": None,
            "filed_at": None,
            "valid_until": None,
            "tax_rate": None,
            "created_at": now,
            "updated_at": now,
            "monthly_units": (n * 7919) % 5000,
        }
        for n in range(count)
    ]


async def prepare(url: str) -> dict[str, str]:
    made = await bench_lookup.prepare(url, PRODUCTS)
    db = Database(Settings(database_url=url))
    base = bench_lookup.products(1)[0]
    rows = unfiled(base, "C", SUBMITTED) + unfiled(base, "H", BATCHES * 1000) + unfiled(base, "I", 1000)
    async with db.writes.begin() as tx:
        for start in range(0, len(rows), 5000):
            await tx.execute(insert(Product), rows[start : start + 5000])
    await db.dispose()
    return made


def during(port: int, lua: str, key: str, work: threading.Thread) -> list[tuple[float, float, float]]:
    """wrk runs of the look-up script `lua` for as long as `work` runs (at least one)."""
    runs = []
    while True:
        runs.append(wrk(port, lua, key))
        if not work.is_alive():
            return runs


def submit_by_cli(url: str, folder: Path, report: dict[str, Any]) -> None:
    skus = folder / "skus.txt"
    skus.write_text("".join(f"C{n:06d}\n" for n in range(SUBMITTED)))
    env = {**os.environ, "REGISTRY_DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "registry", "submit", str(skus)], env=env, capture_output=True, text=True, check=False
    )
    report["seconds"] = time.perf_counter() - started
    report["summary"] = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]


def submit_by_http(port: int, key: str, report: dict[str, Any], prefix: str = "H", batches: int = BATCHES) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    submitted = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as client:
        for batch in range(batches):
            skus = [f"{prefix}{n:06d}" for n in range(batch * 1000, (batch + 1) * 1000)]
            answer = client.post("/v1/filings:submit", json={"skus": skus})
            answer.raise_for_status()
            submitted += len(answer.json()["submitted"])
    report["seconds"] = time.perf_counter() - started
    report["summary"] = f"submitted {submitted}"


async def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        made = await prepare(url)
        port = free_port()
        server = serve("registry", port, {"REGISTRY_DATABASE_URL": url})
        key = made["declaration"]
        lua = GET_LUA.replace("%d", str(PRODUCTS - 1))
        try:
            idle = [wrk(port, lua, key, warm=n == 0) for n in range(IDLE_RUNS)]
            cli: dict[str, Any] = {}
            work = threading.Thread(target=submit_by_cli, args=(url, folder, cli))
            work.start()
            by_cli = during(port, lua, key, work)
            work.join()
            http: dict[str, Any] = {}
            work = threading.Thread(target=submit_by_http, args=(port, made["catalog"], http))
            work.start()
            by_http = during(port, lua, key, work)
            work.join()
            idle += [wrk(port, lua, key) for _ in range(IDLE_RUNS)]  # idle again after both
            alone: dict[str, Any] = {}
            submit_by_http(port, made["catalog"], alone, "I", 1)  # a batch with no other load
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()

    idle_p99 = statistics.median(run[2] for run in idle)
    idle_rps = statistics.median(run[0] for run in idle)
    print(
        f"{PRODUCTS:,} products + {SUBMITTED + BATCHES * 1000 + 1000:,} unfiled; `registry serve`; "
        + " ".join(bench_lookup.WRK)
    )
    print(f"idle look-up: {idle_rps:,.0f} req/s, p99 {idle_p99:.2f} ms (median of {len(idle)} runs, before and after)")
    for name, report, runs, count in (
        (f"registry submit FILE ({SUBMITTED:,} SKUs)", cli, by_cli, SUBMITTED),
        (f"POST /v1/filings:submit ({BATCHES} x 1,000)", http, by_http, BATCHES * 1000),
    ):
        p99s = [run[2] for run in runs]
        rps = statistics.median(run[0] for run in runs)
        seconds = report["seconds"]
        print(f"{name:<40} {count / seconds:>7,.0f} records/s ({seconds:.1f} s; {report['summary']})")
        print(
            f"{'  look-up meanwhile':<40} {rps:>7,.0f} req/s ({rps / idle_rps:.2f}x idle), "
            f"p99 median {statistics.median(p99s):.2f} ms ({statistics.median(p99s) / idle_p99:.2f}x idle), "
            f"max {max(p99s):.2f} ms over {len(runs)} runs"
        )
    seconds = alone["seconds"]
    print(f"{'POST /v1/filings:submit, no other load':<40} {1000 / seconds:>7,.0f} records/s ({seconds:.1f} s)")


if __name__ == "__main__":
    asyncio.run(main())
