"""The reviewer's workbench, v2, over HTTP: bounded dashboard lists with the days each row is there for, search by
filing number and HS code, and the record's customs context and changes since its rejection."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
from litestar import Litestar

from registry.web.words import catalogue
from tests.api.conftest import Auth
from tests.api.test_workbench import key_for, sign_in, token_of
from tests.conftest import FakeClock
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


async def _queue(client: Client, auth: Auth) -> None:
    """Four records under review: two cosmetics (one bonded, one a best seller), a food record, and one submitted
    ten days ago."""
    records = [
        sk2(sku="Q-BONDED", import_mode="1210", item_record_no="ITEM-1"),
        sk2(sku="Q-BEST", monthly_units=9000),
        sk2(sku="Q-FOOD", category="food", hs_code="2106909090"),
        sk2(sku="Q-OLD"),
    ]
    for record in records:
        assert (await client.post("/v1/products", json=record, headers=auth("catalog"))).is_success


async def _submit(client: Client, auth: Auth, clock: FakeClock, skus: list[str]) -> None:
    for sku in skus:
        submitted = await client.post(f"/v1/products/{sku}/filing/submit", headers=auth("catalog"))
        assert submitted.status_code == 200, submitted.text
        clock.advance(hours=1)


def _listed(page: str) -> list[str]:
    return re.findall(r'class="open">([^<]+)</a>', page)


async def test_the_inbox_filters_and_sorts_with_its_filters_in_the_url(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    await _queue(client, auth)
    clock.advance(days=-10)
    await _submit(client, auth, clock, ["Q-OLD"])
    clock.advance(days=10)
    await _submit(client, auth, clock, ["Q-FOOD", "Q-BONDED", "Q-BEST"])
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303

    assert _listed((await client.get("/ui/review")).text) == ["Q-OLD", "Q-FOOD", "Q-BONDED", "Q-BEST"]
    food = (await client.get("/ui/review", params={"category": "food"})).text
    assert _listed(food) == ["Q-FOOD"]
    assert '<option value="food" selected>' in food  # the filter stays as chosen
    assert _listed((await client.get("/ui/review", params={"mode": "1210"})).text) == ["Q-BONDED"]
    assert _listed((await client.get("/ui/review", params={"waiting": "5"})).text) == ["Q-OLD"]
    assert _listed((await client.get("/ui/review", params={"sort": "priority"})).text)[0] == "Q-BEST"
    # A rule the live validation reports: an ingredient only the cosmetics carry, banned since they were submitted.
    banned = (await client.get("/v1/reference/banned-ingredients", headers=auth("admin"))).json()["data"]
    banned["cosmetics"].append("pentylene glycol")
    assert (await client.put("/v1/reference/banned-ingredients", json=banned, headers=auth("admin"))).is_success
    by_rule = _listed((await client.get("/ui/review", params={"rule": "ingredients.banned"})).text)
    assert sorted(by_rule) == ["Q-BEST", "Q-BONDED", "Q-OLD"]
    page = (await client.get("/ui/review", params={"category": "cosmetics", "sort": "priority"})).text
    assert 'href="/ui/products/Q-BEST?inbox=1&amp;category=cosmetics&amp;sort=priority"' in page
    assert (await client.get("/ui/review", params={"sort": "sku"})).status_code == 400
    assert (await client.get("/ui/review", params={"mode": "1111"})).status_code == 400


async def test_save_and_next_opens_the_next_record_of_the_same_inbox(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    await _queue(client, auth)
    await _submit(client, auth, clock, ["Q-OLD", "Q-FOOD", "Q-BONDED"])
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303
    opened = await client.get("/ui/products/Q-OLD", params={"inbox": "1", "category": "cosmetics"})
    assert opened.status_code == 200
    form = {
        "version": "2",
        "reasons": "label photo missing",
        "inbox": "1",
        "category": "cosmetics",
        "_csrf_token": token_of(opened),
    }
    decided = await client.post("/ui/products/Q-OLD/filing/reject", data=form, follow_redirects=False)
    assert decided.status_code == 303
    # The next cosmetics record under review; the food record is not in this inbox.
    assert decided.headers["location"] == "/ui/products/Q-BONDED?inbox=1&category=cosmetics&done=act_reject"
    last = await client.get(decided.headers["location"])
    form = {"version": "2", "reasons": "x", "inbox": "1", "category": "cosmetics", "_csrf_token": token_of(last)}
    emptied = await client.post("/ui/products/Q-BONDED/filing/reject", data=form, follow_redirects=False)
    assert emptied.headers["location"] == "/ui/review?category=cosmetics"  # none left: back to the inbox


async def test_bulk_reject_and_approve_answer_each_records_result(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    await _queue(client, auth)
    await _submit(client, auth, clock, ["Q-OLD", "Q-FOOD", "Q-BONDED", "Q-BEST"])
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303
    inbox = await client.get("/ui/review")
    rejected = await client.post(
        "/ui/review/decide",
        data={
            "sku": ["Q-OLD", "Q-FOOD"],
            "version_Q-OLD": "2",
            "version_Q-FOOD": "1",  # stale: the record is at 2
            "decision": "reject",
            "reasons": "label photo missing\nbrand letter expired",
            "_csrf_token": token_of(inbox),
        },
    )
    assert rejected.status_code == 200
    rows = dict(re.findall(r'<a href="/ui/products/([^"]+)">[^<]+</a></td><td>([^<]+)</td>', rejected.text))
    assert rows["Q-OLD"].startswith("已完成")
    assert "刷新" in rows["Q-FOOD"]  # changed meanwhile, in words
    old = (await client.get("/v1/products/Q-OLD", headers=auth("auditor"))).json()
    assert old["filing"]["rejection_reasons"] == ["label photo missing", "brand letter expired"]
    assert (await client.get("/v1/products/Q-FOOD", headers=auth("auditor"))).json()["filing"][
        "status"
    ] == "under_review"
    approved = await client.post(
        "/ui/review/decide",
        data={
            "sku": ["Q-BONDED", "Q-BEST"],
            "version_Q-BONDED": "2",
            "version_Q-BEST": "2",
            "filing_no_Q-BONDED": "2026000101",
            "valid_until_Q-BONDED": "2029-01-01",
            "filing_no_Q-BEST": "2026000101",  # the same number: refused for the second
            "valid_until_Q-BEST": "2029-01-01",
            "decision": "approve",
            "_csrf_token": token_of(inbox),
        },
    )
    rows = dict(re.findall(r'<a href="/ui/products/([^"]+)">[^<]+</a></td><td>([^<]+)</td>', approved.text))
    assert rows["Q-BONDED"].startswith("已完成")
    assert "备案编号已被其他商品使用" in rows["Q-BEST"]


def test_every_rule_a_record_or_a_decision_can_meet_has_words_in_both_languages() -> None:
    """The rules of docs/rules.md's record and filing-action tables, each in the workbench's words."""
    rules_md = (Path(__file__).parents[2] / "docs" / "rules.md").read_text()
    sections = rules_md.split("## An import")[0]
    codes = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", sections, re.M))
    for lang in ("zh", "en"):
        missing = sorted(code for code in codes if f"rule_{code}" not in catalogue(lang))
        assert missing == [], lang


async def test_a_bulk_decision_with_a_bad_filter_decides_nothing(
    app: Litestar, client: Client, auth: Auth, clock: FakeClock
) -> None:
    await _queue(client, auth)
    await _submit(client, auth, clock, ["Q-OLD"])
    assert (await sign_in(client, await key_for(app, "reviewer"))).status_code == 303
    inbox = await client.get("/ui/review")
    refused = await client.post(
        "/ui/review/decide",
        data={
            "sku": ["Q-OLD"],
            "version_Q-OLD": "2",
            "decision": "reject",
            "reasons": "x",
            "mode": "1111",
            "_csrf_token": token_of(inbox),
        },
    )
    assert refused.status_code == 400
    old = (await client.get("/v1/products/Q-OLD", headers=auth("auditor"))).json()
    assert old["filing"]["status"] == "under_review"
