"""The review queue: the record list in each order, paged, and the rejected records a catalog team must fix."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import pytest

from tests.api.conftest import Auth
from tests.conftest import FakeClock
from tests.samples import sk2

Client = httpx.AsyncClient

# (SKU, monthly_units, submitted: the minutes after the first submission, or None for a record never submitted)
RECORDS = [
    ("Q-A", 500, 30),
    ("Q-B", None, 10),
    ("Q-C", 500, 5),
    ("Q-D", 9000, 40),
    ("Q-E", 0, 20),
    ("Q-F", None, None),
    ("Q-G", 500, 5),
    ("Q-H", 9000, None),
]


@pytest.fixture
async def queue(client: Client, auth: Auth, clock: FakeClock) -> None:
    for sku, units, _ in RECORDS:
        response = await client.post("/v1/products", json=sk2(sku=sku, monthly_units=units), headers=auth("catalog"))
        assert response.status_code == 201
    start = clock.now
    submitted = sorted((minutes, sku) for sku, _, minutes in RECORDS if minutes is not None)
    for minutes, sku in submitted:
        clock.now = start + dt.timedelta(minutes=minutes)
        assert (await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))).status_code == 200


async def listed(client: Client, auth: Auth, **params: Any) -> list[str]:
    """Every SKU the list gives, followed page by page (two to a page, so ties fall across pages)."""
    skus: list[str] = []
    params = {"limit": 2, **params}
    while True:
        response = await client.get("/v1/products", params=params, headers=auth("reviewer"))
        assert response.status_code == 200, response.text
        page = response.json()
        skus += [item["sku"] for item in page["items"]]
        if page["next_cursor"] is None:
            return skus
        params["cursor"] = page["next_cursor"]


@pytest.mark.usefixtures("queue")
async def test_each_order_pages_through_every_record_once(client: Client, auth: Auth) -> None:
    assert await listed(client, auth) == sorted(sku for sku, _, _ in RECORDS)
    # Oldest submission first; ties by SKU; never-submitted records last.
    assert await listed(client, auth, sort="submitted_at") == ["Q-C", "Q-G", "Q-B", "Q-E", "Q-A", "Q-D", "Q-F", "Q-H"]
    # Best sellers first, then the oldest submission, then SKU; records without monthly_units last.
    assert await listed(client, auth, sort="priority") == ["Q-D", "Q-H", "Q-C", "Q-G", "Q-A", "Q-E", "Q-B", "Q-F"]
    assert await listed(client, auth, sort="priority", status="under_review") == [
        "Q-D",
        "Q-C",
        "Q-G",
        "Q-A",
        "Q-E",
        "Q-B",
    ]
    # Each submission changed the record, so the last submitted is the last updated; the unsubmitted come first.
    assert await listed(client, auth, sort="updated_at") == ["Q-F", "Q-H", "Q-C", "Q-G", "Q-B", "Q-E", "Q-A", "Q-D"]


@pytest.mark.usefixtures("queue")
async def test_the_export_follows_the_order(client: Client, auth: Auth) -> None:
    response = await client.get("/v1/products", params={"sort": "priority", "format": "csv"}, headers=auth("reviewer"))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [row["sku"] for row in rows] == ["Q-D", "Q-H", "Q-C", "Q-G", "Q-A", "Q-E", "Q-B", "Q-F"]


@pytest.mark.usefixtures("queue")
async def test_a_cursor_reads_only_in_its_own_order(client: Client, auth: Auth) -> None:
    first = await client.get("/v1/products", params={"sort": "priority", "limit": 1}, headers=auth("reviewer"))
    cursor = first.json()["next_cursor"]
    for sort in ("sku", "submitted_at", "valid_until"):
        response = await client.get("/v1/products", params={"sort": sort, "cursor": cursor}, headers=auth("reviewer"))
        assert response.status_code == 400, sort
        assert response.headers["content-type"] == "application/problem+json"
    unknown = await client.get("/v1/products", params={"sort": "monthly_units"}, headers=auth("reviewer"))
    assert unknown.status_code == 400


async def test_rejected_lists_the_records_a_catalog_team_must_fix(client: Client, auth: Auth) -> None:
    for sku in ("R-1", "R-2", "R-3"):
        assert (await client.post("/v1/products", json=sk2(sku=sku), headers=auth("catalog"))).status_code == 201
        assert (await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))).status_code == 200
    for sku in ("R-1", "R-2"):
        reject = {"reasons": ["label lacks the importer's name"]}
        response = await client.post(f"/v1/products/{sku}/filing/reject", json=reject, headers=auth("reviewer"))
        assert response.status_code == 200, response.text

    assert await listed(client, auth, rejected="true") == ["R-1", "R-2"]
    assert await listed(client, auth, rejected="false") == ["R-3"]
    assert (await client.post("/v1/products/R-1/filing/submit", headers=auth("catalog"))).status_code == 200
    assert await listed(client, auth, rejected="true") == ["R-2"]
    assert await listed(client, auth, rejected="true", status="under_review") == []
