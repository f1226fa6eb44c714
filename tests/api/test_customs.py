"""The customs side of a record through the API: declaration fields, net content, positive-list remarks, banned
ingredients as whole terms, and official editions loaded from a file."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import select

from registry.cli import main as cli
from registry.models import HistoryEvent
from tests.api.conftest import Auth
from tests.conftest import FakeClock
from tests.samples import TODAY, sk2

Client = httpx.AsyncClient
SKU = "SK2-FTE-230"
DECLARED: dict[str, Any] = {
    "import_mode": "1210",
    "item_record_no": "SK2-FTE-230-A",
    "gtin": "4979006070354",
    "declared_unit": "瓶",
}


async def violations(client: Client, auth: Auth, record: dict[str, Any]) -> list[tuple[str, str, str]]:
    report = (await client.post("/v1/products:validate", json=record, headers=auth("catalog"))).json()
    return [(v["field"], v["code"], v["severity"]) for v in report["violations"]]


async def test_declaration_fields_are_kept_patched_exported_and_net_content_is_read_from_the_spec(
    client: Client, auth: Auth, clock: FakeClock
) -> None:
    created = await client.post("/v1/products", json=sk2(spec="2×115ml", **DECLARED), headers=auth("catalog"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert {name: body[name] for name in DECLARED} == DECLARED
    assert body["net_content"] == {"amount": "230", "unit": "ml"}
    clock.advance(minutes=1)

    patched = await client.patch(
        f"/v1/products/{SKU}",
        json={"spec": "30粒", "gtin": None, "import_mode": "9610"},
        headers={**auth("catalog"), "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    changed = patched.json()
    assert (changed["net_content"], changed["gtin"], changed["import_mode"]) == (None, None, "9610")
    as_of = await client.get(f"/v1/products/{SKU}", params={"as_of": body["created_at"]}, headers=auth("auditor"))
    assert as_of.json()["net_content"] == {"amount": "230", "unit": "ml"}

    exported = await client.get("/v1/products", params={"format": "csv"}, headers=auth("catalog"))
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert (row["import_mode"], row["item_record_no"], row["declared_unit"], row["gtin"]) == (
        "9610",
        "SK2-FTE-230-A",
        "瓶",
        "",
    )
    assert "net_content" not in row  # read-only: derived, never imported
    reimported = await client.post(
        "/v1/imports", content=exported.content, headers={**auth("catalog"), "Content-Type": "text/csv"}
    )
    assert reimported.json()["unchanged"] == 1, reimported.text


async def test_declaration_fields_are_checked_on_every_write(client: Client, auth: Auth) -> None:
    bad = sk2(import_mode="1239", item_record_no="A B", gtin="4979006070355", declared_unit="bottle")
    response = await client.post("/v1/products", json=bad, headers=auth("catalog"))
    assert response.status_code == 422
    assert {(v["field"], v["code"]) for v in response.json()["violations"]} == {
        ("/import_mode", "format.import_mode"),
        ("/item_record_no", "format.item_record_no"),
        ("/gtin", "format.gtin"),
        ("/declared_unit", "format.declared_unit"),
    }
    # Full-width digits are read as ASCII, as for every code.
    wide = await client.post("/v1/products", json=sk2(gtin="４９７９００６０７０３５４"), headers=auth("catalog"))
    assert (wide.status_code, wide.json()["gtin"]) == (201, "4979006070354")
    # An empty optional code is none, as null is (an empty CSV cell reads the same); the schema says so.
    empty: dict[str, Any] = {"ciq_code": "", "import_mode": "", "item_record_no": "", "gtin": ""}
    blank = await client.post("/v1/products", json=sk2(sku="SK2-BLANK", **empty), headers=auth("catalog"))
    assert blank.status_code == 201, blank.text
    assert {name: blank.json()[name] for name in empty} == dict.fromkeys(empty)


async def test_a_threshold_rate_needs_a_net_content_in_its_unit(client: Client, auth: Auth) -> None:
    assert await violations(client, auth, sk2(spec="30粒")) == [("/spec", "tax.net_content", "error")]
    assert await violations(client, auth, sk2(spec="5片")) == []  # masks: 15 CNY a piece


async def test_banned_ingredients_match_whole_terms(client: Client, auth: Auth) -> None:
    assert await violations(client, auth, sk2(ingredients=["lead-free pigment", "硫柳汞"])) == []
    assert await violations(client, auth, sk2(ingredients=["water", "甲醛"])) == [
        ("/ingredients/1", "ingredients.banned", "error")
    ]
    assert await violations(client, auth, sk2(ingredients=["醋酸铅"])) == [
        ("/ingredients/0", "ingredients.banned_class", "warning")
    ]


async def test_a_bonded_only_line_refuses_direct_mail_and_its_remark_is_kept(client: Client, auth: Auth) -> None:
    current = (await client.get("/v1/reference/positive-list", headers=auth("admin"))).json()["data"]
    lines = [
        {**line, "mode": "bonded_only", "remark": "仅限网购保税商品"} if line["tariff_line"] == "33049900" else line
        for line in current
    ]
    put = await client.put("/v1/reference/positive-list", json=lines, headers=auth("admin"))
    assert put.status_code == 200, put.text
    refused = await violations(client, auth, sk2(import_mode="9610"))
    assert [(field, code, severity) for field, code, severity in refused] == [
        ("/import_mode", "positive_list.mode", "error")
    ]
    assert await violations(client, auth, sk2(**DECLARED)) == []
    assert await violations(client, auth, sk2()) == [("/import_mode", "positive_list.mode", "warning")]
    await client.post("/v1/products", json=sk2(import_mode="9610"), headers=auth("catalog"))
    submit = await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))
    assert submit.status_code == 422


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


async def test_an_official_edition_is_loaded_from_a_file_with_its_source_in_history(
    app: Litestar, client: Client, auth: Auth, database_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    edition = _csv(
        tmp_path / "positive-list-2022.csv",
        [
            {
                "tariff_line": "33049900",
                "description": "其他美容品或化妆品及护肤品",
                "remark": "",
                "mode": "any",
                "effective_from": "2022-03-01",
                "effective_to": "",
            },
            {
                "tariff_line": "03061100",
                "description": "冻岩礁虾和其他龙虾",
                "remark": "仅限网购保税商品",
                "mode": "bonded_only",
                "effective_from": "2022-03-01",
                "effective_to": "",
            },
        ],
    )
    source = "财政部等八部门公告2022年第7号"
    # In force from the server's day (the command's own clock is the real one).
    load = ["reference", "load", "positive-list", str(edition), "--source", source, "--effective-from", str(TODAY)]
    code = await asyncio.to_thread(cli, load)
    assert code == 0
    loaded = (await client.get("/v1/reference/positive-list", headers=auth("auditor"))).json()
    assert loaded["version"] == 2
    assert loaded["data"][1] == {
        "tariff_line": "03061100",
        "description": "冻岩礁虾和其他龙虾",
        "remark": "仅限网购保税商品",
        "mode": "bonded_only",
        "effective_from": "2022-03-01",
    }
    async with app.state.ctx.db.reads() as tx:
        event = await tx.scalar(select(HistoryEvent).where(HistoryEvent.reference_name == "positive-list"))
    assert event is not None
    digest = hashlib.sha256(edition.read_bytes()).hexdigest()
    assert event.reason == f"positive-list-2022.csv (SHA-256 {digest}): 财政部等八部门公告2022年第7号"
    assert await violations(client, auth, sk2()) == []  # 33049900 is on the loaded edition

    # JSON as PUT takes it; an edition with a bad line is refused whole, with its reasons, and changes nothing.
    rates = tmp_path / "tax-rates.json"
    rates.write_text(json.dumps([{"prefix": "", "vat": "0.13"}, {"prefix": "33", "vat": "2"}]))
    assert await asyncio.to_thread(cli, ["reference", "load", "tax-rates", str(rates)]) == 1
    assert (await client.get("/v1/reference/tax-rates", headers=auth("auditor"))).json()["version"] == 1
    banned = _csv(
        tmp_path / "banned.csv",
        [
            {"category": "cosmetics", "name": "氢醌", "inci": "Hydroquinone", "cas": "123-31-9", "kind": "substance"},
            {"category": "cosmetics", "name": "汞及其化合物", "inci": "", "cas": "", "kind": "class"},
        ],
    )
    load = ["reference", "load", "banned-ingredients", str(banned), "--effective-from", TODAY.isoformat()]
    assert await asyncio.to_thread(cli, load) == 0
    assert await violations(client, auth, sk2(ingredients=["Hydroquinone"])) == [
        ("/ingredients/0", "ingredients.banned", "error")
    ]
    assert await asyncio.to_thread(cli, ["reference", "load", "brands", str(tmp_path / "none.csv")]) == 1
