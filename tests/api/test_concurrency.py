"""Concurrent writers: two app instances on one database, no lost update, no "database is locked"."""

from __future__ import annotations

import asyncio

import httpx

from registry.app import create_app
from registry.config import Settings
from tests.api.conftest import Auth, running
from tests.conftest import FakeClock
from tests.samples import shiseido

Client = httpx.AsyncClient


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
