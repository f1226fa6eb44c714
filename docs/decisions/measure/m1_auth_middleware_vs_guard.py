"""1. Bearer-key auth in a plain ASGI middleware (like registry.api.auth.AuthMiddleware) vs a Litestar guard.

Same route, same pre-encoded ~150-byte body, same dict look-up of the token, same role check against the
handler's opt. Driven in-process through ASGI (await app(scope, receive, send)), no server, no httpx.
"""
from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

from harness import SKU, TOKEN, base_scope, null_app, one, report, rounds, run_requests, versions
from litestar import Litestar, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
BODY = (
    b'{"sku":"SK2-FTE-230ML","filing_no":"2025110201","hs_code":"3304990000","tax_rate":"0.20",'
    b'"status":"filed","declarable":true,"valid_until":"2027-11-01"}'
)


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str


@dataclass(frozen=True)
class Policy:
    roles: frozenset[str] = frozenset()
    public: bool = False


DENIED = Policy()
POLICY = Policy(roles=frozenset({"declaration", "reviewer", "auditor", "admin"}))
KEYS: dict[str, Principal] = {TOKEN: Principal("k0001", "declaration")}
for i in range(1000):  # a realistically sized key cache
    KEYS[f"rk_k{i + 2:04d}_" + f"{i:043d}"] = Principal(f"k{i + 2:04d}", "catalog")


# --- A: plain ASGI middleware scanning scope["headers"] (the shape of registry.api.auth.AuthMiddleware) ------
class AuthMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        handler = scope.get("route_handler")
        if scope["type"] == "http" and handler is not None and scope["method"] != "OPTIONS":
            policy: Policy = handler.opt.get("policy", DENIED)
            if not policy.public:
                scope["user"] = self._principal(scope, policy.roles)
        await self.app(scope, receive, send)

    @staticmethod
    def _principal(scope: Any, roles: frozenset[str]) -> Principal:
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("send an API key as 'Authorization: Bearer <key>'")
        principal = KEYS.get(token)
        if principal is None:
            raise NotAuthorizedException("the API key is not valid")
        if principal.role not in roles:
            raise PermissionDeniedException(f"the {principal.role} role may not do this")
        return principal


# --- B: a Litestar guard reading connection.headers -----------------------------------------------------------
def _check(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    policy: Policy = handler.opt.get("policy", DENIED)
    if policy.public:
        return
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("send an API key as 'Authorization: Bearer <key>'")
    principal = KEYS.get(token)
    if principal is None:
        raise NotAuthorizedException("the API key is not valid")
    if principal.role not in policy.roles:
        raise PermissionDeniedException(f"the {principal.role} role may not do this")
    connection.scope["user"] = principal


async def auth_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    _check(connection, handler)


async def noop_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """What any guard costs before it does anything (Litestar passes each guard a copy of the handler)."""


def auth_guard_sync(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A plain `def` guard: Litestar wraps it in AsyncCallable, which runs it in a worker thread."""
    _check(connection, handler)


def make_handler(**kw: Any) -> Any:
    @get("/v1/lookup/{sku:str}", opt={"policy": POLICY}, **kw)
    async def lookup_one(sku: str) -> Response[bytes]:
        return Response(content=BODY, media_type="application/json")

    return lookup_one


app_mw = Litestar([make_handler()], middleware=[AuthMiddleware], debug=False, openapi_config=None)
app_guard = Litestar([make_handler(guards=[auth_guard])], debug=False, openapi_config=None)
app_guard_sync = Litestar([make_handler(guards=[auth_guard_sync])], debug=False, openapi_config=None)
app_noop_guard = Litestar([make_handler(guards=[noop_guard])], debug=False, openapi_config=None)
app_none = Litestar([make_handler()], debug=False, openapi_config=None)


async def main() -> None:
    print(versions())
    scope = base_scope(f"/v1/lookup/{SKU}")
    bad = base_scope(f"/v1/lookup/{SKU}", headers=[(b"authorization", b"Bearer nope")])
    anon = base_scope(f"/v1/lookup/{SKU}", headers=[])
    apps = {"A middleware": app_mw, "B guard (async def)": app_guard, "B' guard (def)": app_guard_sync}
    for name, app in {**apps, "no auth": app_none}.items():
        ok = await one(app, scope)
        assert ok.status == 200 and ok.body == BODY, (name, ok.status, ok.body)
        if app is not app_none:
            assert (await one(app, bad)).status == 401 and (await one(app, anon)).status == 401, name
    print(f"checks passed: 200 with the key, 401 without or with a wrong one; body {len(BODY)} bytes")

    assert (await one(app_noop_guard, scope)).body == BODY
    for app in (*apps.values(), app_none, app_noop_guard):  # warm-up
        await run_requests(app, scope, 2000)

    variants = {
        "A  ASGI middleware (scope['headers'])": lambda: run_requests(app_mw, scope, N),
        "B  guard, async def (connection.headers)": lambda: run_requests(app_guard, scope, N),
        "-  guard that does nothing (async def)": lambda: run_requests(app_noop_guard, scope, N),
        "-  no auth (reference)": lambda: run_requests(app_none, scope, N),
        "-  harness floor (null ASGI app)": lambda: run_requests(null_app, scope, N),
    }
    res = await rounds(variants, per=N)
    report(f"µs per request, {N:,} requests per round, 5 alternating rounds", res, "µs",
           base="A  ASGI middleware (scope['headers'])".strip())
    # The sync guard goes through a worker thread per request: fewer requests so the run stays short.
    n_sync = max(N // 10, 500)
    res_sync = await rounds(
        {
            "A  ASGI middleware": lambda: run_requests(app_mw, scope, n_sync),
            "B' guard, plain def (runs in a thread)": lambda: run_requests(app_guard_sync, scope, n_sync),
        },
        per=n_sync,
    )
    report(f"µs per request, {n_sync:,} requests per round (sync guard aside)", res_sync, "µs",
           base="A  ASGI middleware")


if __name__ == "__main__":
    asyncio.run(main())
