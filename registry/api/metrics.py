"""Prometheus request counts and latencies by route, in a middleware light enough for the declaration path."""

from __future__ import annotations

import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Histogram

REQUESTS = Counter("registry_requests_total", "HTTP requests", ["method", "path", "status_code"])
LATENCY = Histogram(
    "registry_request_duration_seconds",
    "HTTP request latency",
    ["method", "path"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


UNMATCHED = "unmatched"


def count_unmatched(method: str, status: int) -> None:
    """A request that matched no route (404) or none of its path's methods (405): the middleware, which runs
    inside a matched route, never sees it."""
    REQUESTS.labels(method, UNMATCHED, str(status)).inc()


class MetricsMiddleware:
    """Counts and times every request under its route template; label children are made once and kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
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
            timer.observe(time.perf_counter() - start)
