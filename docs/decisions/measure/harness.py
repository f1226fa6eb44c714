"""Shared bits: drive an ASGI app in-process with a hand-built scope; median of alternating rounds."""
from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the checkout

TOKEN = "rk_k0001_" + "x" * 43  # the shape of a real key: rk_<id>_<token_urlsafe(32)>
HEADERS = [
    (b"host", b"testserver.local"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
    (b"user-agent", b"python-httpx/0.28.1"),
    (b"authorization", b"Bearer " + TOKEN.encode()),
]
SKU = "SK2-FTE-230ML"


def base_scope(path: str, headers: list[tuple[bytes, bytes]] = HEADERS, method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "state": {},
    }


_REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def receive() -> dict[str, Any]:
    return _REQUEST


class Sink:
    """Collects the last response (status, headers, body)."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = message.get("headers", [])
        else:
            self.body = message.get("body", b"")


async def one(app: Any, scope: dict[str, Any]) -> Sink:
    sink = Sink()
    await app(dict(scope, state={}), receive, sink)
    return sink


async def run_requests(app: Any, scope: dict[str, Any], n: int) -> float:
    """Seconds for n requests, each with a fresh copy of the scope (Litestar writes into it)."""
    sink = Sink()
    copy = scope.copy
    t0 = time.perf_counter()
    for _ in range(n):
        s = copy()
        s["state"] = {}
        await app(s, receive, sink)
    elapsed = time.perf_counter() - t0
    assert sink.status == 200, (sink.status, sink.body)
    return elapsed


async def null_app(scope: Any, receive: Any, send: Any) -> None:
    """The harness floor: an ASGI app that answers at once."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def rounds(
    variants: dict[str, Callable[[], Awaitable[float]]], n_rounds: int = 5, per: int = 1, scale: float = 1e6
) -> dict[str, list[float]]:
    """Alternating rounds: the variant order is rotated each round. Returns per-op figures (seconds*scale/per)."""
    names = list(variants)
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(n_rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        if r % 2:
            order = order[::-1]
        for name in order:
            gc.collect()
            seconds = await variants[name]()
            out[name].append(seconds * scale / per)
    return out


def report(title: str, results: dict[str, list[float]], unit: str, base: str | None = None) -> None:
    print(f"\n{title}")
    med = {k: statistics.median(v) for k, v in results.items()}
    for name, values in results.items():
        line = f"  {name:<46} median {med[name]:9.2f} {unit}  (min {min(values):.2f} – max {max(values):.2f})"
        if base and name != base:
            line += f"  Δ vs ref: {med[name] - med[base]:+.2f} {unit}"
        elif base:
            line += "  (ref)"
        print(line)
    print("  rounds:", {k: [round(x, 2) for x in v] for k, v in results.items()})


def versions() -> str:
    import platform

    import litestar
    import msgspec
    import sqlalchemy

    v = litestar.__version__
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"Litestar {v.major}.{v.minor}.{v.patch}, SQLAlchemy {sqlalchemy.__version__}, msgspec {msgspec.__version__}"
    )
