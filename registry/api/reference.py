"""Reference data over HTTP: read by the teams, replaced by admins."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, put
from litestar.params import JSONBody, PathParameter
from litestar.types import ControllerRouterHandler

from registry.api.auth import READERS, Actor, Ctx, allow
from registry.api.errors import problems
from registry.services import reference
from registry.services.reference import SetOut, SetSummary

SetName = Annotated[str, PathParameter(max_length=32)]


@get("/v1/reference", opt=allow(*READERS), responses=problems(401, 403))
async def list_reference(ctx: Ctx) -> list[SetSummary]:
    """Every reference set in force, with its version."""
    return await reference.list_sets(ctx)


@get("/v1/reference/{name:str}", opt=allow(*READERS), responses=problems(400, 401, 403, 404))
async def read_reference(name: SetName, ctx: Ctx) -> SetOut:
    """One reference set in force: its version and its data."""
    return await reference.get_set(ctx, name)


@put("/v1/reference/{name:str}", opt=allow(), responses=problems(400, 401, 403, 404, 413, 415, 422))
async def replace_reference(name: SetName, data: JSONBody[Any], ctx: Ctx, actor: Actor) -> SetOut:
    """Replace a reference set as a whole (admin); checked, versioned, recorded in history."""
    return await reference.put_set(ctx, name, data, actor)


ROUTES: list[ControllerRouterHandler] = [list_reference, read_reference, replace_reference]
