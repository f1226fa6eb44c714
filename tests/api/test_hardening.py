"""Hostile and real-world input, one test per way the service was found to break its promises: each answers a
clear 4xx (or does the right thing), writes nothing on refusal, and keeps every other request going."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import socket
import subprocess
import sys
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import select

from registry.app import create_app
from registry.cli import main as cli
from registry.config import Settings
from registry.models import Alert, HistoryEvent, Outbox, Product
from registry.services import alerts
from tests.api.conftest import Auth, file_product, running
from tests.api.servers import serving_shipped
from tests.api.test_imports import count, ndjson, post
from tests.conftest import FakeClock
from tests.samples import TODAY, shiseido, sk2

Client = httpx.AsyncClient
JSON = {"Content-Type": "application/json"}
NEXT_YEAR = (TODAY + dt.timedelta(days=365)).isoformat()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [v["code"] for v in body["violations"]]


# 1. One catalog upload froze the whole service: an unclosed quote was re-joined line by line (quadratic).


@pytest.mark.parametrize("lines", [50_000, 150_000])  # 100 KB, and 300 KB: past the longest cell csv reads
async def test_an_unclosed_quote_is_one_error_read_in_linear_time(client: Client, auth: Auth, lines: int) -> None:
    body = b'sku,usage\nQ1,"\n' + b"a\n" * lines
    response = await post(client, auth, body, "text/csv", dry_run="true", mode="partial")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["total"], report["rejected"]) == (1, 1)
    (error,) = report["errors"]
    assert error["line"] == 2
    assert error["violations"][0]["code"] == "format.csv"
    assert "never closed" in error["violations"][0]["message"] or "not read" in error["violations"][0]["message"]


async def test_a_stray_quote_inside_a_cell_is_text(client: Client, auth: Auth) -> None:
    header = "sku,brand,name_cn,spec,category,hs_code,origin_country,usage\n"
    rows = [f"TV-{i:04d},Sony,电视,1件,electronics,8528721100,JP,{i}\n" for i in range(6000)]
    rows[10] = 'TV-0010,Sony,电视,1件,electronics,8528721100,JP,5" display\n'
    response = await post(client, auth, (header + "".join(rows)).encode(), "text/csv", mode="partial")
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["rejected"]) == (6000, 0)
    record = (await client.get("/v1/products/TV-0010", headers=auth("catalog"))).json()
    assert record["usage"] == '5" display'


# 2. The same customs filing number could be issued to a second SKU.


async def test_a_filing_number_is_ascii_digits_and_never_reissued_in_disguise(client: Client, auth: Auth) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=365))
    other = sk2(sku="SK2-OTHER")
    assert (await client.post("/v1/products", json=other, headers=auth("catalog"))).status_code == 201
    assert (await client.post("/v1/products/SK2-OTHER/filing/submit", headers=auth("catalog"))).status_code == 200
    url = "/v1/products/SK2-OTHER/filing/approve"
    for number, status in (
        ("2025110201\n", 422),  # `$` matched before a final newline
        ("٢٠٢٥١١٠٢٠١", 422),  # Arabic-Indic digits
        ("२०२५११०२०१", 422),  # Devanagari digits
        ("２０２５１１０２０１", 409),  # full width reads as 2025110201, which SK2-FTE-230 holds
    ):
        response = await client.post(
            url, json={"filing_no": number, "valid_until": NEXT_YEAR}, headers=auth("reviewer")
        )
        assert_problem(response, status)
    record = (await client.get("/v1/products/SK2-OTHER", headers=auth("catalog"))).json()
    assert (record["filing"]["status"], record["filing"]["filing_no"]) == ("under_review", None)
    refused = await client.post(
        "/v1/declarations/check",
        json={"items": [{"sku": "SK2-OTHER", "quantity": 1, "unit_price": "10.00"}]},
        headers=auth("declaration"),
    )
    assert codes(assert_problem(refused, 422)) == ["declaration.not_declarable"]


async def test_hs_and_ciq_codes_and_reference_prefixes_are_ascii_digits(client: Client, auth: Auth) -> None:
    for field, value in (("hs_code", "٣٣٠٤٩٩٠٠٩٩"), ("hs_code", "3304990099\n"), ("ciq_code", "１２\u0663")):
        response = await client.post("/v1/products", json={**sk2(), field: value}, headers=auth("catalog"))
        assert f"format.{field}" in codes(assert_problem(response, 422))
    wide = await client.post("/v1/products", json=sk2(hs_code="３３０４９９００９９"), headers=auth("catalog"))
    assert wide.status_code == 201
    assert wide.json()["hs_code"] == "3304990099"
    prohibited = [{"prefix": "0201\n", "reason": "meat"}, {"prefix": "٠٢٠١", "reason": "meat"}]
    response = await client.put("/v1/reference/prohibited", json=prohibited, headers=auth("admin"))
    # "0201\n" is also a text with a control character (every text of an edition is checked as record texts are)
    assert codes(assert_problem(response, 422)) == ["format.control_character", "format.hs_prefix", "format.hs_prefix"]


# 3. A slow upload held the write lock while its body was still arriving.


async def test_a_stalled_upload_holds_no_lock(client: Client, auth: Auth, app: Litestar) -> None:
    resume = asyncio.Event()
    rows = [shiseido(sku=f"SLOW-{i:05d}") for i in range(2100)]

    async def stalling() -> Any:
        yield ndjson(*rows)
        await resume.wait()  # the client pauses after 2,100 rows
        yield ndjson(shiseido(sku="SLOW-LAST"))

    upload = asyncio.create_task(
        client.post(
            "/v1/imports", content=stalling(), headers={**auth("catalog"), "Content-Type": "application/x-ndjson"}
        )
    )
    await asyncio.sleep(0.2)
    assert not upload.done()
    # Other writes go on at once, not after the lock's 30 s busy timeout.
    created = await asyncio.wait_for(client.post("/v1/products", json=sk2(), headers=auth("catalog")), 10)
    assert created.status_code == 201
    resume.set()
    assert (await upload).json()["created"] == 2101
    assert await count(app, Product) == 2102


# 4. A small request earned a huge response.


async def test_violations_are_capped_per_record_and_rows_per_import(client: Client, auth: Auth) -> None:
    blank = sk2(ingredients=[""] * 20_000)
    response = await client.post("/v1/products:validate", json=blank, headers=auth("catalog"))
    assert response.status_code == 200
    report = response.json()
    assert (report["valid"], len(report["violations"]), report["truncated"]) == (False, 100, True)
    assert len(response.content) < 20_000

    refused = await client.post("/v1/products", json=blank, headers=auth("catalog"))
    body = assert_problem(refused, 422)
    assert (len(body["violations"]), body["truncated"]) == (100, True)

    bad_rows = ndjson(*(sk2(sku=f"BAD-{i}", ingredients=[""] * 150) for i in range(1200)))
    imported = await post(client, auth, bad_rows, dry_run="true", mode="partial")
    report = imported.json()
    assert (report["rejected"], len(report["errors"]), report["truncated"]) == (1200, 1000, True)
    assert all(len(e["violations"]) == 100 and e["truncated"] for e in report["errors"])
    assert len(imported.content) < 15_000_000

    header = ",".join(["sku"] + [f"colour{i}" for i in range(100_000)]) + "\n"
    wide = await post(client, auth, header.encode(), "text/csv")
    body = assert_problem(wide, 422)
    assert (len(body["violations"]), body["truncated"]) == (100, True)
    assert len(wide.content) < 20_000


# 5. On PostgreSQL one valid record stopped every expiry alert; a long key name stopped its writes.


async def test_a_200_character_document_number_raises_its_alert(
    client: Client, auth: Auth, app: Litestar, clock: FakeClock
) -> None:
    record = sk2()
    record["documents"][1]["number"] = "N" * 200
    record["documents"][1]["valid_until"] = (TODAY + dt.timedelta(days=5)).isoformat()
    await file_product(client, auth, TODAY + dt.timedelta(days=3), documents=record["documents"])
    assert (await alerts.scan(app.state.ctx, (30, 7, 1))).raised == 2
    async with app.state.ctx.db.reads() as tx:
        subjects = set((await tx.scalars(select(Alert.subject))).all())
    assert subjects == {"filing 2025110201", "hygiene_certificate " + "N" * 200}


async def test_a_key_with_the_longest_name_writes(client: Client, auth: Auth, app: Litestar) -> None:
    made = await client.post("/v1/keys", json={"role": "catalog", "name": "名" * 200}, headers=auth("admin"))
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    created = await client.post("/v1/products", json=sk2(), headers={"Authorization": f"Bearer {key}"})
    assert created.status_code == 201, created.text
    too_long = await client.post("/v1/keys", json={"role": "catalog", "name": "x" * 201}, headers=auth("admin"))
    assert_problem(too_long, 422)
    async with app.state.ctx.db.reads() as tx:
        actors = (await tx.scalars(select(HistoryEvent.actor))).all()
    assert actors[-1].endswith("名" * 200)


# 6. 500s instead of 4xx.


async def test_out_of_range_numbers_are_422_everywhere(client: Client, auth: Auth, app: Litestar) -> None:
    for months in (2**63, 2**31, 1201, 0):
        response = await client.post("/v1/products", json=sk2(shelf_life_months=months), headers=auth("catalog"))
        assert_problem(response, 422)
    assert (await client.post("/v1/products", json=sk2(), headers=auth("catalog"))).status_code == 201
    patched = await client.patch(
        "/v1/products/SK2-FTE-230",
        json={"shelf_life_months": 2**63},
        headers={**auth("catalog"), "If-Match": '"1"'},
    )
    assert_problem(patched, 422)
    imported = await post(client, auth, ndjson(sk2(sku="BIG", shelf_life_months=2**64)), mode="partial")
    assert imported.json()["rejected"] == 1
    csv_row = f"sku,shelf_life_months\nBIG2,{2**63}\n".encode()
    assert (await post(client, auth, csv_row, "text/csv", mode="partial")).json()["rejected"] == 1
    assert await count(app, Product) == 1


@pytest.mark.parametrize("price", ["NaN", "Infinity", "-Infinity", "1e30", "100000000", "0.001", "sNaN"])
async def test_a_price_out_of_range_is_422(client: Client, auth: Auth, price: str) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=365))
    body = {"items": [{"sku": "SK2-FTE-230", "quantity": 1, "unit_price": price}]}
    response = await client.post("/v1/declarations/check", json=body, headers=auth("declaration"))
    assert codes(assert_problem(response, 422)) == ["format.price"]
    huge = {"items": [{"sku": "SK2-FTE-230", "quantity": 2**63, "unit_price": "1.00"}]}
    response = await client.post("/v1/declarations/check", json=huge, headers=auth("declaration"))
    assert_problem(response, 422)


async def test_out_of_range_parameters_are_400(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    cursor = base64.urlsafe_b64encode(msgspec.json.encode({"after": 2**63})).decode()
    assert_problem(await client.get("/v1/alerts", params={"cursor": cursor}, headers=auth("reviewer")), 400)
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00", "1800-01-01T00:00:00Z"):
        response = await client.get("/v1/products/SK2-FTE-230", params={"as_of": moment}, headers=auth("auditor"))
        assert_problem(response, 400)
    for path in ("/v1/products/SK2%00", "/v1/products/SK2%00/history", "/v1/filings/20251%0002"):
        assert_problem(await client.get(path, headers=auth("reviewer")), 400)
    assert_problem(await client.get("/v1/products", params={"q": "\x00"}, headers=auth("catalog")), 400)


async def test_texts_that_postgresql_or_a_reader_cannot_take_are_422(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await client.post("/v1/products/SK2-FTE-230/filing/submit", headers=auth("catalog"))
    url = "/v1/products/SK2-FTE-230/filing/reject"
    for reasons in (["标签\u0000不符"], ["x" * 2001], ["ok"] * 51):
        assert_problem(await client.post(url, json={"reasons": reasons}, headers=auth("reviewer")), 422)
    for name in ("SK-II\u202eevil", "SK\u200b-II", "SK-II\ufeff"):  # right-to-left override, zero width, BOM
        response = await client.post("/v1/products", json=sk2(sku="RTL", brand=name), headers=auth("catalog"))
        assert codes(assert_problem(response, 422)) == ["format.control_character"]


# A text over its published maxLength in white space that normalising collapses was accepted (the contract
# suite's negative case): a limit counts the characters sent.


async def test_a_text_over_its_limit_as_sent_is_422_however_it_normalises(client: Client, auth: Auth) -> None:
    padded: dict[str, Any] = {
        "spec": "230 ml" + "\t\f\r\v " * 40 + "x",  # 207 characters, 8 after normalising
        "name_cn": "精华" + " " * 499,
        "sku": " " * 60 + "SK2-FTE-230",
        "ingredients": ["water" + "\t" * 1996],
    }
    for field, value in padded.items():
        response = await client.post("/v1/products", json=sk2(**{field: value}), headers=auth("catalog"))
        violations = assert_problem(response, 422)["violations"]
        assert {v["field"] for v in violations} == {f"/{field}" if field != "ingredients" else "/ingredients/0"}
    body = await client.get("/v1/products", headers=auth("catalog"))
    assert body.json()["items"] == []
    await client.post("/v1/products", json=sk2(spec="230 ml" + " " * 150), headers=auth("catalog"))
    await client.post("/v1/products/SK2-FTE-230/filing/submit", headers=auth("catalog"))
    url = "/v1/products/SK2-FTE-230/filing/reject"
    response = await client.post(url, json={"reasons": ["标签不符" + "\u3000" * 1997]}, headers=auth("reviewer"))
    assert codes(assert_problem(response, 422)) == ["format.too_long"]
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("reviewer"))).json()["spec"] == "230 ml"


async def test_a_tax_set_that_would_break_approvals_is_refused(client: Client, auth: Auth) -> None:
    for rates in (
        [{"prefix": "", "vat": "NaN"}],
        [{"prefix": "", "vat": "0.13", "consumption_tax": "0.9999"}],  # a composite rate of 7,000 %
        [{"prefix": "", "vat": "0.13", "consumption_tax": "1E-999999"}],
        [{"prefix": "", "vat": "Infinity"}],
    ):
        response = await client.put("/v1/reference/tax-rates", json=rates, headers=auth("admin"))
        assert codes(assert_problem(response, 422)) == ["range.rate"], rates
    await file_product(client, auth, TODAY + dt.timedelta(days=365))


async def test_a_csv_with_bare_cr_line_ends_and_a_bom_imports(client: Client, auth: Auth) -> None:
    header = "sku,brand,name_cn,spec,category,hs_code,origin_country"
    rows = ["CR-1,Kao,花王,1件,household,3402209000,JP", "CR-2,Kao,花王,1件,household,3402209000,JP"]
    for ending, bom in (("\r", b""), ("\r\n", b"\xef\xbb\xbf"), ("\n", b"\xef\xbb\xbf")):
        body = bom + (ending.join([header, *rows]) + ending).encode()
        response = await post(client, auth, body, "text/csv", dry_run="true")
        assert response.status_code == 200, (ending, response.text)
        assert response.json()["created"] == 2


# 7. Alerts lost and duplicated.


async def test_an_alert_raised_without_a_webhook_is_delivered_once_one_is_set(
    client: Client, auth: Auth, database_url: str, app: Litestar, monkeypatch: Any
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=3))
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.delenv("REGISTRY_WEBHOOK_URL", raising=False)
    assert await asyncio.to_thread(cli, ["alerts", "run"]) == 0
    async with app.state.ctx.db.reads() as tx:
        entries = (await tx.scalars(select(Outbox))).all()
    assert [entry.delivered_at for entry in entries] == [None]


async def test_a_slow_receiver_gets_each_alert_once(
    client: Client, auth: Auth, app: Litestar, clock: FakeClock, database_url: str
) -> None:
    for n in range(11):
        await file_product(client, auth, TODAY + dt.timedelta(days=3), f"20251103{n:02d}", sku=f"SLOW-{n}")
    assert (await alerts.scan(app.state.ctx, (7,))).raised == 11
    posted: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        posted.append(request.headers["X-Registry-Alert-Id"])
        clock.advance(seconds=10)  # each post takes 10 s: eleven outlive a 60 s lease
        await asyncio.sleep(0.01)
        return httpx.Response(204)

    other = create_app(Settings(database_url=database_url, scheduler=False), clock=clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as http:
        await asyncio.gather(
            alerts.deliver(app.state.ctx, http, "http://receiver/hook", "secret"),
            alerts.deliver(other.state.ctx, http, "http://receiver/hook", "secret"),
        )
    await other.state.ctx.db.dispose()
    assert sorted(posted) == sorted(set(posted))  # none twice
    assert len(posted) == 11


def test_the_delivery_interval_is_read() -> None:
    assert Settings.from_env({"REGISTRY_DELIVERY_INTERVAL_SECONDS": "2.5"}).delivery_interval_seconds == 2.5


# 8. Keys could not be revoked, and a revoked key worked on for 60 s per worker.


async def test_a_revoked_key_is_refused_here_at_once_and_on_another_instance_within_a_second(
    client: Client, auth: Auth, database_url: str, clock: FakeClock
) -> None:
    made = (await client.post("/v1/keys", json={"role": "reviewer", "name": "temp"}, headers=auth("admin"))).json()
    bearer = {"Authorization": f"Bearer {made['key']}"}
    other_app = create_app(Settings(database_url=database_url, scheduler=False), clock=clock)
    async with running(other_app) as other:
        assert (await other.get("/v1/alerts", headers=bearer)).status_code == 200  # now trusted from its memory
        assert (await client.get("/v1/alerts", headers=bearer)).status_code == 200
        assert (await client.delete(f"/v1/keys/{made['key_id']}", headers=auth("admin"))).status_code == 204
        assert (await client.get("/v1/alerts", headers=bearer)).status_code == 401
        started = asyncio.get_running_loop().time()
        while (await other.get("/v1/alerts", headers=bearer)).status_code == 200:
            assert asyncio.get_running_loop().time() - started < 1.0
            await asyncio.sleep(0.02)
    listed = (await client.get("/v1/keys", headers=auth("admin"))).json()
    assert [k["revoked_at"] is not None for k in listed if k["key_id"] == made["key_id"]] == [True]
    assert "key" not in listed[0]
    assert (await client.delete("/v1/keys/000000000000", headers=auth("admin"))).status_code == 404
    assert (await client.get("/v1/keys", headers=auth("reviewer"))).status_code == 403


async def test_the_cli_lists_and_revokes_keys(client: Client, auth: Auth, database_url: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    key_id = auth("auditor")["Authorization"].removeprefix("Bearer rk_").split("_")[0]
    assert await asyncio.to_thread(cli, ["keys", "revoke", key_id]) == 0
    assert (await client.get("/v1/alerts", headers=auth("auditor"))).status_code == 401
    assert await asyncio.to_thread(cli, ["keys", "revoke", "nosuchkey"]) == 1


async def test_failed_authentications_are_limited_per_address(client: Client, auth: Auth) -> None:
    assert (await client.get("/v1/alerts", headers=auth("reviewer"))).status_code == 200
    statuses = [
        (await client.get("/v1/alerts", headers={"Authorization": f"Bearer rk_{n:012d}_guess"})).status_code
        for n in range(25)
    ]
    assert statuses == [401] * 20 + [429] * 5
    limited = await client.get("/v1/alerts", headers={"Authorization": "Bearer rk_000000000000_again"})
    assert int(assert_problem(limited, 429)["status"]) == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert (await client.get("/v1/alerts", headers=auth("reviewer"))).status_code == 200  # a trusted key goes on


# 9. CSV formula injection.


async def test_formula_cells_are_escaped_in_every_csv_and_an_export_reimports_unchanged(
    client: Client, auth: Auth, app: Litestar
) -> None:
    hostile = sk2(brand='=HYPERLINK("http://evil","SK-II")', name_cn="+1 精华", usage="@SUM(A1)", spec="-230 ml")
    assert (await client.post("/v1/products", json=hostile, headers=auth("catalog"))).status_code == 201
    exported = await client.get("/v1/products", params={"format": "csv"}, headers=auth("catalog"))
    for text in ("'=HYPERLINK", "'+1 精华", "'@SUM(A1)", "'-230 ml"):
        assert text in exported.text
    again = await post(client, auth, exported.content, "text/csv")
    assert again.json()["unchanged"] == 1, again.text
    record = (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).json()
    assert (record["brand"], record["usage"]) == (hostile["brand"], "@SUM(A1)")

    await file_product(client, auth, TODAY + dt.timedelta(days=3), sku="EXP-1", brand="=cmd|' /C calc'!A0")
    report = await client.get("/v1/reports/expiring", headers={**auth("reviewer"), "Accept": "text/csv"})
    assert "'=cmd|" in report.text
    assert ",=cmd" not in report.text


# 10. Smaller findings.


async def test_one_non_utf8_line_fails_only_itself(client: Client, auth: Auth) -> None:
    body = ndjson(shiseido(sku="OK-1")) + b'{"sku": "BAD-\xff"}\n' + ndjson(shiseido(sku="OK-2"))
    response = await post(client, auth, body, mode="partial")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["rejected"]) == (2, 1)
    assert report["errors"][0]["violations"][0]["code"] == "format.utf8"


async def test_if_match_is_compared_strongly(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    url = "/v1/products/SK2-FTE-230"
    for header, status in (('W/"1"', 412), ("*", 428), ("1", 400), ('"2"', 412)):
        response = await client.patch(url, json={"spec": "200 ml"}, headers={**auth("catalog"), "If-Match": header})
        assert_problem(response, status)
    assert (await client.get(url, headers=auth("catalog"))).json()["spec"] == "230 ml"
    weak = await client.post(f"{url}/filing/submit", headers={**auth("catalog"), "If-Match": 'W/"1"'})
    assert_problem(weak, 412)


async def test_a_sku_is_a_code_full_width_is_read_as_ascii_and_white_space_is_refused(
    client: Client, auth: Auth
) -> None:
    for sku in (" SK2-FTE-230", "SK2-FTE-230 ", "SK2-FTE-230\n", "SK2\tFTE-230", "SK2\u3000FTE-230"):
        response = await client.post("/v1/products", json=sk2(sku=sku), headers=auth("catalog"))
        violations = assert_problem(response, 422)["violations"]
        assert "format.sku" in [v["code"] for v in violations], repr(sku)
        assert {v["field"] for v in violations} == {"/sku"}, repr(sku)
    assert (await client.get("/v1/products", headers=auth("catalog"))).json()["items"] == []


async def test_a_full_width_sku_finds_its_record(client: Client, auth: Auth) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=365))
    wide = "ＳＫ２－ＦＴＥ－２３０"
    assert (await client.get(f"/v1/products/{wide}", headers=auth("catalog"))).json()["sku"] == "SK2-FTE-230"
    assert (await client.get(f"/v1/products/{wide}/history", headers=auth("catalog"))).status_code == 200
    assert (await client.get(f"/v1/lookup/{wide}", headers=auth("declaration"))).json()["declarable"] is True
    batch = await client.post("/v1/lookup", json={"skus": [wide, "SK2-FTE-230"]}, headers=auth("declaration"))
    assert [item["sku"] for item in batch.json()["items"]] == ["SK2-FTE-230", "SK2-FTE-230"]


async def test_a_body_that_stops_arriving_is_408(database_url: str, clock: FakeClock, auth: Auth) -> None:
    app = create_app(Settings(database_url=database_url, scheduler=False, body_timeout_seconds=0.3), clock=clock)
    never = asyncio.Event()

    async def stalls() -> Any:
        yield b'{"sku": "A",'
        await never.wait()

    async with running(app) as client:
        response = await client.post("/v1/products", content=stalls(), headers={**auth("catalog"), **JSON})
        assert_problem(response, 408)


def test_a_connection_that_never_finishes_its_headers_is_closed(database_url: str) -> None:
    with serving_shipped(database_url, REGISTRY_HEADER_TIMEOUT_SECONDS="1") as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            assert slow.recv(100) == b""  # closed by the server, well before this socket's own 10 s


def test_a_cli_failure_is_one_line(tmp_path: Any, database_url: str) -> None:
    import os

    env = {**os.environ, "REGISTRY_DATABASE_URL": database_url}
    for command in (["import", str(tmp_path / "missing.csv")], ["keys", "revoke", "nope"]):
        done = subprocess.run([sys.executable, "-m", "registry", *command], env=env, capture_output=True, text=True)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
