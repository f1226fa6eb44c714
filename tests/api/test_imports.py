"""Bulk import and export through the API: modes, line numbers, malformed input, limits, history."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from sqlalchemy import func, select

from registry.cli import main as cli
from registry.models import HistoryEvent, Product
from tests.api.conftest import Auth
from tests.samples import shiseido, sk2

Client = httpx.AsyncClient
NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*records: dict[str, Any]) -> bytes:
    return b"".join(msgspec.json.encode(record) + b"\n" for record in records)


async def post(client: Client, auth: Auth, body: bytes, kind: str = "application/x-ndjson", **params: str) -> Any:
    return await client.post(
        "/v1/imports", content=body, params=params, headers={**auth("catalog"), "Content-Type": kind}
    )


async def count(app: Litestar, model: Any) -> int:
    """Rows of a table; of the history, the records' events (the fixture's keys have events of their own)."""
    stmt = select(func.count()).select_from(model)
    if model is HistoryEvent:
        stmt = stmt.where(HistoryEvent.sku.is_not(None))
    async with app.state.ctx.db.reads() as tx:
        return int(await tx.scalar(stmt) or 0)


def many(n: int) -> list[dict[str, Any]]:
    return [shiseido(sku=f"IMP-{i:05d}") for i in range(n)]


async def test_an_import_creates_updates_and_leaves_unchanged(app: Litestar, client: Client, auth: Auth) -> None:
    first = await post(client, auth, ndjson(*many(3)))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "written": True,
        "total": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
        "truncated": False,
    }
    changed = many(3)
    changed[1]["spec"] = "150g"
    second = (await post(client, auth, ndjson(*changed))).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 2)
    record = (await client.get("/v1/products/IMP-00001", headers=auth("catalog"))).json()
    assert (record["spec"], record["version"]) == ("150g", 2)
    events = (await client.get("/v1/products/IMP-00001/history", headers=auth("auditor"))).json()["items"]
    assert [(e["action"], e["version"]) for e in events] == [("import", 1), ("import", 2)]
    assert events[1]["changes"] == {"spec": {"old": "120g", "new": "150g"}}
    assert events[0]["actor"].endswith("test catalog")
    assert await count(app, HistoryEvent) == 4
    assert (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()["ok"] is True
    assert (await client.get("/v1/lookup/IMP-00002", headers=auth("declaration"))).status_code == 200


async def test_atomic_partial_and_dry_run(app: Litestar, client: Client, auth: Auth) -> None:
    rows = many(4)
    rows[2]["hs_code"] = "33049900"
    body = ndjson(*rows)

    dry = await post(client, auth, body, dry_run="true", mode="partial")
    assert dry.status_code == 200
    assert (dry.json()["written"], dry.json()["created"], dry.json()["rejected"]) == (False, 3, 1)
    assert await count(app, Product) == 0

    atomic = await post(client, auth, body)
    assert atomic.status_code == 422
    assert atomic.headers["content-type"] == "application/problem+json"
    report = atomic.json()["report"]
    assert (report["written"], report["rejected"]) == (False, 1)
    assert report["errors"] == [
        {
            "line": 3,
            "sku": "IMP-00002",
            "violations": [
                {
                    "field": "/hs_code",
                    "code": "format.hs_code",
                    "message": "the HS code is exactly 10 ASCII digits 0-9",
                    "severity": "error",
                }
            ],
        }
    ]
    assert await count(app, Product) == 0
    assert await count(app, HistoryEvent) == 0

    partial = await post(client, auth, body, mode="partial")
    assert partial.status_code == 200
    assert (partial.json()["created"], partial.json()["rejected"]) == (3, 1)
    assert await count(app, Product) == 3
    assert await count(app, HistoryEvent) == 3


async def test_every_error_row_carries_its_line_and_malformed_lines_are_reported(client: Client, auth: Auth) -> None:
    body = b"\n".join(
        [
            msgspec.json.encode(sk2(sku="OK-1")),
            b"{not json",
            b"",
            msgspec.json.encode({**sk2(sku="BAD-2"), "colour": "red"}),
            b"[1, 2]",
            msgspec.json.encode(sk2(sku="OK-1")),
            b"\xff\xfe",
            msgspec.json.encode(sk2(sku="BAD-3", spec="big bottle", origin_country="Japan")),
        ]
    )
    response = await post(client, auth, body, mode="partial")
    assert response.status_code == 200
    errors = {e["line"]: (e["sku"], [v["code"] for v in e["violations"]]) for e in response.json()["errors"]}
    assert errors == {
        2: (None, ["format.json"]),
        4: ("BAD-2", ["unknown_field"]),
        5: (None, ["format.json"]),  # not an object: not a record at all
        6: ("OK-1", ["import.duplicate_sku"]),
        7: (None, ["format.utf8"]),
        8: ("BAD-3", ["format.spec_unit", "format.country"]),
    }
    assert response.json()["created"] == 1


async def test_csv_import_and_an_export_that_reimports_as_unchanged(client: Client, auth: Auth) -> None:
    assert (await post(client, auth, ndjson(sk2(), shiseido(ciq_code="116")))).status_code == 200
    exported = await client.get("/v1/products", params={"format": "csv"}, headers=auth("catalog"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["sku"] for row in rows] == ["SHISEIDO-FW-120", "SK2-FTE-230"]
    assert rows[1]["ingredients"] == "galactomyces ferment filtrate|butylene glycol|water|pentylene glycol"
    assert json.loads(rows[1]["documents"])[0]["kind"] == "brand_authorization"
    by_accept = await client.get("/v1/products", headers={**auth("catalog"), "Accept": "text/csv"})
    assert by_accept.text == exported.text

    again = await post(client, auth, exported.content, "text/csv")
    assert again.status_code == 200, again.text
    assert (again.json()["total"], again.json()["unchanged"]) == (2, 2)

    edited = exported.text.replace("120g", "150g")
    assert (await post(client, auth, edited.encode(), "text/csv")).json()["updated"] == 1


async def test_csv_cells_lines_and_header(client: Client, auth: Auth) -> None:
    header = "sku,brand,name_cn,spec,category,hs_code,origin_country,usage\n"
    body = (
        header
        + 'CSV-1,Kao,花王,1件,household,3402209000,JP,"two\nlines"\n'
        + "CSV-2,Kao,花王,big,household,3402209000,JP,\n"
        + "CSV-3,Kao,花王,1件,household\n"
    )
    response = await post(client, auth, body.encode(), "text/csv; charset=utf-8", mode="partial")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    errors = {e["line"]: (e["sku"], [v["code"] for v in e["violations"]]) for e in response.json()["errors"]}
    assert errors == {4: ("CSV-2", ["format.spec_unit"]), 5: ("CSV-3", ["format.csv"])}
    record = (await client.get("/v1/products/CSV-1", headers=auth("catalog"))).json()
    assert record["usage"] == "two lines"
    bad_header = await post(client, auth, b"sku,colour\nA,red\n", "text/csv")
    assert bad_header.status_code == 422
    assert bad_header.json()["violations"][0]["code"] == "unknown_field"


async def test_a_row_for_a_record_that_is_not_unfiled_is_locked(client: Client, auth: Auth) -> None:
    await post(client, auth, ndjson(sk2()))
    await client.post("/v1/products/SK2-FTE-230/filing/submit", headers=auth("catalog"))
    same = await post(client, auth, ndjson(sk2()))
    assert same.json()["unchanged"] == 1
    locked = await post(client, auth, ndjson(sk2(spec="250 ml")), mode="partial")
    (error,) = locked.json()["errors"]
    assert error["violations"][0]["code"] == "lifecycle.locked"
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).json()["spec"] == "230 ml"


async def test_limits_answer_413_and_write_nothing(app: Litestar, client: Client, auth: Auth) -> None:
    settings = app.state.settings
    app.state.settings = msgspec.structs.replace(settings, max_import_rows=5, max_body_bytes=20_000)
    too_many = await post(client, auth, ndjson(*many(6)), mode="partial")
    assert too_many.status_code == 413
    too_big = await post(client, auth, ndjson(*many(30)), mode="partial")
    assert too_big.status_code == 413

    async def trickle() -> Any:  # a body without Content-Length: the limit is found while it streams
        for record in many(30):
            yield msgspec.json.encode(record) + b"\n"

    streamed = await client.post("/v1/imports", content=trickle(), headers={**auth("catalog"), **NDJSON})
    assert streamed.status_code == 413
    assert await count(app, Product) == 0
    assert await count(app, HistoryEvent) == 0


async def test_import_needs_a_catalog_key_and_a_known_media_type(client: Client, auth: Auth) -> None:
    body = ndjson(sk2())
    assert (await client.post("/v1/imports", content=body, headers={**auth("reviewer"), **NDJSON})).status_code == 403
    wrong = await client.post("/v1/imports", content=body, headers={**auth("catalog"), "Content-Type": "text/plain"})
    assert wrong.status_code == 415


async def test_the_cli_imports_a_file(app: Litestar, database_url: str, tmp_path: Path, monkeypatch: Any) -> None:
    good = tmp_path / "products.ndjson"
    good.write_bytes(ndjson(*many(20)))
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    assert await asyncio.to_thread(cli, ["import", str(good), "--dry-run"]) == 0
    assert await count(app, Product) == 0
    assert await asyncio.to_thread(cli, ["import", str(good)]) == 0
    assert await count(app, Product) == 20
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,brand\nX-1,\n", encoding="utf-8")
    assert await asyncio.to_thread(cli, ["import", str(bad), "--mode", "partial"]) == 1


async def test_a_checker_that_died_while_idle_is_replaced(client: Client, auth: Auth) -> None:
    """A checker kept for the next import may be gone by then (killed, out of memory): the next import starts
    another, it does not fail."""
    from registry.services.imports import _Checker

    first = await post(client, auth, ndjson(sk2()), mode="partial")
    assert first.status_code == 200
    assert _Checker._idle, "the checker was not kept"
    for process in _Checker._idle:
        process.kill()
        process.wait()
    again = await post(client, auth, ndjson(sk2(sku="SK2-AGAIN")), mode="partial")
    assert (again.status_code, again.json()["created"]) == (200, 1)


async def test_a_form_with_the_file_imports_as_the_body_does(app: Litestar, client: Client, auth: Auth) -> None:
    """`curl -F file=@catalog.csv`: the part's media type, else its name, says the format; the limits hold."""
    form = {"file": ("rows.ndjson", ndjson(*many(2)), "application/x-ndjson")}
    by_type = await client.post("/v1/imports", files=form, headers=auth("catalog"))
    assert by_type.status_code == 200, by_type.text
    assert by_type.json()["created"] == 2
    exported = await client.get("/v1/products.csv", headers=auth("catalog"))
    assert exported.headers["content-type"].startswith("text/csv")
    by_name = {"file": ("catalog.csv", exported.content, "application/octet-stream")}
    again = await client.post("/v1/imports", files=by_name, headers=auth("catalog"))
    assert (again.status_code, again.json()["unchanged"]) == (200, 2)
    jsonl = {"file": ("more.jsonl", ndjson(shiseido(sku="IMP-JL")), "application/octet-stream")}
    assert (await client.post("/v1/imports", files=jsonl, headers=auth("catalog"))).json()["created"] == 1

    unnamed = {"file": ("rows.txt", ndjson(sk2()), "text/plain")}
    assert (await client.post("/v1/imports", files=unnamed, headers=auth("catalog"))).status_code == 415
    other = {"rows": ("rows.ndjson", ndjson(sk2()), "application/x-ndjson")}
    refused = await client.post("/v1/imports", files=other, headers=auth("catalog"))
    assert refused.status_code == 400
    assert "file" in refused.json()["detail"]
    two = [("file", ("a.ndjson", ndjson(sk2()), NDJSON["Content-Type"])), ("file", ("b.ndjson", b"", "text/csv"))]
    assert (await client.post("/v1/imports", files=two, headers=auth("catalog"))).status_code == 400
    broken = await client.post(
        "/v1/imports",
        content=b"--xyz\r\nContent-Disposition: form-data; name=file; filename=a.ndjson\r\n\r\n{}",
        headers={**auth("catalog"), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status_code == 400  # the form never ends
    settings = app.state.settings
    app.state.settings = msgspec.structs.replace(settings, max_body_bytes=20_000)
    big = {"file": ("big.ndjson", ndjson(*many(30)), NDJSON["Content-Type"])}
    assert (await client.post("/v1/imports", files=big, headers=auth("catalog"))).status_code == 413
    assert await count(app, Product) == 3
