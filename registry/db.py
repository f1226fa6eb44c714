"""Engine and session factories, SQLite pragmas and the declarative base."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from sqlalchemy import MetaData, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from registry.config import Settings
from registry.domain.errors import Unavailable

BUSY_SECONDS = 30  # how long a SQLite writer waits for the write lock (busy_timeout), and for its turn

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _json_dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# JSON columns go through msgspec, several times faster than the standard library on the import path.
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": msgspec.json.decode}


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if is_sqlite(url):
        engine = create_async_engine(url, pool_pre_ping=False, **JSON_CODEC)
        _configure_sqlite(engine)
        return engine
    # A server that does not answer is given up on within the connect or statement timeout (asyncpg's own
    # defaults are 60 s and none), and the request answers 503 instead of hanging.
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        pool_timeout=settings.pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args={
            "timeout": settings.connect_timeout_seconds,
            "command_timeout": settings.statement_timeout_seconds,
        },
        **JSON_CODEC,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and transactions begun by us rather than by pysqlite.

    pysqlite's own transaction handling begins lazily with a plain BEGIN, so two writers can both read
    and then collide on the upgrade to a write lock ("database is locked"). Writers here begin with
    BEGIN IMMEDIATE instead, taking the write lock up front and queueing on busy_timeout.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = "IMMEDIATE" if connection.get_execution_options().get("writes") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


class Writes:
    """Write transactions: `async with db.writes.begin() as tx`. On SQLite this process's writers take turns in the
    order they came: SQLite's busy handler wakes a waiting writer by polling, so a writer behind back-to-back
    imports could lose the lock to each next one and wait out its busy timeout. A writer that has not had its
    turn within BUSY_SECONDS is answered 503, as one that waited that long for the lock itself would be."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine.execution_options(writes=True), expire_on_commit=False)
        self._turns = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        if self._turns is None:
            async with self._sessions.begin() as tx:
                yield tx
            return
        try:
            async with asyncio.timeout(BUSY_SECONDS):
                await self._turns.acquire()
        except TimeoutError:
            raise Unavailable("the database is busy with other writes; retry shortly") from None
        try:
            async with self._sessions.begin() as tx:
                yield tx
        finally:
            self._turns.release()


class Database:
    """One engine, the session factory for reads and the write transactions drawn from it."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        self.reads = async_sessionmaker(self.engine, expire_on_commit=False)
        self.writes = Writes(self.engine)

    @asynccontextmanager
    async def exclusive(self, job: str) -> AsyncIterator[bool]:
        """Whether this instance runs `job` now, held for the block: on PostgreSQL a session advisory lock, taken
        without waiting (False while another instance holds it, released when the block ends or the connection
        dies); on SQLite always True, the file's write lock ordering its writers."""
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        key = int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)
        async with self.engine.connect() as connection:
            held = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            await connection.commit()
            try:
                yield held
            finally:
                if held:
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    await connection.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()


__all__ = ["AsyncSession", "Base", "Database", "create_engine", "is_sqlite"]
