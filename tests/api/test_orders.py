"""The order check through the HTTP interface: the channel, the duty of a single piece, the buyer's year, the
inventory line's fields, the tax of the declaration day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.api.conftest import Auth, file_product
from tests.samples import TODAY

Client = httpx.AsyncClient
UNTIL = TODAY + dt.timedelta(days=300)
PERFUME: dict[str, Any] = {
    "sku": "PERFUME-100",
    "hs_code": "3303000010",
    "spec": "100ml",
    "gtin": None,
    "brand": "Chanel",
}


async def check(client: Client, auth: Auth, **body: Any) -> httpx.Response:
    return await client.post("/v1/declarations/check", json=body, headers=auth("declaration"))


async def test_a_single_perfume_above_5000_pays_its_duty_in_the_base_and_two_are_general_trade(
    client: Client, auth: Auth
) -> None:
    await file_product(client, auth, UNTIL, **PERFUME)
    # W12: duty 3 % = 180.00; CT = (6000 + 180)/0.85 × 0.15 = 1,090.59; VAT = 7,270.59 × 0.13 = 945.18.
    one = await check(client, auth, items=[{"sku": "PERFUME-100", "quantity": 1, "unit_price": "6000.00"}])
    assert one.status_code == 200, one.text
    body = one.json()
    (line,) = body["lines"]
    assert (body["channel"], body["reason"], body["single_piece_exception"]) == ("retail", None, True)
    assert (line["duty"], line["consumption_tax"], line["vat"], line["tax"]) == (
        "180.00",
        "1090.59",
        "945.18",
        "2215.77",
    )
    assert (line["gmodel"], line["bar_code"], line["currency"]) == ("Chanel|100ml", "无", "142")
    assert (line["unit1"], line["qty1"]) == ("035", None)  # kilograms of a content stated in ml: the order service's

    two = await check(client, auth, items=[{"sku": "PERFUME-100", "quantity": 2, "unit_price": "3000.00"}])
    assert two.status_code == 200
    assert (two.json()["channel"], two.json()["total_tax"]) == ("general_trade", None)
    assert "5,000" in two.json()["reason"]
    assert two.json()["lines"][0]["tax"] is None

    # The buyer's year: 500 more with 25,600 used is past 26,000.
    year = await check(
        client, auth, items=[{"sku": "PERFUME-100", "quantity": 1, "unit_price": "500.00"}], annual_used="25600.00"
    )
    assert (year.json()["channel"], year.json()["total_tax"]) == ("general_trade", None)
    bad = await check(
        client, auth, items=[{"sku": "PERFUME-100", "quantity": 1, "unit_price": "500.00"}], annual_used="-1"
    )
    assert bad.status_code == 422
    assert [(v["field"], v["code"]) for v in bad.json()["violations"]] == [("/annual_used", "format.price")]


async def test_a_single_piece_whose_code_has_no_duty_row_is_refused_never_priced_without_duty(
    client: Client, auth: Auth
) -> None:
    await file_product(client, auth, UNTIL, sku="CREAM-50", hs_code="3304990091", spec="50ml")  # no mfn-duty row
    within = await check(client, auth, items=[{"sku": "CREAM-50", "quantity": 1, "unit_price": "400.00"}])
    assert within.status_code == 200  # within the limits no duty is owed: priced
    refused = await check(client, auth, items=[{"sku": "CREAM-50", "quantity": 1, "unit_price": "5200.00"}])
    assert refused.status_code == 422
    assert [(v["field"], v["code"]) for v in refused.json()["violations"]] == [
        ("/items/0/sku", "declaration.no_duty_rate")
    ]
