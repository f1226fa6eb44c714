"""Liveness, readiness and metrics: the open routes."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.openapi.spec import Tag
from litestar.plugins.prometheus import PrometheusController
from litestar.types import ControllerRouterHandler

from registry import schema
from registry.api.auth import Ctx
from registry.api.policy import OPEN, declare
from registry.domain.errors import Unavailable


class Health(msgspec.Struct):
    status: str


@get("/health", **declare(public=True))
async def health() -> Health:
    """The process is alive."""
    return Health("ok")


class Readiness(msgspec.Struct):
    status: str
    revision: str


@get("/ready", **declare(public=True))
async def ready(ctx: Ctx) -> Readiness:
    """The database answers and is migrated to this release's head."""
    head = schema.head_revision()
    try:
        async with ctx.db.engine.connect() as connection:
            current = await schema.current_revision(connection)
    except Exception as exc:
        raise Unavailable("the database is not reachable or not migrated") from exc
    if current != head:
        raise Unavailable(f"the database is at revision {current}, this release needs {head}; run `registry migrate`")
    return Readiness("ready", current or "")


class Metrics(PrometheusController):
    path = "/metrics"
    opt = {"policy": OPEN}  # noqa: RUF012 (Litestar's own attribute)
    include_in_schema = False


# The document's tag of this module's operations.
TAG = Tag(
    name="Operations",
    description="Liveness and readiness.",
)

ROUTES: list[ControllerRouterHandler] = [health, ready, Metrics]
