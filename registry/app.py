"""create_app(settings) -> Litestar: routes, guard, error mapping, lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from swagger_ui_bundle import swagger_ui_path

from registry import jobs, memory
from registry.api import alerts, filings, imports, keys, lookup, openapi, ops, products, reference
from registry.api.auth import AuthMiddleware, FailedAuthentications, current_principal
from registry.api.checks import check_request
from registry.api.errors import EXCEPTION_HANDLERS
from registry.api.metrics import MetricsMiddleware, probe_loop_lag
from registry.api.policy import OPEN, learn
from registry.config import Settings
from registry.db import Database
from registry.services import sessions
from registry.services.context import Clock, Context, utc_now
from registry.services.keys import KeyRing
from registry.services.lookup import LookupIndex
from registry.serving import BodyTimeoutMiddleware
from registry.web import pages

JSON_BODY_LIMIT = 1024 * 1024
log = logging.getLogger("registry")


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> Litestar:
    settings = settings or Settings.from_env()
    db = Database(settings)
    ctx = Context(db=db, clock=clock, zone=ZoneInfo(settings.timezone))
    index = LookupIndex(ctx, settings.lookup_staleness_ms)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await index.load()
        app.state.ui_secret = await sessions.secret(ctx)
        # The index is long-lived: move it out of the collector's way, or every full collection walks it, and
        # onto huge pages, or nearly every look-up also waits for an address translation.
        gc.collect()
        gc.freeze()
        log.info("heap on huge pages: %d MB", memory.collapse_resident_heap() >> 20)
        index.start()
        probe = asyncio.create_task(probe_loop_lag(), name="loop-lag probe")
        async with httpx.AsyncClient(timeout=10.0) as http:
            scheduler = jobs.build(ctx, settings, http) if settings.scheduler else None
            if scheduler is not None:
                scheduler.start()
            try:
                yield
            finally:
                if scheduler is not None:
                    scheduler.shutdown(wait=False)
                probe.cancel()
                await index.stop()
                await db.dispose()

    def provide_ctx(request: Request[Any, Any, Any]) -> Context:
        return ctx

    app = Litestar(
        route_handlers=[
            *products.ROUTES,
            *filings.ROUTES,
            *lookup.ROUTES,
            *imports.ROUTES,
            *alerts.ROUTES,
            *reference.ROUTES,
            *keys.ROUTES,
            *ops.ROUTES,
            create_static_files_router(
                openapi.SCHEMA_ASSETS, directories=[swagger_ui_path], opt={"policy": OPEN}, include_in_schema=False
            ),
            pages.router(),
        ],
        template_config=TemplateConfig(
            directory=pages.TEMPLATES, engine=JinjaTemplateEngine, engine_callback=pages.configure(ctx.zone)
        ),
        before_request=check_request,
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "actor": Provide(current_principal, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            DefineMiddleware(MetricsMiddleware, access_log=settings.access_log),
            DefineMiddleware(BodyTimeoutMiddleware, seconds=settings.body_timeout_seconds),
            DefineMiddleware(AuthMiddleware),
        ],
        openapi_config=openapi.config(),
        lifespan=[lifespan],
        request_max_body_size=JSON_BODY_LIMIT,
        state=State(
            {
                "ctx": ctx,
                "settings": settings,
                "keyring": KeyRing(ctx, settings.key_cache_seconds),
                "lookup": index,
                "failures": FailedAuthentications(settings.failed_auth_limit),
            }
        ),
        debug=False,
    )
    openapi.complete(app)
    learn(app)
    return app
