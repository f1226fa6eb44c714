"""Filing at catalog scale: a batch of SKUs submitted each on its own, over HTTP and from the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from registry.cli import main as cli
from registry.models import HistoryEvent
from tests.api.conftest import Auth
from tests.samples import shiseido, sk2

Client = httpx.AsyncClient


async def submits(app: Litestar, sku: str) -> int:
    async with app.state.ctx.db.reads() as tx:
        query = select(func.count()).where(HistoryEvent.sku == sku, HistoryEvent.action == "submit")
        return int(await tx.scalar(query) or 0)


async def create(client: Client, auth: Auth, *records: dict[str, Any]) -> None:
    for record in records:
        assert (await client.post("/v1/products", json=record, headers=auth("catalog"))).status_code == 201


async def test_a_mixed_batch_answers_each_sku_exactly(app: Litestar, client: Client, auth: Auth) -> None:
    await create(client, auth, sk2(), shiseido(), sk2(sku="BAD-HS", hs_code="8517130000"), sk2(sku="EARLY"))
    assert (await client.post("/v1/products/EARLY/filing/submit", headers=auth("catalog"))).status_code == 200
    batch = ["SK2-FTE-230", "NOPE-1", "BAD-HS", "EARLY", "SHISEIDO-FW-120", "SK2-FTE-230", "A\u0000B"]

    response = await client.post("/v1/filings:submit", json={"skus": batch}, headers=auth("catalog"))

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["submitted"] == ["SK2-FTE-230", "SHISEIDO-FW-120"]
    assert report["missing"] == ["NOPE-1", "A\u0000B"]
    refused = {item["sku"]: [v["code"] for v in item["violations"]] for item in report["refused"]}
    assert refused == {"BAD-HS": ["hs.category_mismatch"], "EARLY": ["lifecycle.invalid_transition"]}
    for sku, expected in {"SK2-FTE-230": 1, "SHISEIDO-FW-120": 1, "BAD-HS": 0, "EARLY": 1}.items():
        assert await submits(app, sku) == expected, sku
    statuses = {
        sku: (await client.get(f"/v1/products/{sku}", headers=auth("auditor"))).json()["filing"]["status"]
        for sku in ("SK2-FTE-230", "SHISEIDO-FW-120", "BAD-HS")
    }
    assert statuses == {"SK2-FTE-230": "under_review", "SHISEIDO-FW-120": "under_review", "BAD-HS": "unfiled"}


@pytest.mark.parametrize("skus", [[], [f"S-{i}" for i in range(1001)], [""]])
async def test_a_batch_is_one_to_a_thousand_skus(client: Client, auth: Auth, skus: list[str]) -> None:
    response = await client.post("/v1/filings:submit", json={"skus": skus}, headers=auth("catalog"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_only_catalog_teams_submit_batches(client: Client, auth: Auth) -> None:
    for role in ("reviewer", "declaration", "auditor"):
        refused = await client.post("/v1/filings:submit", json={"skus": ["A"]}, headers=auth(role))
        assert refused.status_code == 403, role


async def test_the_cli_submits_a_file_and_says_what_it_refused(
    app: Litestar, client: Client, auth: Auth, database_url: str, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    await create(client, auth, sk2(), shiseido())
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    good = tmp_path / "week.txt"
    good.write_text("SK2-FTE-230\n\nSHISEIDO-FW-120\n", encoding="utf-8")
    assert await asyncio.to_thread(cli, ["submit", str(good)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "submitted 2, refused 0, missing 0"

    again = tmp_path / "again.txt"
    again.write_text("SK2-FTE-230\nNOPE\n", encoding="utf-8")
    assert await asyncio.to_thread(cli, ["submit", str(again)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "submitted 0, refused 1, missing 1"
    assert any(line.startswith("refused SK2-FTE-230: /filing/status lifecycle.invalid_transition") for line in out)
    assert await submits(app, "SK2-FTE-230") == 1
