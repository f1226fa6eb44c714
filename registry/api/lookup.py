"""The declaration path over HTTP: answered from the in-process index, never from the database."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, post, route
from litestar.enums import HttpMethod
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Tag
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler, HTTPResponseStartEvent, Receive, Scope, Send

from registry.api.etag import CACHE_CONTROL, not_modified
from registry.api.policy import JSON, declare, json_body
from registry.domain import limits
from registry.domain.declaration import DeclarationIn, DeclarationOut
from registry.domain.errors import MalformedJson, NotFound, TooLarge, ValidationFailed
from registry.domain.records import read_sku
from registry.domain.roles import Role
from registry.domain.violations import from_msgspec_error
from registry.services import declarations
from registry.services.lookup import LookupIndex, LookupOut

_CACHE_CONTROL = CACHE_CONTROL.encode()
LOOKUP_ROLES = (Role.DECLARATION, Role.REVIEWER, Role.AUDITOR)
SKU_LENGTH, BATCH = limits.SKU, limits.BATCH
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=SKU_LENGTH)]
# The largest valid batch, every code point written as an escaped surrogate pair (12 bytes), with room for spacing.
MAX_BATCH_BYTES = BATCH * (12 * SKU_LENGTH + 16) + 1024


class SkusIn(msgspec.Struct, forbid_unknown_fields=True):
    """A batch of SKUs: to look up, or to submit."""

    skus: Annotated[list[Sku], msgspec.Meta(min_length=1, max_length=BATCH)]


_DECODE_BATCH = msgspec.json.Decoder(SkusIn).decode


async def read_batch(receive: Receive) -> SkusIn:
    """The batch body from the ASGI messages, decoded by a compiled decoder.

    The hot path skips the framework's parameter machinery (a body stream, a generic decode, then a conversion),
    which costs as much as the look-ups themselves; the answers are those the framework would give.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientException("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            raise TooLarge(f"a batch body is at most {MAX_BATCH_BYTES:,} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    try:
        batch = _DECODE_BATCH(body)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([from_msgspec_error(exc)], "the body does not match the schema") from None
    except msgspec.DecodeError as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    if not body.isascii() or b"\\u" in body:  # a SKU beyond ASCII: read it as a stored SKU is written
        batch.skus = [read_sku(sku) for sku in batch.skus]
    return batch


class LookupPage(msgspec.Struct):
    items: list[LookupOut]
    missing: list[str]


class RawJson:
    """A JSON body already encoded, sent as it is: the look-up index encodes on change, not on read."""

    __slots__ = ("body", "etag", "status")

    def __init__(self, body: bytes, etag: str | None = None, status: int = 200) -> None:
        self.body, self.etag, self.status = body, etag, status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: list[tuple[bytes, bytes]] = [] if self.status == 304 else [(b"content-type", b"application/json")]
        headers.append((b"content-length", b"%d" % len(self.body)))
        if self.etag is not None:
            headers += [(b"etag", self.etag.encode()), (b"cache-control", _CACHE_CONTROL)]
        start: HTTPResponseStartEvent = {"type": "http.response.start", "status": self.status, "headers": headers}
        await send(start)
        body = b"" if scope.get("method") == "HEAD" else self.body  # HEAD: the GET's headers, Content-Length too
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _index(request: Request[Any, Any, Any]) -> tuple[LookupIndex, int]:
    state = request.app.state
    return state.lookup, state.ctx.today().toordinal()


@route(
    "/v1/lookup/{sku:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    **declare(
        *LOOKUP_ROLES,
        problems=(404,),
        conditional=True,
        ok=ResponseSpec(LookupOut, description="The SKU's filing", generate_examples=False),
    ),
)
async def lookup_one(request: Request[Any, Any, Any], sku: FromPath[str]) -> RawJson:
    """The filing number, HS code and tax rate to declare a SKU by, and whether it may be declared today.

    Answers 304 to `If-None-Match` naming the current ETag (weak comparison; `*` for any known SKU); HEAD alike.
    """
    index, today = _index(request)
    found = index.body(sku, today)
    if found is None:
        raise NotFound(f"no product with SKU {sku}")
    body, tag = found
    if_none_match = next((value for name, value in request.scope["headers"] if name == b"if-none-match"), None)
    if if_none_match is not None and not_modified(if_none_match.decode("latin-1"), tag):
        return RawJson(b"", tag, status=304)
    return RawJson(body, tag)


@post(
    "/v1/lookup",
    status_code=200,
    **declare(
        *LOOKUP_ROLES,
        body=json_body("SkusIn"),
        ok=ResponseSpec(LookupPage, description="Items in request order", generate_examples=False),
    ),
)
async def lookup_many(request: Request[Any, Any, Any]) -> RawJson:
    """Look up 1–1000 SKUs: an item per request position, in order; unknown SKUs are listed once in `missing`."""
    data = await read_batch(request.receive)
    index, today = _index(request)
    return RawJson(index.batch(data.skus, today))


@post(
    "/v1/declarations/check",
    status_code=200,
    **declare(Role.DECLARATION, body=JSON),
)
async def check_order(request: Request[Any, Any, Any], data: JSONBody[DeclarationIn]) -> DeclarationOut:
    """Price an order in CNY as customs does, with each SKU's filed tax terms: the dutiable value with freight and
    insurance shared by value, consumption tax and VAT per line (each to the fen), the 5,000 CNY order limit and
    the single-piece exception; each line with what the customs inventory message needs (gcode, gname,
    item_record_no, bar_code, country and unit codes). A line that cannot be declared refuses the whole order."""
    return await declarations.check(request.app.state.ctx, data)


# The document's tag of this module's operations.
TAG = Tag(
    name="Declaration",
    description="The declaration path: look-ups from memory and the order check.",
)

ROUTES: list[ControllerRouterHandler] = [lookup_one, lookup_many, check_order]
