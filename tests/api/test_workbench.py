"""The reviewer workbench over HTTP: sessions, CSRF, roles, languages and the headers every page carries; the
review round trip (reject with reasons, fix, resubmit, approve) through its forms."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar

from registry.services import keys
from tests.api.conftest import Auth
from tests.samples import sk2

Client = httpx.AsyncClient
SKU = "SK2-FTE-230"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def key_for(app: Litestar, role: str) -> str:
    return await keys.create(app.state.ctx, role, f"workbench {role}")


def token_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(client: Client, key: str, lang: str = "zh") -> httpx.Response:
    form = await client.get("/ui/sign-in", params={"lang": lang})
    return await client.post(
        "/ui/sign-in", data={"key": key, "lang": lang, "_csrf_token": token_of(form)}, follow_redirects=False
    )


VERSION = re.compile(r'name="version" value="([0-9]+)"')


async def post_form(client: Client, page_url: str, action: str, data: dict[str, Any]) -> httpx.Response:
    """A form posted from its page, as a browser does: with the page's CSRF token and, when the page shows the
    record's version, that version (unless `data` names one, or `version=None` leaves it out); redirects followed."""
    page = await client.get(page_url)
    found = VERSION.search(page.text)
    form = {"version": found.group(1)} if found else {}
    form = {key: value for key, value in {**form, **data}.items() if value is not None}
    return await client.post(action, data={**form, "_csrf_token": token_of(page)}, follow_redirects=True)


async def test_no_session_gets_the_sign_in_page(client: Client) -> None:
    for path in ("/ui/", "/ui/review", "/ui/products", f"/ui/products/{SKU}", "/ui/alerts"):
        response = await client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/ui/sign-in"), path
    page = await client.get("/ui/sign-in")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text
    assert "登录" in page.text
    english = await client.get("/ui/sign-in", params={"lang": "en"})
    assert 'lang="en"' in english.text
    assert "Sign in" in english.text


async def test_every_page_carries_the_security_headers(app: Litestar, client: Client) -> None:
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303
    for path in ("/ui/sign-in", "/ui/", "/ui/review", "/ui/products", "/ui/alerts", "/ui/static/ui.css"):
        response = await client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
            assert directive in policy, path
        assert "'unsafe-inline'" not in policy, path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "same-origin", path
    # No script but the service's own keyboard script, served from /ui/static (no inline script, no other origin).
    scripts = re.findall(r"<script[^>]*>", (await client.get("/ui/")).text)
    assert scripts == ['<script src="/ui/static/keys.js" defer>']


async def test_the_session_cookie_is_http_only_and_strict_and_ends_with_sign_out(app: Litestar, client: Client) -> None:
    signed = await sign_in(client, await key_for(app, "reviewer"))
    cookies = [value for name, value in signed.headers.multi_items() if name == "set-cookie"]
    cookie = next(value for value in cookies if value.startswith("registry_session="))
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/ui"):
        assert attribute.lower() in cookie.lower()
    assert (await client.get("/ui/")).status_code == 200
    out = await post_form(client, "/ui/", "/ui/sign-out", {})
    assert out.status_code in (200, 303)
    assert (await client.get("/ui/", follow_redirects=False)).status_code == 303


async def test_a_bad_key_is_refused_and_a_revoked_key_ends_its_sessions(app: Litestar, client: Client) -> None:
    refused = await sign_in(client, "rk_nope_nothing")
    assert refused.status_code == 401
    assert "密钥无效" in refused.text
    key = await key_for(app, "reviewer")
    assert (await sign_in(client, key)).status_code == 303
    assert (await client.get("/ui/")).status_code == 200
    await app.state.keyring.revoke(key.removeprefix("rk_").split("_")[0])
    assert (await client.get("/ui/", follow_redirects=False)).status_code == 303


async def test_a_form_without_or_with_a_wrong_csrf_token_is_403_and_changes_nothing(
    app: Litestar, client: Client, auth: Auth
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "catalog"))).status_code == 303
    page = await client.get(f"/ui/products/{SKU}")
    assert page.status_code == 200
    action = f"/ui/products/{SKU}/filing/submit"
    assert (await client.post(action, data={})).status_code == 403
    assert (await client.post(action, data={"_csrf_token": "0" * 128})).status_code == 403
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (record["filing"]["status"], record["version"]) == ("unfiled", 1)


async def test_a_catalog_session_sees_no_reviewer_action_and_may_not_post_one(
    app: Litestar, client: Client, auth: Auth
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "catalog"))).status_code == 303
    page = await client.get(f"/ui/products/{SKU}")
    assert "/filing/approve" not in page.text
    assert "/filing/reject" not in page.text
    refused = await post_form(
        client,
        f"/ui/products/{SKU}",
        f"/ui/products/{SKU}/filing/approve",
        {"filing_no": "2025110201", "valid_until": "2030-01-01"},
    )
    assert refused.status_code == 403
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert record["filing"]["status"] == "under_review"


async def test_the_review_round_trip_through_the_forms(app: Litestar, client: Client, auth: Auth) -> None:
    """Reject with two reasons, the catalog team sees them and fixes the field, resubmits; the reviewer approves;
    the look-up then answers declarable."""
    await client.post("/v1/products", json=sk2(images=[]), headers=auth("catalog"))
    reviewer, catalog = await key_for(app, "reviewer"), await key_for(app, "catalog")
    # The catalog team submits: refused, the violation shown on the page in words.
    assert (await sign_in(client, catalog)).status_code == 303
    refused = await post_form(client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/filing/submit", {})
    assert refused.status_code == 422
    assert "images.missing" in refused.text
    # The page's fields are the correction form: the changed input alone is written, as PATCH would.
    page = await client.get(f"/ui/products/{SKU}")
    assert '<label for="f-images">商品图片</label>' in page.text  # the field's Chinese label
    corrected = await post_form(
        client,
        f"/ui/products/{SKU}",
        f"/ui/products/{SKU}/fields",
        {"version": "1", "images": "https://img.example.com/a.jpg\r\n", "brand": "SK-II"},
    )
    assert corrected.status_code == 200, corrected.text[:300]
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (record["version"], record["images"], record["brand"]) == (2, ["https://img.example.com/a.jpg"], "SK-II")
    submitted = await post_form(client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/filing/submit", {})
    assert submitted.status_code == 200, submitted.text[:300]
    # The reviewer finds it first in the queue and rejects it with two reasons, one a line.
    client.cookies.clear()
    assert (await sign_in(client, reviewer, "en")).status_code == 303
    queue = await client.get("/ui/review")
    assert f"/ui/products/{SKU}" in queue.text
    rejected = await post_form(
        client,
        f"/ui/products/{SKU}",
        f"/ui/products/{SKU}/filing/reject",
        {"reasons": "label photo missing\nbrand letter expired"},
    )
    assert rejected.status_code == 200
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert record["filing"]["rejection_reasons"] == ["label photo missing", "brand letter expired"]
    # The catalog team sees the rejection among the rejected records, resubmits.
    client.cookies.clear()
    assert (await sign_in(client, catalog)).status_code == 303
    listed = await client.get("/ui/products", params={"rejected": "true"})
    assert "label photo missing" in listed.text
    assert (await post_form(client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/filing/submit", {})).status_code == 200
    # The reviewer approves with a number; the look-up answers declarable.
    client.cookies.clear()
    assert (await sign_in(client, reviewer)).status_code == 303
    approved = await post_form(
        client,
        f"/ui/products/{SKU}",
        f"/ui/products/{SKU}/filing/approve",
        {"filing_no": "2025110201", "valid_until": "2030-01-01"},
    )
    assert approved.status_code == 200, approved.text[:300]
    lookup = (await client.get(f"/v1/lookup/{SKU}", headers=auth("declaration"))).json()
    assert (lookup["declarable"], lookup["filing_no"]) == (True, "2025110201")
    # Twice is refused in words, nothing decided twice.
    again = await post_form(
        client,
        f"/ui/products/{SKU}",
        f"/ui/products/{SKU}/filing/approve",
        {"filing_no": "2025110202", "valid_until": "2030-01-01"},
    )
    assert again.status_code == 409
    assert "当前状态不允许此操作" in again.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_dashboard_draws_its_chart_and_lists(app: Litestar, client: Client, auth: Auth, lang: str) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "reviewer"), lang)).status_code == 303
    page = await client.get("/ui/")
    assert page.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text
    assert 'class="bar"' in page.text
    assert f"/ui/products/{SKU}" in page.text  # the oldest waiting submission
    assert ("概览" if lang == "zh" else "Dashboard") in page.text


def test_both_catalogues_hold_the_same_messages() -> None:
    from registry.web.words import catalogue

    assert catalogue("zh").keys() == catalogue("en").keys()


async def test_an_alert_id_past_int32_is_refused_not_a_failure(app: Litestar, client: Client) -> None:
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303
    for alert_id in ("99999999999", "0"):
        refused = await post_form(client, "/ui/alerts", f"/ui/alerts/{alert_id}/ack", {})
        assert refused.status_code == 400, alert_id


async def test_the_correction_form_writes_what_changed_and_refuses_in_words(
    app: Litestar, client: Client, auth: Auth
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    reviewer, catalog = await key_for(app, "reviewer"), await key_for(app, "catalog")
    assert (await sign_in(client, reviewer)).status_code == 303
    assert 'id="f-brand"' not in (await client.get(f"/ui/products/{SKU}")).text
    denied = await post_form(client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/fields", {"brand": "X"})
    assert denied.status_code == 403
    client.cookies.clear()
    assert (await sign_in(client, catalog)).status_code == 303
    bad = await post_form(
        client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/fields", {"version": "1", "shelf_life_months": "3年"}
    )
    assert bad.status_code == 422
    assert "/shelf_life_months" in bad.text
    assert 'value="3年"' in bad.text  # what was typed is shown again
    huge = await post_form(
        client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/fields", {"version": "1", "monthly_units": "9" * 5000}
    )
    assert huge.status_code == 422
    assert "/monthly_units" in huge.text
    refused = await post_form(
        client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/fields", {"version": "1", "hs_code": "<b>33</b>"}
    )
    assert refused.status_code == 422
    assert "format.hs_code" in refused.text
    assert "<b>33</b>" not in refused.text  # shown escaped
    stale = await post_form(client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/fields", {"version": "7", "brand": "Y"})
    assert stale.status_code == 412
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (record["version"], record["brand"], record["hs_code"]) == (1, "SK-II", "3304990099")
    # Under review, the record is not editable: no form, and a post is refused in words.
    await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))
    page = await client.get(f"/ui/products/{SKU}")
    assert 'id="f-brand"' not in page.text
    locked = await post_form(
        client, f"/ui/products/{SKU}", f"/ui/products/{SKU}/fields", {"version": "2", "brand": "Y"}
    )
    assert locked.status_code == 409


async def test_a_version_that_is_no_number_is_refused_not_a_failure(app: Litestar, client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "catalog"))).status_code == 303
    # No number is a 400 (as a malformed If-Match is); a number no version can be is stale, 412 (as in the API).
    for version, status in (("²", 400), ("1 ", 400), ("9" * 5000, 412), ("99999999999", 412)):
        for action, data in ((f"/ui/products/{SKU}/fields", {"brand": "Y"}), (f"/ui/products/{SKU}/filing/submit", {})):
            refused = await post_form(client, f"/ui/products/{SKU}", action, {**data, "version": version})
            assert refused.status_code == status, (action, version[:10], refused.status_code)
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (record["version"], record["brand"], record["filing"]["status"]) == (1, "SK-II", "unfiled")
