"""The workbench in a real browser: Debian's Chromium driven by Playwright against `registry` served by uvicorn.

A reviewer and a catalog team work one record through the review round trip with the keyboard and the mouse, as
people do; the pages are photographed in both languages at a desktop and a phone width and checked for a real
render, labelled inputs, a visible focus and no sideways scrolling. The browser comes from `.ci/browser.sh`
(REGISTRY_TEST_CHROMIUM); without it these tests skip, unless the variable names a browser that is not there.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.servers import make_keys, serving
from tests.samples import shiseido, sk2

playwright_api = pytest.importorskip("playwright.sync_api")
Image = pytest.importorskip("PIL.Image")

SKU = "SK2-FTE-230"
LATER = "SHISEIDO-UT-50"
BANNED = "hydroquinone"
WIDTHS = (1280, 390)


def _chromium() -> str:
    named = os.environ.get("REGISTRY_TEST_CHROMIUM")
    if named:
        assert Path(named).is_file(), f"REGISTRY_TEST_CHROMIUM names {named}, which is not there"
        return named
    found = next((p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium")) if p and Path(p).is_file()), None)
    if found is None:
        pytest.skip("no Chromium: `.ci/browser.sh COMMAND` installs Debian's and runs COMMAND with it")
    return found


@pytest.fixture
def browser() -> Iterator[Any]:
    executable = _chromium()
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    keys = make_keys(database_url, "catalog", "reviewer", "admin", "declaration")
    with serving(database_url) as url:
        yield url, keys


def _api(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _two_submissions(url: str, keys: dict[str, str]) -> None:
    """Two records under review, the SK-II essence first; then the compliance team bans one of its ingredients,
    so the reviewer's live validation finds what the submission did not."""
    today = dt.date.today()
    with _api(url, keys["catalog"]) as catalog:
        first = sk2(today, ingredients=[*sk2(today)["ingredients"], BANNED])
        for record in (first, shiseido(today, sku=LATER)):
            assert catalog.post("/v1/products", json=record).status_code == 201
            submitted = catalog.post(f"/v1/products/{record['sku']}/filing/submit")
            assert submitted.status_code == 200, submitted.text
    with _api(url, keys["admin"]) as admin:
        banned = admin.get("/v1/reference/banned-ingredients").json()["data"]
        banned["cosmetics"].append(BANNED)
        assert admin.put("/v1/reference/banned-ingredients", json=banned).status_code == 200


def _sign_in(page: Any, url: str, key: str, lang: str) -> None:
    """Sign in with the keyboard alone: the skip link first, then the key, then Enter."""
    page.goto(f"{url}/ui/sign-in?lang={lang}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "key"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus is visible
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/ui/")


def _check_page(page: Any) -> None:
    """Every input labelled, nothing wider than the window, no request to another origin."""
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
             .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name)"""
    )
    assert unlabelled == [], page.url
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        """[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)
             .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px: {wide}"


def _photograph(page: Any, path: Path) -> None:
    """A full-page screenshot, saved and checked for a real render: many colours, and ink on a good share of it."""
    shot = Image.open(io.BytesIO(page.screenshot(path=str(path), full_page=True))).convert("RGB")
    colours = shot.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20, f"{path.name}: {len(colours or [])} colours, a blank render"
    background = shot.getpixel((shot.width - 1, shot.height - 1))
    grey = shot.convert("L")
    inked = sum(count for value, count in enumerate(grey.histogram()) if abs(value - sum(background) / 3) > 40)
    assert inked > 0.01 * shot.width * shot.height, f"{path.name}: almost nothing drawn"


def test_a_record_goes_round_the_review_in_the_browser(
    served: tuple[str, dict[str, str]], browser: Any, tmp_path: Path
) -> None:  # the keys are made (asyncio.run) before Playwright's driver holds this thread's event loop
    url, keys = served
    _two_submissions(url, keys)
    foreign: list[str] = []

    # The reviewer opens the oldest submission from the queue, sees the banned ingredient beside its field, and
    # rejects the record with two reasons, one a line.
    reviewer = browser.new_context(viewport={"width": 1280, "height": 900})
    page = reviewer.new_page()
    # Product pictures live on the catalog's own servers; everything else the pages need is served by registry.
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(url) or request.resource_type == "image" else foreign.append(request.url)
        ),
    )
    _sign_in(page, url, keys["reviewer"], "zh")
    page.get_by_role("link", name="审核队列").click()
    first = page.locator("table.list tbody tr").first.get_by_role("link")
    assert first.inner_text() == SKU
    first.click()
    flagged = page.locator("tr.flagged", has_text="成分")
    assert "ingredients.banned" in flagged.inner_text()
    page.get_by_label("驳回原因（每行一条）").fill("含禁用成分 hydroquinone\n请补充成分表原件")
    page.locator("form[action$='/filing/reject'] button").click()
    # Opened from the inbox, the rejection opens the inbox's next record; the rejected one shows its reasons.
    page.wait_for_url(f"{url}/ui/products/{LATER}?inbox=1&done=act_reject")
    page.goto(f"{url}/ui/products/{SKU}")
    assert "含禁用成分 hydroquinone" in page.locator("section.card").first.inner_text()
    _check_page(page)

    # The catalog team finds the record among the rejected ones with the reasons, corrects the ingredient list on
    # the record's page and submits it again.
    catalog = browser.new_context(viewport={"width": 390, "height": 844})
    page = catalog.new_page()
    _sign_in(page, url, keys["catalog"], "en")
    page.get_by_role("link", name="Rejected").click()
    row = page.locator("table.list tbody tr", has_text=SKU)
    assert "请补充成分表原件" in row.inner_text()
    row.get_by_role("link", name=SKU).click()
    ingredients = page.get_by_label("Ingredients")
    ingredients.fill(ingredients.input_value().replace(BANNED, "").strip())
    page.get_by_role("button", name="Correct fields").click()
    assert "Done: Correct fields" in page.get_by_role("status").inner_text()
    assert page.locator("tr.flagged").count() == 0
    page.get_by_role("button", name="Submit for review").click()
    assert "Done: Submit for review" in page.get_by_role("status").inner_text()
    _check_page(page)

    # The reviewer approves it with the number customs issued; the declaration path answers declarable.
    page = reviewer.pages[0]
    page.goto(f"{url}/ui/products/{SKU}")
    page.get_by_label("备案编号").fill("2026112301")
    page.get_by_label("有效期至").fill("2031-11-22")
    page.locator("form[action$='/filing/approve'] button").click()
    assert "2026112301" in page.locator("p.status").inner_text()
    with _api(url, keys["declaration"]) as declaration:
        found = declaration.get(f"/v1/lookup/{SKU}").json()
    assert (found["declarable"], found["filing_no"]) == (True, "2026112301")
    assert foreign == [], f"the workbench asked another origin for {foreign}"

    # The pages in both languages at both widths, photographed and checked.
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for lang in ("zh", "en"):
            _sign_in(page, url, keys["reviewer"], lang)
            for name, path in (("dashboard", "/ui/"), ("queue", "/ui/review"), ("record", f"/ui/products/{SKU}")):
                page.goto(f"{url}{path}")
                _check_page(page)
                _photograph(page, shots / f"{name}-{lang}-{width}.png")
            page.get_by_role("button", name="退出" if lang == "zh" else "Sign out").click()
        context.close()
    assert len(list(shots.glob("*.png"))) == 12
