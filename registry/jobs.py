"""APScheduler wiring: the expiry scan (with the reference editions that took effect), the editions at the start
of each day, webhook delivery and the daily report. The work is in services/."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import httpx
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from registry.config import Settings
from registry.services import alerts, holds, reports
from registry.services.context import Context

log = logging.getLogger("registry.jobs")
_INTERVAL = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNITS = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def trigger(schedule: str, timezone: str) -> BaseTrigger:
    """`15m`, `900`, `2h` → an interval; anything else is a crontab line such as `0 * * * *`."""
    if match := _INTERVAL.match(schedule.strip()):
        return IntervalTrigger(**{_UNITS[match.group(2)]: int(match.group(1))}, timezone=timezone)
    return CronTrigger.from_crontab(schedule, timezone=timezone)


def _log_trouble(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
    else:
        log.error("job %s failed", event.job_id, exc_info=event.exception)


def build(ctx: Context, settings: Settings, http: httpx.AsyncClient) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone=settings.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(
        holds.scan,
        trigger(settings.alert_schedule, settings.timezone),
        args=[ctx, settings.alert_thresholds, settings.review_interval_days],
        id="expiry-scan",
        next_run_time=dt.datetime.now(dt.UTC),  # once at start, then on schedule
    )
    scheduler.add_job(  # an edition dated for a day takes effect as that day begins, whatever the scan's schedule
        holds.apply_due,
        CronTrigger(hour=0, minute=0, second=5, timezone=settings.timezone),
        args=[ctx],
        id="reference-editions",
    )
    if settings.webhook_url:
        scheduler.add_job(
            alerts.deliver,
            IntervalTrigger(seconds=settings.delivery_interval_seconds, timezone=settings.timezone),
            args=[ctx, http, settings.webhook_url, settings.webhook_secret],
            id="webhook-delivery",
        )
    if settings.report_dir:
        scheduler.add_job(
            reports.write_daily,
            CronTrigger(hour=0, minute=5, timezone=settings.timezone),
            args=[ctx, Path(settings.report_dir)],
            id="daily-report",
        )
    scheduler.add_listener(_log_trouble, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler
