"""Arbitrary JSON values and arbitrary bytes against the write and check routes: never a 5xx, never an error that
is not a problem document, nothing written when a request is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from registry.app import create_app
from registry.config import Settings
from registry.db import Database
from registry.services import keys as key_service
from registry.services.context import Context
from tests.samples import sk2

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["NaN", "Infinity", "1e30", "２０２５", "3304990099\n", "\u202e", "\x00", "=1+1", "2026-02-30"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = [*sk2(), "unknown"]
# A product record with some fields replaced by arbitrary values: it gets past the decoder often enough to reach
# the rules and the database.
RECORDS = st.builds(lambda changes: {**sk2(), **changes}, st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES))
ORDERS = st.builds(
    lambda lines, extra: {"items": lines, **extra},
    st.lists(
        st.fixed_dictionaries(
            {"sku": st.sampled_from(["SK2-FTE-230", "NOPE"]) | JSON_VALUES, "quantity": JSON_VALUES},
            optional={"unit_price": JSON_VALUES},
        ),
        max_size=3,
    ),
    st.dictionaries(st.sampled_from(["freight", "insurance", "other"]), JSON_VALUES, max_size=2),
)
CSV_HEADER = b"sku,brand,name_cn,spec,category,hs_code,origin_country,shelf_life_months,documents\n"
CSV_BODIES = st.binary(max_size=400) | st.builds(lambda b: CSV_HEADER + b, st.binary(max_size=400))
NDJSON_BODIES = st.binary(max_size=400) | st.lists(RECORDS, max_size=3).map(
    lambda records: b"\n".join(msgspec.json.encode(r) for r in records)
)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)


async def _keys(url: str) -> dict[str, str]:
    db = Database(Settings(database_url=url))
    try:
        ctx = Context(db=db)
        return {role: await key_service.create(ctx, role, f"fuzz {role}") for role in ("catalog", "declaration")}
    finally:
        await db.dispose()


class Service:
    """One running service with a catalog and a declaration key, and a count of what it has written."""

    def __init__(self, client: TestClient[Any], keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def headers(self, role: str, media_type: str = "application/json") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", "Content-Type": media_type}

    def products(self) -> int:
        page = self.client.get("/v1/products", params={"limit": 500}, headers=self.headers("catalog")).json()
        return len(page["items"])

    def send(self, path: str, body: bytes, role: str = "catalog", media_type: str = "application/json") -> int:
        before = self.products()
        response = self.client.post(path, content=body, headers=self.headers(role, media_type))
        assert response.status_code < 500, (path, body[:200], response.text[:300])
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", response.text[:200]
            assert response.json()["status"] == response.status_code
            assert self.products() == before, "a refused request wrote something"
        return response.status_code


@pytest.fixture
def service(database_url: str) -> Any:
    keys = asyncio.run(_keys(database_url))
    app = create_app(Settings(database_url=database_url, scheduler=False))
    with TestClient(app) as client:
        yield Service(client, keys)


def test_arbitrary_records_to_create_and_validate(service: Service) -> None:
    @FUZZ
    @given(record=RECORDS | JSON_VALUES)
    def check(record: Any) -> None:
        body = msgspec.json.encode(record)
        service.send("/v1/products:validate", body)
        service.send("/v1/products", body)

    check()


def test_arbitrary_orders_to_the_declaration_check(service: Service) -> None:
    @FUZZ
    @given(order=ORDERS | JSON_VALUES)
    def check(order: Any) -> None:
        service.send("/v1/declarations/check", msgspec.json.encode(order), role="declaration")

    check()


def test_arbitrary_bytes_to_the_import(service: Service) -> None:
    @FUZZ
    @given(csv=CSV_BODIES, ndjson=NDJSON_BODIES, mode=st.sampled_from(["atomic", "partial"]))
    def check(csv: bytes, ndjson: bytes, mode: str) -> None:
        service.send(f"/v1/imports?mode={mode}", csv, media_type="text/csv")
        service.send(f"/v1/imports?mode={mode}", ndjson, media_type="application/x-ndjson")

    check()
