"""Hostile input: every case answers a clear 4xx problem and changes nothing."""

from __future__ import annotations

import base64

import httpx
import pytest
from litestar import Litestar

from tests.api.conftest import Auth
from tests.samples import sk2

Client = httpx.AsyncClient
JSON = {"Content-Type": "application/json"}


async def nothing_written(client: Client, auth: Auth) -> None:
    assert (await client.get("/v1/products", headers=auth("catalog"))).json()["items"] == []


def assert_4xx(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "value",
    [
        "'; DROP TABLE product; --",
        "SK2\x00FTE",
        "a\x07bell",
        "x" * 100_000,
    ],
)
async def test_hostile_text_in_every_field(client: Client, auth: Auth, value: str) -> None:
    for field in ("brand", "name_cn", "name_foreign", "spec", "usage", "ciq_code", "hs_code", "origin_country"):
        sku = f"H-{field}"
        response = await client.post("/v1/products", json={**sk2(sku=sku), field: value}, headers=auth("catalog"))
        if value.startswith("'") and field in ("brand", "name_cn", "name_foreign", "usage"):
            assert response.status_code == 201, (field, response.text[:200])  # stored as text, nothing more
            assert (await client.get(f"/v1/products/{sku}", headers=auth("catalog"))).json()[field] == value
            continue
        assert_4xx(response)
        assert (await client.get(f"/v1/products/{sku}", headers=auth("catalog"))).status_code == 404
    listing = await client.get("/v1/products", params={"q": "'; DROP TABLE product; --"}, headers=auth("catalog"))
    assert listing.status_code == 200


async def test_malformed_bodies(client: Client, auth: Auth) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in (deep, b"\xff\xfe\xfd", b'{"sku": "\xff"}', b"null", b"[]", b'"just a string"'):
        response = await client.post("/v1/products", content=body, headers={**auth("catalog"), **JSON})
        assert_4xx(response)
        if body != b"[]":  # an empty brand registry is a replacement an admin may make
            response = await client.put("/v1/reference/brands", content=body, headers={**auth("admin"), **JSON})
            assert_4xx(response)
    await nothing_written(client, auth)


PAGING = [
    {"limit": "-1"},
    {"limit": "99999999999999999999"},
    {"limit": "1e3"},
    {"cursor": base64.urlsafe_b64encode(b"not json").decode()},
    {"cursor": "%%%"},
    {"cursor": "x" * 5000},
]


@pytest.mark.parametrize(
    "params",
    [
        *PAGING,
        {"cursor": base64.urlsafe_b64encode(b'{"after": 5}').decode()},
        {"expiring_within_days": "-3"},
        {"status": "filed' OR 1=1 --"},
        {"category": "cosmetics\x00"},
        {"cursor": "\x95", "format": "csv"},  # refused before the export begins, not in the middle of it
        {"cursor": "", "format": "csv"},
        {"stauts": "filed"},  # a misspelt filter is refused rather than ignored
    ],
)
async def test_hostile_list_parameters(client: Client, auth: Auth, params: dict[str, str]) -> None:
    assert_4xx(await client.get("/v1/products", params=params, headers=auth("catalog")))


async def test_an_unknown_query_parameter_is_named(client: Client, auth: Auth) -> None:
    response = await client.get("/v1/alerts", params={"limit": "5", "sattus": "open"}, headers=auth("reviewer"))
    assert response.status_code == 400
    assert response.json()["invalid_params"] == [{"name": "sattus", "reason": "not a parameter of this route"}]


@pytest.mark.parametrize("params", [*PAGING, {"status": "closed"}, {"kind": "' OR 1=1"}])
async def test_hostile_alert_parameters(client: Client, auth: Auth, params: dict[str, str]) -> None:
    assert_4xx(await client.get("/v1/alerts", params=params, headers=auth("reviewer")))


async def test_hostile_paths_and_keys(client: Client, auth: Auth) -> None:
    for path in ("/v1/products/" + "A" * 5000, "/v1/products/..%2F..%2Fetc%2Fpasswd", "/v1/lookup/%00"):
        response = await client.get(path, headers=auth("admin"))
        assert_4xx(response)
    for header in ("Bearer " + "A" * 100_000, "Bearer rk_\x00", "Bearer rk_' OR '1'='1"):
        response = await client.get("/v1/products", headers={"Authorization": header})
        assert response.status_code == 401


async def test_a_huge_batch_look_up_is_refused(client: Client, auth: Auth, app: Litestar) -> None:
    body = {"skus": ["X" * 65]}
    assert_4xx(await client.post("/v1/lookup", json=body, headers=auth("declaration")))
    big = b'{"skus": ["' + b"A" * (2 * 1024 * 1024) + b'"]}'
    assert_4xx(await client.post("/v1/lookup", content=big, headers={**auth("declaration"), **JSON}))
