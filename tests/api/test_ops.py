"""Health, readiness, metrics, and the committed OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text

from tests.api.conftest import Auth

Client = httpx.AsyncClient
COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


async def test_health(client: Client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_migrated_and_not_when_behind(app: Litestar, client: Client) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    async with app.state.ctx.db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    behind = await client.get("/ready")
    assert behind.status_code == 503
    assert behind.headers["content-type"] == "application/problem+json"


async def test_metrics_count_requests_by_route(client: Client, auth: Auth) -> None:
    await client.get("/v1/products/ANY-SKU-1", headers=auth("catalog"))
    body = (await client.get("/metrics")).text
    assert "registry_requests_total" in body
    assert 'path="/v1/products/{sku}"' in body
    assert "registry_request_duration_seconds_bucket" in body


async def test_the_served_openapi_document_is_the_committed_one(client: Client) -> None:
    served = (await client.get("/schema/openapi.json")).json()
    assert served == json.loads(COMMITTED.read_text()), "run `make openapi` and commit openapi/openapi.json"


async def test_every_guarded_route_declares_its_error_statuses(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                statuses = set(operation["responses"])
                assert {"401", "403"} <= statuses, f"{method} {path}"
                for status in statuses - {"200", "201", "204", "304"}:
                    response = operation["responses"][status]
                    if method == "head":  # the GET's statuses and headers, never a body
                        assert "content" not in response, f"{method} {path} {status}"
                        continue
                    assert "application/problem+json" in response["content"], f"{method} {path} {status}"


async def test_the_browsable_reference_needs_no_other_site(client: Client) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls, "the page loads its script and style"
    for url in urls:
        assert not url.startswith(("http:", "https:", "//")), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 10_000, url


@pytest.mark.parametrize("path", ["/schema/redoc", "/schema/nothing", "/schema/openapi.yaml", "/schema/assets/no.js"])
async def test_a_page_the_reference_does_not_have_is_a_404_problem(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
