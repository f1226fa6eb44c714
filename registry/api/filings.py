"""Filing actions, history, audit and filing-number look-ups over HTTP."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.params import HeaderParameter, JSONBody, PathParameter
from litestar.types import ControllerRouterHandler

from registry.api.auth import READERS, Actor, Ctx, Role, allow
from registry.api.errors import problems
from registry.api.etag import etag, expected_version
from registry.domain import limits
from registry.domain.errors import NotFound
from registry.domain.lifecycle import Action, ActionIn
from registry.domain.records import ProductOut
from registry.services import filings, history, lookup
from registry.services.history import EventOut, VerifyOut
from registry.services.lookup import FilingOut

SkuPath = Annotated[str, PathParameter(max_length=limits.SKU)]


@post(
    "/v1/products/{sku:str}/filing/{action:str}",
    opt=allow(Role.CATALOG, Role.REVIEWER),
    status_code=200,
    responses=problems(400, 401, 403, 404, 409, 412, 413, 415, 422),
)
async def filing_action(
    sku: SkuPath,
    action: Annotated[str, PathParameter(max_length=16)],
    ctx: Ctx,
    actor: Actor,
    data: JSONBody[ActionIn | None] = None,
    if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
) -> Response[ProductOut]:
    """submit, approve {filing_no, valid_until}, reject {reasons}, amend, expire {reason}."""
    try:
        chosen = Action(action)
    except ValueError:
        raise NotFound(f"no filing action {action!r}; the actions are {', '.join(a.value for a in Action)}") from None
    version = expected_version(if_match, required=False)
    out = await filings.act(ctx, sku, chosen, data or ActionIn(), version, actor)
    return Response(out, headers={"ETag": etag(out.version)})


class HistoryOut(msgspec.Struct):
    sku: str
    items: list[EventOut]


@get("/v1/products/{sku:str}/history", opt=allow(*READERS), responses=problems(400, 401, 403, 404))
async def product_history(sku: SkuPath, ctx: Ctx) -> HistoryOut:
    """Every change of the record, oldest first."""
    return HistoryOut(sku, await history.of_product(ctx, sku))


@get("/v1/audit/verify", opt=allow(Role.AUDITOR), responses=problems(401, 403))
async def verify_audit(ctx: Ctx) -> VerifyOut:
    """Walk the history's hash chain: `first_bad_seq` names the first event that does not hold."""
    return await history.verify(ctx)


@get(
    "/v1/filings/{filing_no:str}",
    opt=allow(Role.DECLARATION, Role.REVIEWER, Role.AUDITOR),
    responses=problems(400, 401, 403, 404),
)
async def filing_by_number(filing_no: Annotated[str, PathParameter(max_length=10)], ctx: Ctx) -> FilingOut:
    """A filing number's SKU and declaration data; an old number names the one that superseded it."""
    return await lookup.by_filing_no(ctx, filing_no)


ROUTES: list[ControllerRouterHandler] = [filing_action, product_history, verify_audit, filing_by_number]
