"""Filing actions, history, audit and filing-number look-ups over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.spec import Tag
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx
from registry.api.etag import etag, expected_version
from registry.api.lookup import SkusIn
from registry.api.policy import JSON, declare, json_body
from registry.api.schemas import YEARS
from registry.domain import limits
from registry.domain.errors import NotFound
from registry.domain.lifecycle import Action, ActionIn, ReviewIn
from registry.domain.records import ProductOut
from registry.domain.roles import READERS, Role
from registry.services import filings, history, lookup, stats
from registry.services.filings import SubmitReport
from registry.services.history import EventOut, VerifyOut
from registry.services.lookup import FilingOut
from registry.services.stats import FilingStats

SkuPath = Annotated[str, PathParameter(max_length=limits.SKU)]
ACTION_BODY = json_body("ActionIn", required=False)  # submit and amend need none


@post(
    "/v1/products/{sku:str}/filing/{action:str}",
    status_code=200,
    **declare(
        Role.CATALOG, Role.REVIEWER, body=ACTION_BODY, if_match="optional", problems=(404, 409), answers=("ETag",)
    ),
)
async def filing_action(
    request: Request[Any, Any, Any],
    sku: SkuPath,
    # An action not in the list is no resource of this path: 404, not 400.
    action: Annotated[str, PathParameter(max_length=16, schema_extra={"enum": [a.value for a in Action]})],
    ctx: Ctx,
    actor: Actor,
    data: JSONBody[ActionIn | None] = None,
) -> Response[ProductOut]:
    """Take a filing action: submit, approve {filing_no, valid_until}, reject {reasons}, amend, expire {reason}."""
    try:
        chosen = Action(action)
    except ValueError:
        raise NotFound(f"no filing action {action!r}; the actions are {', '.join(a.value for a in Action)}") from None
    version = expected_version(request)
    out = await filings.act(ctx, sku, chosen, data or ActionIn(), version, actor)
    return Response(out, headers={"ETag": etag(out.version)})


@post("/v1/filings:submit", status_code=200, **declare(Role.CATALOG, body=JSON))
async def submit_filings(data: JSONBody[SkusIn], ctx: Ctx, actor: Actor) -> SubmitReport:
    """Submit 1–1000 records for filing, each in its own transaction with its own history event.

    One refusal does not stop the others: `submitted` lists the SKUs now under review, `refused` each refused SKU
    with its violations (the rules it fails, or a status that cannot be submitted), `missing` the unknown SKUs.
    """
    return await filings.submit_batch(ctx, data.skus, actor)


@post("/v1/products/{sku:str}/reviews", status_code=201, **declare(Role.REVIEWER, body=JSON, problems=(404, 409)))
async def review_filing(sku: SkuPath, data: JSONBody[ReviewIn], ctx: Ctx, actor: Actor) -> EventOut:
    """Record a periodic review of a filed record: its history event (action `review`; the status and the
    version stay as they are) starts the review interval again and acknowledges the open review_due alert."""
    return await filings.review(ctx, sku, data, actor)


@get("/v1/stats/filings", **declare(Role.REVIEWER, Role.AUDITOR))
async def filing_stats(
    ctx: Ctx,
    start: Annotated[dt.date | None, QueryParameter(name="from", schema_extra={"pattern": YEARS})] = None,
    end: Annotated[dt.date | None, QueryParameter(name="to", schema_extra={"pattern": YEARS})] = None,
) -> FilingStats:
    """Filing statistics of the days `from` to `to` (both included; by default the twelve weeks to today).

    `submissions` counts every submit, passed or refused; `first_pass_rate` is the share of records whose first
    submit in the window passed; `by_rule` how many submits each rule refused, most first; `review_hours` the
    median and 90th percentile from a passed submit to the reviewer's decision; `filed_by_week` the approvals of
    each ISO week. `backlog` is the queue now: records under review, the oldest submission, and the same for the
    best sellers (`a`: `monthly_units` at or above the 80th percentile, `threshold`) and the rest.
    """
    return await stats.filings(ctx, start, end)


class HistoryOut(msgspec.Struct):
    sku: str
    items: list[EventOut]


@get("/v1/products/{sku:str}/history", **declare(*READERS, problems=(404,)))
async def product_history(sku: SkuPath, ctx: Ctx) -> HistoryOut:
    """Every change of the record, oldest first."""
    return HistoryOut(sku, await history.of_product(ctx, sku))


@get("/v1/audit/verify", **declare(Role.AUDITOR))
async def verify_audit(ctx: Ctx) -> VerifyOut:
    """Walk the history's hash chain and re-derive its snapshots: `first_bad_seq` names the first event that does
    not hold, or the event after which a snapshot disagrees with the events."""
    return await history.verify(ctx)


@get(
    "/v1/filings/{filing_no:str}",
    **declare(Role.DECLARATION, Role.REVIEWER, Role.AUDITOR, problems=(404,)),
)
async def filing_by_number(filing_no: Annotated[str, PathParameter(max_length=10)], ctx: Ctx) -> FilingOut:
    """A filing number's SKU and declaration data; an old number names the one that superseded it."""
    return await lookup.by_filing_no(ctx, filing_no)


# The document's tag of this module's operations.
TAG = Tag(
    name="Filings and history",
    description="The filing lifecycle, batch submission, periodic reviews, statistics, each record's history, "
    "the audit.",
)

ROUTES: list[ControllerRouterHandler] = [
    submit_filings,
    filing_action,
    review_filing,
    filing_stats,
    product_history,
    verify_audit,
    filing_by_number,
]
