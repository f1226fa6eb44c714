"""The expiry scan, alerts, and their delivery to a webhook through the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import random
from collections.abc import Sequence
from typing import Any

import httpx
import msgspec
from sqlalchemy import Insert, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import lifecycle
from registry.domain.alerts import (
    AlertKind,
    AlertStatus,
    Due,
    backoff_seconds,
    document_alerts,
    filing_alerts,
    review_alerts,
)
from registry.domain.errors import NotFound
from registry.domain.lifecycle import Action
from registry.domain.records import Document, Status
from registry.models import Alert, Outbox, Product
from registry.services import cursors
from registry.services.context import Context, Principal
from registry.services.filings import move_many
from registry.services.products import filing_state

log = logging.getLogger("registry.alerts")
EXPIRY_BATCH = 200
# An entry is claimed for LEASE while it is posted, and a post is given up after POST_SECONDS: shorter than the
# lease, so no other deliverer takes an entry up while a merely slow receiver is still answering.
POST_SECONDS = 30.0
LEASE = dt.timedelta(seconds=2 * POST_SECONDS)


class ScanReport(msgspec.Struct):
    expired: int
    raised: int
    skipped: bool = False  # another instance was scanning


class DeliveryReport(msgspec.Struct):
    delivered: int
    failed: int


class AlertOut(msgspec.Struct):
    id: int
    kind: str
    sku: str
    subject: str
    expires_on: dt.date
    threshold_days: int
    status: str
    message: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None


class AlertPage(msgspec.Struct):
    items: list[AlertOut]
    next_cursor: str | None


def _out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        kind=alert.kind,
        sku=alert.sku,
        subject=alert.subject,
        expires_on=alert.expires_on,
        threshold_days=alert.threshold_days,
        status=alert.status,
        message=alert.message,
        raised_at=alert.raised_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
    )


def _insert_ignoring_duplicates(tx: AsyncSession) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING on the alert's identity: whoever inserts first raises the alert."""
    dialect = postgresql if tx.get_bind().dialect.name == "postgresql" else sqlite
    identity = ["kind", "sku", "subject", "expires_on", "threshold_days"]
    stmt: Insert = dialect.insert(Alert).on_conflict_do_nothing(index_elements=identity)
    return stmt


async def raise_alerts(tx: AsyncSession, due: Sequence[Due], now: dt.datetime) -> int:
    """Store the alerts not stored yet, each new one with its outbox entry: whether or not a webhook is configured
    now, it is delivered once one is."""
    raised = 0
    for start in range(0, len(due), 500):
        rows = [
            {**msgspec.structs.asdict(d), "kind": d.kind.value, "status": AlertStatus.OPEN.value, "raised_at": now}
            for d in due[start : start + 500]
        ]
        result = await tx.execute(_insert_ignoring_duplicates(tx).values(rows).returning(Alert))
        new = list(result.scalars())
        raised += len(new)
        if new:  # one statement for the batch's outbox entries (added one by one, each is a statement of its own)
            entries = [
                {"alert_id": a.id, "payload": msgspec.to_builtins(_out(a)), "attempts": 0, "next_attempt_at": now}
                for a in new
            ]
            await tx.execute(insert(Outbox), entries)
    return raised


async def _expire_batch(ctx: Context, thresholds: Sequence[int]) -> tuple[int, int]:
    """Expire up to a batch of filed records past their valid_until, each with its event and alert."""
    now, today = ctx.now(), ctx.today()
    async with ctx.db.writes.begin() as tx:
        rows = (
            await tx.scalars(
                select(Product)
                .where(Product.status == Status.FILED.value, Product.valid_until < today)
                .order_by(Product.valid_until, Product.id)  # a range of ix_product_status_valid_until
                .limit(EXPIRY_BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        target = lifecycle.next_status(Status.FILED, Action.EXPIRE)
        assert target is not None
        moves = [(row, filing_state(row), f"valid_until {row.valid_until} passed") for row in rows]
        await move_many(tx, moves, Action.EXPIRE, target, lifecycle.SYSTEM_EXPIRY, now)
        due: list[Due] = []
        for row in rows:
            assert row.valid_until is not None  # the query took filed records only
            due += filing_alerts(row.sku, row.filing_no, row.valid_until, today, thresholds)
        raised = await raise_alerts(tx, due, now)
    ctx.changed(rows)
    return len(rows), raised


async def scan(ctx: Context, thresholds: Sequence[int], review_days: int = 0) -> ScanReport:
    """One pass: expire what has lapsed, then raise every alert that is due and not raised yet: expiries within
    the thresholds, and a review of each filing not approved or reviewed for `review_days` (0: none).

    Safe to run on several instances at once: on PostgreSQL one instance scans while the others skip (an
    advisory lock); beneath that, a record is expired only while it is still filed (row locks on PostgreSQL,
    the write lock on SQLite), and an alert exists once by its unique key.
    """
    async with ctx.db.exclusive("expiry-scan") as mine:
        if not mine:
            log.info("expiry scan: another instance is scanning; skipped")
            return ScanReport(expired=0, raised=0, skipped=True)
        return await expire_and_raise(ctx, thresholds, review_days)


async def expire_and_raise(ctx: Context, thresholds: Sequence[int], review_days: int = 0) -> ScanReport:
    """The scan's work, without the lock: the database constraints alone keep it exact when run twice at once."""
    expired = raised = 0
    while True:
        count, new = await _expire_batch(ctx, thresholds)
        expired, raised = expired + count, raised + new
        if count < EXPIRY_BATCH:
            break
    now, today = ctx.now(), ctx.today()
    horizon = today + dt.timedelta(days=max(thresholds, default=0))
    async with ctx.db.writes.begin() as tx:
        due: list[Due] = []
        filings = await tx.execute(
            select(Product.sku, Product.filing_no, Product.valid_until).where(
                Product.status == Status.FILED.value, Product.valid_until <= horizon
            )
        )
        for sku, filing_no, valid_until in filings:
            if valid_until is not None:
                due += filing_alerts(sku, filing_no, valid_until, today, thresholds)
        documents = await tx.execute(
            select(Product.sku, Product.documents).where(
                Product.status.in_([Status.FILED.value, Status.UNDER_REVIEW.value]),
                Product.next_document_expiry <= horizon,
            )
        )
        for sku, docs in documents:
            due += document_alerts(sku, msgspec.convert(docs, list[Document]), today, thresholds)
        if review_days > 0:
            every = dt.timedelta(days=review_days)
            reviews = await tx.execute(
                select(Product.sku, Product.filing_no, Product.reviewed_at).where(
                    Product.status == Status.FILED.value, Product.reviewed_at <= now - every
                )
            )
            for sku, filing_no, reviewed_at in reviews:
                assert reviewed_at is not None  # the query took reviewed records only
                due += review_alerts(sku, filing_no, reviewed_at, now, every, ctx.zone)
        raised += await raise_alerts(tx, due, now)
    log.info("expiry scan: %d expired, %d alerts raised", expired, raised)
    return ScanReport(expired=expired, raised=raised)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>`: a receiver that refuses old timestamps cannot be sent a captured
    delivery again later."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


async def deliver(
    ctx: Context, client: httpx.AsyncClient, url: str, secret: str | None, batch: int = 100
) -> DeliveryReport:
    """Post due outbox entries to the webhook, one at a time: each is claimed for a lease just before it is posted
    (two instances never post the same entry at once, and a slow receiver never outlives a claim); one that fails
    waits with back-off; one whose poster died is taken up again after its lease."""
    delivered = failed = 0
    for _ in range(batch):
        claim = await _claim(ctx)
        if claim is None:
            break
        entry_id, alert_id, attempts, payload, lease = claim
        error = await _post(client, url, secret, alert_id, msgspec.json.encode(payload), ctx.now())
        done = ctx.now()
        values: dict[str, Any] = {"claimed_until": None, "attempts": attempts + 1, "last_error": error}
        if error is None:
            values["delivered_at"] = done
            delivered += 1
        else:
            wait = dt.timedelta(seconds=backoff_seconds(attempts + 1, random.random()))  # noqa: S311
            values["next_attempt_at"] = done + wait
            failed += 1
            log.warning("alert %s not delivered (attempt %d): %s", alert_id, attempts + 1, error)
        async with ctx.db.writes.begin() as tx:
            await tx.execute(
                update(Outbox).where(Outbox.id == entry_id, Outbox.claimed_until == lease).values(**values)
            )
    return DeliveryReport(delivered=delivered, failed=failed)


async def _claim(ctx: Context) -> tuple[int, int, int, Any, dt.datetime] | None:
    """The oldest due entry, claimed until the lease ends; None when nothing is due."""
    now = ctx.now()
    async with ctx.db.writes.begin() as tx:
        entry = await tx.scalar(
            select(Outbox)
            .where(
                Outbox.delivered_at.is_(None),
                Outbox.next_attempt_at <= now,
                (Outbox.claimed_until.is_(None)) | (Outbox.claimed_until < now),
            )
            .order_by(Outbox.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if entry is None:
            return None
        entry.claimed_until = now + LEASE
        return entry.id, entry.alert_id, entry.attempts, entry.payload, entry.claimed_until


async def _post(
    client: httpx.AsyncClient, url: str, secret: str | None, alert_id: int, body: bytes, now: dt.datetime
) -> str | None:
    """Post one alert; None when the receiver took it, else why not."""
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-Registry-Alert-Id": str(alert_id),
        "X-Registry-Timestamp": timestamp,
    }
    if secret:
        headers["X-Registry-Signature"] = signature(secret, timestamp, body)
    try:
        async with asyncio.timeout(POST_SECONDS):
            response = await client.post(url, content=body, headers=headers)
    except (httpx.HTTPError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return f"HTTP {response.status_code}" if response.status_code >= 300 else None


async def search(
    ctx: Context,
    status: AlertStatus | None,
    kind: AlertKind | None,
    sku: str | None,
    limit: int,
    cursor: str | None,
) -> AlertPage:
    stmt = select(Alert).order_by(Alert.id).limit(limit + 1)
    if status is not None:
        stmt = stmt.where(Alert.status == status.value)
    if kind is not None:
        stmt = stmt.where(Alert.kind == kind.value)
    if sku is not None:
        stmt = stmt.where(Alert.sku == sku)
    if cursor is not None:
        stmt = stmt.where(Alert.id > cursors.decode(cursor, int))
    async with ctx.db.reads() as tx:
        rows = list((await tx.scalars(stmt)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return AlertPage([_out(row) for row in rows], cursors.encode(rows[-1].id) if more else None)


async def count_open(ctx: Context) -> int:
    async with ctx.db.reads() as tx:
        return int(
            await tx.scalar(select(func.count()).select_from(Alert).where(Alert.status == AlertStatus.OPEN.value)) or 0
        )


async def acknowledge(ctx: Context, alert_id: int, actor: Principal) -> AlertOut:
    """Acknowledge an open alert; the first acknowledgement's who and when stay."""
    now = ctx.now()
    async with ctx.db.writes.begin() as tx:
        await tx.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == AlertStatus.OPEN.value)
            .values(status=AlertStatus.ACKNOWLEDGED.value, acknowledged_at=now, acknowledged_by=actor.actor)
        )
        alert = await tx.get(Alert, alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return _out(alert)
