"""The declaration path while everything else happens at once, on one `registry serve` (its defaults, 1 worker):
a bulk writer creating and changing records, a 100,000-row import, dry-run imports of 20,000 refused rows (20,000
violations each), and the in-server expiry scan every 5 s over 100,000 filed records, of which 1,000 lapse before
each scan (a helper process moves their valid_until into the past). Look-up p99 against the same server idle, and
the event loop's lag from /metrics (`registry_event_loop_lag_seconds`, a timer every 100 ms)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

from tests.api.servers import free_port
from tests.bench.bench_import import records
from tests.bench.bench_lookup import GET_LUA, RUNS, SECONDS, median, prepare, serve, writer, wrk
from tests.samples import sk2

PRODUCTS = 100_000
LAG_BUCKETS = re.compile(r'registry_event_loop_lag_seconds_bucket\{le="([^"]+)"\} ([\d.e+]+)')


def lag_counts(port: int) -> dict[float, float]:
    """The loop-lag histogram's cumulative bucket counts, by upper bound."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {float(bound): float(count) for bound, count in LAG_BUCKETS.findall(text)}


def worst_lag(before: dict[float, float], after: dict[float, float]) -> tuple[float, int]:
    """The smallest bucket bound holding every lag observed between the two readings, and their number."""
    total = after[float("inf")] - before.get(float("inf"), 0)
    for bound in sorted(after):
        if after[bound] - before.get(bound, 0) == total:
            return bound, int(total)
    return float("inf"), int(total)


def lapse(path: Path, every: float, stop_after: float) -> subprocess.Popen[bytes]:
    """A helper that, every `every` seconds, moves 1,000 filed records' valid_until to yesterday, as time would."""
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    code = f"""
import sqlite3, time
db = sqlite3.connect({str(path)!r}, timeout=60, isolation_level=None)
end = time.monotonic() + {stop_after}
while time.monotonic() < end:
    db.execute("UPDATE product SET valid_until = ? WHERE id IN (SELECT id FROM product WHERE status = 'filed' "
               "AND valid_until >= ? ORDER BY id LIMIT 1000)", ({yesterday!r}, {yesterday!r}))
    time.sleep({every})
"""
    return subprocess.Popen([sys.executable, "-c", code])


def refused_rows(count: int) -> bytes:
    """NDJSON of `count` records each refused for a bad HS code (a dry run: nothing is written)."""
    base = sk2()
    return b"".join(
        msgspec.json.encode({**base, "sku": f"BAD-{n:06d}", "hs_code": "33049900"}) + b"\n" for n in range(count)
    )


def loop_of(port: int, key: str, body: bytes, query: str, stop_after: float) -> subprocess.Popen[bytes]:
    """A client process posting `body` to /v1/imports?`query` again and again until `stop_after` seconds."""
    code = f"""
import httpx, sys, time
body = sys.stdin.buffer.read()
end = time.monotonic() + {stop_after}
n = 0
with httpx.Client(base_url="http://127.0.0.1:{port}", timeout=600) as client:
    while time.monotonic() < end:
        r = client.post("/v1/imports?{query}", content=body,
                        headers={{"Authorization": "Bearer {key}", "Content-Type": "application/x-ndjson"}})
        n += 1
print(f"{query}: {{n}} posts, last {{r.status_code}}", flush=True)
"""
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(body)
    process.stdin.close()
    return process


async def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "load.db"
        made = await prepare(f"sqlite+aiosqlite:///{path}", PRODUCTS)
        port = free_port()
        env = {"REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{path}", "REGISTRY_ALERT_SCHEDULE": "5"}
        server = serve("registry", port, env, log=Path(folder) / "server.log")
        lua = GET_LUA.replace("%d", str(PRODUCTS - 1))
        key = made["declaration"]
        try:
            time.sleep(3)  # past the scan at start
            idle = [wrk(port, lua, key, warm=n == 0) for n in range(RUNS)]
            window = SECONDS * RUNS + 10
            big = b"".join(msgspec.json.encode(row) + b"\n" for row in records(0))
            helpers = [
                writer(port, made["catalog"], stop_after=window),
                loop_of(port, made["catalog"], big, "mode=partial", stop_after=window),
                loop_of(port, made["catalog"], refused_rows(20_000), "dry_run=true&mode=partial", stop_after=window),
                lapse(path, every=4.0, stop_after=window),
            ]
            before = lag_counts(port)
            time.sleep(2)
            try:
                busy = [wrk(port, lua, key) for _ in range(RUNS)]
                after = lag_counts(port)
            finally:
                for helper in helpers:
                    helper.wait()
            log = (Path(folder) / "server.log").read_text(errors="replace")
            scans = re.findall(r"expiry scan: (\d+) expired", log)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()
    bound, observed = worst_lag(before, after)
    idle_rps, _, idle_p99 = median(idle)
    busy_rps, _, busy_p99 = median(busy)
    print(f"{PRODUCTS:,} products; `registry serve` (1 worker); look-ups by wrk, medians of {RUNS} runs")
    print(f"idle:    {idle_rps:>9,.0f} req/s  p99 {idle_p99:6.2f} ms  (runs: {', '.join(f'{r[2]:.2f}' for r in idle)})")
    print(
        f"loaded:  {busy_rps:>9,.0f} req/s  p99 {busy_p99:6.2f} ms = {busy_p99 / idle_p99:.2f}x idle "
        f"(runs: {', '.join(f'{r[2]:.2f}' for r in busy)}); target <= 3x"
    )
    print(f"event-loop lag over the loaded runs: every one of {observed} probes <= {bound * 1000:.0f} ms; target 100")
    print(f"expiry scans in the server: {len(scans)}, expiring {', '.join(scans)} records")
    return {
        "idle_rps": round(idle_rps),
        "idle_p99_ms": round(idle_p99, 2),
        "loaded_rps": round(busy_rps),
        "loaded_p99_ms": round(busy_p99, 2),
        "p99_ratio": round(busy_p99 / idle_p99, 2),
        "loaded_p99_runs_ms": [round(run[2], 2) for run in busy],
        "max_lag_bucket_ms": bound * 1000,
        "lag_probes": observed,
        "scans": [int(n) for n in scans],
    }


if __name__ == "__main__":
    asyncio.run(main())
