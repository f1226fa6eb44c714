"""The scheduler wiring: started in the app's lifespan, with coalescing, one instance, and a grace time."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from litestar import Litestar

from registry import jobs
from registry.app import create_app
from registry.config import Settings
from tests.api.conftest import Auth, file_product, running, set_day
from tests.conftest import FakeClock
from tests.samples import TODAY

Client = httpx.AsyncClient


def test_schedules() -> None:
    assert isinstance(jobs.trigger("15m", "UTC"), IntervalTrigger)
    assert jobs.trigger("900", "UTC").interval == dt.timedelta(seconds=900)
    assert jobs.trigger("2h", "UTC").interval == dt.timedelta(hours=2)
    assert isinstance(jobs.trigger("0 * * * *", "Asia/Shanghai"), CronTrigger)


async def test_the_jobs_and_their_defaults(app: Litestar) -> None:
    settings = Settings(database_url="sqlite+aiosqlite://", webhook_url="http://127.0.0.1:9/h", report_dir="/tmp/r")
    async with httpx.AsyncClient() as http:
        scheduler = jobs.build(app.state.ctx, settings, http)
    expected = {"expiry-scan", "reference-editions", "webhook-delivery", "daily-report"}
    assert {job.id for job in scheduler.get_jobs()} == expected
    assert scheduler._job_defaults == {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    bare = jobs.build(app.state.ctx, Settings(database_url="sqlite+aiosqlite://"), http)
    assert [job.id for job in bare.get_jobs()] == ["expiry-scan", "reference-editions"]


async def test_the_app_runs_the_scan_on_start(client: Client, auth: Auth, database_url: str, clock: FakeClock) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=3))
    set_day(clock, TODAY + dt.timedelta(days=5))
    scheduled = create_app(Settings(database_url=database_url, alert_schedule="1h"), clock=clock)
    async with running(scheduled) as other:
        for _ in range(50):
            record = (await other.get("/v1/products/SK2-FTE-230", headers=auth("auditor"))).json()
            if record["filing"]["status"] == "expired":
                break
            await asyncio.sleep(0.1)
    assert record["filing"]["status"] == "expired"
