"""Bearer keys and roles: 401 without a valid key, 403 for a role that may not, open routes only where meant."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from litestar import Litestar, get
from sqlalchemy import select

from registry.api.policy import policy_of
from registry.domain.roles import Role
from registry.models import ApiKey
from tests.api.conftest import Auth
from tests.samples import sk2

Client = httpx.AsyncClient
ROLES = tuple(Role)
OPEN = {"/health", "/ready", "/metrics"}

# (method, path, body, roles that may)
MATRIX = [
    ("POST", "/v1/products", sk2(sku="NEW-1"), {"catalog", "admin"}),
    ("GET", "/v1/products", None, {"catalog", "reviewer", "auditor", "admin"}),
    ("GET", "/v1/products/SK2-FTE-230", None, {"catalog", "reviewer", "auditor", "admin"}),
    ("PATCH", "/v1/products/SK2-FTE-230", {"usage": "早晚"}, {"catalog", "admin"}),
    ("POST", "/v1/products:validate", sk2(), {"catalog", "reviewer", "admin"}),
    ("GET", "/v1/reference", None, {"catalog", "reviewer", "auditor", "admin"}),
    ("GET", "/v1/reference/brands", None, {"catalog", "reviewer", "auditor", "admin"}),
    ("PUT", "/v1/reference/positive-list", [{"tariff_line": "33049900"}], {"admin"}),
]


def test_every_route_is_guarded_or_deliberately_open(app: Litestar) -> None:
    for route in app.routes:
        for handler in route.route_handlers:  # type: ignore[union-attr]
            policy = policy_of(handler)
            if policy.public and route.path.startswith("/ui"):
                # The workbench's pages: each reads its session itself (tests/api/test_workbench.py).
                assert handler.opt.get("page") or route.path.startswith("/ui/static"), route.path
            elif policy.public:
                assert route.path in OPEN or route.path.startswith("/schema"), route.path
            elif handler.http_methods != {"OPTIONS"}:
                assert policy.roles, f"{route.path} {handler.http_methods} names no roles"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
async def test_roles(client: Client, auth: Auth, method: str, path: str, body: object, allowed: set[str]) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for role in ROLES:
        headers = {**auth(role), "If-Match": "*"}
        response = await client.request(method, path, json=body, headers=headers)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
            assert response.status_code < 500
        else:
            assert response.status_code == 403, role
            assert response.json()["status"] == 403


@pytest.mark.parametrize(
    "header",
    ["Bearer rk_0000_nothing", "Bearer ", "Basic dXNlcjpwYXNz", "rk_abc", "Bearer rk_"],
)
async def test_a_key_that_is_not_valid_is_401(client: Client, header: str) -> None:
    response = await client.get("/v1/products", headers={"Authorization": header})
    assert response.status_code == 401


async def test_a_key_with_a_wrong_secret_is_401(client: Client, keys: dict[str, str]) -> None:
    forged = keys["admin"][:-4] + ("AAAA" if not keys["admin"].endswith("AAAA") else "BBBB")
    response = await client.get("/v1/products", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_keys_are_stored_hashed(app: Litestar, keys: dict[str, str]) -> None:
    async with app.state.ctx.db.reads() as tx:
        rows = {row.role: row for row in (await tx.scalars(select(ApiKey))).all()}
    for role, key in keys.items():
        secret = key.split("_", 2)[2]
        assert rows[role].key_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in rows[role].key_hash
        assert key.split("_")[1] == rows[role].key_id


async def test_a_route_without_roles_is_denied(app: Litestar, client: Client, auth: Auth) -> None:
    @get("/v1/forgotten")
    async def forgotten() -> str:
        return "open?"

    app.register(forgotten)
    assert (await client.get("/v1/forgotten")).status_code == 401
    assert (await client.get("/v1/forgotten", headers=auth("admin"))).status_code == 403
    assert (await client.options("/v1/products")).status_code == 204  # OPTIONS names methods, needs no key


async def test_open_routes_need_no_key(client: Client) -> None:
    for path in ("/health", "/ready", "/metrics", "/schema/openapi.json"):
        assert (await client.get(path)).status_code == 200, path
