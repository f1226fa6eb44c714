"""Bearer API keys and roles. Deny by default: a route is open only when marked public, else it names its roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.openapi.spec import Operation
from litestar.types import ASGIApp, Receive, Scope, Send

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


@dataclass
class PublicOperation(Operation):
    """A public route's OpenAPI operation: no security requirement, where the document's default is a key."""

    def __post_init__(self) -> None:
        self.security = []


def allow(*roles: Role) -> dict[str, Any]:
    """Route options naming the roles that may call it; admin may call every route."""
    return {"roles": frozenset(role.value for role in (*roles, Role.ADMIN))}


class AuthMiddleware:
    """Deny by default: 401 without a valid key, 403 for a role the route does not name, unless it is public.

    A middleware rather than a guard, and reading the raw headers, because the declaration path is counted in
    microseconds; a key verified once is then checked from memory (see KeyRing).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] == ScopeType.HTTP and handler is not None and not handler.opt.get("public"):
            scope["user"] = await self._principal(scope, handler.opt.get("roles", frozenset()))
        await self.app(scope, receive, send)

    @staticmethod
    async def _principal(scope: Scope, roles: frozenset[str]) -> Principal:
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("send an API key as 'Authorization: Bearer <key>'")
        ring: KeyRing = scope["litestar_app"].state.keyring
        principal = ring.cached(token) or await ring.resolve(token)
        if principal is None:
            raise NotAuthorizedException("the API key is not valid")
        if principal.role not in roles:
            raise PermissionDeniedException(f"the {principal.role} role may not do this")
        return principal


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.scope["user"]
    return principal
