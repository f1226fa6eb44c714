"""The periodic review: a review_due alert once per record and period, and the review that answers it."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
from litestar import Litestar

from registry.config import Settings
from registry.db import Database
from registry.services import alerts
from registry.services.context import Context
from tests.api.conftest import Auth, file_product
from tests.conftest import FakeClock
from tests.samples import TODAY

Client = httpx.AsyncClient
SKU = "SK2-FTE-230"
THRESHOLDS = (30, 7, 1)
EVERY = 90


async def review_alerts(client: Client, auth: Auth, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/alerts", params={"kind": "review_due", **params}, headers=auth("reviewer"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def review(client: Client, auth: Auth, note: str = "label, formula and authorisation checked") -> httpx.Response:
    return await client.post(f"/v1/products/{SKU}/reviews", json={"note": note}, headers=auth("reviewer"))


async def test_a_review_falls_due_once_a_period_and_a_review_restarts_it(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock, database_url: str
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=3 * 365))
    approved_at = clock.now
    clock.advance(days=EVERY, seconds=-1)
    assert (await alerts.scan(app.state.ctx, THRESHOLDS, EVERY)).raised == 0

    # Due: two scans one after the other, then two instances at once, raise it once.
    clock.advance(seconds=1)
    assert (await alerts.scan(app.state.ctx, THRESHOLDS, EVERY)).raised == 1
    assert (await alerts.scan(app.state.ctx, THRESHOLDS, EVERY)).raised == 0
    instances = [Context(db=Database(Settings(database_url=database_url)), clock=clock) for _ in range(2)]
    try:
        again = await asyncio.gather(*(alerts.expire_and_raise(ctx, THRESHOLDS, EVERY) for ctx in instances))
    finally:
        for ctx in instances:
            await ctx.db.dispose()
    assert [report.raised for report in again] == [0, 0]
    [alert] = await review_alerts(client, auth)
    assert alert["sku"] == SKU
    assert alert["status"] == "open"
    assert (
        alert["expires_on"]
        == (approved_at + dt.timedelta(days=EVERY)).astimezone(app.state.ctx.zone).date().isoformat()
    )

    # The review: an event in history, the record as it was, the alert acknowledged, the chain intact.
    before = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    clock.advance(days=3)
    reviewed_at = clock.now
    response = await review(client, auth)
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["action"] == "review"
    assert event["reason"] == "label, formula and authorisation checked"
    assert (event["from_status"], event["to_status"], event["version"]) == ("filed", "filed", before["version"])
    assert event["changes"] == {}
    after = await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))
    assert after.json() == before
    assert after.headers["ETag"] == f'"{before["version"]}"'
    history = (await client.get(f"/v1/products/{SKU}/history", headers=auth("auditor"))).json()["items"]
    assert [e["action"] for e in history] == ["create", "submit", "approve", "review"]
    assert history[-1] == event
    [acknowledged] = await review_alerts(client, auth)
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_at"] is not None
    assert (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()["ok"] is True

    # The record as of the review reads as it was; the interval starts at the review.
    as_of = await client.get(f"/v1/products/{SKU}", params={"as_of": reviewed_at.isoformat()}, headers=auth("auditor"))
    assert as_of.status_code == 200
    assert as_of.json() == before
    clock.advance(days=EVERY - 1)
    assert (await alerts.scan(app.state.ctx, THRESHOLDS, EVERY)).raised == 0
    clock.advance(days=1)
    assert (await alerts.scan(app.state.ctx, THRESHOLDS, EVERY)).raised == 1
    periods = await review_alerts(client, auth)
    assert [a["status"] for a in periods] == ["acknowledged", "open"]
    assert periods[0]["expires_on"] < periods[1]["expires_on"]


async def test_no_review_is_due_when_the_interval_is_off(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=3 * 365))
    clock.advance(days=400)
    await alerts.scan(app.state.ctx, THRESHOLDS)
    await alerts.scan(app.state.ctx, THRESHOLDS, 0)
    assert await review_alerts(client, auth) == []
    await alerts.scan(app.state.ctx, THRESHOLDS, EVERY)
    assert len(await review_alerts(client, auth)) == 1


async def test_a_review_is_for_a_reviewer_a_filed_record_and_a_note(client: Client, auth: Auth) -> None:
    assert (await review(client, auth)).status_code == 404
    await file_product(client, auth, TODAY + dt.timedelta(days=365))
    by_catalog = await client.post(f"/v1/products/{SKU}/reviews", json={"note": "x"}, headers=auth("catalog"))
    assert by_catalog.status_code == 403
    for body in ({"note": "   "}, {}, {"note": "ok", "verdict": "fine"}, {"note": "a\u200bb"}):
        response = await client.post(f"/v1/products/{SKU}/reviews", json=body, headers=auth("reviewer"))
        assert response.status_code in (400, 422), body
        assert response.headers["content-type"] == "application/problem+json"
    amended = await client.post(
        f"/v1/products/{SKU}/filing/amend", json={"reason": "new label"}, headers=auth("catalog")
    )
    assert amended.status_code == 200
    refused = await review(client, auth)
    assert refused.status_code == 409
    assert refused.json()["current_status"] == "unfiled"
    history = (await client.get(f"/v1/products/{SKU}/history", headers=auth("auditor"))).json()["items"]
    assert "review" not in [e["action"] for e in history]
