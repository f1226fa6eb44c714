"""Filing statistics at 1,000,000 submission rows: the look-up benchmark's 100,000 products (10,000 of them under
review), each submitted ten times over the twelve weeks to today (90 % refused by one to three of twenty rules,
100,000 decided), with the daily counts the submits keep. Generated here: not facts.

Times `GET /v1/stats/filings` (the default twelve weeks and the whole range) and the workbench's dashboard `/ui/`,
which computes them, against the contract's 300 ms ceiling; then the look-up's p99 while a client asks for the
statistics without pause, against its idle p99 in the same run. SQLite, and PostgreSQL when
REGISTRY_TEST_DATABASE_URL names a server (`.ci/postgres.sh make bench BENCH=stats`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import re
import signal
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, update

from registry.config import Settings
from registry.db import Database
from registry.domain import stats
from registry.models import DailyCount, Product, Submission
from tests.api.servers import free_port
from tests.bench import bench_lookup
from tests.bench.bench_lookup import GET_LUA, PRODUCTS, serve, wrk
from tests.bench.bench_submit import during

CEILING_MS = 300.0  # the contract's bound for the statistics and the dashboard at 1,000,000 submission rows
SUBMITS_PER_RECORD = 10
DECIDED = 100_000
RULES = [f"bench.rule_{n:02d}" for n in range(20)]
TIMES = 15
ZONE = ZoneInfo(Settings().timezone)
TODAY = dt.datetime.now(ZONE).date()


def submissions(rng: random.Random) -> tuple[list[dict[str, Any]], Counter[tuple[dt.date, str, str]]]:
    """The submission rows, and the daily counts the service would have kept for them."""
    rows: list[dict[str, Any]] = []
    counts: Counter[tuple[dt.date, str, str]] = Counter()
    start = dt.datetime.combine(TODAY - dt.timedelta(weeks=12), dt.time(9), tzinfo=ZONE)
    decided = 0
    for n in range(PRODUCTS):
        sku = f"B{n:06d}"
        previous: dt.date | None = None
        moments = sorted(start + dt.timedelta(seconds=rng.randrange(84 * 86400)) for _ in range(SUBMITS_PER_RECORD))
        for at in moments:
            passed = rng.random() < 0.1
            codes = [] if passed else rng.sample(RULES, rng.randint(1, 3))
            row: dict[str, Any] = {"sku": sku, "at": at, "passed": passed, "codes": codes}
            day = at.date()
            key = stats.previous_key(previous)
            previous = day
            counts[day, stats.SUBMITTED, key] += 1
            if passed:
                counts[day, stats.PASSED, key] += 1
            counts.update((day, stats.REFUSED, code) for code in codes)
            if passed and decided < DECIDED:
                decided += 1
                decided_at = at + dt.timedelta(hours=rng.uniform(0.5, 72))
                approve = rng.random() < 0.8
                row |= {"decided_at": decided_at, "decision": "approve" if approve else "reject"}
                row["review_hours"] = (decided_at - at).total_seconds() / 3600
                if approve:
                    counts[decided_at.astimezone(ZONE).date(), stats.APPROVED, ""] += 1
            rows.append(row)
    for row in rows:
        row.setdefault("decided_at", None)
        row.setdefault("decision", None)
        row.setdefault("review_hours", None)
    return rows, counts


async def prepare(url: str) -> dict[str, str]:
    made = await bench_lookup.prepare(url, PRODUCTS)
    rows, counts = submissions(random.Random(7))
    db = Database(Settings(database_url=url))
    async with db.writes.begin() as tx:
        for start in range(0, len(rows), 10_000):
            await tx.execute(insert(Submission), rows[start : start + 10_000])
        daily = [{"day": d, "measure": m, "key": k, "count": c} for (d, m, k), c in counts.items()]
        for start in range(0, len(daily), 10_000):
            await tx.execute(insert(DailyCount), daily[start : start + 10_000])
        # The unfiled tenth is under review, best sellers among them.
        await tx.execute(
            update(Product)
            .where(Product.status == "unfiled")
            .values(
                status="under_review",
                submitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3),
                monthly_units=Product.id % 1000,
            )
        )
    await db.dispose()
    return made


def timed(client: httpx.Client, path: str, params: dict[str, str] | None = None, times: int = TIMES) -> list[float]:
    """Milliseconds of `times` GETs of `path`, one after another."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        answer = client.get(path, params=params)
        spent.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return spent


def against_ceiling(figures: dict[str, list[float]], width: int) -> dict[str, Any]:
    """Each timed request's median and maximum, printed as a ratio to the 300 ms ceiling; the figures kept."""
    summary: dict[str, Any] = {}
    for name, spent in figures.items():
        median = statistics.median(spent)
        ratio = median / CEILING_MS
        print(f"  {name:<{width}} median {median:6.1f} ms = {ratio:.2f}x the 300 ms ceiling, max {max(spent):.1f}")
        summary[name] = {"median_ms": median, "max_ms": max(spent), "ratio_to_ceiling": ratio}
    return summary


def signed_in(port: int, key: str) -> httpx.Client:
    """A browser's session on the workbench: the sign-in form, with its CSRF token."""
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    form = client.get("/ui/sign-in")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post("/ui/sign-in", data={"key": key, "_csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.status_code
    return client


def ask_without_pause(port: int, key: str, stop: threading.Event, asked: list[float]) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get("/v1/stats/filings").raise_for_status()
            asked.append((time.perf_counter() - started) * 1000)


async def run(label: str, url: str) -> dict[str, Any]:
    started = time.perf_counter()
    made = await prepare(url)
    print(f"{label}: prepared in {time.perf_counter() - started:.0f} s", flush=True)
    port = free_port()
    server = serve("registry", port, {"REGISTRY_DATABASE_URL": url, "REGISTRY_SCHEDULER": "off"})
    lua = GET_LUA.replace("%d", str(PRODUCTS - 1))
    figures: dict[str, Any] = {}
    try:
        headers = {"Authorization": f"Bearer {made['admin']}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
            found = client.get("/v1/stats/filings").json()
            figures["submissions in the window"] = found["submissions"]
            figures["GET /v1/stats/filings"] = timed(client, "/v1/stats/filings")
            whole = {"from": "1900-01-01", "to": "9999-12-31"}
            figures["GET /v1/stats/filings (1900–9999)"] = timed(client, "/v1/stats/filings", whole)
        browser = signed_in(port, made["admin"])
        figures["GET /ui/"] = timed(browser, "/ui/")
        browser.close()
        key = made["declaration"]
        idle = [wrk(port, lua, key, warm=n == 0) for n in range(3)]
        stop, asked = threading.Event(), list[float]()
        asking = threading.Thread(target=ask_without_pause, args=(port, made["admin"], stop, asked))
        asking.start()
        timer = threading.Thread(target=time.sleep, args=(3 * bench_lookup.SECONDS,))
        timer.start()
        meanwhile = during(port, lua, key, timer)
        stop.set()
        asking.join()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait()
    print(f"{label}: {figures.pop('submissions in the window'):,} submissions in the default window")
    summary = against_ceiling(figures, 38)
    idle_p99 = statistics.median(r[2] for r in idle)
    busy_p99 = statistics.median(r[2] for r in meanwhile)
    print(
        f"  look-up p99 idle {idle_p99:.2f} ms; while statistics are asked without pause ({len(asked)} answers, "
        f"median {statistics.median(asked):.0f} ms) {busy_p99:.2f} ms = {busy_p99 / idle_p99:.2f}x idle"
    )
    summary["lookup_p99_ms"] = {"idle": idle_p99, "meanwhile": busy_p99, "ratio": busy_p99 / idle_p99}
    return summary


async def main() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as name:
        results["sqlite"] = await run("SQLite", f"sqlite+aiosqlite:///{Path(name) / 'bench.db'}")
    if pg := os.environ.get("REGISTRY_TEST_DATABASE_URL"):
        results["postgresql"] = await run("PostgreSQL", pg)
    return results


if __name__ == "__main__":
    asyncio.run(main())
