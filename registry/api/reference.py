"""Reference data over HTTP: read by the teams, replaced by admins."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, put
from litestar.params import JSONBody, PathParameter
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx
from registry.api.policy import declare, json_body
from registry.domain.reference import SET_NAMES
from registry.domain.roles import READERS
from registry.services import reference
from registry.services.reference import SetOut, SetSummary

SetName = Annotated[str, PathParameter(max_length=32, schema_extra={"enum": list(SET_NAMES)})]
SET_BODY = json_body("ReferenceSetIn")


@get("/v1/reference", **declare(*READERS))
async def list_reference(ctx: Ctx) -> list[SetSummary]:
    """Every reference set in force, with its version."""
    return await reference.list_sets(ctx)


@get("/v1/reference/{name:str}", **declare(*READERS, problems=(404,)))
async def read_reference(name: SetName, ctx: Ctx) -> SetOut:
    """One reference set in force: its version and its data."""
    return await reference.get_set(ctx, name)


@put("/v1/reference/{name:str}", **declare(body=SET_BODY, problems=(404,)))
async def replace_reference(name: SetName, data: JSONBody[Any], ctx: Ctx, actor: Actor) -> SetOut:
    """Replace a reference set as a whole (admin); checked, versioned, recorded in history."""
    return await reference.put_set(ctx, name, data, actor)


ROUTES: list[ControllerRouterHandler] = [list_reference, read_reference, replace_reference]
