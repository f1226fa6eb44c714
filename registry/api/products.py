"""Product records over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post, route
from litestar.di import NamedDependency, Provide
from litestar.enums import HttpMethod
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Tag
from litestar.params import FromQuery, HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx
from registry.api.etag import CACHE_CONTROL, etag, expected_version, not_modified
from registry.api.policy import CSV_TYPE, JSON, Cursor, Format, declare, json_body, wants_csv
from registry.api.schemas import YEARS
from registry.domain import limits
from registry.domain.errors import BadRequest
from registry.domain.records import Category, ProductIn, ProductOut, ProductPatch, Status
from registry.domain.roles import READERS, Role
from registry.domain.rows import CSV_FIELDS, csv_line, to_csv_row
from registry.services import products
from registry.services.context import Context
from registry.services.products import ProductPage, ProductQuery, Sort, ValidationReport

# The dry run reads any record of the right types and reports its violations.
DRAFT = json_body("ProductDraft")
SkuPath = Annotated[str, PathParameter(max_length=limits.SKU)]


def _validators(version: int) -> dict[str, str]:
    return {"ETag": etag(version), "Cache-Control": CACHE_CONTROL}


def _with_etag(out: ProductOut, status_code: int = 200, location: bool = False) -> Response[ProductOut]:
    headers = _validators(out.version)
    if location:
        headers["Location"] = f"/v1/products/{out.sku}"
    return Response(out, status_code=status_code, headers=headers)


@post(
    "/v1/products", status_code=201, **declare(Role.CATALOG, body=JSON, problems=(409,), answers=("Location", "ETag"))
)
async def create_product(data: JSONBody[ProductIn], ctx: Ctx, actor: Actor) -> Response[ProductOut]:
    """Create a product record (unfiled); field validation applies."""
    return _with_etag(await products.create(ctx, data, actor), 201, location=True)


@route(
    "/v1/products/{sku:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    **declare(
        *READERS,
        problems=(404,),
        conditional=True,
        ok=ResponseSpec(
            ProductOut, description="The record, or the record as it was at `as_of`", generate_examples=False
        ),
    ),
)
async def read_product(
    sku: SkuPath,
    ctx: Ctx,
    as_of: Annotated[dt.datetime | None, QueryParameter(schema_extra={"pattern": YEARS})] = None,
    if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
) -> Response[ProductOut] | Response[None]:
    """The record now, or with `as_of` (RFC 3339) as it was at that moment; 304 to `If-None-Match` naming its
    ETag (weak comparison, `*` for any record); HEAD alike."""
    if as_of is not None:
        as_of = _moment(as_of)
    out = await products.get(ctx, sku, as_of)
    if not_modified(if_none_match, etag(out.version)):
        return Response(None, status_code=304, headers=_validators(out.version))
    return _with_etag(out)


def _moment(as_of: dt.datetime) -> dt.datetime:
    """`as_of` in UTC, within the years a date may lie in; 400 otherwise."""
    if as_of.tzinfo is None:
        raise BadRequest("as_of needs a time zone, e.g. 2026-01-31T12:00:00Z")
    try:
        moment = as_of.astimezone(dt.UTC)
    except OverflowError:
        moment = None
    if moment is None or not limits.FIRST_DAY <= moment.date() <= limits.LAST_DAY:
        raise BadRequest("as_of lies in years 1900–9999")
    return moment


@patch(
    "/v1/products/{sku:str}",
    **declare(Role.CATALOG, body=JSON, if_match="required", problems=(404, 409), answers=("ETag",)),
)
async def change_product(
    request: Request[Any, Any, Any], sku: SkuPath, data: JSONBody[ProductPatch], ctx: Ctx, actor: Actor
) -> Response[ProductOut]:
    """Change fields of an unfiled record; If-Match with its ETag is required."""
    version = expected_version(request)
    return _with_etag(await products.change(ctx, sku, data, version, actor))


async def product_filters(
    status: FromQuery[Status | None] = None,
    category: FromQuery[Category | None] = None,
    brand: Annotated[str | None, QueryParameter(max_length=200)] = None,
    q: Annotated[str | None, QueryParameter(max_length=200)] = None,
    expiring_within_days: Annotated[int | None, QueryParameter(ge=0, le=3660, schema_extra={"minimum": 0})] = None,
    rejected: FromQuery[bool | None] = None,
    held: FromQuery[bool | None] = None,
    sort: FromQuery[Sort] = Sort.SKU,
    cursor: Cursor = None,
) -> ProductQuery:
    """The filters and the order of the record list and of its CSV export (the same parameters on both)."""
    return ProductQuery(
        status=status,
        category=category,
        brand=brand,
        q=q,
        expiring_within_days=expiring_within_days,
        rejected=rejected,
        held=held,
        sort=sort,
        cursor=cursor,
    )


FILTERS = {"filters": Provide(product_filters)}
CSV_EXPORT = ResponseSpec(
    str,
    media_type="text/csv",
    description="Every selected record, in the shape POST /v1/imports reads",
    generate_examples=False,
)


@get(
    "/v1/products",
    dependencies=FILTERS,
    **declare(
        *READERS,
        also=("text/csv",),
        ok=ResponseSpec(ProductPage, description="A page of records; CSV with format=csv", generate_examples=False),
    ),
)
async def list_products(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    filters: NamedDependency[ProductQuery],
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    export_format: Annotated[Format | None, QueryParameter(name="format")] = None,
) -> ProductPage | Stream:
    """Records filtered and in the order `sort` names; follow `next_cursor` for the next page.

        `sort`: `sku` (the default), `submitted_at` (the review queue, oldest first), `updated_at`, `valid_until`,
        or `priority` (highest `monthly_units` first, then the oldest submission); records without the value come
        last. `rejected=true` lists the unfiled records that carry a reviewer's rejection reasons; `held=true` the filed
    records on hold (the reference in force no longer passes them).

        With `format=csv` (or `Accept: text/csv`) every filtered record is streamed as CSV, as
        `GET /v1/products.csv` does (the operation a generated client calls for it).
    """
    if wants_csv(request, export_format):
        return await _export(ctx, filters)
    return await products.search(ctx, msgspec.structs.replace(filters, limit=limit))


@get("/v1/products.csv", dependencies=FILTERS, **declare(*READERS, ok=CSV_EXPORT))
async def export_products(ctx: Ctx, filters: NamedDependency[ProductQuery]) -> Stream:
    """Every record the filters select, in the order `sort` names, streamed as CSV in the shape `POST /v1/imports`
    reads (an export re-imports unchanged)."""
    return await _export(ctx, filters)


async def _export(ctx: Context, query: ProductQuery) -> Stream:
    records = await products.export(ctx, query)
    return Stream(_csv(records), headers={"Content-Type": CSV_TYPE})


async def _csv(records: AsyncIterator[ProductIn]) -> AsyncIterator[str]:
    yield csv_line(list(CSV_FIELDS))
    async for record in records:
        yield csv_line(to_csv_row(record))


@post(
    "/v1/products:validate",
    status_code=200,
    **declare(Role.CATALOG, Role.REVIEWER, body=DRAFT),
)
async def validate_product(data: JSONBody[ProductIn], ctx: Ctx) -> ValidationReport:
    """Dry run of the full validation (field and logic rules); writes nothing."""
    return await products.validate(ctx, data)


# The document's tag of this module's operations.
TAG = Tag(
    name="Products",
    description="Product records: create, read (now or as of a moment), change, list, export.",
)

ROUTES: list[ControllerRouterHandler] = [
    create_product,
    read_product,
    change_product,
    list_products,
    export_products,
    validate_product,
]
