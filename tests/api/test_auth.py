"""Bearer keys and roles: 401 without a valid key, 403 for a role that may not, open routes only where meant."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, get
from litestar.routes import HTTPRoute
from sqlalchemy import select

from registry.api.policy import policy_of
from registry.app import create_app
from registry.config import Settings
from registry.domain import lifecycle
from registry.domain.lifecycle import Action
from registry.domain.roles import Role
from registry.models import ApiKey
from tests.api.conftest import Auth
from tests.samples import sk2

Client = httpx.AsyncClient
ROLES = tuple(Role)
OPEN = {"/health", "/ready", "/metrics"}

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
# A value for each path parameter: the sample record's, or one that names nothing (the role is checked first).
SAMPLES = {
    "sku": "SK2-FTE-230",
    "action": "submit",
    "filing_no": "2025110201",
    "name": "brands",
    "key_id": "k00000000000",
    "alert_id": "1",
}


def _matrix() -> list[tuple[str, str, str, frozenset[str]]]:
    """(method, path template, path, the roles that may): every API route, from its own declaration."""
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", scheduler=False))
    cases = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/v1/"):
            continue
        for handler in route.route_handlers:
            roles = policy_of(handler).roles
            for method in sorted(str(m) for m in handler.http_methods - {"OPTIONS", "HEAD"}):
                if "{action}" in route.path_format:  # a filing action: the route's roles, as the lifecycle grants each
                    for action in Action:
                        may = frozenset(r for r in roles if lifecycle.may(r, action))
                        path = route.path_format.format(**{**SAMPLES, "action": action.value})
                        cases.append((method, route.path_format, path, may))
                    continue
                cases.append((method, route.path_format, route.path_format.format(**SAMPLES), roles))
    return cases


MATRIX = _matrix()


def test_the_matrix_covers_every_operation_of_the_document() -> None:
    operations = {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        if path.startswith("/v1/")
        for method in item
        if method != "head"
    }
    assert operations == {(method, template) for method, template, _, _ in MATRIX}


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


@pytest.mark.parametrize(("method", "template", "path", "allowed"), MATRIX, ids=[f"{m} {p}" for m, _, p, _ in MATRIX])
async def test_roles(
    client: Client, auth: Auth, method: str, template: str, path: str, allowed: frozenset[str]
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
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
