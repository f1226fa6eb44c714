"""Bulk import over HTTP: the file is received whole into a temporary file (on disk past a megabyte), within the
size limit, before the import's transaction begins. It comes as the body (NDJSON or CSV), or as the one part `file`
of a `multipart/form-data` form (what `curl -F file=@catalog.csv` and generated clients send), its format named
by the part's media type or its file name."""

from __future__ import annotations

import io
import tempfile
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import IO, Any

from litestar import Request, post
from litestar.openapi.spec import Encoding, OpenAPIFormat, OpenAPIMediaType, OpenAPIType, RequestBody, Schema, Tag
from litestar.params import FromQuery
from litestar.types import ControllerRouterHandler
from multipart import (  # type: ignore[import-untyped]
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
    parse_options_header,
)

from registry.api.auth import Actor, Ctx
from registry.api.checks import UnsupportedMediaType
from registry.api.policy import declare
from registry.domain.errors import BadRequest, TooLarge
from registry.domain.roles import Role
from registry.services import imports
from registry.services.imports import Format, ImportReport, Limits, Mode

NDJSON, CSV, FORM = "application/x-ndjson", "text/csv", "multipart/form-data"
IN_MEMORY = 1024 * 1024
FILE = "file"  # the form's one part
BY_TYPE = {NDJSON: Format.NDJSON, CSV: Format.CSV}
BY_NAME = {".ndjson": Format.NDJSON, ".jsonl": Format.NDJSON, ".csv": Format.CSV}


# The import reads its body itself (it is received into a file, not decoded).
LINES = "One product record (the fields of ProductIn) as a JSON object per line."
ROWS = "A header row of product field names, then a record per row; lists `|`-separated, documents as JSON."
BODY = RequestBody(
    required=False,  # an empty body is an empty file: nothing to import, a report of 0 rows
    description="The file: NDJSON or CSV as the body, or the part `file` of a form (an empty body imports nothing).",
    content={
        FORM: OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                required=[FILE],
                properties={
                    FILE: Schema(
                        type=OpenAPIType.STRING,
                        format=OpenAPIFormat.BINARY,
                        description="The file, NDJSON or CSV: its format from the part's media type "
                        f"({NDJSON}, {CSV}) or its name (.ndjson, .jsonl, .csv)",
                    )
                },
                additional_properties=False,
            ),
            encoding={FILE: Encoding(content_type=f"{NDJSON}, {CSV}")},
        ),
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
    """Upsert product records by SKU from NDJSON or CSV: the body (`application/x-ndjson`, `text/csv`) or a form's
    part `file` (`multipart/form-data`).

    `atomic` (default) writes nothing if any row is rejected (422 with the report); `partial` writes the rows
    that pass; `dry_run=true` checks everything and writes nothing. Past the size or row limit: 413.
    """
    settings = request.app.state.settings
    limits = Limits(
        max_bytes=settings.max_body_bytes, max_rows=settings.max_import_rows, checkers=settings.import_checkers
    )
    if int(request.headers.get("content-length") or 0) > limits.max_bytes:
        raise TooLarge(f"the body is over the {limits.max_bytes:,} byte limit; nothing was written")
    media, options = parse_options_header(request.headers.get("content-type", ""))
    with _Spool(limits.max_bytes) as body:
        if media == FORM:
            fmt = await _receive_form(request.stream(), options.get("boundary", ""), body)
        else:
            fmt = Format.CSV if media == CSV else Format.NDJSON
            async for chunk in request.stream():
                body.write(chunk)
        return await imports.run(ctx, body.file(), fmt, mode, dry_run, actor, limits)


class _Spool:
    """The file as it arrives: in memory up to a megabyte, past it in a named temporary file (the import's checker
    process opens it by name); 413 past `max_bytes`, with nothing kept."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self._body: IO[bytes] = io.BytesIO()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(f"the body is over the {self.max_bytes:,} byte limit; nothing was written")
        if self.size > IN_MEMORY and isinstance(self._body, io.BytesIO):
            held, self._body = self._body, tempfile.NamedTemporaryFile()  # noqa: SIM115 (closed on leaving)
            self._body.write(held.getbuffer())
        self._body.write(chunk)

    def file(self) -> IO[bytes]:
        """The whole file, read from its start."""
        self._body.seek(0)
        return self._body

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._body.close()


async def _receive_form(stream: AsyncIterator[bytes], boundary: str, body: _Spool) -> Format:
    """The form's one part `file` into `body` (the form's other bytes count toward the limit too); its format."""
    if not boundary:
        raise BadRequest("a multipart/form-data body names its boundary in Content-Type")
    part: MultipartSegment | None = None
    fmt: Format | None = None
    received = 0
    try:
        with PushMultipartParser(boundary, max_header_count=8, max_segment_count=1) as parser:
            async for chunk in stream:
                received += len(chunk)
                if received > body.max_bytes:
                    raise TooLarge(f"the body is over the {body.max_bytes:,} byte limit; nothing was written")
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        if event.name != FILE:
                            raise BadRequest(f"the form has one part, {FILE!r}; {event.name!r} is not it")
                        part, fmt = event, _format_of(event)
                    elif event:
                        body.write(event)
    except MultipartError:
        raise BadRequest("the form cannot be read: it is not a well-formed multipart/form-data body") from None
    if part is None or fmt is None:
        raise BadRequest(f"the form has no part {FILE!r}: send the file as `file`")
    return fmt


def _format_of(part: MultipartSegment) -> Format:
    """The file's format: from its part's media type, else from its name."""
    if part.content_type in BY_TYPE:
        return BY_TYPE[part.content_type]
    suffix = PurePosixPath(part.filename or "").suffix.lower()
    if suffix in BY_NAME:
        return BY_NAME[suffix]
    raise UnsupportedMediaType(
        f"name the file's format: its part's media type ({NDJSON} or {CSV}) or its name (.ndjson, .jsonl, .csv)"
    )


# The document's tag of this module's operations.
TAG = Tag(
    name="Bulk import",
    description="NDJSON and CSV uploads, upserted by SKU.",
)

ROUTES: list[ControllerRouterHandler] = [import_products]
