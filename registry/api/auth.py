"""Bearer API keys. Deny by default: a route is open only when its policy says so, else its policy names its roles."""

from __future__ import annotations

import math
import time
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, TooManyRequestsException
from litestar.types import ASGIApp, Receive, Scope, Send

from registry.api.policy import policy_of
from registry.services.context import Context, Principal
from registry.services.keys import KeyRing

# What a handler is given: the service context, and who is calling.
Ctx = NamedDependency[Context]
Actor = NamedDependency[Principal]


class FailedAuthentications:
    """Failed authentications per client address, one count for the API and the workbench's sign-in (the
    application's `state.failures`). Past `limit` within `window` seconds, a key that is not already trusted is
    refused with 429 until the window ends, without a database read."""

    def __init__(self, limit: int = 20, window: float = 60.0, max_clients: int = 100_000) -> None:
        self.limit, self.window, self.max_clients = limit, window, max_clients
        self._failures: dict[str, tuple[float, int]] = {}

    def wait(self, client: str) -> float:
        """Seconds until `client` may try a key again; 0 when it may now."""
        start, count = self._failures.get(client, (0.0, 0))
        left = start + self.window - time.monotonic()
        return left if count >= self.limit and left > 0 else 0.0

    def check(self, client: str) -> None:
        """Refuse `client` with 429 while it may not try a key (the API and the workbench's sign-in alike)."""
        if wait := self.wait(client):
            raise TooManyRequestsException(
                "too many failed authentications from this address; try again later",
                headers={"Retry-After": str(math.ceil(wait))},
            )

    def failed(self, client: str) -> None:
        now = time.monotonic()
        start, count = self._failures.get(client, (now, 0))
        if now - start > self.window:
            start, count = now, 0
        if len(self._failures) >= self.max_clients:  # bounded memory, whatever the number of addresses
            self._failures.clear()
        self._failures[client] = (start, count + 1)


def client_address(scope: Scope) -> str:
    address = scope.get("client")
    return address[0] if address else ""


class AuthMiddleware:
    """Deny by default: 401 without a valid key, 403 for a role the route does not name, unless it is public.

    A middleware rather than a guard, and reading the raw headers, because the declaration path is counted in
    microseconds; a key verified once is then checked from memory (see KeyRing).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        # OPTIONS is answered for every route (Litestar's own handler: 204 and Allow), key or not: it reveals
        # nothing the OpenAPI document does not.
        if scope["type"] == ScopeType.HTTP and handler is not None and scope["method"] != "OPTIONS":
            policy = policy_of(handler)
            if not policy.public:
                scope["user"] = await self._principal(scope, policy.roles)
        await self.app(scope, receive, send)

    async def _principal(self, scope: Scope, roles: frozenset[str]) -> Principal:
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("send an API key as 'Authorization: Bearer <key>'")
        ring: KeyRing = scope["litestar_app"].state.keyring
        principal = ring.cached(token)
        if principal is None:
            failures: FailedAuthentications = scope["litestar_app"].state.failures
            client = client_address(scope)
            if not ring.trusted(token):
                failures.check(client)
            principal = await ring.resolve(token)
            if principal is None:
                failures.failed(client)
                raise NotAuthorizedException("the API key is not valid")
        if principal.role not in roles:
            raise PermissionDeniedException(f"the {principal.role} role may not do this")
        return principal


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.scope["user"]
    return principal
