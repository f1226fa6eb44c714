"""Every door, one policy; every cost bounded by design: each case below once went wrong through the interface a
user calls (a record that cost seconds under the write lock, statistics loaded row by row, a form or a file the
API would refuse) and is held here."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from registry.domain import rules
from tests.api.conftest import Auth
from tests.bench.bench_matching import catalogue
from tests.samples import TODAY, sk2

Client = httpx.AsyncClient


async def test_no_validation_runs_under_the_write_lock_and_a_hostile_record_is_refused_in_its_terms(
    client: Client, auth: Auth, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submit and approve validate before they take the write lock (on SQLite, this process's turn), with the
    catalogue of banned ingredients at the official size in force."""
    put = await client.put("/v1/reference/banned-ingredients", json={"cosmetics": catalogue()}, headers=auth("admin"))
    assert put.status_code == 200, put.text
    turns = app.state.ctx.db.writes._turns
    locked_when_validating: list[bool] = []
    validate = rules.validate

    def watched(*args: Any) -> Any:
        locked_when_validating.append(turns is not None and turns.locked())
        return validate(*args)

    monkeypatch.setattr(rules, "validate", watched)
    hostile = sk2(sku="HOSTILE-1", ingredients=["(" * 2000] * 400 + ["禁用物质3"])
    assert (await client.post("/v1/products", json=hostile, headers=auth("catalog"))).status_code == 201
    refused = await client.post("/v1/products/HOSTILE-1/filing/submit", headers=auth("catalog"))
    assert refused.status_code == 422
    assert [(v["field"], v["code"]) for v in refused.json()["violations"]] == [
        ("/ingredients/400", "ingredients.banned")
    ]
    assert (await client.post("/v1/products", json=sk2(), headers=auth("catalog"))).status_code == 201
    assert (await client.post("/v1/products/SK2-FTE-230/filing/submit", headers=auth("catalog"))).status_code == 200
    approve = {"filing_no": "2025110201", "valid_until": TODAY.replace(year=2027).isoformat()}
    approved = await client.post("/v1/products/SK2-FTE-230/filing/approve", json=approve, headers=auth("reviewer"))
    assert approved.status_code == 200, approved.text
    assert len(locked_when_validating) == 3
    assert not any(locked_when_validating)


async def test_statistics_dates_outside_the_calendar_are_400_not_500(client: Client, auth: Auth) -> None:
    for params in ({"to": "0001-01-01"}, {"from": "0001-01-01"}, {"from": "2026-12-01", "to": "2026-11-01"}):
        answer = await client.get("/v1/stats/filings", params=params, headers=auth("reviewer"))
        assert answer.status_code == 400, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    early = await client.get("/v1/stats/filings", params={"to": "1900-01-05"}, headers=auth("reviewer"))
    assert (early.status_code, early.json()["from"]) == (200, "1900-01-01")


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from registry.cli import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


async def test_the_cli_refuses_unreadable_files_in_one_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    latin = tmp_path / "skus.txt"
    latin.write_bytes("SKU-É\n".encode("latin-1"))
    huge = tmp_path / "prohibited.csv"
    huge.write_text("prefix,reason\n93," + "x" * 200_000 + "\n")
    twice = tmp_path / "brands.csv"
    twice.write_text("brand,countries,countries\nSK-II,JP,FR\n")
    deep = tmp_path / "brands.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for argv, words in (
        (["submit", str(latin)], "is not UTF-8 text"),
        (["reference", "load", "prohibited", str(huge)], "field larger than field limit"),
        (["reference", "load", "brands", str(twice)], "a column is named twice: countries"),
        (["reference", "load", "brands", str(deep)], "nested too deeply"),
    ):
        code, err = await asyncio.to_thread(run_cli, argv, capsys)
        assert code == 1, argv
        assert words in err, err
        assert len(err.strip().splitlines()) == 1, err  # one line, no traceback


async def test_keys_record_who_made_and_revoked_them_and_the_last_admin_key_stays(
    client: Client, auth: Auth, keys: dict[str, str]
) -> None:
    admin_id = keys["admin"].removeprefix("rk_").partition("_")[0]
    events = (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()["events"]
    made = await client.post("/v1/keys", json={"role": "catalog", "name": "feed"}, headers=auth("admin"))
    assert made.status_code == 201
    new_id = made.json()["key_id"]
    assert (await client.delete(f"/v1/keys/{new_id}", headers=auth("admin"))).status_code == 204
    listed = {k["key_id"]: k for k in (await client.get("/v1/keys", headers=auth("admin"))).json()}
    assert (listed[new_id]["created_by"], listed[new_id]["revoked_by"]) == (admin_id, admin_id)
    assert listed[admin_id]["created_by"] == "system"  # the fixture makes keys as the command line does
    # The only admin key cannot revoke itself: no one could manage keys over HTTP after it.
    last = await client.delete(f"/v1/keys/{admin_id}", headers=auth("admin"))
    assert last.status_code == 409
    assert last.json()["type"].endswith("last-admin-key")
    second = (await client.post("/v1/keys", json={"role": "admin", "name": "spare"}, headers=auth("admin"))).json()
    assert (await client.delete(f"/v1/keys/{admin_id}", headers=auth("admin"))).status_code == 204
    spare = {"Authorization": f"Bearer {second['key']}"}
    assert (await client.delete(f"/v1/keys/{second['key_id']}", headers=spare)).status_code == 409
    audit = (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()
    assert (audit["ok"], audit["events"]) == (True, events + 4)  # two made, two revoked


async def test_an_unreadable_ndjson_line_is_a_rejected_row_and_an_empty_import_imports_nothing(
    client: Client, auth: Auth
) -> None:
    ndjson = {**auth("catalog"), "Content-Type": "application/x-ndjson"}
    deep = b"[" * 100_000 + b"]" * 100_000
    lines = b"\n".join([deep, b'{"sku": "x"', b"[1, 2]", json.dumps(sk2()).encode()])
    answer = await client.post("/v1/imports", params={"mode": "partial"}, content=lines, headers=ndjson)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["rejected"]) == (1, 3)
    assert [e["violations"][0]["code"] for e in report["errors"]] == ["format.json", "format.json", "format.json"]
    empty = await client.post("/v1/imports", content=b"", headers=ndjson)  # as the document says: an empty file
    assert (empty.status_code, empty.json()["total"], empty.json()["written"]) == (200, 0, True)


async def test_at_most_the_configured_idle_checkers_are_kept(client: Client, auth: Auth) -> None:
    from registry.services.imports import _Checker

    ndjson = {**auth("catalog"), "Content-Type": "application/x-ndjson"}
    body = b"\n".join(json.dumps(sk2(sku=f"IDLE-{n}")).encode() for n in range(50))
    runs = [client.post("/v1/imports", params={"dry_run": "true"}, content=body, headers=ndjson) for _ in range(6)]
    answers = await asyncio.gather(*runs)
    assert [a.status_code for a in answers] == [200] * 6
    assert len(_Checker._idle) <= 2  # REGISTRY_IMPORT_CHECKERS, by default 2
    assert all(process.poll() is None for process in _Checker._idle)


async def test_a_condition_header_longer_than_the_document_allows_is_400(client: Client, auth: Auth) -> None:
    tags = ", ".join(f'"{n}"' for n in range(3000))  # over 8,192 characters
    answer = await client.get("/v1/lookup/SK2-FTE-230", headers={**auth("declaration"), "If-None-Match": tags})
    assert answer.status_code == 400
    assert "if-none-match" in answer.json()["detail"]


async def test_an_import_whose_checker_dies_is_503_with_retry_after_and_writes_nothing(
    client: Client, auth: Auth, app: Litestar
) -> None:
    import subprocess
    import sys

    from registry.services.imports import _Checker

    # An idle checker that dies as soon as it is handed a file (as one killed mid-import would).
    dying = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.buffer.read(4)"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    _Checker._idle.append(dying)
    ndjson = {**auth("catalog"), "Content-Type": "application/x-ndjson"}
    answer = await client.post("/v1/imports", content=json.dumps(sk2()).encode(), headers=ndjson)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert dying.poll() is not None
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).status_code == 404
    again = await client.post("/v1/imports", content=json.dumps(sk2()).encode(), headers=ndjson)
    assert again.status_code == 200  # a new checker for the next import


async def test_a_request_without_its_body_is_400_in_words_and_one_title_per_problem_type(
    client: Client, auth: Auth
) -> None:
    for method, path in (("POST", "/v1/products"), ("POST", "/v1/lookup"), ("PATCH", "/v1/products/NOPE")):
        headers = {**auth("admin"), "Content-Type": "application/json", "If-Match": '"1"'}
        answer = await client.request(method, path, content=b"", headers=headers)
        assert answer.status_code == 400, (path, answer.text)
        problem = answer.json()
        assert "'data'" not in answer.text, answer.text
        assert "`data`" not in answer.text, answer.text
        assert "body" in problem["detail"], problem
    # The validation problem has one title, whether msgspec or the rules refused the body.
    by_schema = await client.post("/v1/products", json={"sku": 1}, headers=auth("catalog"))
    by_rules = await client.post("/v1/products", json=sk2(hs_code="33049900"), headers=auth("catalog"))
    assert by_schema.status_code == by_rules.status_code == 422
    assert by_schema.json()["type"] == by_rules.json()["type"]
    assert by_schema.json()["title"] == by_rules.json()["title"]


async def test_a_blank_optional_text_is_none_as_the_document_says(client: Client, auth: Auth) -> None:
    created = await client.post("/v1/products", json=sk2(usage="", name_foreign="  "), headers=auth("catalog"))
    assert created.status_code == 201, created.text
    assert (created.json()["usage"], created.json()["name_foreign"]) == (None, None)
    document = (await client.get("/schema/openapi.json")).json()
    usage = document["components"]["schemas"]["ProductIn"]["properties"]["usage"]["oneOf"][0]
    assert "minLength" not in usage
    assert re.fullmatch(usage["pattern"], "") is not None


async def test_an_empty_chunked_body_is_400_and_a_trusted_key_outlives_a_lockout(
    app: Litestar, client: Client, auth: Auth
) -> None:
    async def nothing() -> Any:
        if False:  # pragma: no cover  (an async generator that yields nothing: a chunked empty body)
            yield b""

    headers = {**auth("catalog"), "Content-Type": "application/json"}
    answer = await client.post("/v1/products", content=nothing(), headers=headers)
    assert answer.status_code == 400, answer.text
    assert "'data'" not in answer.text
    # A key in use keeps working while bad keys from its address are refused, also past its cache's life.
    assert (await client.get("/v1/alerts", headers=auth("auditor"))).status_code == 200
    for _ in range(app.state.settings.failed_auth_limit):
        await client.get("/v1/alerts", headers={"Authorization": "Bearer rk_bad_key"})
    assert (await client.get("/v1/alerts", headers={"Authorization": "Bearer rk_bad_key"})).status_code == 429
    app.state.keyring._known = {token: (who, 0.0) for token, (who, _) in app.state.keyring._known.items()}  # stale
    assert (await client.get("/v1/alerts", headers=auth("auditor"))).status_code == 200


async def test_a_csv_documents_cell_nested_too_deeply_is_a_rejected_row(client: Client, auth: Auth) -> None:
    deep = "[" * 5000 + "]" * 5000
    body = f'sku,documents\nX,"{deep}"\n'.encode()
    answer = await client.post(
        "/v1/imports", content=body, params={"mode": "partial"}, headers={**auth("catalog"), "Content-Type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["errors"][0]["violations"][0]["code"] == "format.json"


async def test_an_invalid_parameter_is_named_as_the_client_sent_it(client: Client, auth: Auth) -> None:
    answer = await client.get("/v1/stats/filings", params={"from": "x"}, headers=auth("auditor"))
    assert answer.status_code == 400
    assert [p["name"] for p in answer.json()["invalid_params"]] == ["from"]
    listed = await client.get("/v1/products", params={"format": "xml"}, headers=auth("auditor"))
    assert [p["name"] for p in listed.json()["invalid_params"]] == ["format"]
