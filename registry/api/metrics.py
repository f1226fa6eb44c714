"""Prometheus request counts and latencies by route, in a middleware light enough for the declaration path."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Histogram

from registry.config import AccessLog

REQUESTS = Counter("registry_requests_total", "HTTP requests", ["method", "path", "status_code"])
LATENCY = Histogram(
    "registry_request_duration_seconds",
    "HTTP request latency",
    ["method", "path"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


# How late the event loop runs a timer: every request waits at least that long for its turn, so this is the
# figure that says whether anything blocked the loop (a parse, a validation, a report worked on it in one piece).
LOOP_LAG = Histogram(
    "registry_event_loop_lag_seconds",
    "How late the event loop ran a timer set every 100 ms",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PROBE_EVERY = 0.1

# The access log: `errors` (the default) logs the requests answered 5xx and those slower than SLOW_SECONDS, `all`
# every request, `off` none. A line per request costs the declaration path a good share of its throughput.
SLOW_SECONDS = 1.0
access = logging.getLogger("registry.access")

UNMATCHED = "unmatched"


async def probe_loop_lag(every: float = PROBE_EVERY) -> None:
    """Sleep `every` seconds, again and again, and record how much later than asked the loop woke this up."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + every
        await asyncio.sleep(every)
        LOOP_LAG.observe(max(0.0, loop.time() - asked))


def count_unmatched(method: str, status: int) -> None:
    """A request that matched no route (404) or none of its path's methods (405): the middleware, which runs
    inside a matched route, never sees it."""
    REQUESTS.labels(method, UNMATCHED, str(status)).inc()


class MetricsMiddleware:
    """Counts and times every request under its route template (label children are made once and kept), and
    writes the access log."""

    def __init__(self, app: ASGIApp, access_log: AccessLog = "errors") -> None:
        self.app = app
        self.log_all, self.log_errors = access_log == "all", access_log != "off"
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # answered by the exception handlers outside this middleware
            status = int(getattr(exc, "status_code", 0) or getattr(exc, "status", 0) or 500)
            raise
        finally:
            method, path = scope.get("method", "-"), scope.get("path_template", UNMATCHED)
            timer = self._timers.get((method, path))
            if timer is None:
                timer = self._timers[(method, path)] = LATENCY.labels(method, path)
            counter = self._counters.get((method, path, status))
            if counter is None:
                counter = self._counters[(method, path, status)] = REQUESTS.labels(method, path, str(status))
            counter.inc()
            took = time.perf_counter() - start
            timer.observe(took)
            if self.log_all or (self.log_errors and (status >= 500 or took >= SLOW_SECONDS)):
                client = scope.get("client")
                access.info(
                    "%s %s %d %.1fms client=%s",
                    method,
                    scope.get("path", "-"),
                    status,
                    took * 1000,
                    client[0] if client else "-",
                )
