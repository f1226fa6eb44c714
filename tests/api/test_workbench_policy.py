"""The workbench grants what the API grants, and answers as a browser expects: a page per role as the API's
declarations allow, sign-in failures counted with the API's, a form's change only at the version it was read at,
303 after a change, and errors as pages in the session's language."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.api.conftest import Auth
from tests.api.test_workbench import SKU, key_for, post_form, sign_in, token_of
from tests.samples import sk2

Client = httpx.AsyncClient
PAGES = ("/ui/review", "/ui/products", f"/ui/products/{SKU}", "/ui/alerts")


async def test_a_declaration_key_reads_through_the_workbench_nothing_the_api_refuses_it(
    app: Litestar, client: Client, auth: Auth
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    for path in ("/v1/products", f"/v1/products/{SKU}", "/v1/alerts", "/v1/stats/filings"):
        assert (await client.get(path, headers=auth("declaration"))).status_code == 403, path
    assert (await sign_in(client, await key_for(app, "declaration"), "en")).status_code == 303
    for path in PAGES:
        page = await client.get(path)
        assert page.status_code == 403, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "may not" in page.text, path
    dashboard = await client.get("/ui/")
    assert dashboard.status_code == 200
    for link in PAGES:
        assert f'href="{link}"' not in dashboard.text
    assert "svg" not in dashboard.text  # no statistics: the API refuses them to this role


async def test_a_catalog_key_sees_no_statistics_and_may_not_acknowledge_alerts(
    app: Litestar, client: Client, auth: Auth
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    alert = await client.post("/v1/alerts/1/ack", headers=auth("catalog"))
    assert alert.status_code == 403  # the API's answer, for any alert
    assert (await sign_in(client, await key_for(app, "catalog"))).status_code == 303
    dashboard = await client.get("/ui/")
    assert dashboard.status_code == 200
    assert "<svg" not in dashboard.text
    assert f'href="/ui/products/{SKU}"' in (await client.get("/ui/products")).text
    alerts = await client.get("/ui/alerts")
    assert alerts.status_code == 200
    assert "/ack" not in alerts.text
    refused = await post_form(client, "/ui/alerts", "/ui/alerts/1/ack", {})
    assert refused.status_code == 403
    assert "无权" in refused.text


async def test_sign_in_failures_count_with_the_apis_and_are_refused_past_the_limit(
    app: Litestar, client: Client
) -> None:
    limit = app.state.settings.failed_auth_limit
    for _ in range(limit - 5):
        assert (await sign_in(client, "rk_nope_nothing")).status_code == 401
    for _ in range(5):  # the API's failures from the same address count too
        assert (await client.get("/v1/alerts", headers={"Authorization": "Bearer rk_nope"})).status_code == 401
    refused = await sign_in(client, "rk_nope_nothing")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"].startswith("text/html")
    assert (await client.get("/v1/alerts", headers={"Authorization": "Bearer rk_x"})).status_code == 429
    # A good key is still refused from this address until the window ends: the limit says nothing of keys.
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 429


async def test_a_form_without_the_version_is_refused_in_words_and_changes_nothing(
    app: Litestar, client: Client, auth: Auth
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "catalog"))).status_code == 303
    page = f"/ui/products/{SKU}"
    for action, data in ((f"{page}/fields", {"brand": "Y"}), (f"{page}/filing/submit", {})):
        refused = await post_form(client, page, action, {**data, "version": None})
        assert refused.status_code == 428, action
        assert "版本" in refused.text, action
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (record["version"], record["brand"], record["filing"]["status"]) == (1, "SK-II", "unfiled")


async def test_a_change_answers_303_to_the_record_and_a_reload_does_not_post_again(
    app: Litestar, client: Client, auth: Auth
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "catalog"), "en")).status_code == 303
    page = await client.get(f"/ui/products/{SKU}")
    form = {"version": "1", "brand": "SK-II Japan", "_csrf_token": token_of(page)}
    changed = await client.post(f"/ui/products/{SKU}/fields", data=form, follow_redirects=False)
    assert changed.status_code == 303
    assert changed.headers["location"].startswith(f"/ui/products/{SKU}?")
    shown = await client.get(changed.headers["location"])
    assert shown.status_code == 200
    assert "Done" in shown.text
    submitted = await client.post(
        f"/ui/products/{SKU}/filing/submit", data={"version": "2", "_csrf_token": token_of(page)}
    )
    assert submitted.status_code == 303
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (record["version"], record["filing"]["status"]) == (3, "under_review")


@pytest.mark.parametrize(("lang", "words"), [("zh", "未找到"), ("en", "Not found")])
async def test_workbench_errors_are_pages_in_the_sessions_language(
    app: Litestar, client: Client, lang: str, words: str
) -> None:
    assert (await sign_in(client, await key_for(app, "reviewer"), lang)).status_code == 303
    missing = await client.get("/ui/products/NOPE")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert words in missing.text
    assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in missing.text
    cursor = await client.get("/ui/review", params={"cursor": "not-a-cursor"})
    assert cursor.status_code == 400
    assert cursor.headers["content-type"].startswith("text/html")
    unknown = await client.get("/ui/review", params={"nope": "1"})
    assert unknown.status_code == 400
    assert unknown.headers["content-type"].startswith("text/html")


async def test_a_field_sent_as_a_file_is_refused_not_stored(app: Litestar, client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "catalog"))).status_code == 303
    page = await client.get(f"/ui/products/{SKU}")
    refused = await client.post(
        f"/ui/products/{SKU}/fields",
        data={"version": "1", "_csrf_token": token_of(page)},
        files={"brand": ("a.txt", b"Evil", "text/plain")},
    )
    assert refused.status_code == 400
    assert "brand" in refused.text
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (record["version"], record["brand"]) == (1, "SK-II")


async def test_a_refused_decision_keeps_what_was_typed_and_says_why(app: Litestar, client: Client, auth: Auth) -> None:
    for sku in (SKU, "SK2-OTHER"):
        await client.post("/v1/products", json=sk2(sku=sku), headers=auth("catalog"))
        await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))
    approve = {"filing_no": "2026000001", "valid_until": "2029-01-01"}
    assert (await client.post(f"/v1/products/{SKU}/filing/approve", json=approve, headers=auth("reviewer"))).is_success
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303
    refused = await post_form(client, "/ui/products/SK2-OTHER", "/ui/products/SK2-OTHER/filing/approve", approve)
    assert refused.status_code == 409
    assert "备案编号已被其他商品使用" in refused.text
    assert 'value="2026000001"' in refused.text
    assert 'value="2029-01-01"' in refused.text
    record = (await client.get("/v1/products/SK2-OTHER", headers=auth("auditor"))).json()
    assert record["filing"]["status"] == "under_review"


async def test_a_csrf_token_that_is_not_ascii_or_is_a_file_is_refused_not_a_failure(client: Client) -> None:
    form = await client.get("/ui/sign-in")
    assert form.status_code == 200
    for data, files in (({"_csrf_token": "é" * 65, "key": "x"}, None), ({"key": "x"}, {"_csrf_token": ("t", b"a")})):
        refused = await client.post("/ui/sign-in", data=data, files=files)
        assert refused.status_code == 403, refused.text[:200]
