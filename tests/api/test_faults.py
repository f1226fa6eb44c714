"""The database goes away mid-load and comes back: PostgreSQL is stopped for 10 s under a service process.

While it is away only 503s (problem+json, Retry-After) answer what needs it, and look-ups go on from memory;
within 5 s of its return everything succeeds again, with no restart; and nothing was half-written.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest

from tests.api.conftest import own_database
from tests.api.servers import make_keys, serving
from tests.samples import sk2

PG_CTL = os.environ.get("REGISTRY_TEST_PG_CTL")
AWAY_SECONDS, RECOVERY_SECONDS = 10.0, 5.0
pytestmark = pytest.mark.skipif(not PG_CTL, reason="stops the PostgreSQL server that .ci/postgres.sh started")


class Call(NamedTuple):
    kind: str
    sku: str
    started: float
    ended: float
    status: int
    problem_json: bool
    retry_after: bool


@pytest.fixture(scope="module")
def service(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with own_database(migrated_url, tmp_path_factory.mktemp("faults"), "registry_faults") as url:
        keys = make_keys(url, "catalog", "declaration", "auditor")
        with serving(url, REGISTRY_CONNECT_TIMEOUT_SECONDS="2", REGISTRY_POOL_TIMEOUT_SECONDS="2") as base_url:
            yield base_url, keys


def pg_ctl(*args: str) -> None:
    assert PG_CTL is not None
    subprocess.run([*shlex.split(PG_CTL), *args], check=True, capture_output=True, timeout=60)


async def test_postgresql_stopped_for_10_s_under_load(service: tuple[str, dict[str, str]]) -> None:
    base_url, keys = service

    def client(role: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {keys[role]}"}, timeout=30)

    calls: list[Call] = []
    running = True

    async def record(kind: str, sku: str, request: object) -> httpx.Response:
        started = time.monotonic()
        response: httpx.Response = await request  # type: ignore[misc]
        calls.append(
            Call(
                kind,
                sku,
                started,
                time.monotonic(),
                response.status_code,
                response.headers.get("content-type") == "application/problem+json",
                "retry-after" in response.headers,
            )
        )
        return response

    async def writer(n: int) -> None:
        """Creates records and changes them; each record is this writer's alone, so no change is ever stale."""
        async with client("catalog") as http:
            count = 0
            while running:
                sku = f"F{n}-{count:04d}"
                created = await record("create", sku, http.post("/v1/products", json=sk2(sku=sku)))
                if created.status_code != 201:
                    await asyncio.sleep(0.05)
                    continue
                count += 1
                await record("read", sku, http.get(f"/v1/products/{sku}"))
                await record(
                    "change", sku, http.patch(f"/v1/products/{sku}", json={"usage": "x"}, headers={"If-Match": '"1"'})
                )

    async with client("catalog") as http:
        assert (await http.post("/v1/products", json=sk2(sku="F-LOOKUP"))).status_code == 201

    async def reader() -> None:
        async with client("declaration") as http:
            while running:
                await record("lookup", "F-LOOKUP", http.get("/v1/lookup/F-LOOKUP"))
                await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(writer(n)) for n in range(4)] + [asyncio.create_task(reader())]
    await asyncio.sleep(3)
    stopping = time.monotonic()
    await asyncio.to_thread(pg_ctl, "stop", "-m", "fast", "-w")
    await asyncio.sleep(AWAY_SECONDS)
    await asyncio.to_thread(pg_ctl, "start", "-w")
    back = time.monotonic()
    await asyncio.sleep(RECOVERY_SECONDS + 5)
    running = False
    await asyncio.gather(*tasks)

    statuses = {call.status for call in calls}
    assert statuses <= {200, 201, 503}, statuses
    unavailable = [call for call in calls if call.status == 503]
    assert unavailable, "the load did meet the database's absence"
    assert all(call.problem_json and call.retry_after for call in unavailable)
    assert all(call.ended >= stopping and call.started <= back + RECOVERY_SECONDS for call in unavailable)
    assert max(call.ended - call.started for call in calls) < 10  # never hung past the connect and pool timeouts
    lookups_away = [call for call in calls if call.kind == "lookup" and stopping + 1 < call.started < back]
    assert lookups_away
    assert {call.status for call in lookups_away} == {200}
    after = [call for call in calls if call.started > back + RECOVERY_SECONDS]
    assert {call.kind for call in after} >= {"create", "read", "change", "lookup"}
    assert {call.status for call in after} <= {200, 201}

    # Nothing half-written: every record there has its history, every answered write is there.
    async with client("auditor") as auditor:
        created = {call.sku for call in calls if call.kind == "create" and call.status == 201}
        changed = {call.sku for call in calls if call.kind == "change" and call.status == 200}
        for sku in sorted(created):
            record_ = (await auditor.get(f"/v1/products/{sku}")).json()
            events = (await auditor.get(f"/v1/products/{sku}/history")).json()["items"]
            assert [event["version"] for event in events] == list(range(1, record_["version"] + 1))
            assert (record_["usage"] == "x") == (record_["version"] == 2)
            if sku in changed:
                assert record_["version"] == 2
        verify = await auditor.get("/v1/audit/verify")
        assert verify.json()["ok"] is True, verify.text
    last_503 = max(call.ended for call in unavailable) - back
    first_write = min(
        call.ended for call in calls if call.started > back and call.kind == "create" and call.status == 201
    )
    print(
        f"\n{len(calls)} calls, {len(unavailable)} answered 503 while PostgreSQL was away; after its return the last"
        f" 503 came at +{last_503:.2f} s and the first write succeeded at +{first_write - back:.2f} s"
    )
