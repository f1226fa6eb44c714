"""Bulk import over HTTP: the body is received whole into a temporary file (on disk past a megabyte), within the
size limit, before the import's transaction begins."""

from __future__ import annotations

import io
import tempfile
from typing import IO, Any

from litestar import Request, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx
from registry.api.policy import declare
from registry.domain.errors import TooLarge
from registry.domain.roles import Role
from registry.services import imports
from registry.services.imports import Format, ImportReport, Limits, Mode

NDJSON, CSV = "application/x-ndjson", "text/csv"
IN_MEMORY = 1024 * 1024


# The import reads its body itself (it is received into a file, not decoded).
LINES = "One product record (the fields of ProductIn) as a JSON object per line."
ROWS = "A header row of product field names, then a record per row; lists `|`-separated, documents as JSON."
BODY = RequestBody(
    required=False,  # an empty body is an empty file: nothing to import, a report of 0 rows
    description="The file: NDJSON or CSV (an empty body imports nothing).",
    content={
        NDJSON: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=LINES)),
        CSV: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=ROWS)),
    },
)


@post(
    "/v1/imports",
    status_code=200,
    request_max_body_size=None,  # the import enforces its own limit while it receives
    **declare(Role.CATALOG, body=BODY),
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
    limits = Limits(
        max_bytes=settings.max_body_bytes, max_rows=settings.max_import_rows, checkers=settings.import_checkers
    )
    if int(request.headers.get("content-length") or 0) > limits.max_bytes:
        raise TooLarge(f"the body is over the {limits.max_bytes:,} byte limit; nothing was written")
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    fmt = Format.CSV if media == CSV else Format.NDJSON
    with await _receive(request, limits.max_bytes) as body:
        return await imports.run(ctx, body, fmt, mode, dry_run, actor, limits)


async def _receive(request: Request[Any, Any, Any], max_bytes: int) -> IO[bytes]:
    """The whole body, read from its start: in memory up to a megabyte, past it in a named temporary file (the
    import's checker process opens it by name); 413 past `max_bytes`, with nothing kept."""
    body: IO[bytes] = io.BytesIO()
    try:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"the body is over the {max_bytes:,} byte limit; nothing was written")
            if size > IN_MEMORY and isinstance(body, io.BytesIO):
                held, body = body, tempfile.NamedTemporaryFile()  # noqa: SIM115 (the caller closes it)
                body.write(held.getbuffer())
            body.write(chunk)
        body.seek(0)
    except BaseException:
        body.close()
        raise
    return body


ROUTES: list[ControllerRouterHandler] = [import_products]
