"""create_app(settings) -> Litestar: routes, guard, error mapping, lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from registry import jobs
from registry.api import alerts, filings, imports, keys, lookup, ops, products, reference
from registry.api.auth import PUBLIC, AuthMiddleware, current_principal
from registry.api.checks import check_request, learn_query_names
from registry.api.errors import EXCEPTION_HANDLERS
from registry.api.metrics import MetricsMiddleware
from registry.config import Settings
from registry.db import Database
from registry.services.context import Clock, Context, utc_now
from registry.services.keys import KeyRing
from registry.services.lookup import LookupIndex
from registry.serving import BodyTimeoutMiddleware

JSON_BODY_LIMIT = 1024 * 1024
SCHEMA_ASSETS = "/schema/assets"


def operation_id(handler: HTTPRouteHandler, method: str, path: list[Any]) -> str:
    """The handler's own name in camelCase (`createProduct`), `…Head` for the HEAD of a GET route."""
    first, *rest = handler.handler_name.split("_")
    name = first + "".join(word.title() for word in rest)
    return name + ("Head" if method == "HEAD" else "")


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="registry",
        version="1.0.0",
        description="Product master data and customs filing registry for cross-border retail import.",
        use_handler_docstrings=True,
        operation_id_creator=operation_id,
        render_plugins=[
            JsonRenderPlugin(),
            # Served from the installed swagger-ui-bundle package: the reference works with no internet.
            SwaggerRenderPlugin(
                path=["/", "/swagger"],
                js_url=f"{SCHEMA_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{SCHEMA_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{SCHEMA_ASSETS}/swagger-ui-standalone-preset.js",
                favicon="",
            ),
        ],
        openapi_router=Router(path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False),
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="An API key")}
        ),
        security=[{"bearer": []}],
    )


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> Litestar:
    settings = settings or Settings.from_env()
    db = Database(settings)
    ctx = Context(db=db, clock=clock, zone=ZoneInfo(settings.timezone))
    index = LookupIndex(ctx, settings.lookup_staleness_ms)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await index.load()
        # The index is long-lived: move it out of the collector's way, or every full collection walks it.
        gc.collect()
        gc.freeze()
        index.start()
        async with httpx.AsyncClient(timeout=10.0) as http:
            scheduler = jobs.build(ctx, settings, http) if settings.scheduler else None
            if scheduler is not None:
                scheduler.start()
            try:
                yield
            finally:
                if scheduler is not None:
                    scheduler.shutdown(wait=False)
                await index.stop()
                await db.dispose()

    def provide_ctx(request: Request[Any, Any, Any]) -> Context:
        return ctx

    app = Litestar(
        route_handlers=[
            *ops.ROUTES,
            *products.ROUTES,
            *filings.ROUTES,
            *lookup.ROUTES,
            *imports.ROUTES,
            *alerts.ROUTES,
            *reference.ROUTES,
            *keys.ROUTES,
            create_static_files_router(
                SCHEMA_ASSETS, directories=[swagger_ui_path], opt=PUBLIC, include_in_schema=False
            ),
        ],
        before_request=check_request,
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "actor": Provide(current_principal, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            MetricsMiddleware,
            DefineMiddleware(BodyTimeoutMiddleware, seconds=settings.body_timeout_seconds),
            AuthMiddleware,
        ],
        openapi_config=openapi_config(),
        lifespan=[lifespan],
        request_max_body_size=JSON_BODY_LIMIT,
        state=State(
            {"ctx": ctx, "settings": settings, "keyring": KeyRing(ctx, settings.key_cache_seconds), "lookup": index}
        ),
        debug=False,
    )
    learn_query_names(app)
    document_operations(app)
    return app


# The tag of each route module's operations in the OpenAPI document.
TAGS = {
    "registry.api.products": "Products",
    "registry.api.filings": "Filings and history",
    "registry.api.lookup": "Declaration",
    "registry.api.imports": "Bulk import",
    "registry.api.alerts": "Alerts and reports",
    "registry.api.reference": "Reference data",
    "registry.api.keys": "Keys",
    "registry.api.ops": "Operations",
}


def document_operations(app: Litestar) -> None:
    """Tag every operation by its module and name in its description the roles that may call it, as the route
    declares them (its `allow`), so the document says what the auth middleware enforces."""
    document = app.openapi_schema
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            item = (document.paths or {}).get(route.path_format)
            roles = handler.opt.get("roles")
            who = "Open: no key needed." if handler.opt.get("public") else f"Roles: {', '.join(sorted(roles or []))}."
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None) if item is not None else None
                if operation is None:
                    continue
                operation.tags = [TAGS.get(handler.fn.__module__, "Operations")]
                operation.description = f"{operation.description or operation.summary or ''}\n\n{who}".strip()
