"""Reference editions over time, through the HTTP interface and the CLI: dated editions, their impact before they
are put, holds when they take effect (the day driven through the service's clock, as the scheduled scan runs),
releases, tariff renumbering, origin bans and the tax in force on the declaration day."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from registry.cli import main as cli
from registry.domain.reference import default_sets
from registry.services import holds
from tests.api.conftest import Auth, file_product, set_day
from tests.conftest import FakeClock
from tests.samples import TODAY, sk2

SKU = "SK2-FTE-230"
UNTIL = TODAY + dt.timedelta(days=400)
THRESHOLDS = (30, 7, 1)
Client = httpx.AsyncClient


def prohibited_with(*entries: dict[str, Any]) -> list[dict[str, Any]]:
    """The shipped prohibited set with `entries` added: test editions, not facts the service ships."""
    return [*copy.deepcopy(default_sets()["prohibited"]), *entries]


# A test entry shaped like an origin ban (GACC announcements ban goods of some origins from a day on).
JP_BAN = {"prefix": "3304990099", "reason": "test ban of this code from JP", "origin": ["JP"], "source": "test"}


async def put_edition(
    client: Client, auth: Auth, name: str, data: Any, day: dt.date | None = None, dry_run: bool = False
) -> httpx.Response:
    params = {"effective_from": day.isoformat()} if day else {}
    if dry_run:
        params["dry_run"] = "true"
    return await client.put(f"/v1/reference/{name}", params=params, json=data, headers=auth("admin"))


async def lookup(client: Client, auth: Auth, sku: str = SKU) -> dict[str, Any]:
    found = await client.get(f"/v1/lookup/{sku}", headers=auth("declaration"))
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


async def order(client: Client, auth: Auth, **more: Any) -> httpx.Response:
    body = {"items": [{"sku": SKU, "quantity": 1, "unit_price": "300.00"}], **more}
    return await client.post("/v1/declarations/check", json=body, headers=auth("declaration"))


async def history(client: Client, auth: Auth, sku: str = SKU) -> list[dict[str, Any]]:
    found = await client.get(f"/v1/products/{sku}/history", headers=auth("auditor"))
    assert found.status_code == 200
    events: list[dict[str, Any]] = found.json()["items"]
    return events


async def verified(client: Client, auth: Auth) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()
    return body


async def test_a_dated_ban_holds_the_filing_on_its_day_and_a_later_edition_releases_it(
    client: Client, auth: Auth, app: Litestar, clock: FakeClock
) -> None:
    await file_product(client, auth, UNTIL)
    ctx = app.state.ctx
    ban_day = TODAY + dt.timedelta(days=10)
    banned = prohibited_with(JP_BAN)
    events_before = (await verified(client, auth))["events"]

    # The impact first: nothing is written.
    dry = await put_edition(client, auth, "prohibited", banned, ban_day, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json() == {
        "name": "prohibited",
        "effective_from": ban_day.isoformat(),
        "entries": len(banned),
        "impact": {
            "checked": 1,
            "failing": 1,
            "lifted": 0,
            "by_rule": [{"code": "hs.prohibited_origin", "count": 1}],
            "records": [
                {
                    "sku": SKU,
                    "status": "filed",
                    "filing_no": "2025110201",
                    "violations": [
                        {
                            "field": "/origin_country",
                            "code": "hs.prohibited_origin",
                            "message": "HS 3304990099 from JP is prohibited: test ban of this code from JP",
                            "severity": "error",
                        }
                    ],
                }
            ],
            "truncated": False,
        },
    }
    assert (await verified(client, auth))["events"] == events_before
    editions = (await client.get("/v1/reference/prohibited/editions", headers=auth("auditor"))).json()
    assert [e["version"] for e in editions] == [1]

    # Put for its day: today is left alone.
    put = await put_edition(client, auth, "prohibited", banned, ban_day)
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["effective_from"]) == (2, ban_day.isoformat())
    today_set = (await client.get("/v1/reference/prohibited", headers=auth("auditor"))).json()
    on_day = await client.get("/v1/reference/prohibited", params={"on": ban_day.isoformat()}, headers=auth("auditor"))
    assert (today_set["version"], on_day.json()["version"]) == (1, 2)
    assert JP_BAN in on_day.json()["data"]
    await holds.scan(ctx, THRESHOLDS)
    assert (await lookup(client, auth))["declarable"] is True
    assert (await order(client, auth)).status_code == 200

    # Its day comes: the scheduled scan holds the filing.
    set_day(clock, ban_day)
    await holds.scan(ctx, THRESHOLDS)
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("reviewer"))).json()
    assert record["filing"]["status"] == "filed"
    hold = record["filing"]["hold"]
    assert hold["reference"] == "prohibited@2"
    assert [v["code"] for v in hold["violations"]] == ["hs.prohibited_origin"]
    found = await lookup(client, auth)
    assert (found["declarable"], found["hold"]) == (False, ["hs.prohibited_origin"])
    refused = await order(client, auth)
    assert refused.status_code == 422
    assert [v["code"] for v in refused.json()["violations"]] == ["declaration.hold"]
    held = (await client.get("/v1/products", params={"held": "true"}, headers=auth("reviewer"))).json()
    assert [item["sku"] for item in held["items"]] == [SKU]
    not_held = (await client.get("/v1/products", params={"held": "false"}, headers=auth("reviewer"))).json()
    assert not_held["items"] == []
    held_event = (await history(client, auth))[-1]
    assert (held_event["action"], held_event["actor"]) == ("hold", holds.HOLD_ACTOR)
    assert held_event["changes"]["hold"]["old"] is None

    # One alert per record and edition, however often the scan runs.
    await holds.scan(ctx, THRESHOLDS)
    raised = (await client.get("/v1/alerts", params={"kind": "reference_change"}, headers=auth("reviewer"))).json()
    assert [(a["sku"], a["subject"]) for a in raised["items"]] == [(SKU, "prohibited@2")]

    # as_of before the hold shows none; now shows it.
    before = (ban_day - dt.timedelta(days=1)).isoformat() + "T12:00:00Z"
    past = (await client.get(f"/v1/products/{SKU}", params={"as_of": before}, headers=auth("auditor"))).json()
    now = await client.get(f"/v1/products/{SKU}", params={"as_of": clock.now.isoformat()}, headers=auth("auditor"))
    assert past["filing"]["hold"] is None
    assert now.json()["filing"]["hold"] == hold

    # An edition that passes it again, in force at once, releases it.
    lifted = await put_edition(client, auth, "prohibited", prohibited_with(), dry_run=True)
    assert (lifted.json()["impact"]["lifted"], lifted.json()["impact"]["failing"]) == (1, 0)
    assert (await put_edition(client, auth, "prohibited", prohibited_with())).status_code == 200
    found = await lookup(client, auth)
    assert found["declarable"] is True
    assert "hold" not in found
    assert (await order(client, auth)).status_code == 200
    assert (await client.get(f"/v1/products/{SKU}", headers=auth("reviewer"))).json()["filing"]["hold"] is None
    assert [e["action"] for e in await history(client, auth)][-2:] == ["hold", "release"]
    assert (await verified(client, auth))["ok"] is True
    editions = (await client.get("/v1/reference/prohibited/editions", headers=auth("auditor"))).json()
    assert [(e["version"], e["effective_from"]) for e in editions] == [
        (3, ban_day.isoformat()),
        (2, ban_day.isoformat()),
        (1, None),
    ]


async def test_amend_and_expire_end_a_hold(client: Client, auth: Auth, app: Litestar) -> None:
    await file_product(client, auth, UNTIL)
    await file_product(client, auth, UNTIL, "2025110202", sku="SK2-FTE-160")
    assert (await put_edition(client, auth, "prohibited", prohibited_with(JP_BAN))).status_code == 200
    for sku in (SKU, "SK2-FTE-160"):
        assert (await lookup(client, auth, sku))["hold"] == ["hs.prohibited_origin"]
    amended = await client.post(f"/v1/products/{SKU}/filing/amend", json={}, headers=auth("catalog"))
    assert amended.status_code == 200, amended.text
    assert amended.json()["filing"]["hold"] is None
    expired = await client.post(
        "/v1/products/SK2-FTE-160/filing/expire", json={"reason": "withdrawn"}, headers=auth("reviewer")
    )
    assert expired.status_code == 200, expired.text
    assert expired.json()["filing"]["hold"] is None
    last = [(await history(client, auth, sku))[-1] for sku in (SKU, "SK2-FTE-160")]
    assert [e["changes"]["hold"]["new"] for e in last] == [None, None]
    # A new submission under the ban is refused by the same rule.
    submitted = await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))
    assert submitted.status_code == 422
    assert "hs.prohibited_origin" in [v["code"] for v in submitted.json()["violations"]]
    listed = (await client.get("/v1/products", params={"held": "true"}, headers=auth("reviewer"))).json()
    assert listed["items"] == []
    assert (await verified(client, auth))["ok"] is True


async def test_next_years_tariff_shows_today_what_its_renumbering_breaks_and_holds_on_1_january(
    client: Client,
    auth: Auth,
    app: Litestar,
    clock: FakeClock,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await file_product(client, auth, UNTIL)
    new_year = dt.date(2027, 1, 1)
    # Today's tariff, then next year's: 3304990099 retired, split in two.
    current = [
        {"code": "3304990099", "name": "其他美容品或化妆品", "source": "test edition"},
        {"code": "3304990010", "name": "其他含汞化妆品", "source": "test edition"},
    ]
    following = [
        {
            "code": "3304990099",
            "name": "其他美容品或化妆品",
            "retired_on": new_year.isoformat(),
            "successors": ["3304990091", "3304990092"],
            "source": "test edition",
        },
        {"code": "3304990091", "name": "护肤品", "source": "test edition"},
        {"code": "3304990092", "name": "其他", "source": "test edition"},
    ]
    assert (await put_edition(client, auth, "tariff-codes", current)).status_code == 200
    assert "hold" not in await lookup(client, auth)

    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    path = tmp_path / "tariff-2027.json"
    path.write_text(json.dumps(following, ensure_ascii=False))
    load = ["reference", "load", "tariff-codes", str(path), "--effective-from", new_year.isoformat()]
    printed = await asyncio.to_thread(_run_cli, [*load, "--dry-run"])
    assert printed[0] == 0
    assert "1 records checked, 1 would fail, 0 holds would lift" in printed[1]
    assert "hs.code_retired: 1" in printed[1]
    editions = (await client.get("/v1/reference/tariff-codes/editions", headers=auth("auditor"))).json()
    assert [e["version"] for e in editions] == [2, 1]  # the dry run wrote nothing

    code, out = await asyncio.to_thread(_run_cli, load)
    assert code == 0, out
    assert f"version 3, 3 entries in force from {new_year}" in out
    editions = (await client.get("/v1/reference/tariff-codes/editions", headers=auth("auditor"))).json()
    assert editions[0]["sha256"] == hashlib.sha256(msgspec.json.encode(following, order="sorted")).hexdigest()
    assert (editions[0]["entries"], editions[0]["effective_from"]) == (3, new_year.isoformat())
    assert editions[0]["source"].startswith("tariff-2027.json (SHA-256 ")

    set_day(clock, new_year - dt.timedelta(days=1))
    await holds.scan(app.state.ctx, THRESHOLDS)
    assert (await lookup(client, auth))["declarable"] is True
    set_day(clock, new_year)
    await holds.scan(app.state.ctx, THRESHOLDS)
    found = await lookup(client, auth)
    assert (found["declarable"], found["hold"]) == (False, ["hs.code_retired"])
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("reviewer"))).json()
    (violation,) = record["filing"]["hold"]["violations"]
    assert violation["message"] == (
        "3304990099 was retired from the tariff on 2027-01-01; it was replaced by 3304990091, 3304990092"
    )
    # The worklist: amend to the successor, submit, approve.
    assert (await client.post(f"/v1/products/{SKU}/filing/amend", json={}, headers=auth("catalog"))).status_code == 200
    tag = (await client.get(f"/v1/products/{SKU}", headers=auth("catalog"))).headers["ETag"]
    patched = await client.patch(
        f"/v1/products/{SKU}", json={"hs_code": "3304990091"}, headers={**auth("catalog"), "If-Match": tag}
    )
    assert patched.status_code == 200, patched.text
    assert (await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))).status_code == 200
    unknown = await client.post(
        "/v1/products:validate", json=sk2(new_year, hs_code="3304990093"), headers=auth("catalog")
    )
    assert ("/hs_code", "hs.code_unknown") in [(v["field"], v["code"]) for v in unknown.json()["violations"]]
    assert (await verified(client, auth))["ok"] is True


def _run_cli(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli(argv)
    return code, out.getvalue()


async def test_orders_are_priced_with_the_tax_in_force_on_the_declaration_day(
    client: Client, auth: Auth, app: Litestar, clock: FakeClock
) -> None:
    await file_product(client, auth, UNTIL, spec="30ml")  # 300 CNY for 30 ml: 10 CNY/ml, CT 15 % applies
    change_day = TODAY + dt.timedelta(days=20)
    rates = copy.deepcopy(default_sets()["tax-rates"])
    for row in rates:
        if row["prefix"] == "3304":
            row["vat"] = "0.09"  # a test edition: another VAT rate from a day on
    assert (await put_edition(client, auth, "tax-rates", rates, change_day)).status_code == 200

    # CT = 300/0.85 × 0.15 × 0.7 = 37.06; VAT at 13 %: 352.94 × 0.13 × 0.7 = 32.12; at 9 %: 22.24.
    today = (await order(client, auth)).json()["lines"][0]
    later = (await order(client, auth, declared_on=change_day.isoformat())).json()["lines"][0]
    assert (today["consumption_tax"], today["vat"]) == ("37.06", "32.12")
    assert (later["consumption_tax"], later["vat"]) == ("37.06", "22.24")
    assert (await lookup(client, auth))["tax_rate_above"] == "0.2306"
    bad = await order(client, auth, declared_on="0001-01-01")
    assert bad.status_code in (400, 422)

    # On its day the look-up's rates are those in force: the filing's terms are written again, with an event.
    set_day(clock, change_day)
    await holds.scan(app.state.ctx, THRESHOLDS)
    assert (await lookup(client, auth))["tax_rate_above"] == "0.1976"  # 0.7 × (0.09 + 0.15) / 0.85
    event = (await history(client, auth))[-1]
    assert (event["action"], event["actor"]) == ("reprice", holds.HOLD_ACTOR)
    assert event["changes"]["tax_rate"] == {"old": "0.091", "new": "0.063"}
    assert (await verified(client, auth))["ok"] is True


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("banned-ingredients", {}),
        ("banned-ingredients", {"cosmetics": []}),
        ("prohibited", []),
        ("tariff-codes", []),
        ("categories", {}),
    ],
)
async def test_an_empty_edition_is_refused_and_changes_nothing(
    client: Client, auth: Auth, name: str, data: Any
) -> None:
    refused = await put_edition(client, auth, name, data)
    assert refused.status_code == 422
    assert [v["code"] for v in refused.json()["violations"]] == ["reference.empty"]
    editions = (await client.get(f"/v1/reference/{name}/editions", headers=auth("auditor"))).json()
    assert [e["version"] for e in editions] == [1]


async def test_reference_texts_are_bounded_and_free_of_control_characters(client: Client, auth: Auth) -> None:
    refused = await put_edition(
        client,
        auth,
        "prohibited",
        [{"prefix": "93", "reason": "arms\u0000"}, {"prefix": "36", "reason": "x" * 2001}],
    )
    assert refused.status_code == 422
    found = [(v["field"], v["code"]) for v in refused.json()["violations"]]
    assert found == [("/0/reason", "format.control_character"), ("/1/reason", "format.too_long")]
    bad_origin = await put_edition(client, auth, "prohibited", prohibited_with({**JP_BAN, "origin": ["XX"]}))
    assert [v["code"] for v in bad_origin.json()["violations"]] == ["format.country"]
    editions = (await client.get("/v1/reference/prohibited/editions", headers=auth("auditor"))).json()
    assert len(editions) == 1


async def test_tax_rates_load_from_csv_with_the_default_rows_empty_prefix(
    client: Client, auth: Auth, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    path = tmp_path / "tax-rates.csv"
    path.write_text(
        "prefix,vat,consumption_tax,threshold_per,threshold_price\n,0.13,0,,\n3304,0.13,0.15,ml|g|piece,10|10|15\n"
    )
    code, out = await asyncio.to_thread(
        _run_cli, ["reference", "load", "tax-rates", str(path), "--effective-from", TODAY.isoformat()]
    )
    assert code == 0, out
    loaded = (await client.get("/v1/reference/tax-rates", headers=auth("auditor"))).json()
    assert loaded["version"] == 2
    assert loaded["data"][0] == {"prefix": "", "vat": "0.13", "consumption_tax": "0"}


async def test_a_submission_is_approved_only_if_it_passes_the_reference_in_force_at_approval(
    client: Client, auth: Auth
) -> None:
    assert (await client.post("/v1/products", json=sk2(), headers=auth("catalog"))).status_code == 201
    assert (await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))).status_code == 200
    impact = (await put_edition(client, auth, "prohibited", prohibited_with(JP_BAN), dry_run=True)).json()["impact"]
    assert (impact["checked"], impact["failing"]) == (1, 1)  # under-review records are in the impact too
    assert (await put_edition(client, auth, "prohibited", prohibited_with(JP_BAN))).status_code == 200
    approve = {"filing_no": "2025110201", "valid_until": UNTIL.isoformat()}
    refused = await client.post(f"/v1/products/{SKU}/filing/approve", json=approve, headers=auth("reviewer"))
    assert refused.status_code == 422
    assert [v["code"] for v in refused.json()["violations"]] == ["hs.prohibited_origin"]
    record = (await client.get(f"/v1/products/{SKU}", headers=auth("reviewer"))).json()
    assert (record["filing"]["status"], record["filing"]["filing_no"]) == ("under_review", None)
    rejected = await client.post(
        f"/v1/products/{SKU}/filing/reject", json={"reasons": ["banned origin"]}, headers=auth("reviewer")
    )
    assert rejected.status_code == 200


async def test_a_lapsed_document_is_not_a_reason_for_a_hold(
    client: Client, auth: Auth, app: Litestar, clock: FakeClock
) -> None:
    await file_product(client, auth, TODAY + dt.timedelta(days=450))
    set_day(clock, TODAY + dt.timedelta(days=420))  # the brand authorization lapsed on day 400
    brands = [*copy.deepcopy(default_sets()["brands"]), {"brand": "Test Brand", "countries": ["FR"]}]
    assert (await put_edition(client, auth, "brands", brands)).status_code == 200
    report = await holds.apply_due(app.state.ctx)
    assert report.editions == []  # applied at the put already
    found = await lookup(client, auth)
    assert found["declarable"] is True
    assert "hold" not in found


async def test_an_edition_writes_no_event_for_a_filing_whose_written_terms_it_leaves_alone(
    client: Client, auth: Auth
) -> None:
    """A specific rate is read at each order check, not kept on the filing: adding one changes no written term."""
    await file_product(client, auth, UNTIL)
    rates = copy.deepcopy(default_sets()["tax-rates"])
    for row in rates:
        if row["prefix"] == "3304":
            row["specific"] = {"per": "L", "amount": "1"}  # a test edition
    assert (await put_edition(client, auth, "tax-rates", rates)).status_code == 200
    brands = [*copy.deepcopy(default_sets()["brands"]), {"brand": "Test Brand", "countries": ["FR"]}]
    assert (await put_edition(client, auth, "brands", brands)).status_code == 200
    assert [e["action"] for e in await history(client, auth)] == ["create", "submit", "approve"]
