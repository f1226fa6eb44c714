"""Reference data over HTTP: read by the teams, its editions put by admins (dated, with a dry run of their impact)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import get, put
from litestar.openapi.spec import Tag
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx
from registry.api.policy import declare, json_body
from registry.api.schemas import YEARS
from registry.domain.reference import SET_NAMES
from registry.domain.roles import READERS
from registry.services import holds, reference
from registry.services.holds import ImpactOut
from registry.services.reference import EditionOut, SetOut, SetSummary

SetName = Annotated[str, PathParameter(max_length=32, schema_extra={"enum": list(SET_NAMES)})]
Day = Annotated[dt.date | None, QueryParameter(schema_extra={"pattern": YEARS})]
SET_BODY = json_body("ReferenceSetIn")


@get("/v1/reference", **declare(*READERS))
async def list_reference(ctx: Ctx) -> list[SetSummary]:
    """Every reference set's edition in force today, with its version and the day it took effect."""
    return await reference.list_sets(ctx)


@get("/v1/reference/{name:str}", **declare(*READERS, problems=(404,)))
async def read_reference(name: SetName, ctx: Ctx, on: Day = None) -> SetOut:
    """One reference set: the edition in force today, or on the day `on` names; its version and its data."""
    return await reference.get_set(ctx, name, on)


@get("/v1/reference/{name:str}/editions", **declare(*READERS, problems=(404,)))
async def list_editions(name: SetName, ctx: Ctx) -> list[EditionOut]:
    """Every edition of a reference set, newest first: the day it takes effect, who put it when, its source,
    SHA-256 and number of entries. Version 1 is the edition shipped with the service."""
    return await reference.editions(ctx, name)


@put("/v1/reference/{name:str}", **declare(body=SET_BODY, problems=(404,)))
async def replace_reference(
    name: SetName,
    data: JSONBody[Any],
    ctx: Ctx,
    actor: Actor,
    effective_from: Day = None,
    dry_run: FromQuery[bool] = False,
) -> SetOut | ImpactOut:
    """Put a new edition of a reference set as a whole (admin).

    The edition is in force from `effective_from` (default today; a past day for an edition loaded late):
    checked, versioned, recorded in history. An edition in force today is applied at once: filed records it
    fails are held, held ones it passes are released; a later one is applied as its day begins.

    With `dry_run=true` nothing is written: the answer is the edition's impact, every filed and under-review
    record re-validated against the reference in force on its day with and without it."""
    return await holds.put(ctx, name, data, actor, effective_from=effective_from, dry_run=dry_run)


# The document's tag of this module's operations.
TAG = Tag(
    name="Reference data",
    description="The customs reference sets the rules read.",
)

ROUTES: list[ControllerRouterHandler] = [list_reference, read_reference, list_editions, replace_reference]
