"""The declaration path under load: the real server on a 100,000-product SQLite database, driven by wrk.

Prints, from one run: the ceiling (a constant Litestar endpoint, same server settings), GET /v1/lookup/{sku}
over random SKUs, POST /v1/lookup with 100 random SKUs, the same GET while a bulk write runs, payload sizes,
and the index's memory per record at 1M records. Each figure is the median of five wrk runs; the ceiling
and the look-ups are measured in alternation, round by round, and each ratio is the median of the rounds' own
ratios, so the machine's drift between rounds does not skew it.
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
RUNS = 5
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


def products(count: int) -> list[dict[str, object]]:
    base = msgspec.to_builtins(normalize(msgspec.convert(sk2(), ProductIn)))
    base.pop("sku")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for n in range(count):
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


async def prepare(url: str, count: int) -> dict[str, str]:
    await asyncio.to_thread(schema.upgrade, url)
    db = Database(Settings(database_url=url))
    rows = products(count)
    async with db.writes.begin() as tx:
        for start in range(0, len(rows), 5000):
            await tx.execute(insert(Product), rows[start : start + 5000])
    del rows
    ctx = Context(db=db)
    made = {role: await keys.create(ctx, role, f"bench {role}") for role in ("declaration", "catalog", "admin")}
    await db.dispose()
    return made


def serve(target: str, port: int, env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`registry serve` as users run it (its defaults: uvloop, its HTTP protocol, its logging; `args` such as
    `--workers 2`), or the ceiling under the same settings (tests/bench/ceiling.py takes them from the same
    place). With `log`, the server's output goes to that file."""
    if target == "registry":
        command = [sys.executable, "-m", "registry", "serve", "--port", str(port), *args]
    else:
        command = [sys.executable, "-m", "tests.bench.ceiling", str(port)]
    output = log.open("ab") if log else None
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=output, stderr=output)
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
        client.patch(f"/v1/products/{{sku}}", json={{"usage": "更新"}}, headers={{"If-Match": '"1"'}})
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
        index._read(
            (f"B{n:07d}", f"{4000000000 + n}", "3304990099", rate, "filed", days[n % 700], 3, None, None, None, None)
        )
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / count


def loaded_in(log: Path) -> float:
    """Seconds the server took to load its look-up index, as it logged them."""
    found = re.findall(r"look-up index loaded: \d+ products in ([\d.]+) s", log.read_text(errors="replace"))
    return float(found[-1]) if found else float("nan")


def figures(
    runs: list[tuple[float, float, float]], base: list[tuple[float, float, float]], paired: list[float]
) -> dict[str, float]:
    """Medians of a measurement's runs and the spread of its runs; `ratio` is the median of each round's req/s
    over the ceiling's in the same round (`paired`): this shared host's speed drifts between rounds, and within
    a round both see the same."""
    rps, p50, p99 = median(runs)
    ceiling = median(base)
    ratios = [run[0] / alongside for run, alongside in zip(runs, paired, strict=True)]
    return {
        "rps": round(rps),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "p99_ratio": round(p99 / ceiling[2], 2),
        "rps_min": round(min(run[0] for run in runs)),
        "rps_max": round(max(run[0] for run in runs)),
    }


async def measure(count: int, folder: Path, workers: bool) -> dict[str, object]:
    """One scale: `count` products; the shipped command, the same with every request logged, and (at
    `workers`) two workers, each measured in the same rounds as the ceiling."""
    url = f"sqlite+aiosqlite:///{folder / f'bench-{count}.db'}"
    made = await prepare(url, count)
    get_lua = GET_LUA.replace("%d", str(count - 1))
    post_lua = POST_LUA.replace("%d", str(count - 1))
    env = {"REGISTRY_DATABASE_URL": url}  # every other setting at its default, as users run it
    key = made["declaration"]
    servers: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
        "ceiling": ("ceiling", env, ()),
        "shipped": ("registry", env, ()),
    }
    servers["all_logged"] = ("registry", {**env, "REGISTRY_ACCESS_LOG": "all", "REGISTRY_SCHEDULER": "off"}, ())
    if workers:
        servers["workers2"] = ("registry", {**env, "REGISTRY_SCHEDULER": "off"}, ("--workers", "2"))
    ports = {name: free_port() for name in servers}
    logs = {name: folder / f"{name}-{count}.log" for name in servers}
    # Every server stays up (an idle one costs nothing) and each round measures the ceiling next to the others,
    # so each ratio compares runs made within a minute of each other on this shared machine.
    started = {}
    for name, (target, environment, args) in servers.items():
        started[name] = serve(target, ports[name], environment, *args, log=logs[name])
    runs: dict[str, list[tuple[float, float, float]]] = {}
    try:
        auth = {"Authorization": f"Bearer {key}"}
        port = ports["shipped"]
        sizes = {
            "lookup_bytes": len(httpx.get(f"http://127.0.0.1:{port}/v1/lookup/B000001", headers=auth).content),
            "record_bytes": len(
                httpx.get(
                    f"http://127.0.0.1:{port}/v1/products/B000001",
                    headers={"Authorization": f"Bearer {made['admin']}"},
                ).content
            ),
        }
        for n in range(RUNS):
            for name in servers:
                one = wrk(ports[name], get_lua, "none" if name == "ceiling" else key, warm=n == 0)
                runs.setdefault(f"{name}.get", []).append(one)
                if name != "ceiling":
                    runs.setdefault(f"{name}.post", []).append(wrk(ports[name], post_lua, key, warm=n == 0))
        bulk = writer(port, made["catalog"], stop_after=SECONDS * RUNS + 5)
        time.sleep(1)
        try:
            runs["shipped.busy"] = [wrk(port, get_lua, key) for _ in range(RUNS)]
        finally:
            bulk.wait()
        runs["ceiling.get"].append(wrk(ports["ceiling"], get_lua, "none"))  # the ceiling after the bulk write too
    finally:
        for process in started.values():
            process.send_signal(signal.SIGINT)
            process.wait()
    base = runs.pop("ceiling.get")
    rounds = [run[0] for run in base[:RUNS]]
    after = [base[-1][0]] * RUNS  # the ceiling measured right after the rounds during the bulk write
    result: dict[str, object] = {
        "products": count,
        "index_load_s": loaded_in(logs["shipped"]),
        **sizes,
        "ceiling": figures(base, base, [run[0] for run in base]),
        **{
            name: figures(measured, base, after if name == "shipped.busy" else rounds)
            for name, measured in runs.items()
        },
    }
    return result


def report(result: dict[str, object]) -> None:
    """The measurements of one scale as a table."""
    base = result["ceiling"]
    assert isinstance(base, dict)
    print(
        f"{result['products']:,} products; index loaded in {result['index_load_s']:.1f} s; {' '.join(WRK)}; medians of "
        f"{RUNS} rounds, each with the ceiling (min–max of the rounds in brackets; a ratio is the median of each "
        "round's req/s over the same round's ceiling)"
    )
    rows = [
        ("ceiling: constant Litestar endpoint, same server settings", "ceiling"),
        ("`registry serve` as shipped: GET /v1/lookup/{sku}", "shipped.get"),
        ("  POST /v1/lookup (100 SKUs)", "shipped.post"),
        ("  GET during a bulk write", "shipped.busy"),
        ("REGISTRY_ACCESS_LOG=all: GET", "all_logged.get"),
        ("  POST (100 SKUs)", "all_logged.post"),
        ("--workers 2: GET", "workers2.get"),
        ("  POST (100 SKUs)", "workers2.post"),
    ]
    for label, name in rows:
        if name not in result:
            continue
        f = result[name]
        assert isinstance(f, dict)
        print(
            f"{label:<58} {f['rps']:>8,} req/s [{f['rps_min']:,}–{f['rps_max']:,}] "
            f"{f['ratio']:>5.2f}x [{f['ratio_min']:.2f}–{f['ratio_max']:.2f}]  "
            f"p50 {f['p50_ms']:5.2f} ms  p99 {f['p99_ms']:5.2f} ms ({f['p99_ratio']:.2f}x)"
        )
    print(f"payload: look-up {result['lookup_bytes']} bytes, full record {result['record_bytes']} bytes")


async def main() -> dict[str, object]:
    scales = [int(n) for n in os.environ.get("BENCH_PRODUCTS", "100000,1000000").split(",")]
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in scales:
            result = await measure(count, Path(folder), workers=count == scales[0])
            report(result)
            results[str(count)] = result
    per_record = index_bytes_per_record()
    print(f"index memory: {per_record:.0f} bytes per record, {per_record * 1_000_000 / 2**20:.0f} MiB at 1M records")
    print("targets: GET >= 0.80x with p99 <= 2x the ceiling's; POST >= 0.35x; index <= 300 bytes a record and")
    print("loaded in <= 20 s at 1M; ratios at 1M as at 100,000")
    return {"scales": results, "index_bytes_per_record": round(per_record)}
