"""The workbench's pages at catalog scale: the look-up benchmark's 100,000 products on SQLite, 2,000 of them under
review with 40 ingredients each, the banned-ingredient catalogue at the official catalogues' size (1,400 generated
entries, tests/bench/bench_matching.py: not facts) in force, served by `registry serve`. An admin's session times
each page (every record of a list page is validated live against that catalogue: a queue page is 50 records)
against the contract's 300 ms ceiling.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import signal
import tempfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from registry.config import Settings
from registry.db import Database
from registry.domain.reference import default_sets
from registry.models import Product
from tests.api.servers import free_port
from tests.bench import bench_lookup
from tests.bench.bench_lookup import PRODUCTS, serve
from tests.bench.bench_matching import catalogue
from tests.bench.bench_stats import against_ceiling, signed_in, timed
from tests.samples import sk2

TIMES = 11
WAITING = 2000
INGREDIENTS = [f"成分{n}" for n in range(36)] + ["水", "甘油", "丁二醇", "烟酰胺"]
PAGES = (
    "/ui/",
    "/ui/review",
    "/ui/products",
    "/ui/products?q=B0999",
    "/ui/products?status=under_review&category=cosmetics",
    "/ui/products/PAGE-1",
    "/ui/review?category=cosmetics&sort=priority",
    "/ui/review?rule=ingredients.banned",
    "/ui/expiring",
    "/ui/alerts",
)


async def prepare(url: str) -> dict[str, str]:
    made = await bench_lookup.prepare(url, PRODUCTS)
    db = Database(Settings(database_url=url))
    async with db.writes.begin() as tx:
        await tx.execute(
            update(Product)
            .where(Product.status == "unfiled", Product.id <= WAITING * 10)
            .values(
                status="under_review",
                submitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
                ingredients=INGREDIENTS,
            )
        )
    await db.dispose()
    return made


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        url = f"sqlite+aiosqlite:///{Path(name) / 'bench.db'}"
        made = await prepare(url)
        port = free_port()
        server = serve("registry", port, {"REGISTRY_DATABASE_URL": url, "REGISTRY_SCHEDULER": "off"})
        figures: dict[str, list[float]] = {}
        try:
            sets = copy.deepcopy(default_sets()["banned-ingredients"])
            sets["cosmetics"] = catalogue()
            headers = {"Authorization": f"Bearer {made['admin']}"}
            put = httpx.put(
                f"http://127.0.0.1:{port}/v1/reference/banned-ingredients", json=sets, headers=headers, timeout=600
            )
            put.raise_for_status()
            # A record made as records are (its history begins with its creation), with 40 ingredients.
            record = sk2(sku="PAGE-1", ingredients=INGREDIENTS)
            made_by = {"Authorization": f"Bearer {made['catalog']}"}
            httpx.post(f"http://127.0.0.1:{port}/v1/products", json=record, headers=made_by).raise_for_status()
            browser = signed_in(port, made["admin"])
            for path in PAGES:
                figures[path] = timed(browser, path, times=TIMES)
            browser.close()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()
    print(f"{PRODUCTS:,} products ({WAITING:,} under review, 40 ingredients each), 1,400 banned entries, SQLite")
    return against_ceiling(figures, 56)


if __name__ == "__main__":
    asyncio.run(main())
