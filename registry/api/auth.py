"""Bearer API keys and roles. Deny by default: a route is open only when marked public, else it names its roles."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from registry.services.context import Context, Principal
from registry.services.keys import KeyRing


class Role(StrEnum):
    CATALOG = "catalog"
    REVIEWER = "reviewer"
    DECLARATION = "declaration"
    AUDITOR = "auditor"
    ADMIN = "admin"


READERS = (Role.CATALOG, Role.REVIEWER, Role.AUDITOR)

# What a handler is given: the service context, and who is calling.
Ctx = NamedDependency[Context]
Actor = NamedDependency[Principal]
PUBLIC: dict[str, Any] = {"public": True}


def allow(*roles: Role) -> dict[str, Any]:
    """Route options naming the roles that may call it; admin may call every route."""
    return {"roles": frozenset(role.value for role in (*roles, Role.ADMIN))}


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app-wide guard: 401 without a valid key, 403 for a role the route does not name."""
    if handler.opt.get("public"):
        return
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("send an API key as 'Authorization: Bearer <key>'")
    ring: KeyRing = connection.app.state.keyring
    principal = await ring.resolve(token.strip())
    if principal is None:
        raise NotAuthorizedException("the API key is not valid")
    if principal.role not in handler.opt.get("roles", frozenset()):
        raise PermissionDeniedException(f"the {principal.role} role may not do this")
    connection.scope["user"] = principal


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.scope["user"]
    return principal
