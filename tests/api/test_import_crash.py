"""An atomic import killed at a random point leaves all of itself or none of it."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
from litestar import Litestar
from sqlalchemy import func, select

from registry.models import HistoryEvent, Product
from tests.samples import shiseido

ROWS = 10_000
RUNS = 10


async def test_sigkill_mid_import_leaves_all_or_nothing(app: Litestar, database_url: str, tmp_path: Path) -> None:
    template = msgspec.json.encode(shiseido(sku="{sku}"))
    outcomes = []
    rng = random.Random(20261122)
    for run in range(RUNS):
        path = tmp_path / f"run-{run}.ndjson"
        path.write_bytes(b"\n".join(template.replace(b"{sku}", f"K{run}-{n:05d}".encode()) for n in range(ROWS)))
        process = subprocess.Popen(
            [sys.executable, "-m", "registry", "import", str(path)],
            env={**os.environ, "REGISTRY_DATABASE_URL": database_url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(rng.uniform(0.5, 4.0))
        finished = process.poll() is not None
        if not finished:
            process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait)
        async with app.state.ctx.db.reads() as tx:
            products = await tx.scalar(select(func.count()).where(Product.sku.like(f"K{run}-%")))
            events = await tx.scalar(select(func.count()).where(HistoryEvent.sku.like(f"K{run}-%")))
        assert (products, events) in ((0, 0), (ROWS, ROWS)), (run, products, events)
        outcomes.append("all" if products else "none")
    print("outcomes:", outcomes)
    assert "none" in outcomes, outcomes  # at least one kill landed mid-import
