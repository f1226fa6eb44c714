"""The API suite's fixtures: a real database per test (SQLite file, or PostgreSQL when named), the app, keys."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from registry import schema
from registry.app import create_app
from registry.config import Settings
from registry.services import keys as key_service
from tests.conftest import FakeClock
from tests.samples import sk2

PG_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
Auth = Callable[[str], dict[str, str]]


def _pg_database(name: str) -> str:
    assert PG_URL is not None
    return PG_URL.rsplit("/", 1)[0] + "/" + name


async def _pg_admin(*statements: str) -> None:
    assert PG_URL is not None
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once per run, to copy for each test: a PostgreSQL template when one is named,
    else a template SQLite file."""
    if PG_URL:
        asyncio.run(_pg_admin("DROP DATABASE IF EXISTS registry_template", "CREATE DATABASE registry_template"))
        url = _pg_database("registry_template")
        schema.upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "registry.db"
    url = f"sqlite+aiosqlite:///{path}"
    schema.upgrade(url)
    return url


_databases = itertools.count()


@pytest.fixture
def database_url(migrated_url: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database for this test alone (a copy of the template), dropped afterwards."""
    with own_database(migrated_url, tmp_path, f"registry_t{next(_databases)}") as url:
        yield url


@contextmanager
def own_database(migrated_url: str, folder: Path, name: str) -> Iterator[str]:
    """A migrated database named `name` (a copy of the template: a file in `folder`, or a PostgreSQL database),
    dropped afterwards."""
    if not PG_URL:
        path = folder / f"{name}.db"
        shutil.copyfile(migrated_url.removeprefix("sqlite+aiosqlite:///"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE registry_template"))
    try:
        yield _pg_database(name)
    finally:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC))


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Litestar:
    return create_app(Settings(database_url=database_url, scheduler=False), clock=clock)


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan and talk to it over ASGI, all on the test's own event loop.

    (Litestar's test client runs the app on a loop of its own in another thread; an asyncpg pool cannot be
    shared across loops, and the tests use the app's database directly too.)
    """
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar's ASGI types are narrower
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as test_client:
        yield test_client


@pytest.fixture
async def keys(app: Litestar) -> dict[str, str]:
    """One key per role, made the way `registry keys create` makes them."""
    ctx = app.state.ctx
    return {role: await key_service.create(ctx, role, f"test {role}") for role in key_service.ROLES}


@pytest.fixture
def auth(keys: dict[str, str]) -> Auth:
    def headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    return headers


async def file_product(
    client: httpx.AsyncClient,
    auth: Auth,
    valid_until: dt.date,
    filing_no: str = "2025110201",
    **overrides: Any,
) -> None:
    """Create a record (the SK-II sample, with `overrides`) and take it through submit and approve to filed."""
    record = sk2(**overrides)
    assert (await client.post("/v1/products", json=record, headers=auth("catalog"))).status_code == 201
    sku = record["sku"]
    assert (await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))).status_code == 200
    approved = await client.post(
        f"/v1/products/{sku}/filing/approve",
        json={"filing_no": filing_no, "valid_until": valid_until.isoformat()},
        headers=auth("reviewer"),
    )
    assert approved.status_code == 200, approved.text


def set_day(clock: FakeClock, day: dt.date) -> None:
    clock.now = dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.UTC)
