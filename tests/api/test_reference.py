"""Reference data: shipped defaults, replaced by an admin, versioned, recorded in history, used at once."""

from __future__ import annotations

import httpx
from litestar import Litestar
from sqlalchemy import select

from registry.domain.reference import SET_NAMES
from registry.models import HistoryEvent
from tests.api.conftest import Auth
from tests.samples import sk2

Client = httpx.AsyncClient


async def test_the_list_names_every_set_at_version_1(client: Client, auth: Auth) -> None:
    listed = (await client.get("/v1/reference", headers=auth("auditor"))).json()
    assert listed == [{"name": name, "version": 1, "effective_from": None} for name in SET_NAMES]


async def test_the_shipped_sets_are_readable(client: Client, auth: Auth) -> None:
    brands = (await client.get("/v1/reference/brands", headers=auth("catalog"))).json()
    assert brands["version"] == 1
    assert {"brand": "SK-II", "countries": ["JP"], "aliases": []} in brands["data"]
    unknown = await client.get("/v1/reference/planets", headers=auth("catalog"))
    assert unknown.status_code == 404


async def test_a_replacement_takes_effect_is_versioned_and_in_history(
    app: Litestar, client: Client, auth: Auth
) -> None:
    record = sk2(origin_country="KR")
    before = (await client.post("/v1/products:validate", json=record, headers=auth("catalog"))).json()
    assert {v["code"] for v in before["violations"]} == {"origin.brand_mismatch"}

    brands = [{"brand": "SK-II", "countries": ["JP", "KR"]}]
    put = await client.put("/v1/reference/brands", json=brands, headers=auth("admin"))
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 2

    after = (await client.post("/v1/products:validate", json=record, headers=auth("catalog"))).json()
    assert after == {"valid": True, "violations": []}
    read = (await client.get("/v1/reference/brands", headers=auth("catalog"))).json()
    assert read["version"] == 2
    assert read["data"] == brands

    async with app.state.ctx.db.reads() as tx:
        (event,) = (await tx.scalars(select(HistoryEvent).where(HistoryEvent.reference_name == "brands"))).all()
    assert event.action == "reference_update"
    assert event.actor.endswith("test admin")
    assert event.changes["version"] == {"old": 1, "new": 2}
    assert event.changes["brands"]["new"] == brands


async def test_a_bad_replacement_is_422_and_changes_nothing(client: Client, auth: Auth) -> None:
    bad = [{"prefix": "2x", "reason": ""}]
    response = await client.put("/v1/reference/prohibited", json=bad, headers=auth("admin"))
    assert response.status_code == 422
    assert {(v["field"], v["code"]) for v in response.json()["violations"]} == {
        ("/0/prefix", "format.hs_prefix"),
        ("/0/reason", "required"),
    }
    assert (await client.get("/v1/reference/prohibited", headers=auth("admin"))).json()["version"] == 1


async def test_tax_rates_replaced_as_decimal_strings(client: Client, auth: Auth) -> None:
    rates = [
        {"prefix": "", "vat": "0.13", "consumption_tax": "0"},
        {"prefix": "3303", "vat": "0.13", "consumption_tax": "0.15"},
    ]
    response = await client.put("/v1/reference/tax-rates", json=rates, headers=auth("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == rates
