"""The declaration path: look-ups by SKU and in batches, ETags, exact `declarable`, and the order check."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from registry.app import create_app
from registry.config import Settings
from tests.api.conftest import Auth, file_product, running, set_day
from tests.conftest import FakeClock
from tests.samples import TODAY, sk2

Client = httpx.AsyncClient
SKU = "SK2-FTE-230"
UNTIL = TODAY + dt.timedelta(days=100)


async def lookup(client: Client, auth: Auth, sku: str = SKU) -> Any:
    return await client.get(f"/v1/lookup/{sku}", headers=auth("declaration"))


async def test_a_filed_sku_is_declarable_in_a_small_body(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL, sku="SHAMPOO", hs_code="3305100000")  # 13 % VAT, no consumption tax
    response = await lookup(client, auth, "SHAMPOO")
    assert response.status_code == 200
    assert response.json() == {
        "sku": "SHAMPOO",
        "filing_no": "2025110201",
        "hs_code": "3305100000",
        "tax_rate": "0.091",
        "status": "filed",
        "declarable": True,
        "valid_until": UNTIL.isoformat(),
    }
    assert len(response.content) <= 200
    full = await client.get("/v1/products/SHAMPOO", headers=auth("auditor"))
    assert len(full.content) > 4 * len(response.content)
    assert (await lookup(client, auth, "NOPE")).status_code == 404


async def test_a_filing_under_a_price_threshold_carries_both_rates(client: Client, auth: Auth) -> None:
    """Skin care (3304): 15 % consumption tax from 10 CNY per ml, so the filing has a rate below and one above."""
    await file_product(client, auth, UNTIL)
    body = (await lookup(client, auth)).json()
    assert (body["tax_rate"], body["tax_rate_above"], body["threshold"]) == (
        "0.091",
        "0.2306",
        {"per": "ml", "price": "10"},
    )
    batch = await client.post("/v1/lookup", json={"skus": [SKU]}, headers=auth("declaration"))
    assert batch.json()["items"] == [body]
    by_number = await client.get("/v1/filings/2025110201", headers=auth("declaration"))
    assert (by_number.json()["tax_rate_above"], by_number.json()["threshold"]) == ("0.2306", body["threshold"])


async def test_if_none_match_answers_304_until_the_record_changes(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL)
    first = await lookup(client, auth)
    tag = first.headers["etag"]
    again = await client.get(f"/v1/lookup/{SKU}", headers={**auth("declaration"), "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    await client.post(f"/v1/products/{SKU}/filing/amend", headers=auth("catalog"))
    changed = await client.get(f"/v1/lookup/{SKU}", headers={**auth("declaration"), "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag


async def test_declarable_turns_false_after_amend_expire_and_its_last_day(
    client: Client, auth: Auth, clock: FakeClock
) -> None:
    await file_product(client, auth, UNTIL)
    await client.post(f"/v1/products/{SKU}/filing/amend", headers=auth("catalog"))
    assert (await lookup(client, auth)).json()["declarable"] is False

    await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))
    body = {"filing_no": "2026010501", "valid_until": UNTIL.isoformat()}
    await client.post(f"/v1/products/{SKU}/filing/approve", json=body, headers=auth("reviewer"))
    assert (await lookup(client, auth)).json()["declarable"] is True
    await client.post(f"/v1/products/{SKU}/filing/expire", json={"reason": "召回"}, headers=auth("reviewer"))
    assert (await lookup(client, auth)).json()["declarable"] is False

    other = sk2(sku="SK2-FTE-75")
    await file_product(client, auth, UNTIL, "2026010502", sku=other["sku"])
    set_day(clock, UNTIL)
    assert (await lookup(client, auth, "SK2-FTE-75")).json()["declarable"] is True  # its last valid day
    set_day(clock, UNTIL + dt.timedelta(days=1))
    late = await lookup(client, auth, "SK2-FTE-75")
    assert (late.json()["status"], late.json()["declarable"]) == ("filed", False)  # before any expiry scan
    batch = await client.post("/v1/lookup", json={"skus": ["SK2-FTE-75"]}, headers=auth("declaration"))
    assert batch.json()["items"][0]["declarable"] is False
    set_day(clock, UNTIL)  # a clock set back is followed too
    batch = await client.post("/v1/lookup", json={"skus": ["SK2-FTE-75"]}, headers=auth("declaration"))
    assert batch.json()["items"][0]["declarable"] is True


async def test_a_batch_answers_in_request_order_with_duplicates_and_missing(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL)
    await client.post("/v1/products", json=sk2(sku="DRAFT-1"), headers=auth("catalog"))
    skus = ["DRAFT-1", "NOPE-2", SKU, "DRAFT-1", "NOPE-1", "NOPE-2"]
    response = await client.post("/v1/lookup", json={"skus": skus}, headers=auth("declaration"))
    assert response.status_code == 200
    body = response.json()
    assert [item["sku"] for item in body["items"]] == ["DRAFT-1", SKU, "DRAFT-1"]
    assert [item["declarable"] for item in body["items"]] == [False, True, False]
    assert body["missing"] == ["NOPE-2", "NOPE-1"]
    all_known = await client.post("/v1/lookup", json={"skus": [SKU, SKU]}, headers=auth("declaration"))
    assert all_known.json() == {"items": [all_known.json()["items"][0]] * 2, "missing": []}


async def test_a_batch_is_1_to_1000_skus(client: Client, auth: Auth) -> None:
    for skus in ([], [f"S{n}" for n in range(1001)]):
        response = await client.post("/v1/lookup", json={"skus": skus}, headers=auth("declaration"))
        assert response.status_code == 422
        assert response.json()["violations"][0]["field"] == "/skus"
    full = await client.post("/v1/lookup", json={"skus": [f"S{n}" for n in range(1000)]}, headers=auth("declaration"))
    assert full.status_code == 200
    assert len(full.json()["missing"]) == 1000


async def test_a_batch_body_is_read_whole_and_refused_clearly(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL)
    headers = {**auth("declaration"), "Content-Type": "application/json"}

    async def in_pieces() -> Any:  # chunked, no Content-Length: several ASGI messages
        for piece in (b'{"sku', b's": ["', SKU.encode(), b'", "NOPE"]}'):
            yield piece

    pieced = await client.post("/v1/lookup", content=in_pieces(), headers=headers)
    assert pieced.status_code == 200
    assert [item["sku"] for item in pieced.json()["items"]] == [SKU]
    assert pieced.json()["missing"] == ["NOPE"]
    refusals = {
        b'{"skus": [': (400, "malformed-json"),
        b'{"skus": ["A"], "more": 1}': (422, "validation"),
        b'{"skus": ["' + b"x" * 65 + b'"]}': (422, "validation"),
        b'{"skus": [1]}': (422, "validation"),
        b'{"skus": ["' + b"A" * 800_000 + b'"]}': (413, "too-large"),
    }
    for body, (status, slug) in refusals.items():
        response = await client.post("/v1/lookup", content=body, headers=headers)
        assert response.status_code == status, body[:40]
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith(slug)
    unknown = await client.post("/v1/lookup", content=b'{"skus": ["A"], "more": 1}', headers=headers)
    violation = unknown.json()["violations"][0]
    assert (violation["field"], violation["code"]) == ("/more", "unknown_field")


async def test_who_may_look_up(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL)
    for role in ("declaration", "reviewer", "auditor", "admin"):
        assert (await client.get(f"/v1/lookup/{SKU}", headers=auth(role))).status_code == 200, role
        response = await client.post("/v1/lookup", json={"skus": [SKU]}, headers=auth(role))
        assert response.status_code == 200, role
    assert (await client.get(f"/v1/lookup/{SKU}", headers=auth("catalog"))).status_code == 403
    assert (await client.post("/v1/lookup", json={"skus": [SKU]}, headers=auth("catalog"))).status_code == 403
    assert (await client.get(f"/v1/lookup/{SKU}")).status_code == 401
    assert (await client.get(f"/v1/products/{SKU}", headers=auth("declaration"))).status_code == 403
    order = {"items": [{"sku": SKU, "quantity": 1, "unit_price": "1.00"}]}
    assert (await client.post("/v1/declarations/check", json=order, headers=auth("reviewer"))).status_code == 403


async def check(client: Client, auth: Auth, order: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/declarations/check", json=order, headers=auth("declaration"))


async def test_the_declaration_check_prices_each_line_as_customs_does(client: Client, auth: Auth) -> None:
    declared = {"import_mode": "1210", "item_record_no": "SK2-FTE-230-A", "gtin": "4979006070354"}
    await file_product(client, auth, UNTIL, **declared, declared_unit="瓶")  # 230 ml
    await file_product(client, auth, UNTIL, "2025110202", sku="CREAM-60", spec="60ml", origin_country="FR")
    # A tax edition for a later day leaves today's orders priced with the rates in force today.
    rates = [{"prefix": "", "vat": "0.09"}]
    later = {"effective_from": (TODAY + dt.timedelta(days=30)).isoformat()}
    put = await client.put("/v1/reference/tax-rates", params=later, json=rates, headers=auth("admin"))
    assert put.status_code == 200

    response = await check(client, auth, {"items": [{"sku": SKU, "quantity": 1, "unit_price": "1540.00"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    line = body["lines"][0]
    # 6.70 CNY/ml, under the threshold: VAT alone, 1,540 × 0.13 × 0.7 = 140.14.
    taxes = (line["tax_rate"], line["consumption_tax"], line["vat"], line["tax"])
    assert taxes == ("0.091", "0.00", "140.14", "140.14")
    assert {name: line[name] for name in ("gcode", "gname", "item_record_no", "bar_code", "country", "unit")} == {
        "gcode": "3304990099",
        "gname": "SK-II 护肤精华露",
        "item_record_no": "SK2-FTE-230-A",
        "bar_code": "4979006070354",
        "country": "116",
        "unit": "142",
    }

    # A 60 ml cream at 2,800 CNY: 46.67 CNY/ml, consumption tax and VAT each to the fen.
    cream = (await check(client, auth, {"items": [{"sku": "CREAM-60", "quantity": 1, "unit_price": "2800.00"}]})).json()
    line = cream["lines"][0]
    assert (line["tax_rate"], line["consumption_tax"], line["vat"], line["tax"]) == (
        "0.2306",
        "345.88",
        "299.76",
        "645.64",
    )
    assert (line["country"], line["item_record_no"], line["bar_code"], line["unit"]) == ("305", None, "无", None)

    # Freight and insurance are part of the dutiable value, shared by value.
    order = {
        "items": [
            {"sku": SKU, "quantity": 1, "unit_price": "300.00"},
            {"sku": "CREAM-60", "quantity": 1, "unit_price": "100.00"},
        ],
        "freight": "20.00",
        "insurance": "1.00",
    }
    shared = (await check(client, auth, order)).json()
    assert [line["dutiable_value"] for line in shared["lines"]] == ["315.75", "105.25"]
    assert (shared["total_value"], shared["freight"], shared["insurance"], shared["dutiable_value"]) == (
        "400.00",
        "20.00",
        "1.00",
        "421.00",
    )
    assert shared["total_tax"] == "38.31"  # 315.75 and 105.25 at 9.1 %: 28.73 + 9.58


async def test_one_piece_above_the_order_limit_is_declared_at_full_rates(client: Client, auth: Auth) -> None:
    bag: dict[str, Any] = {
        "sku": "BAG-1",
        "category": "apparel",
        "hs_code": "4202220000",
        "spec": "1件",
        "ingredients": [],
    }
    await file_product(client, auth, UNTIL, **bag)
    duty = [{"prefix": "4202220000", "rate": "0.10", "source": "a test edition"}]
    assert (await client.put("/v1/reference/mfn-duty", json=duty, headers=auth("admin"))).status_code == 200
    one = (await check(client, auth, {"items": [{"sku": "BAG-1", "quantity": 1, "unit_price": "5600.00"}]})).json()
    assert (one["within_order_limit"], one["single_piece_exception"]) == (False, True)
    # No 30 % reduction, and the duty in the base: duty 560.00, VAT (5,600 + 560) × 0.13 = 800.80.
    line = one["lines"][0]
    assert (line["tax_rate"], line["duty"], line["vat"], line["tax"]) == ("0.13", "560.00", "800.80", "1360.80")
    two = (await check(client, auth, {"items": [{"sku": "BAG-1", "quantity": 2, "unit_price": "2800.00"}]})).json()
    assert (two["within_order_limit"], two["single_piece_exception"], two["channel"]) == (False, False, "general_trade")


async def test_a_bonded_record_without_its_item_number_cannot_be_declared(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL, import_mode="1210")
    response = await check(client, auth, {"items": [{"sku": SKU, "quantity": 1, "unit_price": "100.00"}]})
    assert response.status_code == 422
    assert [(v["field"], v["code"]) for v in response.json()["violations"]] == [
        ("/items/0/sku", "declaration.item_record_no")
    ]
    assert (await lookup(client, auth)).json()["declarable"] is True  # a look-up still finds the filing


async def test_the_5000_cny_order_limit(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL)

    async def check(price: str) -> dict[str, Any]:
        order = {"items": [{"sku": SKU, "quantity": 2, "unit_price": price}]}
        response = await client.post("/v1/declarations/check", json=order, headers=auth("declaration"))
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result

    assert (await check("2500.00"))["within_order_limit"] is True
    over = await check("2500.01")
    assert (over["total_value"], over["within_order_limit"]) == ("5000.02", False)


async def test_an_order_with_any_line_not_declarable_is_refused_whole(client: Client, auth: Auth) -> None:
    await file_product(client, auth, UNTIL)
    await client.post("/v1/products", json=sk2(sku="DRAFT-1"), headers=auth("catalog"))
    order = {
        "items": [
            {"sku": SKU, "quantity": 1, "unit_price": "100.00"},
            {"sku": "DRAFT-1", "quantity": 1, "unit_price": "100.00"},
            {"sku": "NOPE", "quantity": 1, "unit_price": "100.00"},
            {"sku": SKU, "quantity": 0, "unit_price": "1.001"},
        ]
    }
    response = await client.post("/v1/declarations/check", json=order, headers=auth("declaration"))
    assert response.status_code == 422
    found = {(v["field"], v["code"]) for v in response.json()["violations"]}
    assert found == {
        ("/items/1/sku", "declaration.not_declarable"),
        ("/items/2/sku", "declaration.unknown_sku"),
        ("/items/3/quantity", "format.positive"),
        ("/items/3/unit_price", "format.price"),
    }
    assert "lines" not in response.json()


async def test_another_instance_sees_a_change_within_its_staleness(
    client: Client, auth: Auth, database_url: str, clock: FakeClock
) -> None:
    await file_product(client, auth, UNTIL)
    other_app = create_app(Settings(database_url=database_url, scheduler=False, lookup_staleness_ms=100), clock=clock)
    async with running(other_app) as other:
        assert (await other.get(f"/v1/lookup/{SKU}", headers=auth("declaration"))).json()["declarable"] is True
        await client.post(f"/v1/products/{SKU}/filing/amend", headers=auth("catalog"))
        assert (await lookup(client, auth)).json()["declarable"] is False  # this instance: at once
        seen_after = None
        for step in range(40):
            if (await other.get(f"/v1/lookup/{SKU}", headers=auth("declaration"))).json()["declarable"] is False:
                seen_after = step * 0.025
                break
            await asyncio.sleep(0.025)
        assert seen_after is not None
        assert seen_after <= 0.5
        created = await client.post("/v1/products", json=sk2(sku="NEW-1"), headers=auth("catalog"))
        assert created.status_code == 201
        await asyncio.sleep(0.3)
        assert (await other.get("/v1/lookup/NEW-1", headers=auth("declaration"))).status_code == 200
