"""A reference edition at catalog scale: the look-up benchmark's 100,000 products (90,000 filed) on SQLite, served
by `registry serve`. An admin puts a positive list, dry-runs and puts an origin ban that fails 1 % of the filed
records, and lifts it, through `PUT /v1/reference/{name}` (an edition in force at once: every filed record
re-validated, the failing ones held, then released). Prints each PUT's seconds against the 60 s ceiling the contract
sets for re-validating 100,000 filed records: alone, and while wrk saturates the server with look-ups (then the
re-validation and the look-ups share the event loop's core, and the look-up's p99 is shown against its idle p99
measured in the same run). The positive list is the size of the official edition (1,476
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
        key, admin = made["declaration"], made["admin"]
        lua = GET_LUA.replace("%d", str(PRODUCTS - 1))
        banned = [*copy.deepcopy(default_sets()["prohibited"]), BAN]
        lifted = copy.deepcopy(default_sets()["prohibited"])
        steps: dict[str, dict[str, Any]] = {}
        try:
            # Alone: the figures the 60 s ceiling is for.
            for step, set_name, data, dry_run in (
                ("positive list (apply, alone)", "positive-list", positive_list(), False),
                ("ban (dry run, alone)", "prohibited", banned, True),
            ):
                steps[step] = {}
                put(port, admin, set_name, data, dry_run, steps[step])
            idle = [wrk(port, lua, key, warm=n == 0) for n in range(IDLE_RUNS)]
            # Under look-ups at saturation (wrk uses the machine's other core): what they cost each other.
            for step, data, dry_run in (
                ("ban (dry run, under look-ups)", banned, True),
                ("ban (apply, under look-ups)", banned, False),
            ):
                steps[step] = {}
                work = threading.Thread(target=put, args=(port, admin, "prohibited", data, dry_run, steps[step]))
                work.start()
                steps[step]["runs"] = during(port, lua, key, work)
                work.join()
            steps["release (apply, alone)"] = {}
            put(port, admin, "prohibited", lifted, False, steps["release (apply, alone)"])
            idle += [wrk(port, lua, key) for _ in range(IDLE_RUNS)]
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()

    idle_p99 = statistics.median(run[2] for run in idle)
    idle_rps = statistics.median(run[0] for run in idle)
    print(f"{PRODUCTS:,} products (90,000 filed; 1 % from the banned origin), SQLite; `registry serve`")
    print(f"idle look-up: {idle_rps:,.0f} req/s, p99 {idle_p99:.2f} ms (median of {len(idle)} runs)")
    summary: dict[str, Any] = {"idle_p99_ms": idle_p99, "idle_rps": idle_rps}
    for step, report in steps.items():
        seconds = report["seconds"]
        answer = report["answer"]
        if "impact" in answer:
            what = f"checked {answer['impact']['checked']:,}, failing {answer['impact']['failing']:,}"
        else:
            what = f"held afterwards (first page) {report['held_page']}"
        print(f"{step:<32} {seconds:6.1f} s = {seconds / CEILING_SECONDS:.2f}x the 60 s ceiling; {what}")
        summary[step] = {"seconds": seconds, "ratio_to_ceiling": seconds / CEILING_SECONDS}
        if "runs" in report:
            runs = report["runs"]
            p99 = statistics.median(run[2] for run in runs)
            rps = statistics.median(run[0] for run in runs)
            print(
                f"{'  look-up meanwhile':<32} {rps:,.0f} req/s ({rps / idle_rps:.2f}x idle), p99 median {p99:.2f} ms "
                f"({p99 / idle_p99:.2f}x idle), max {max(run[2] for run in runs):.2f} ms over {len(runs)} runs"
            )
            summary[step] |= {"p99_ms": p99, "rps": rps}
    return summary


if __name__ == "__main__":
    asyncio.run(main())
