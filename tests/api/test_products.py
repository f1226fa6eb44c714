"""Product records through the HTTP API."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx

from tests.api.conftest import Auth
from tests.samples import shiseido, sk2

Client = httpx.AsyncClient


async def test_create_answers_201_with_location_and_etag(client: Client, auth: Auth) -> None:
    response = await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/products/SK2-FTE-230"
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert body["version"] == 1
    assert body["filing"]["status"] == "unfiled"
    assert body["filing"]["filing_no"] is None
    assert body["documents"][0]["valid_until"] == sk2()["documents"][0]["valid_until"]

    read = await client.get("/v1/products/SK2-FTE-230", headers=auth("auditor"))
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body


async def test_text_is_normalised_before_it_is_stored(client: Client, auth: Auth) -> None:
    record = sk2(brand="  ＳＫ－ＩＩ ", name_cn=" SK-II   护肤精华露\t", spec="２３０ ｍｌ", origin_country="jp")
    body = (await client.post("/v1/products", json=record, headers=auth("catalog"))).json()
    assert (body["brand"], body["name_cn"], body["spec"], body["origin_country"]) == (
        "SK-II",
        "SK-II 护肤精华露",
        "230 ml",
        "JP",
    )
    listed = await client.get("/v1/products", params={"brand": "sk ii"}, headers=auth("catalog"))
    assert [item["sku"] for item in listed.json()["items"]] == ["SK2-FTE-230"]


async def test_a_sku_is_unique(client: Client, auth: Auth) -> None:
    assert (await client.post("/v1/products", json=sk2(), headers=auth("catalog"))).status_code == 201
    again = await client.post("/v1/products", json=sk2(brand="Kao"), headers=auth("catalog"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).json()["brand"] == "SK-II"


async def test_unknown_sku_is_404(client: Client, auth: Auth) -> None:
    response = await client.get("/v1/products/NOPE", headers=auth("catalog"))
    assert response.status_code == 404
    assert response.json()["status"] == 404


async def test_patch_needs_if_match_and_refuses_a_stale_one(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    url = "/v1/products/SK2-FTE-230"
    missing = await client.patch(url, json={"spec": "200 ml"}, headers=auth("catalog"))
    assert missing.status_code == 428
    changed = await client.patch(url, json={"spec": "200 ml"}, headers={**auth("catalog"), "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["spec"] == "200 ml"
    stale = await client.patch(url, json={"spec": "100 ml"}, headers={**auth("catalog"), "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    current = (await client.get(url, headers=auth("catalog"))).json()
    assert (current["spec"], current["version"]) == ("200 ml", 2)


async def test_patch_with_nothing_new_keeps_the_version(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    same = await client.patch(
        "/v1/products/SK2-FTE-230", json={"spec": " 230  ml "}, headers={**auth("catalog"), "If-Match": '"1"'}
    )
    assert same.status_code == 200
    assert same.json()["version"] == 1


async def test_patch_refuses_unknown_and_read_only_fields(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    headers = {**auth("catalog"), "If-Match": '"1"'}
    for body in ({"version": 7}, {"filing": {"status": "filed"}}, {"sku": "OTHER"}, {"colour": "red"}):
        response = await client.patch("/v1/products/SK2-FTE-230", json=body, headers=headers)
        assert response.status_code == 422, body
        (violation,) = response.json()["violations"]
        assert violation["code"] == "unknown_field"
        assert violation["field"] == "/" + next(iter(body))
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).json()["version"] == 1


async def test_patch_runs_field_validation_and_changes_nothing_when_it_fails(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    response = await client.patch(
        "/v1/products/SK2-FTE-230",
        json={"hs_code": "33049900", "spec": "big bottle", "brand": None},
        headers={**auth("catalog"), "If-Match": '"1"'},
    )
    assert response.status_code == 422
    found = {(v["field"], v["code"]) for v in response.json()["violations"]}
    assert found == {("/hs_code", "format.hs_code"), ("/spec", "format.spec_unit"), ("/brand", "required")}
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).json()["hs_code"] == "3304990099"


async def test_two_concurrent_patches_with_one_etag_one_wins(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    headers = {**auth("catalog"), "If-Match": '"1"'}
    first, second = await asyncio.gather(
        client.patch("/v1/products/SK2-FTE-230", json={"spec": "100 ml"}, headers=headers),
        client.patch("/v1/products/SK2-FTE-230", json={"spec": "200 ml"}, headers=headers),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner = first if first.status_code == 200 else second
    current = (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).json()
    assert current["version"] == 2
    assert current["spec"] == winner.json()["spec"]


async def test_pagination_over_1000_products_has_no_duplicates_or_gaps(client: Client, auth: Auth) -> None:
    skus = [f"P{n:04d}" for n in range(1000)]
    for sku in skus:
        response = await client.post("/v1/products", json=shiseido(sku=sku), headers=auth("catalog"))
        assert response.status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 137}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/products", params=params, headers=auth("reviewer"))).json()
        seen += [item["sku"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(skus)
    assert pages == 8


async def test_list_filters(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await client.post("/v1/products", json=shiseido(), headers=auth("catalog"))
    await client.post(
        "/v1/products",
        json=shiseido(
            sku="KAO-1",
            brand="Kao",
            name_cn="花王洗衣液",
            name_foreign="Attack",
            category="household",
            hs_code="3402209000",
        ),
        headers=auth("catalog"),
    )

    async def skus(**params: str) -> list[str]:
        response = await client.get("/v1/products", params=params, headers=auth("catalog"))
        assert response.status_code == 200, response.text
        return [item["sku"] for item in response.json()["items"]]

    assert await skus(category="cosmetics") == ["SHISEIDO-FW-120", "SK2-FTE-230"]
    assert await skus(brand="SHISEIDO") == ["SHISEIDO-FW-120"]
    assert await skus(q="精华") == ["SK2-FTE-230"]
    assert await skus(q="perfect WHIP") == ["SHISEIDO-FW-120"]
    assert await skus(q="%") == []
    assert await skus(status="unfiled") == ["KAO-1", "SHISEIDO-FW-120", "SK2-FTE-230"]
    assert await skus(status="filed") == []
    assert await skus(expiring_within_days="30") == []


async def test_list_parameters_are_bounded(client: Client, auth: Auth) -> None:
    for params in ({"limit": "501"}, {"limit": "0"}, {"limit": "-5"}, {"limit": "abc"}, {"status": "lost"}):
        response = await client.get("/v1/products", params=params, headers=auth("catalog"))
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
    forged = await client.get("/v1/products", params={"cursor": "not-a-cursor!"}, headers=auth("catalog"))
    assert forged.status_code == 400


async def test_monthly_units_are_created_changed_exported_and_bounded(client: Client, auth: Auth) -> None:
    created = await client.post("/v1/products", json=sk2(monthly_units=1200), headers=auth("catalog"))
    assert created.json()["monthly_units"] == 1200
    changed = await client.patch(
        "/v1/products/SK2-FTE-230", json={"monthly_units": 3000}, headers={**auth("catalog"), "If-Match": '"1"'}
    )
    assert changed.json()["monthly_units"] == 3000
    cleared = await client.patch(
        "/v1/products/SK2-FTE-230", json={"monthly_units": None}, headers={**auth("catalog"), "If-Match": '"2"'}
    )
    assert cleared.json()["monthly_units"] is None
    for wrong in (-1, 1_000_000_001):
        refused = await client.post("/v1/products", json=shiseido(monthly_units=wrong), headers=auth("catalog"))
        assert refused.status_code == 422
        assert [(v["field"], v["code"]) for v in refused.json()["violations"]] == [("/monthly_units", "format.range")]
    await client.post("/v1/products", json=shiseido(monthly_units=0), headers=auth("catalog"))
    exported = await client.get("/v1/products", params={"format": "csv"}, headers=auth("catalog"))
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(row["sku"], row["monthly_units"]) for row in rows] == [("SHISEIDO-FW-120", "0"), ("SK2-FTE-230", "")]
