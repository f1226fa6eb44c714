"""A reference edition at catalog scale: the look-up benchmark's 100,000 products (90,000 filed) on SQLite, served
by `registry serve` while wrk keeps it busy with look-ups. An admin dry-runs, then puts, an origin ban that fails
1 % of the filed records, through `PUT /v1/reference/prohibited` (the edition in force at once: every filed record
re-validated, the failing ones held). Prints each PUT's seconds against the 60 s ceiling the contract sets for
re-validating 100,000 filed records, the records checked, held and failing, and the look-up's p99 while each runs
against its idle p99 measured in the same run. The positive list is the size of the official edition (1,476
lines, generated here: not facts).
"""

from __future__ import annotations

import asyncio
import copy
import signal
import statistics
import tempfile
import threading
import time
from decimal import Decimal
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
from tests.bench.bench_lookup import GET_LUA, PRODUCTS, serve, wrk
from tests.bench.bench_submit import during

CEILING_SECONDS = 60.0  # the contract's bound for re-validating 100,000 filed records
POSITIVE_LINES = 1476  # the official edition's size since 2022-03-01
IDLE_RUNS = 3
BAN = {"prefix": "3304990099", "reason": "benchmark ban by origin", "origin": ["FR"], "source": "benchmark"}


def positive_list() -> list[dict[str, Any]]:
    """The shipped lines and generated ones up to the official edition's size (not facts: made up here)."""
    lines: list[dict[str, Any]] = copy.deepcopy(default_sets()["positive-list"])
    for n in range(POSITIVE_LINES - len(lines)):
        lines.append({"tariff_line": f"9{n:07d}", "description": f"benchmark line {n}", "source": "benchmark"})
    return lines


async def prepare(url: str) -> dict[str, str]:
    made = await bench_lookup.prepare(url, PRODUCTS)
    db = Database(Settings(database_url=url))
    async with db.writes.begin() as tx:
        # The filed records' tax terms as approval writes them (230 ml under 3304: 15 % CT from 10 CNY/ml).
        await tx.execute(
            update(Product)
            .where(Product.status == "filed")
            .values(
                vat=Decimal("0.13"),
                consumption_tax=Decimal("0.15"),
                tax_rate_above=Decimal("0.2306"),
                threshold_per="ml",
                threshold_price=Decimal("10"),
            )
        )
        # 1 % of the records come from the banned origin.
        await tx.execute(update(Product).where(Product.id % 100 == 7).values(origin_country="FR"))
    await db.dispose()
    return made


def put(port: int, key: str, name: str, data: Any, dry_run: bool, report: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    params = {"dry_run": "true"} if dry_run else {}
    started = time.perf_counter()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=3600) as client:
        answer = client.put(f"/v1/reference/{name}", params=params, json=data)
        answer.raise_for_status()
        if not dry_run:
            held = client.get("/v1/products", params={"held": "true", "limit": 500})
            report["held_page"] = len(held.json()["items"])
    report["seconds"] = time.perf_counter() - started
    report["answer"] = answer.json()


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        made = await prepare(url)
        port = free_port()
        server = serve("registry", port, {"REGISTRY_DATABASE_URL": url, "REGISTRY_SCHEDULER": "off"})
        key = made["declaration"]
        lua = GET_LUA.replace("%d", str(PRODUCTS - 1))
        results: dict[str, Any] = {}
        try:
            loaded: dict[str, Any] = {}
            put(port, made["admin"], "positive-list", positive_list(), False, loaded)
            results["positive_list_seconds"] = loaded["seconds"]
            idle = [wrk(port, lua, key, warm=n == 0) for n in range(IDLE_RUNS)]
            banned = [*copy.deepcopy(default_sets()["prohibited"]), BAN]
            for step, dry_run in (("dry_run", True), ("apply", False)):
                report: dict[str, Any] = {}
                work = threading.Thread(target=put, args=(port, made["admin"], "prohibited", banned, dry_run, report))
                work.start()
                runs = during(port, lua, key, work)
                work.join()
                results[step] = {"report": report, "runs": runs}
            idle += [wrk(port, lua, key) for _ in range(IDLE_RUNS)]
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()

    idle_p99 = statistics.median(run[2] for run in idle)
    idle_rps = statistics.median(run[0] for run in idle)
    print(f"{PRODUCTS:,} products (90 % filed, 1 % of them from the banned origin); `registry serve`; wrk as in lookup")
    print(f"positive list of {POSITIVE_LINES:,} lines put in {results['positive_list_seconds']:.1f} s")
    print(f"idle look-up: {idle_rps:,.0f} req/s, p99 {idle_p99:.2f} ms (median of {len(idle)} runs)")
    summary: dict[str, Any] = {"idle_p99_ms": idle_p99, "idle_rps": idle_rps}
    for step in ("dry_run", "apply"):
        report, runs = results[step]["report"], results[step]["runs"]
        seconds = report["seconds"]
        p99 = statistics.median(run[2] for run in runs)
        rps = statistics.median(run[0] for run in runs)
        if step == "dry_run":
            impact = report["answer"]["impact"]
            what = f"checked {impact['checked']:,}, failing {impact['failing']:,}"
        else:
            what = f"held (first page of the worklist) {report['held_page']}"
        print(
            f"PUT prohibited ({step}): {seconds:.1f} s = {seconds / CEILING_SECONDS:.2f}x the {CEILING_SECONDS:.0f} s "
            f"ceiling; {what}"
        )
        print(
            f"  look-up meanwhile: {rps:,.0f} req/s ({rps / idle_rps:.2f}x idle), p99 median {p99:.2f} ms "
            f"({p99 / idle_p99:.2f}x idle), max {max(run[2] for run in runs):.2f} ms over {len(runs)} runs"
        )
        summary[step] = {"seconds": seconds, "ratio_to_ceiling": seconds / CEILING_SECONDS, "p99_ms": p99, "rps": rps}
    return summary


if __name__ == "__main__":
    asyncio.run(main())
