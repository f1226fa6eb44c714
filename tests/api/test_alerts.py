"""The expiry scan, alerts, acknowledgement and reports, with a clock the test moves."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import func, select, text

from registry.cli import main as cli
from registry.config import Settings
from registry.db import Database
from registry.models import Alert, HistoryEvent
from registry.services import alerts, reports
from registry.services.context import Context
from tests.api.conftest import Auth, file_product, set_day
from tests.conftest import FakeClock
from tests.samples import TODAY, sk2

Client = httpx.AsyncClient
SKU = "SK2-FTE-230"
THRESHOLDS = (30, 7, 1)


async def alert_list(client: Client, auth: Auth, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/alerts", params=params, headers=auth("reviewer"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_thresholds_crossed_one_by_one_raise_one_alert_each(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    ctx = app.state.ctx
    valid_until = TODAY + dt.timedelta(days=40)
    await file_product(client, auth, valid_until)

    assert await alerts.scan(ctx, THRESHOLDS) == alerts.ScanReport(expired=0, raised=0)
    for threshold in THRESHOLDS:
        set_day(clock, valid_until - dt.timedelta(days=threshold))
        assert (await alerts.scan(ctx, THRESHOLDS)).raised == 1
        assert (await alerts.scan(ctx, THRESHOLDS)).raised == 0
        newest = (await alert_list(client, auth))[-1]
        assert (newest["kind"], newest["threshold_days"], newest["sku"]) == ("filing_expiring", threshold, SKU)
        assert newest["status"] == "open"
    assert len(await alert_list(client, auth)) == 3


async def test_a_lapsed_filing_expires_once_with_its_event_and_stops_being_declarable(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    ctx = app.state.ctx
    valid_until = TODAY + dt.timedelta(days=3)
    await file_product(client, auth, valid_until)
    set_day(clock, valid_until + dt.timedelta(days=1))

    lookup = (await client.get("/v1/filings/2025110201", headers=auth("declaration"))).json()
    assert (lookup["status"], lookup["declarable"]) == ("filed", False)  # past its day, before any scan

    first = await alerts.scan(ctx, THRESHOLDS)
    second = await alerts.scan(ctx, THRESHOLDS)
    assert first.expired == 1
    assert second == alerts.ScanReport(expired=0, raised=0)
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert record["filing"]["status"] == "expired"
    events = (await client.get(f"/v1/products/{SKU}/history", headers=auth("auditor"))).json()["items"]
    expiries = [e for e in events if e["action"] == "expire"]
    assert len(expiries) == 1
    assert expiries[0]["actor"] == "system:expiry"
    assert (expiries[0]["from_status"], expiries[0]["to_status"]) == ("filed", "expired")
    assert [a["kind"] for a in await alert_list(client, auth, kind="filing_expired")] == ["filing_expired"]
    verified = (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()
    assert verified["ok"] is True


async def test_documents_of_filed_and_under_review_records_raise_alerts(
    app: Litestar, client: Client, auth: Auth
) -> None:
    record = sk2()
    record["documents"][1]["valid_until"] = (TODAY + dt.timedelta(days=5)).isoformat()
    await file_product(client, auth, TODAY + dt.timedelta(days=300), documents=record["documents"])
    unfiled = sk2(sku="DRAFT-1", documents=record["documents"])
    await client.post("/v1/products", json=unfiled, headers=auth("catalog"))

    assert (await alerts.scan(app.state.ctx, THRESHOLDS)).raised == 1
    raised = await alert_list(client, auth, kind="document_expiring")
    assert [(a["sku"], a["threshold_days"]) for a in raised] == [(SKU, 7)]  # first seen inside 30 and 7: the nearest
    assert raised[0]["subject"] == "hygiene_certificate HC-JP-88231"


async def test_acknowledge(app: Litestar, client: Client, auth: Auth, clock: FakeClock) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=20))
    await alerts.scan(app.state.ctx, THRESHOLDS)
    (alert,) = await alert_list(client, auth)
    assert (await client.post(f"/v1/alerts/{alert['id']}/ack", headers=auth("catalog"))).status_code == 403
    acked = await client.post(f"/v1/alerts/{alert['id']}/ack", headers=auth("reviewer"))
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"].endswith("test reviewer")
    assert acked.json()["acknowledged_at"] == "2026-11-22T02:00:00Z"
    clock.advance(hours=1)
    again = (await client.post(f"/v1/alerts/{alert['id']}/ack", headers=auth("admin"))).json()
    assert again["acknowledged_by"] == acked.json()["acknowledged_by"]
    assert await alert_list(client, auth, status="open") == []
    assert len(await alert_list(client, auth, status="acknowledged")) == 1
    assert (await client.post("/v1/alerts/999999/ack", headers=auth("reviewer"))).status_code == 404


async def test_two_scans_at_once_over_1000_due_records(
    app: Litestar, client: Client, auth: Auth, database_url: str, clock: FakeClock
) -> None:
    """Two engines (two instances) do the scan's work at once, without the advisory lock that would make one of
    them skip: the database constraints alone expire every record once and raise every alert once."""
    await file_product(client, auth, TODAY + dt.timedelta(days=10))
    async with app.state.ctx.db.engine.begin() as connection:  # 999 more filed records, copied from the first
        columns = (
            "brand, brand_key, name_cn, name_foreign, spec, category, hs_code, ciq_code, origin_country, "
            "ingredients, shelf_life_months, usage, images, documents, next_document_expiry, version, created_at, "
            "updated_at, status, submitted_at, filed_at, valid_until, tax_rate, rejection_reasons"
        )
        for n in range(1, 1000):
            await connection.execute(
                text(
                    f"INSERT INTO product (sku, filing_no, {columns}) SELECT :sku, :no, {columns} FROM product "
                    "WHERE sku = :first"
                ),
                {"sku": f"DUE-{n:04d}", "no": f"{3000000000 + n}", "first": SKU},
            )
    set_day(clock, TODAY + dt.timedelta(days=11))
    contexts = [Context(db=Database(Settings(database_url=database_url)), clock=clock) for _ in range(2)]
    try:
        reports_ = await asyncio.gather(*(alerts.expire_and_raise(ctx, THRESHOLDS) for ctx in contexts))
    finally:
        for ctx in contexts:
            await ctx.db.dispose()
    assert sum(r.expired for r in reports_) == 1000
    assert sum(r.raised for r in reports_) == 1000
    async with app.state.ctx.db.reads() as tx:
        expiries = (
            await tx.execute(
                select(HistoryEvent.sku, func.count()).where(HistoryEvent.action == "expire").group_by(HistoryEvent.sku)
            )
        ).all()
        alert_count = await tx.scalar(select(func.count()).select_from(Alert))
        distinct = await tx.scalar(select(func.count(func.distinct(Alert.sku))).select_from(Alert))
    assert len(expiries) == 1000
    assert {count for _, count in expiries} == {1}
    assert alert_count == distinct == 1000
    assert (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()["ok"] is True


async def test_a_scan_skips_while_another_instance_scans(
    app: Litestar, client: Client, auth: Auth, database_url: str, clock: FakeClock
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=10))
    set_day(clock, TODAY + dt.timedelta(days=11))
    other = Context(db=Database(Settings(database_url=database_url)), clock=clock)
    try:
        async with other.db.exclusive("expiry-scan") as held:
            assert held
            report = await alerts.scan(app.state.ctx, THRESHOLDS)
        on_postgres = app.state.ctx.db.engine.dialect.name == "postgresql"
        assert report.skipped is on_postgres  # SQLite has one writer at a time anyway
        assert report.expired == (0 if on_postgres else 1)
        again = await alerts.scan(app.state.ctx, THRESHOLDS)  # the lock was let go
        assert not again.skipped
        assert report.expired + again.expired == 1
    finally:
        await other.db.dispose()


async def test_the_expiring_report_as_json_csv_file_and_cli(
    app: Litestar, client: Client, auth: Auth, database_url: str, tmp_path: Path
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=12))
    later = {"sku": "LATER-1", "name_cn": "资生堂洗颜专科", "brand": "Shiseido"}
    await file_product(client, auth, TODAY + dt.timedelta(days=200), "2025110202", **later)

    as_json = await client.get("/v1/reports/expiring", params={"within_days": 30}, headers=auth("reviewer"))
    assert as_json.status_code == 200
    (row,) = as_json.json()["items"]
    assert (row["sku"], row["filing_no"], row["status"], row["days_left"]) == (SKU, "2025110201", "filed", 12)
    assert row["lapsing_documents"] == []

    as_csv = await client.get(
        "/v1/reports/expiring", params={"within_days": 30}, headers={**auth("reviewer"), "Accept": "text/csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == list(reports.CSV_COLUMNS)
    assert rows[1][:7] == [SKU, "SK-II", "SK-II 护肤精华露", "2025110201", "filed", row["valid_until"], "12"]

    written = await reports.write_daily(app.state.ctx, tmp_path / "reports")
    assert written.name == "expiring-2026-11-22.csv"
    assert written.read_text(encoding="utf-8") == as_csv.text
    assert [p.name for p in written.parent.iterdir()] == [written.name]


async def test_cli_alerts_run_and_report(
    client: Client, auth: Auth, database_url: str, monkeypatch: Any, capsys: Any
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=5))
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    assert await asyncio.to_thread(cli, ["alerts", "run"]) == 0
    scan = json.loads(capsys.readouterr().out)["scan"]
    assert scan["raised"] >= 1  # the real clock is later than the test's, so the filing may have lapsed already
    assert await asyncio.to_thread(cli, ["report", "expiring", "--within-days", "36500", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith(",".join(reports.CSV_COLUMNS))
