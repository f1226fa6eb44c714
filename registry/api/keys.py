"""API keys over HTTP: admins list, make and revoke them."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.openapi.spec import Tag
from litestar.params import JSONBody, PathParameter
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx
from registry.api.policy import JSON, declare
from registry.domain import limits
from registry.domain.roles import Role
from registry.services import keys
from registry.services.keys import KeyOut, NewKey


class KeyIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Role
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.KEY_NAME)]


@get("/v1/keys", **declare())
async def list_keys(ctx: Ctx) -> list[KeyOut]:
    """Every key, revoked ones included, without the keys themselves (admin)."""
    return await keys.list_keys(ctx)


@post("/v1/keys", status_code=201, **declare(body=JSON))
async def create_key(data: JSONBody[KeyIn], ctx: Ctx, actor: Actor) -> NewKey:
    """Make a key for a role (admin); `key` is shown in this answer once and never again. The key records who made
    it, and the audit chain the event."""
    return await keys.issue(ctx, data.role.value, data.name, actor)


@delete("/v1/keys/{key_id:str}", status_code=204, **declare(problems=(404, 409)))
async def revoke_key(
    request: Request[Any, Any, Any], key_id: Annotated[str, PathParameter(max_length=limits.KEY_ID)], actor: Actor
) -> None:
    """Revoke a key (admin): refused at once here, and on every other instance within a second. The last active
    admin key is not revoked (409 `last-admin-key`)."""
    await request.app.state.keyring.revoke(key_id, actor)


# The document's tag of this module's operations.
TAG = Tag(
    name="Keys",
    description="API keys (admin).",
)

ROUTES: list[ControllerRouterHandler] = [list_keys, create_key, revoke_key]
