"""Several instances on one database: two service processes, twenty writers changing the same records through
both, look-ups alongside. Nothing is lost, nothing fails, and the history tells each change once, in one chain.
(Run on PostgreSQL by `make test-pg`, the configuration several instances are meant for, and on SQLite too.)"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import PG_URL, own_database
from tests.api.servers import make_keys, serving, serving_shipped
from tests.samples import sk2

WRITERS, CHANGES, RECORDS, READERS = 20, 200, 10, 4
SKU = "SK2-FTE-230"
Instances = tuple[list[str], dict[str, str]]


@pytest.fixture(scope="module")
def instances(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instances]:
    with own_database(migrated_url, tmp_path_factory.mktemp("instances"), "registry_instances") as url:
        keys = make_keys(url, "catalog", "declaration", "auditor")
        fast = {"REGISTRY_LOOKUP_STALENESS_MS": "200"}
        with serving(url, **fast) as first, serving(url, **fast) as second:
            yield [first, second], keys


def version(response: httpx.Response) -> int:
    return int(response.headers["ETag"].strip('"'))


async def test_twenty_writers_on_two_instances_lose_nothing(instances: Instances) -> None:
    urls, keys = instances

    def client(n: int, role: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {keys[role]}"}
        return httpx.AsyncClient(base_url=urls[n % 2], headers=headers, timeout=60)

    skus = [f"MI-{n:02d}" for n in range(RECORDS)]
    async with client(0, "catalog") as catalog:
        for sku in skus:
            assert (await catalog.post("/v1/products", json=sk2(sku=sku))).status_code == 201
    statuses: Counter[int] = Counter()
    made: dict[str, dict[int, str]] = defaultdict(dict)  # SKU → version → the usage that change wrote
    stale = 0

    async def writer(n: int) -> None:
        """CHANGES changes through one instance, each read, sent with If-Match, and retried when it was stale."""
        nonlocal stale
        async with client(n, "catalog") as http:
            for change in range(CHANGES):
                sku, usage = skus[(n + change) % RECORDS], f"writer {n} change {change}"
                while True:
                    current = await http.get(f"/v1/products/{sku}")
                    statuses[current.status_code] += 1
                    sent = version(current)
                    response = await http.patch(
                        f"/v1/products/{sku}", json={"usage": usage}, headers={"If-Match": current.headers["ETag"]}
                    )
                    statuses[response.status_code] += 1
                    if response.status_code == 200:
                        assert version(response) not in made[sku]
                        made[sku][version(response)] = usage
                        break
                    assert response.status_code == 412, response.text
                    assert response.json()["current_version"] > sent  # it really was stale
                    stale += 1

    writing = True

    async def reader(n: int) -> None:
        async with client(n, "declaration") as http:
            while writing:
                response = await http.get(f"/v1/lookup/{skus[n % RECORDS]}")
                statuses[response.status_code] += 1
                assert response.status_code == 200, response.text

    readers = [asyncio.create_task(reader(n)) for n in range(READERS)]
    try:
        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    finally:
        writing = False
        await asyncio.gather(*readers)

    assert not [status for status in statuses if status >= 500], statuses
    assert sum(len(versions) for versions in made.values()) == WRITERS * CHANGES
    assert stale > 0  # the writers did collide, so If-Match was put to the test
    async with client(1, "auditor") as auditor:
        for sku in skus:
            record = (await auditor.get(f"/v1/products/{sku}")).json()
            events = (await auditor.get(f"/v1/products/{sku}/history")).json()["items"]
            updates = {event["version"]: event["changes"]["usage"]["new"] for event in events[1:]}
            assert [event["action"] for event in events] == ["create"] + ["update"] * len(made[sku])
            assert updates == made[sku]  # every change that answered 200 is there, once, as it was sent
            assert record["version"] == 1 + len(made[sku]) == max(made[sku])
            assert record["usage"] == made[sku][record["version"]]
        verify = await auditor.get("/v1/audit/verify")
        assert verify.json()["ok"] is True, verify.text
    print(f"\n{WRITERS * CHANGES} changes by {WRITERS} writers on 2 instances, {stale} stale attempts retried")


@pytest.mark.skipif(not PG_URL, reason="NOTIFY is PostgreSQL's")
def test_a_change_reaches_the_other_instance_by_notify(
    migrated_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With polling set to once a minute, a change made through one instance is in the other's look-ups at once:
    the change's commit NOTIFYs, and the listening index refreshes."""
    with own_database(migrated_url, tmp_path_factory.mktemp("notify"), "registry_notify") as url:
        keys = make_keys(url, "catalog", "declaration")
        slow = {"REGISTRY_LOOKUP_STALENESS_MS": "120000"}
        with serving(url, **slow) as first, serving(url, **slow) as second:
            catalog = httpx.Client(base_url=first, headers={"Authorization": f"Bearer {keys['catalog']}"})
            declaration = httpx.Client(base_url=second, headers={"Authorization": f"Bearer {keys['declaration']}"})
            with catalog, declaration:
                delays = []
                for n in range(5):
                    sku = f"N-{n}"
                    assert catalog.post("/v1/products", json=sk2(sku=sku)).status_code == 201
                    changed = catalog.patch(
                        f"/v1/products/{sku}", json={"hs_code": "3304991000"}, headers={"If-Match": '"1"'}
                    )
                    assert changed.status_code == 200, changed.text
                    start = time.monotonic()
                    while declaration.get(f"/v1/lookup/{sku}").json().get("hs_code") != "3304991000":
                        assert time.monotonic() - start < 5, "the change did not reach the other instance"
                        time.sleep(0.005)
                    delays.append(time.monotonic() - start)
    print(f"\nchange visible on the other instance after {', '.join(f'{d * 1000:.0f}' for d in delays)} ms")


def test_two_workers_each_keep_their_index_exact(database_url: str) -> None:
    """`registry serve --workers 2`: each worker loads its own index and follows the same change feed, so a
    change made through one is answered by both within the staleness."""
    keys = make_keys(database_url, "catalog", "reviewer", "declaration")
    with (
        serving_shipped(database_url, None, "--workers", "2", REGISTRY_LOOKUP_STALENESS_MS="200") as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):

        def as_(role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {keys[role]}"}

        assert client.post("/v1/products", json=sk2(), headers=as_("catalog")).status_code == 201
        assert client.post(f"/v1/products/{SKU}/filing/submit", headers=as_("catalog")).status_code == 200
        approve = {"filing_no": "2025110201", "valid_until": "2099-01-01"}
        assert client.post(f"/v1/products/{SKU}/filing/approve", json=approve, headers=as_("reviewer")).is_success
        time.sleep(1.0)  # 5 × the staleness: every worker has polled since
        # Each on a new connection, which the kernel hands to either worker.
        answers = [httpx.get(f"{url}/v1/lookup/{SKU}", headers=as_("declaration")) for _ in range(40)]
    assert {(a.status_code, a.json()["declarable"], a.json()["filing_no"]) for a in answers} == {
        (200, True, "2025110201")
    }
