"""Webhook delivery through the outbox, against a real local HTTP receiver that fails at first."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from registry.config import Settings
from registry.db import Database
from registry.models import Alert, Outbox
from registry.services import alerts
from registry.services.context import Context
from tests.api.conftest import Auth, file_product
from tests.conftest import FakeClock
from tests.samples import TODAY

Client = httpx.AsyncClient
SECRET = "webhook-secret"


class Receiver:
    """An HTTP server on loopback that answers 503 to its first `failures` requests, then 204."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[str, dict[str, Any], str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    failing = receiver.failures > 0
                    receiver.failures -= 1
                    if not failing:
                        receiver.received.append(
                            (
                                self.headers["X-Registry-Alert-Id"],
                                json.loads(body),
                                self.headers["X-Registry-Signature"],
                            )
                        )
                signed = self.headers["X-Registry-Timestamp"].encode() + b"." + body
                expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
                assert self.headers["X-Registry-Signature"] == expected
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=7)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


async def test_every_alert_arrives_though_the_webhook_fails_at_first(
    app: Litestar, client: Client, auth: Auth, receiver: Receiver, clock: FakeClock, database_url: str
) -> None:
    for n in range(5):
        sku = f"SK2-{n}"
        await file_product(client, auth, TODAY + dt.timedelta(days=3 + n), f"20251102{n:02d}", sku=sku)
    raised = await alerts.scan(app.state.ctx, (30, 7, 1))
    assert raised.raised == 5  # five filings, each within 7 days: one alert each, for the nearest threshold

    # Two instances deliver, and each is "restarted" (a fresh engine) between passes.
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(40):
            instances = [Context(db=Database(Settings(database_url=database_url)), clock=clock) for _ in range(2)]
            try:
                await asyncio.gather(*(alerts.deliver(ctx, http, receiver.url, SECRET) for ctx in instances))
            finally:
                for ctx in instances:
                    await ctx.db.dispose()
            async with app.state.ctx.db.reads() as tx:
                pending = await tx.scalar(select(func.count()).select_from(Outbox).where(Outbox.delivered_at.is_(None)))
            if pending == 0:
                break
            clock.advance(minutes=10)  # past any back-off so far
    assert pending == 0

    async with app.state.ctx.db.reads() as tx:
        stored = {str(alert_id) for alert_id in (await tx.scalars(select(Alert.id))).all()}
        attempts = (await tx.scalars(select(Outbox.attempts))).all()
    delivered_ids = {alert_id for alert_id, _, _ in receiver.received}
    assert delivered_ids == stored
    assert len(receiver.received) == len(stored)  # every alert once: the failures were retried, none doubled
    assert sum(attempts) == len(stored) + 7
    for alert_id, payload, _ in receiver.received:
        assert str(payload["id"]) == alert_id
        assert payload["kind"] == "filing_expiring"


async def test_a_failed_attempt_waits_with_back_off(
    app: Litestar, client: Client, auth: Auth, receiver: Receiver, clock: FakeClock
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=3))
    await alerts.scan(app.state.ctx, (7,))
    async with httpx.AsyncClient(timeout=5) as http:
        first = await alerts.deliver(app.state.ctx, http, receiver.url, SECRET)
        again = await alerts.deliver(app.state.ctx, http, receiver.url, SECRET)
    assert (first.failed, again.failed, again.delivered) == (1, 0, 0)  # not due again yet
    async with app.state.ctx.db.reads() as tx:
        entry = (await tx.scalars(select(Outbox))).one()
    assert entry.attempts == 1
    assert entry.last_error == "HTTP 503"
    assert clock.now + dt.timedelta(seconds=2.5) <= entry.next_attempt_at <= clock.now + dt.timedelta(seconds=5)


async def test_an_unreachable_webhook_loses_nothing(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=3))
    await alerts.scan(app.state.ctx, (7,))
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(3):
            report = await alerts.deliver(app.state.ctx, http, "http://127.0.0.1:9/hook", None)
            assert report.delivered == 0
            clock.advance(hours=2)
    async with app.state.ctx.db.reads() as tx:
        entry = (await tx.scalars(select(Outbox))).one()
    assert entry.delivered_at is None
    assert entry.attempts == 3
