"""Bulk import over HTTP: the body is streamed, never held whole."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx, Role, allow
from registry.api.checks import accepts
from registry.api.errors import problems
from registry.domain.errors import TooLarge
from registry.services import imports
from registry.services.imports import Format, ImportReport, Limits, Mode

NDJSON, CSV = "application/x-ndjson", "text/csv"


@post(
    "/v1/imports",
    opt=allow(Role.CATALOG) | accepts(NDJSON, CSV),
    status_code=200,
    request_max_body_size=None,  # the import enforces its own limit while it streams
    responses=problems(400, 401, 403, 413, 415, 422),
)
async def import_products(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    actor: Actor,
    dry_run: FromQuery[bool] = False,
    mode: FromQuery[Mode] = Mode.ATOMIC,
) -> ImportReport:
    """Upsert product records by SKU from NDJSON (`application/x-ndjson`) or CSV (`text/csv`).

    `atomic` (default) writes nothing if any row is rejected (422 with the report); `partial` writes the rows
    that pass; `dry_run=true` checks everything and writes nothing. Past the size or row limit: 413.
    """
    settings = request.app.state.settings
    limits = Limits(max_bytes=settings.max_body_bytes, max_rows=settings.max_import_rows)
    if int(request.headers.get("content-length") or 0) > limits.max_bytes:
        raise TooLarge(f"the body is over the {limits.max_bytes:,} byte limit; nothing was written")
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    fmt = Format.CSV if media == CSV else Format.NDJSON
    return await imports.run(ctx, request.stream(), fmt, mode, dry_run, actor, limits)


ROUTES: list[ControllerRouterHandler] = [import_products]
