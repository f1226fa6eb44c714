"""The reviewer's inbox in a real browser (Debian's Chromium through Playwright, as tests/api/test_browser.py):
filters kept in the URL, the keyboard, the changes since a rejection, save and next, a bulk rejection; and every
page checked with axe-core (the copy axe-playwright-python ships) in both languages at a desktop and a phone width.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.api.test_browser import _api, _sign_in, browser, served  # noqa: F401  (fixtures)
from tests.samples import sk2

playwright_api = pytest.importorskip("playwright.sync_api")
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")

WIDTHS = (1280, 390)


def _inbox(url: str, keys: dict[str, str]) -> None:
    """Three cosmetics and a food record under review; the first cosmetics record was rejected once (its brand
    and its ingredients named) and resubmitted with its ingredients changed."""
    today = dt.date.today()
    with _api(url, keys["catalog"]) as catalog:
        for record in (
            sk2(today, sku="C-1"),
            sk2(today, sku="C-2"),
            sk2(today, sku="C-3"),
            sk2(today, sku="F-1", category="food", hs_code="2106909090"),
        ):
            assert catalog.post("/v1/products", json=record).status_code == 201
            assert catalog.post(f"/v1/products/{record['sku']}/filing/submit").status_code == 200
    with _api(url, keys["reviewer"]) as reviewer:
        reasons = {"reasons": ["成分表缺少防腐剂", "品牌授权书已过期"]}
        assert reviewer.post("/v1/products/C-1/filing/reject", json=reasons).status_code == 200
    with _api(url, keys["catalog"]) as catalog:
        changed = {"ingredients": [*sk2(today)["ingredients"], "phenoxyethanol"]}
        assert catalog.patch("/v1/products/C-1", json=changed, headers={"If-Match": '"3"'}).status_code == 200
        assert catalog.post("/v1/products/C-1/filing/submit").status_code == 200


def test_the_inbox_with_filters_keys_changes_save_and_next_and_a_bulk_rejection(
    served: tuple[str, dict[str, str]],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    url, keys = served
    _inbox(url, keys)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in(page, url, keys["reviewer"], "zh")
    page.goto(f"{url}/ui/review")
    page.get_by_label("商品类别").select_option("cosmetics")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/ui/review?*category=cosmetics*")
    listed = page.locator("a.open").all_inner_texts()
    assert listed == ["C-2", "C-3", "C-1"]  # oldest submission first; the food record is not in this inbox

    # The keyboard: j and k move through the rows, Enter opens one, r goes to the rejection's reasons.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.textContent") == "C-3"
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/products/C-2?inbox=1&category=cosmetics")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reasons"

    # Save and next: the rejection opens the next record of the same inbox.
    page.keyboard.type("标签照片缺失")
    page.locator("form[action$='/filing/reject'] button").click()
    page.wait_for_url("**/ui/products/C-3?inbox=1&category=cosmetics&done=act_reject")
    assert "已完成" in page.get_by_role("status").inner_text()

    # The resubmitted record shows its earlier reasons, what changed, and the brand a reason named, unchanged.
    page.goto(f"{url}/ui/products/C-1?inbox=1&category=cosmetics")
    since = page.locator("section.since")
    assert "成分表缺少防腐剂" in since.inner_text()
    assert "phenoxyethanol" in since.locator("table.diff").inner_text()
    assert since.locator("strong.unchanged").all_inner_texts() == ["品牌"]

    # A bulk rejection of what is left in the inbox, with one set of reasons; each record's result.
    page.goto(f"{url}/ui/review?category=cosmetics")
    for box in page.locator("input[name=sku]").all():
        box.check()
    page.get_by_label("全部驳回（同一组原因）").check()
    page.locator("#d-reasons").fill("资料不全")
    page.get_by_role("button", name="处理所选商品").click()
    results = page.locator("table.list tbody tr").all_inner_texts()
    assert len(results) == 2
    assert all("已完成" in row for row in results), results
    with _api(url, keys["auditor"] if "auditor" in keys else keys["admin"]) as reader:
        statuses = {sku: reader.get(f"/v1/products/{sku}").json()["filing"]["status"] for sku in ("C-1", "C-3", "F-1")}
    assert statuses == {"C-1": "unfiled", "C-3": "unfiled", "F-1": "under_review"}


def test_every_page_passes_axe_in_both_languages_at_both_widths(
    served: tuple[str, dict[str, str]],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    url, keys = served
    _inbox(url, keys)
    axe = axe_api.Axe()
    found: dict[str, list[str]] = {}
    for width in WIDTHS:
        # axe's script is injected by the driver; the pages' own policy allows no script of another origin.
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        for lang in ("zh", "en"):
            page.goto(f"{url}/ui/sign-in?lang={lang}")
            found[f"sign-in {lang} {width}"] = _violations(axe, page)
            _sign_in(page, url, keys["reviewer"], lang)
            for path in (
                "/ui/",
                "/ui/review",
                "/ui/review?category=cosmetics&sort=priority",
                "/ui/products?q=C-",
                "/ui/products/C-1",
                "/ui/alerts",
                "/ui/expiring",
                "/ui/products/NOPE",
            ):
                page.goto(f"{url}{path}")
                found[f"{path} {lang} {width}"] = _violations(axe, page)
            page.goto(f"{url}/ui/")
            page.get_by_role("button", name="退出" if lang == "zh" else "Sign out").click()
        context.close()
    assert {page: rules for page, rules in found.items() if rules} == {}
    assert len(found) == 2 * 2 * 9


def _violations(axe: Any, page: Any) -> list[str]:
    results = axe.run(page)
    return [f"{v['id']}: {len(v['nodes'])}" for v in results.response["violations"]]
