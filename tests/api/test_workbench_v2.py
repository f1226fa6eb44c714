"""The reviewer's workbench, v2, over HTTP: bounded dashboard lists with the days each row is there for, search by
filing number and HS code, and the record's customs context and changes since its rejection."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from litestar import Litestar

from registry.web.words import catalogue
from tests.api.conftest import Auth
from tests.api.test_workbench import key_for, sign_in
from tests.samples import TODAY, sk2

Client = httpx.AsyncClient


def _lapsing(sku: str, days: int) -> dict[str, object]:
    """A record whose brand authorisation lapses in `days` days."""
    record = sk2(sku=sku)
    record["documents"][0]["valid_until"] = (TODAY + dt.timedelta(days=days)).isoformat()
    return record


async def test_the_dashboard_lists_twenty_and_links_to_the_rest_with_each_rows_own_days(
    app: Litestar, client: Client, auth: Auth
) -> None:
    for n in range(24):
        assert (
            await client.post("/v1/products", json=_lapsing(f"EXP-{n:02d}", 10 + n % 20), headers=auth("catalog"))
        ).is_success
        assert (await client.post(f"/v1/products/EXP-{n:02d}/filing/submit", headers=auth("catalog"))).is_success
    # A filed record valid for two years whose document lapses in 5 days: it is there for the document.
    await client.post("/v1/products", json=_lapsing("EXP-FILED", 5), headers=auth("catalog"))
    await client.post("/v1/products/EXP-FILED/filing/submit", headers=auth("catalog"))
    approve = {"filing_no": "2026000009", "valid_until": (TODAY + dt.timedelta(days=700)).isoformat()}
    assert (
        await client.post("/v1/products/EXP-FILED/filing/approve", json=approve, headers=auth("reviewer"))
    ).is_success
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303

    dashboard = (await client.get("/ui/")).text
    expiring = dashboard.split(f"<h2>{catalogue('zh')['expiring']}</h2>")[1].split("</section>")[0]
    assert expiring.count('<a href="/ui/products/EXP-') == 20
    assert 'href="/ui/expiring"' in expiring
    row = re.search(r'EXP-FILED</a></td><td>2026000009</td><td>[0-9-]+</td><td class="num">(\d+)</td>', expiring)
    assert row is not None
    assert row.group(1) == "5", "the row's days are the document's, not the filing's 700"
    everything = (await client.get("/ui/expiring")).text
    assert everything.count('<a href="/ui/products/EXP-') == 25


async def test_search_finds_a_filing_number_and_an_hs_code(app: Litestar, client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await client.post(
        "/v1/products", json=sk2(sku="FOOD-1", hs_code="2106909090", category="food"), headers=auth("catalog")
    )
    await client.post("/v1/products/SK2-FTE-230/filing/submit", headers=auth("catalog"))
    approve = {"filing_no": "2026007777", "valid_until": "2029-01-01"}
    await client.post("/v1/products/SK2-FTE-230/filing/approve", json=approve, headers=auth("reviewer"))
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303
    by_number = (await client.get("/ui/products", params={"q": "2026007777"})).text
    assert "/ui/products/SK2-FTE-230" in by_number
    assert "/ui/products/FOOD-1" not in by_number
    by_code = (await client.get("/ui/products", params={"q": "21069090"})).text
    assert "/ui/products/FOOD-1" in by_code
    assert "/ui/products/SK2-FTE-230" not in by_code


async def test_a_resubmitted_record_shows_the_reasons_what_changed_and_what_a_reason_named_that_did_not(
    app: Litestar, client: Client, auth: Auth
) -> None:
    sku = "SK2-FTE-230"
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))
    reasons = {"reasons": ["ingredients: the list lacks the preservative", "brand letter expired"]}
    assert (await client.post(f"/v1/products/{sku}/filing/reject", json=reasons, headers=auth("reviewer"))).is_success
    changed = {"ingredients": [*sk2()["ingredients"], "phenoxyethanol"]}
    patched = await client.patch(f"/v1/products/{sku}", json=changed, headers={**auth("catalog"), "If-Match": '"3"'})
    assert patched.status_code == 200, patched.text
    await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303

    page = (await client.get(f"/ui/products/{sku}")).text
    panel = page.split('id="since-h"')[1].split("</section>")[0]
    assert "ingredients: the list lacks the preservative" in panel
    assert "brand letter expired" in panel
    assert "<li>phenoxyethanol</li>" in panel  # the change, item by item
    assert '<strong class="unchanged">品牌</strong>' in panel  # a reason named the brand, which did not change
    assert '<strong class="unchanged">成分</strong>' not in panel


async def test_the_customs_context_beside_the_fields_and_a_filing_that_outlives_its_documents(
    app: Litestar, client: Client, auth: Auth
) -> None:
    sku = "SK2-FTE-230"
    await client.post("/v1/products", json=_lapsing(sku, 60), headers=auth("catalog"))
    await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))
    assert (await sign_in(client, await key_for(app, "reviewer"), "en")).status_code == 303
    waiting = (await client.get(f"/ui/products/{sku}")).text
    context = waiting.split('id="customs-h"')[1].split("</section>")[0]
    assert "<code>33049900</code>" in context  # the positive-list line of 3304990099
    assert "VAT 13 %" in context
    lapse = (TODAY + dt.timedelta(days=60)).isoformat()
    assert f"The first document lapses on {lapse}" in waiting  # beside the approval's date
    approve = {"filing_no": "2026000010", "valid_until": (TODAY + dt.timedelta(days=365)).isoformat()}
    assert (await client.post(f"/v1/products/{sku}/filing/approve", json=approve, headers=auth("reviewer"))).is_success
    filed = (await client.get(f"/ui/products/{sku}")).text
    assert "outlives the first document to lapse" in filed
