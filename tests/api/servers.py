"""Real service processes for the tests that need them, serving the app on a database of the test's."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO

import httpx

from registry.config import Settings
from registry.db import Database
from registry.services import keys as key_service
from registry.services.context import Context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serving(database_url: str, **env: str) -> AbstractContextManager[str]:
    """Run one service process, uvicorn serving the app quietly (scheduler off unless `env` says otherwise),
    until the block ends; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "registry.app:create_app", "--factory", "--port", str(port)]
    return _running([*command, "--no-access-log", "--log-level", "warning"], port, database_url, None, env)


def serving_shipped(
    database_url: str, output: IO[bytes] | None = None, *args: str, **env: str
) -> AbstractContextManager[str]:
    """The same, started as users start it: `registry serve` (with `args`, such as `--workers 2`), its own server
    settings and logging; `output` takes the process's stdout and stderr."""
    port = free_port()
    command = [sys.executable, "-m", "registry", "serve", "--port", str(port), *args]
    return _running(command, port, database_url, output, env)


@contextmanager
def _running(
    command: list[str], port: int, database_url: str, output: IO[bytes] | None, env: dict[str, str]
) -> Iterator[str]:
    settings = {"REGISTRY_DATABASE_URL": database_url, "REGISTRY_SCHEDULER": "off", **env}
    process = subprocess.Popen(command, env={**os.environ, **settings}, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service on {url} did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_keys(database_url: str, *roles: str) -> dict[str, str]:
    """A key per role, made the way `registry keys create` makes them."""

    async def make() -> dict[str, str]:
        ctx = Context(db=Database(Settings(database_url=database_url)))
        try:
            return {role: await key_service.create(ctx, role, f"test {role}") for role in roles}
        finally:
            await ctx.db.dispose()

    return asyncio.run(make())
