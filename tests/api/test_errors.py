"""Every failure is RFC 9457 problem+json; none leaks a stack trace or SQL."""

from __future__ import annotations

import httpx
from litestar import Litestar, get
from sqlalchemy import text

from registry.api.policy import declare
from registry.domain.roles import Role
from tests.api.conftest import Auth
from tests.samples import sk2

Client = httpx.AsyncClient
PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["title"]
    for leak in ("Traceback", 'File "', "SELECT", "sqlalchemy", "sqlite3"):
        assert leak not in response.text, leak  # type: ignore[attr-defined]
    return body


async def test_unknown_path_is_404(client: Client, auth: Auth) -> None:
    assert_problem(await client.get("/v1/nowhere", headers=auth("admin")), 404)


async def test_wrong_method_is_405(client: Client, auth: Auth) -> None:
    assert_problem(await client.delete("/v1/products/SK2-FTE-230", headers=auth("admin")), 405)


async def test_oversized_body_is_413_and_writes_nothing(client: Client, auth: Auth) -> None:
    record = sk2(usage="x" * (2 * 1024 * 1024))
    assert_problem(await client.post("/v1/products", json=record, headers=auth("catalog")), 413)
    assert (await client.get("/v1/products", headers=auth("catalog"))).json()["items"] == []


async def test_a_body_that_is_not_json_is_415(client: Client, auth: Auth) -> None:
    response = await client.post(
        "/v1/products",
        content=b"sku=A",
        headers={**auth("catalog"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


async def test_malformed_json_is_400(client: Client, auth: Auth) -> None:
    response = await client.post(
        "/v1/products", content=b'{"sku": "A",', headers={**auth("catalog"), "Content-Type": "application/json"}
    )
    assert_problem(response, 400)


async def test_an_unexpected_failure_is_a_bare_500(app: Litestar, client: Client, auth: Auth) -> None:
    @get("/v1/boom", **declare(Role.CATALOG))
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.register(boom)
    body = assert_problem(await client.get("/v1/boom", headers=auth("catalog")), 500)
    assert "hunter2" not in str(body)
    assert "RuntimeError" not in str(body)


async def test_a_database_failure_leaks_no_sql(app: Litestar, client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    async with app.state.ctx.db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE history_event"))
    response = await client.patch(
        "/v1/products/SK2-FTE-230", json={"spec": "100 ml"}, headers={**auth("catalog"), "If-Match": '"1"'}
    )
    assert response.status_code >= 500
    assert_problem(response, response.status_code)
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).json()["spec"] == "230 ml"
