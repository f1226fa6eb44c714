"""Concurrent writers: two app instances on one database, no lost update, no "database is locked"."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text

from registry import db as db_module
from registry.app import create_app
from registry.config import Settings
from registry.db import is_sqlite
from tests.api.conftest import Auth, running
from tests.conftest import FakeClock
from tests.samples import shiseido

Client = httpx.AsyncClient
# A write that changes nothing: it takes SQLite's write lock for the transaction it is in.
TOUCH = text("UPDATE history_head SET last_seq = last_seq WHERE id = 1")


async def test_two_instances_write_at_once_without_errors_or_lost_updates(
    client: Client, auth: Auth, database_url: str, clock: FakeClock
) -> None:
    other_app = create_app(Settings(database_url=database_url, scheduler=False), clock=clock)
    async with running(other_app) as other:
        instances = [client, other]
        creates = await asyncio.gather(
            *(
                instances[n % 2].post("/v1/products", json=shiseido(sku=f"C{n:03d}"), headers=auth("catalog"))
                for n in range(60)
            )
        )
        assert [r.status_code for r in creates] == [201] * 60

        async def bump(n: int) -> tuple[int, int]:
            """Append to usage until it sticks: read, PATCH with If-Match, retry on 412."""
            target = instances[n % 2]
            stale = 0
            while True:
                current = await target.get("/v1/products/C000", headers=auth("catalog"))
                usage = (current.json()["usage"] or "") + f"[{n}]"
                response = await target.patch(
                    "/v1/products/C000",
                    json={"usage": usage},
                    headers={**auth("catalog"), "If-Match": current.headers["etag"]},
                )
                if response.status_code == 200:
                    return n, stale
                assert response.status_code == 412, response.text
                stale += 1

        results = await asyncio.gather(*(bump(n) for n in range(20)))
        final = (await client.get("/v1/products/C000", headers=auth("catalog"))).json()
        assert final["version"] == 1 + 20
        for n, _ in results:
            assert f"[{n}]" in final["usage"], n
    await other_app.state.ctx.db.dispose()


async def test_sqlite_writers_take_turns_in_the_order_they_came(app: Litestar, database_url: str) -> None:
    """SQLite's busy handler polls, with longer sleeps the longer a writer has waited: left to it, a writer behind
    a long transaction loses the lock to later ones. The writes of one process take turns in arrival order."""
    if not is_sqlite(database_url):
        pytest.skip("PostgreSQL writers lock rows, not the database")
    db = app.state.ctx.db
    order: list[int] = []

    async def write(n: int) -> None:
        async with db.writes.begin() as tx:
            await tx.execute(TOUCH)
            order.append(n)

    async with db.writes.begin() as holder:  # a long transaction holding the write lock
        await holder.execute(TOUCH)
        waiting = []
        for n in range(6):
            waiting.append(asyncio.create_task(write(n)))
            await asyncio.sleep(0.05)
    await asyncio.gather(*waiting)
    assert order == list(range(6))


async def test_a_sqlite_writer_that_gets_no_turn_in_time_is_answered_503(
    app: Litestar, client: Client, auth: Auth, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not is_sqlite(database_url):
        pytest.skip("PostgreSQL writers lock rows, not the database")
    await client.post("/v1/products", json=shiseido(sku="C000"), headers=auth("catalog"))
    monkeypatch.setattr(db_module, "BUSY_SECONDS", 0.2)
    headers = {**auth("catalog"), "If-Match": '"1"'}
    async with app.state.ctx.db.writes.begin() as holder:
        await holder.execute(TOUCH)
        response = await client.patch("/v1/products/C000", json={"usage": "x"}, headers=headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "busy" in response.json()["detail"]
    after = await client.patch("/v1/products/C000", json={"usage": "x"}, headers=headers)
    assert after.status_code == 200
