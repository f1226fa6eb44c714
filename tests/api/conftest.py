"""The API suite's fixtures: a real database per test (SQLite file, or PostgreSQL when named), the app, keys."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from registry import schema
from registry.app import create_app
from registry.config import Settings
from registry.db import Base
from registry.domain.history import GENESIS
from registry.services import keys as key_service
from tests.conftest import FakeClock

PG_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
Auth = Callable[[str], dict[str, str]]


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once per run: PostgreSQL when named, else a template SQLite file."""
    if PG_URL:
        schema.upgrade(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "registry.db"
    url = f"sqlite+aiosqlite:///{path}"
    schema.upgrade(url)
    return url


@pytest.fixture
async def database_url(migrated_url: str, tmp_path: Path) -> str:
    """An empty, migrated database for this test alone."""
    if PG_URL:
        engine = create_async_engine(PG_URL)
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            await connection.execute(
                text("INSERT INTO history_head (id, last_seq, last_hash) VALUES (1, 0, :genesis)"), {"genesis": GENESIS}
            )
        await engine.dispose()
        return PG_URL
    path = tmp_path / "registry.db"
    shutil.copyfile(migrated_url.removeprefix("sqlite+aiosqlite:///"), path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC))


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Litestar:
    return create_app(Settings(database_url=database_url, scheduler=False), clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as test_client:
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
