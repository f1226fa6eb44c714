"""3. What a request-scoped SQLAlchemy AsyncSession adds to a request that never touches the database.

aiosqlite engine on a temp file, made by the project's own registry.db (its pragmas on connect, its BEGIN
listener). Per operation: AsyncSession(engine) created and closed unused; the same via the project's
async_sessionmaker (Database.reads); and with one SELECT 1. Then the same as a Litestar per-request
dependency (an async generator yielding a session, closing it after), driven in-process through ASGI.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from harness import SKU, base_scope, one, report, rounds, run_requests, versions
from litestar import Litestar, Response, get
from litestar.di import Provide
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from registry.config import Settings
from registry.db import Database

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
N_SQL = max(N // 10, 500)
SELECT_1 = text("SELECT 1")
BODY = b'{"sku":"SK2-FTE-230ML","filing_no":"2025110201","hs_code":"3304990000","tax_rate":"0.20","status":"filed","declarable":true,"valid_until":"2027-11-01"}'


async def main() -> None:
    print(versions())
    import sqlite3

    import aiosqlite
    print(f"aiosqlite {aiosqlite.__version__}, SQLite {sqlite3.sqlite_version}")
    folder = Path(tempfile.mkdtemp(prefix="m3_"))
    db = Database(Settings(database_url=f"sqlite+aiosqlite:///{folder / 'registry.db'}", scheduler=False))
    engine = db.engine

    async def nothing(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            pass
        return time.perf_counter() - t0

    async def session_unused(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            session = AsyncSession(engine)
            await session.close()
        return time.perf_counter() - t0

    async def factory_unused(n: int) -> float:
        reads = db.reads
        t0 = time.perf_counter()
        for _ in range(n):
            async with reads() as session:  # noqa: F841
                pass
        return time.perf_counter() - t0

    async def session_select_1(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            session = AsyncSession(engine)
            await session.execute(SELECT_1)
            await session.close()
        return time.perf_counter() - t0

    plain_engine = create_async_engine(f"sqlite+aiosqlite:///{folder / 'plain.db'}")

    async def plain_select_1(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            session = AsyncSession(plain_engine)
            await session.execute(SELECT_1)
            await session.close()
        return time.perf_counter() - t0

    # As a Litestar dependency: the same route with and without a per-request session it never uses.
    async def provide_session() -> AsyncIterator[AsyncSession]:
        session = db.reads()
        try:
            yield session
        finally:
            await session.close()

    @get("/v1/lookup/{sku:str}")
    async def plain(sku: str) -> Response[bytes]:
        return Response(content=BODY, media_type="application/json")

    @get("/v1/lookup/{sku:str}", dependencies={"session": Provide(provide_session)})
    async def with_session(sku: str, session: AsyncSession) -> Response[bytes]:
        return Response(content=BODY, media_type="application/json")

    app_plain = Litestar([plain], debug=False, openapi_config=None)
    app_dep = Litestar([with_session], debug=False, openapi_config=None)
    scope = base_scope(f"/v1/lookup/{SKU}")
    for app in (app_plain, app_dep):
        assert (await one(app, scope)).body == BODY

    # warm-up (the first SELECT opens the pooled connection)
    await session_unused(2000), await factory_unused(2000), await session_select_1(200), await plain_select_1(200)
    await run_requests(app_plain, scope, 2000), await run_requests(app_dep, scope, 2000)

    res = await rounds(
        {
            "no session (empty loop)": lambda: nothing(N),
            "AsyncSession(engine) + close, unused": lambda: session_unused(N),
            "db.reads() (async_sessionmaker), unused": lambda: factory_unused(N),
        },
        per=N,
    )
    report(f"µs per session, {N:,} per round, 5 alternating rounds", res, "µs", base="no session (empty loop)")
    res_sql = await rounds(
        {
            "AsyncSession(engine) + close, unused": lambda: session_unused(N_SQL),
            "AsyncSession(engine) + SELECT 1 + close": lambda: session_select_1(N_SQL),
            "same, plain create_async_engine (no listeners)": lambda: plain_select_1(N_SQL),
        },
        per=N_SQL,
    )
    report(f"µs per session, {N_SQL:,} per round, 5 alternating rounds", res_sql, "µs",
           base="AsyncSession(engine) + close, unused")
    res_app = await rounds(
        {
            "Litestar route, no dependency": lambda: run_requests(app_plain, scope, N),
            "Litestar route + per-request session dep": lambda: run_requests(app_dep, scope, N),
        },
        per=N,
    )
    report(f"µs per request through ASGI, {N:,} per round, 5 alternating rounds", res_app, "µs",
           base="Litestar route, no dependency")
    await engine.dispose()
    await plain_engine.dispose()
    import shutil

    shutil.rmtree(folder)


if __name__ == "__main__":
    asyncio.run(main())
