"""The declaration path under load: the real server on a 100,000-product SQLite database, driven by wrk.

Prints, from one run: the ceiling (a constant Litestar endpoint, same server settings), GET /v1/lookup/{sku}
over random SKUs, POST /v1/lookup with 100 random SKUs, the same GET while a bulk write runs, payload sizes,
and the index's memory per record at 1M records. Each figure is the median of three wrk runs; the ceiling
and the look-ups are measured in alternation, round by round, so their ratio is not skewed by the machine's drift.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
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
from registry.services.lookup import LookupIndex
from tests.api.servers import free_port
from tests.samples import TODAY, sk2

PRODUCTS = 100_000
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
RUNS = 3
WRK = ["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency"]

# Requests are made up front (a pool of random ones), so the load generator spends its core on sending.
GET_LUA = """
math.randomseed(os.time())
local auth = "Bearer " .. os.getenv("KEY")
local pool = {}
for i = 1, 20000 do
  pool[i] = wrk.format("GET", string.format("/v1/lookup/B%06d", math.random(0, %d)), {["Authorization"] = auth})
end
request = function() return pool[math.random(1, 20000)] end
"""
POST_LUA = """
math.randomseed(os.time())
local auth = "Bearer " .. os.getenv("KEY")
local headers = {["Authorization"] = auth, ["Content-Type"] = "application/json"}
local pool = {}
for n = 1, 2000 do
  local skus = {}
  for i = 1, 100 do skus[i] = string.format('"B%06d"', math.random(0, %d)) end
  pool[n] = wrk.format("POST", "/v1/lookup", headers, '{"skus":[' .. table.concat(skus, ",") .. ']}')
end
request = function() return pool[math.random(1, 2000)] end
"""


def products() -> list[dict[str, object]]:
    base = msgspec.to_builtins(normalize(msgspec.convert(sk2(), ProductIn)))
    base.pop("sku")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for n in range(PRODUCTS):
        filed = n % 10 != 0
        rows.append(
            {
                **base,
                "sku": f"B{n:06d}",
                "brand_key": "skii",
                "next_document_expiry": TODAY + dt.timedelta(days=400),
                "version": 3 if filed else 1,
                "created_at": now,
                "updated_at": now,
                "status": "filed" if filed else "unfiled",
                "filing_no": f"{4000000000 + n}" if filed else None,
                "submitted_at": now if filed else None,
                "filed_at": now if filed else None,
                "valid_until": TODAY + dt.timedelta(days=30 + n % 700) if filed else None,
                "tax_rate": Decimal("0.091") if filed else None,
                "rejection_reasons": [],
            }
        )
    return rows


async def prepare(url: str) -> dict[str, str]:
    await asyncio.to_thread(schema.upgrade, url)
    db = Database(Settings(database_url=url))
    rows = products()
    async with db.writes.begin() as tx:
        for start in range(0, len(rows), 5000):
            await tx.execute(insert(Product), rows[start : start + 5000])
    ctx = Context(db=db)
    made = {role: await keys.create(ctx, role, f"bench {role}") for role in ("declaration", "catalog", "admin")}
    await db.dispose()
    return made


def serve(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`registry serve` as users run it (its defaults: uvloop, its HTTP protocol, its logging), or the ceiling
    under the same settings (tests/bench/ceiling.py takes them from the same place)."""
    if target == "registry":
        command = [sys.executable, "-m", "registry", "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "tests.bench.ceiling", str(port)]
    process = subprocess.Popen(command, env={**os.environ, **env})
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/lookup/B000001", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{target} did not start")


def wrk(port: int, lua: str, key: str, warm: bool = False) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of one wrk run; `warm` runs 2 s uncounted first."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    env = {**os.environ, "KEY": key}
    if warm:
        subprocess.run(
            ["wrk", "-t2", "-c16", "-d2s", "-s", script.name, f"http://127.0.0.1:{port}"],
            env=env,
            check=True,
            capture_output=True,
        )
    out = subprocess.run(
        [*WRK, "-s", script.name, f"http://127.0.0.1:{port}"], capture_output=True, text=True, env=env, check=True
    ).stdout
    Path(script.name).unlink()
    if "Non-2xx" in out:
        raise RuntimeError(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    return rps, p50, p99


def median(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return tuple(statistics.median(run[i] for run in runs) for i in range(3))  # type: ignore[return-value]


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def writer(port: int, key: str, stop_after: float) -> subprocess.Popen[bytes]:
    """A bulk writer in its own process: creates products and changes them as fast as it is answered."""
    code = f"""
import httpx, time, itertools, json
from tests.samples import sk2
headers = {{"Authorization": "Bearer {key}"}}
end = time.monotonic() + {stop_after}
with httpx.Client(base_url="http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
    for n in itertools.count():
        if time.monotonic() > end:
            break
        sku = f"W{{n:06d}}"
        client.post("/v1/products", json=sk2(sku=sku))
        client.patch(f"/v1/products/{{sku}}", json={{"usage": "更新"}}, headers={{"If-Match": "*"}})
print(f"bulk writer: {{2 * n}} writes ({{n}} creates, {{n}} updates)", flush=True)
"""
    return subprocess.Popen([sys.executable, "-c", code])


def index_bytes_per_record(count: int = 1_000_000) -> float:
    """Memory of the look-up index (every structure it keeps), measured by putting `count` products in one."""
    index = LookupIndex(Context(db=Database(Settings(database_url="sqlite+aiosqlite://"))), 1000)
    days = [TODAY + dt.timedelta(days=30 + n % 700) for n in range(700)]
    rate = Decimal("0.091")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(count):  # the SKU strings are counted too: the index is what keeps them
        index._put(f"B{n:07d}", f"{4000000000 + n}", "3304990099", rate, "filed", days[n % 700], 3, None, None, None)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / count


async def main() -> None:
    get_lua = GET_LUA.replace("%d", str(PRODUCTS - 1))
    post_lua = POST_LUA.replace("%d", str(PRODUCTS - 1))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        made = await prepare(url)
        ceiling_port, port = free_port(), free_port()
        env = {"REGISTRY_DATABASE_URL": url}  # every other setting at its default, as users run it
        # Both servers stay up (an idle one costs nothing) and every round measures the ceiling next to the
        # look-ups, so each ratio compares runs made within a minute of each other on this shared machine.
        ceiling = serve("ceiling", ceiling_port, env)
        server = serve("registry", port, env)
        try:
            auth = {"Authorization": f"Bearer {made['declaration']}"}
            lookup_size = len(httpx.get(f"http://127.0.0.1:{port}/v1/lookup/B000001", headers=auth).content)
            admin = {"Authorization": f"Bearer {made['admin']}"}
            record_size = len(httpx.get(f"http://127.0.0.1:{port}/v1/products/B000001", headers=admin).content)
            key = made["declaration"]
            runs: dict[str, list[tuple[float, float, float]]] = {"base": [], "one": [], "many": [], "busy": []}
            for n in range(RUNS):
                runs["base"].append(wrk(ceiling_port, get_lua, "none", warm=n == 0))
                runs["one"].append(wrk(port, get_lua, key, warm=n == 0))
                runs["many"].append(wrk(port, post_lua, key, warm=n == 0))
            bulk = writer(port, made["catalog"], stop_after=SECONDS * RUNS + 5)
            time.sleep(1)
            try:
                runs["busy"] = [wrk(port, get_lua, key) for _ in range(RUNS)]
            finally:
                bulk.wait()
            runs["base"].append(wrk(ceiling_port, get_lua, "none"))  # the ceiling after the bulk write too
        finally:
            for process in (ceiling, server):
                process.send_signal(signal.SIGINT)
                process.wait()
    base, one, many, busy = (median(runs[name]) for name in ("base", "one", "many", "busy"))
    per_record = index_bytes_per_record()

    def row(name: str, figures: tuple[float, float, float], per: float = 1.0) -> None:
        rps, p50, p99 = figures
        ratio = rps / base[0]
        extra = f"  {rps * per:,.0f} SKUs/s" if per > 1 else ""
        print(f"{name:<36} {rps:>9,.0f} req/s {ratio:>5.2f}x  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms{extra}")

    print(f"{PRODUCTS:,} products; `registry serve` as shipped (1 worker); {' '.join(WRK)}; medians of {RUNS} runs,")
    print("the ceiling measured in each round next to the look-ups (and once more after the bulk write)")
    spread = ", ".join(f"{rps:,.0f}" for rps, _, _ in runs["base"])
    print(f"ceiling runs: {spread} req/s; POST runs: {', '.join(f'{rps:,.0f}' for rps, _, _ in runs['many'])} req/s")
    row("ceiling: constant Litestar endpoint", base)
    row("GET /v1/lookup/{sku}", one)
    row("POST /v1/lookup (100 SKUs)", many, per=100)
    row("GET /v1/lookup/{sku} during bulk write", busy)
    print(f"targets: GET >= 0.80x and p99 <= {2 * base[2]:.2f} ms; POST >= 0.35x; during writes >= 0.50x")
    print(f"payload: look-up {lookup_size} bytes, full record {record_size} bytes ({record_size / lookup_size:.1f}x)")
    print(f"index memory: {per_record:.0f} bytes per record, {per_record * 1_000_000 / 2**20:.0f} MiB at 1M records")
