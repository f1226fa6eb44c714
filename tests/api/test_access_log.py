"""The access log: errors and slow requests by default, every request or none when configured, and what
`registry serve` writes."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from registry.api import metrics
from registry.app import create_app
from registry.config import AccessLog, Settings
from tests.api.conftest import running
from tests.api.servers import serving_shipped
from tests.conftest import FakeClock


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def logged(database_url: str, clock: FakeClock, mode: AccessLog) -> list[str]:
    """The access-log lines of one GET /health and one GET of an unknown record, under `mode`. (Read from a
    handler on the logger itself: the app's logging set-up replaces the root logger's handlers.)"""
    app = create_app(Settings(database_url=database_url, scheduler=False, access_log=mode), clock=clock)
    lines, logger = Lines(), logging.getLogger("registry.access")
    logger.addHandler(lines)
    level, logger.level = logger.level, logging.INFO
    try:
        async with running(app) as client:
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/v1/products/NONE")).status_code == 401
    finally:
        logger.removeHandler(lines)
        logger.level = level
    return lines.lines


async def test_every_request_or_none(database_url: str, clock: FakeClock) -> None:
    lines = await logged(database_url, clock, "all")
    assert [line.split(" ")[:3] for line in lines] == [["GET", "/health", "200"], ["GET", "/v1/products/NONE", "401"]]
    assert all(line.endswith("client=127.0.0.1") for line in lines)
    assert await logged(database_url, clock, "off") == []


async def test_by_default_only_errors_and_slow_requests(
    database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await logged(database_url, clock, "errors") == []  # quick, and no 5xx
    monkeypatch.setattr(metrics, "SLOW_SECONDS", 0.0)  # every request is slow now
    assert len(await logged(database_url, clock, "errors")) == 2
    assert await logged(database_url, clock, "off") == []


def test_registry_serve_writes_the_service_log_and_its_access_log(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as out, serving_shipped(database_url, out, REGISTRY_ACCESS_LOG="all") as url:
        assert httpx.get(f"{url}/health").status_code == 200
    text = log.read_text()
    assert "registry.lookup: look-up index loaded" in text
    assert "registry.access: GET /health 200" in text
    assert '"GET /health HTTP/1.1" 200' not in text  # uvicorn's own access log is off
