"""HTTP caching as RFC 9110 and 9111 say: strong ETags, If-None-Match by weak comparison and `*`, HEAD, a
Cache-Control that makes a cache revalidate, and OPTIONS answered where it is advertised."""

from __future__ import annotations

import datetime as dt

import httpx

from tests.api.conftest import Auth, file_product
from tests.samples import TODAY, sk2

Client = httpx.AsyncClient
SKU = "SK2-FTE-230"


async def test_a_look_up_revalidates_by_weak_comparison_and_star(client: Client, auth: Auth) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=365))
    url, headers = f"/v1/lookup/{SKU}", auth("declaration")
    first = await client.get(url, headers=headers)
    tag = first.headers["etag"]
    assert not tag.startswith("W/")
    assert first.headers["cache-control"] == "private, max-age=0, must-revalidate"
    for condition in (tag, f"W/{tag}", '"0-0", ' + tag, "*"):
        again = await client.get(url, headers={**headers, "If-None-Match": condition})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag), condition
    assert (await client.get(url, headers={**headers, "If-None-Match": '"0-0"'})).status_code == 200
    unknown = await client.get("/v1/lookup/NOPE", headers={**headers, "If-None-Match": "*"})
    assert unknown.status_code == 404


async def test_head_answers_like_get_without_a_body(client: Client, auth: Auth) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=365))
    for url, role in ((f"/v1/lookup/{SKU}", "declaration"), (f"/v1/products/{SKU}", "catalog")):
        got = await client.get(url, headers=auth(role))
        head = await client.head(url, headers=auth(role))
        assert (head.status_code, head.content) == (200, b""), url
        assert head.headers["etag"] == got.headers["etag"]
        assert head.headers["content-length"] == got.headers["content-length"]
        assert (await client.head("/v1/lookup/NOPE", headers=auth("declaration"))).status_code == 404


async def test_a_record_read_answers_304_to_its_etag(client: Client, auth: Auth) -> None:
    created = await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    url = f"/v1/products/{SKU}"
    for condition in ('"1"', 'W/"1"', "*"):
        again = await client.get(url, headers={**auth("catalog"), "If-None-Match": condition})
        assert (again.status_code, again.headers["etag"]) == (304, created.headers["etag"]), condition
    await client.patch(url, json={"spec": "200 ml"}, headers={**auth("catalog"), "If-Match": '"1"'})
    changed = await client.get(url, headers={**auth("catalog"), "If-None-Match": '"1"'})
    assert (changed.status_code, changed.headers["etag"]) == (200, '"2"')
    assert changed.headers["cache-control"] == "private, max-age=0, must-revalidate"


async def test_options_is_answered_where_it_is_advertised(client: Client, auth: Auth) -> None:
    refused = await client.delete(f"/v1/products/{SKU}", headers=auth("catalog"))
    assert refused.status_code == 405
    assert "OPTIONS" in refused.headers["allow"]
    answered = await client.options(f"/v1/products/{SKU}")
    assert answered.status_code == 204
    assert {"GET", "HEAD", "PATCH"} <= {m.strip() for m in answered.headers["allow"].split(",")}


async def test_requests_that_match_no_route_are_counted(client: Client, auth: Auth) -> None:
    assert (await client.get("/v1/no-such-thing", headers=auth("catalog"))).status_code == 404
    assert (await client.delete(f"/v1/products/{SKU}", headers=auth("catalog"))).status_code == 405
    metrics = (await client.get("/metrics")).text
    assert 'registry_requests_total{method="GET",path="unmatched",status_code="404"}' in metrics
    assert 'registry_requests_total{method="DELETE",path="unmatched",status_code="405"}' in metrics


async def test_one_problem_for_malformed_json_on_every_route(client: Client, auth: Auth) -> None:
    problems = []
    for path, role in (("/v1/products", "catalog"), ("/v1/lookup", "declaration"), ("/v1/keys", "admin")):
        response = await client.post(path, content=b"{bad", headers={**auth(role), "Content-Type": "application/json"})
        assert response.status_code == 400
        body = response.json()
        problems.append((body["type"], body["title"]))
    assert set(problems) == {("urn:registry:problem:malformed-json", "Malformed JSON")}
    blank = (await client.get("/v1/no-such-thing", headers=auth("catalog"))).json()
    assert (blank["type"], blank["title"]) == ("about:blank", "Not Found")
    refused = await client.post("/v1/products", content=b"x", headers={**auth("catalog"), "Content-Type": "text/plain"})
    assert "problem+json" not in refused.json()["detail"]
