"""The filing lifecycle through the API: each row of the table, each refusal, history, as_of, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select, text

from registry.models import HistoryEvent
from registry.services.keys import ROLES
from tests.api.conftest import Auth, file_product
from tests.conftest import FakeClock
from tests.samples import TODAY, sk2

Client = httpx.AsyncClient
SKU = "SK2-FTE-230"
NEXT_YEAR_DAY = TODAY + dt.timedelta(days=365)
NEXT_YEAR = NEXT_YEAR_DAY.isoformat()


async def act(client: Client, auth: Auth, action: str, role: str, body: Any = None, **headers: str) -> Any:
    return await client.post(f"/v1/products/{SKU}/filing/{action}", json=body, headers={**auth(role), **headers})


async def status(client: Client, auth: Auth) -> str:
    result: str = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()["filing"]["status"]
    return result


async def test_the_sk2_example_is_submitted_approved_and_filed(client: Client, auth: Auth, clock: FakeClock) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    submitted = await act(client, auth, "submit", "catalog")
    assert submitted.status_code == 200
    assert submitted.json()["filing"]["status"] == "under_review"
    assert submitted.json()["filing"]["submitted_at"] == "2026-11-22T02:00:00Z"
    assert submitted.headers["etag"] == '"2"'

    approved = await act(
        client,
        auth,
        "approve",
        "reviewer",
        {"filing_no": "2025110201", "valid_until": NEXT_YEAR},
        **{"If-Match": '"2"'},
    )
    assert approved.status_code == 200, approved.text
    filing = approved.json()["filing"]
    assert filing["status"] == "filed"
    assert filing["filing_no"] == "2025110201"
    assert filing["valid_until"] == NEXT_YEAR
    assert filing["tax_rate"] == "0.091"
    assert approved.json()["version"] == 3

    by_number = await client.get("/v1/filings/2025110201", headers=auth("declaration"))
    assert by_number.status_code == 200
    assert by_number.json() == {
        "sku": SKU,
        "filing_no": "2025110201",
        "hs_code": "3304990099",
        "tax_rate": "0.091",
        "status": "filed",
        "declarable": True,
        "valid_until": NEXT_YEAR,
        # Skin care: 15 % consumption tax from 10 CNY per ml of dutiable price (财税〔2016〕103号).
        "tax_rate_above": "0.2306",
        "threshold": {"per": "ml", "price": "10"},
    }


async def test_submit_runs_full_validation_and_changes_nothing_when_it_fails(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(hs_code="8517130000", images=[]), headers=auth("catalog"))
    refused = await act(client, auth, "submit", "catalog")
    assert refused.status_code == 422
    assert {v["code"] for v in refused.json()["violations"]} == {"hs.category_mismatch", "images.missing"}
    assert await status(client, auth) == "unfiled"
    history = (await client.get(f"/v1/products/{SKU}/history", headers=auth("auditor"))).json()["items"]
    assert [event["action"] for event in history] == ["create"]


async def test_reject_needs_reasons_which_stay_until_the_next_submit(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await act(client, auth, "submit", "catalog")
    assert (await act(client, auth, "reject", "reviewer", {"reasons": []})).status_code == 422
    assert (await act(client, auth, "reject", "reviewer")).status_code == 422
    rejected = await act(client, auth, "reject", "reviewer", {"reasons": ["品牌授权书不清晰", "缺少中文标签图片"]})
    assert rejected.status_code == 200
    assert rejected.json()["filing"]["status"] == "unfiled"
    assert rejected.json()["filing"]["rejection_reasons"] == ["品牌授权书不清晰", "缺少中文标签图片"]
    resubmitted = await act(client, auth, "submit", "catalog")
    assert resubmitted.json()["filing"]["rejection_reasons"] == []


async def test_amend_reopens_a_filed_record_and_its_number_stops_being_declarable(client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY)
    assert (
        await client.patch(
            f"/v1/products/{SKU}", json={"spec": "250 ml"}, headers={**auth("catalog"), "If-Match": '"3"'}
        )
    ).status_code == 409
    amended = await act(client, auth, "amend", "catalog")
    assert amended.json()["filing"]["status"] == "unfiled"
    lookup = (await client.get("/v1/filings/2025110201", headers=auth("declaration"))).json()
    assert lookup["declarable"] is False
    changed = await client.patch(
        f"/v1/products/{SKU}", json={"spec": "250 ml"}, headers={**auth("catalog"), "If-Match": amended.headers["ETag"]}
    )
    assert changed.status_code == 200


async def test_expire_by_hand_needs_a_reason(client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY)
    assert (await act(client, auth, "expire", "reviewer", {})).status_code == 422
    expired = await act(client, auth, "expire", "reviewer", {"reason": "品牌授权到期"})
    assert expired.status_code == 200
    assert expired.json()["filing"]["status"] == "expired"
    history = (await client.get(f"/v1/products/{SKU}/history", headers=auth("auditor"))).json()["items"]
    assert history[-1]["reason"] == "品牌授权到期"
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("filed", "expired")
    resubmitted = await act(client, auth, "submit", "catalog")
    assert resubmitted.json()["filing"]["status"] == "under_review"


@pytest.mark.parametrize(
    ("setup", "action", "allowed"),
    [
        ([], "approve", ["submit"]),
        ([], "amend", ["submit"]),
        ([], "expire", ["submit"]),
        (["submit"], "submit", ["approve", "reject"]),
        (["submit"], "amend", ["approve", "reject"]),
    ],
)
async def test_an_action_not_allowed_from_the_status_is_409_with_the_allowed_ones(
    client: Client, auth: Auth, setup: list[str], action: str, allowed: list[str]
) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    for step in setup:
        await act(client, auth, step, "catalog")
    body = {"reason": "x"} if action == "expire" else None
    role = "reviewer" if action in ("approve", "expire") else "catalog"
    if action == "approve":
        body = {"filing_no": "2025110201", "valid_until": NEXT_YEAR}
    refused = await act(client, auth, action, role, body)
    assert refused.status_code == 409
    assert refused.json()["allowed_actions"] == allowed


async def test_refused_filing_states_and_roles(client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY)
    assert (
        await act(client, auth, "approve", "catalog", {"filing_no": "1", "valid_until": NEXT_YEAR})
    ).status_code == 403
    assert (await act(client, auth, "submit", "reviewer")).status_code == 403
    assert (await act(client, auth, "amend", "declaration")).status_code == 403
    assert (await act(client, auth, "amend", "auditor")).status_code == 403
    assert (await act(client, auth, "destroy", "admin")).status_code == 404
    assert (await client.post("/v1/products/NOPE/filing/submit", headers=auth("catalog"))).status_code == 404
    stale = await act(client, auth, "amend", "catalog", **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert await status(client, auth) == "filed"


async def test_approve_checks_its_number_and_date(client: Client, auth: Auth) -> None:
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    await act(client, auth, "submit", "catalog")
    cases = [
        ({"filing_no": "20251102", "valid_until": NEXT_YEAR}, ("/filing_no", "format.filing_no")),
        ({"filing_no": "2025110201", "valid_until": TODAY.isoformat()}, ("/valid_until", "filing.valid_until_past")),
        ({"valid_until": NEXT_YEAR}, ("/filing_no", "required")),
        ({"filing_no": "2025110201", "valid_until": NEXT_YEAR, "reasons": ["x"]}, ("/reasons", "unknown_field")),
    ]
    for body, expected in cases:
        refused = await act(client, auth, "approve", "reviewer", body)
        assert refused.status_code == 422, body
        assert expected in {(v["field"], v["code"]) for v in refused.json()["violations"]}
    assert await status(client, auth) == "under_review"


async def test_a_filing_number_is_never_given_to_another_sku(client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY)
    other = sk2(sku="SK2-FTE-75", spec="75 ml")
    await client.post("/v1/products", json=other, headers=auth("catalog"))
    await client.post("/v1/products/SK2-FTE-75/filing/submit", headers=auth("catalog"))
    taken = await client.post(
        "/v1/products/SK2-FTE-75/filing/approve",
        json={"filing_no": "2025110201", "valid_until": NEXT_YEAR},
        headers=auth("reviewer"),
    )
    assert taken.status_code == 409
    # also after the first SKU moved on to another number
    await act(client, auth, "amend", "catalog")
    await act(client, auth, "submit", "catalog")
    await act(client, auth, "approve", "reviewer", {"filing_no": "2026010501", "valid_until": NEXT_YEAR})
    again = await client.post(
        "/v1/products/SK2-FTE-75/filing/approve",
        json={"filing_no": "2025110201", "valid_until": NEXT_YEAR},
        headers=auth("reviewer"),
    )
    assert again.status_code == 409


async def test_a_refiled_sku_keeps_its_old_number_which_names_its_successor(client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY, "2025110201")
    await act(client, auth, "amend", "catalog")
    await act(client, auth, "submit", "catalog")
    await act(client, auth, "approve", "reviewer", {"filing_no": "2026010501", "valid_until": NEXT_YEAR})
    old = (await client.get("/v1/filings/2025110201", headers=auth("declaration"))).json()
    assert old["superseded_by"] == "2026010501"
    assert old["declarable"] is False
    new = (await client.get("/v1/filings/2026010501", headers=auth("declaration"))).json()
    assert new["declarable"] is True
    assert "superseded_by" not in new
    assert (await client.get("/v1/filings/9999999999", headers=auth("declaration"))).status_code == 404


async def test_a_full_life_writes_one_event_per_change(client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY)
    await act(client, auth, "expire", "reviewer", {"reason": "授权到期"})
    await act(client, auth, "amend", "catalog")
    await client.patch(f"/v1/products/{SKU}", json={"spec": "250 ml"}, headers={**auth("catalog"), "If-Match": '"5"'})
    events = (await client.get(f"/v1/products/{SKU}/history", headers=auth("reviewer"))).json()["items"]
    assert [e["action"] for e in events] == ["create", "submit", "approve", "expire", "amend", "update"]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[2]["changes"]["filing_no"] == {"old": None, "new": "2025110201"}
    assert events[5]["changes"] == {"spec": {"old": "230 ml", "new": "250 ml"}}
    assert all(e["actor"].startswith("key:") for e in events)
    assert (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()["version"] == 6


async def test_as_of_reads_the_record_at_three_points_of_its_life(client: Client, auth: Auth, clock: FakeClock) -> None:
    before_creation = clock.now - dt.timedelta(seconds=1)
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    as_created = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    clock.advance(hours=1)
    await act(client, auth, "submit", "catalog")
    clock.advance(hours=1)
    await act(client, auth, "approve", "reviewer", {"filing_no": "2025110201", "valid_until": NEXT_YEAR})
    as_filed = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    clock.advance(days=3)
    await act(client, auth, "amend", "catalog")
    await client.patch(f"/v1/products/{SKU}", json={"spec": "250 ml"}, headers={**auth("catalog"), "If-Match": '"4"'})
    now = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()

    async def at(moment: dt.datetime) -> Any:
        return await client.get(f"/v1/products/{SKU}", params={"as_of": moment.isoformat()}, headers=auth("auditor"))

    assert (await at(before_creation)).status_code == 404
    assert (await at(dt.datetime(2026, 11, 22, 2, 30, tzinfo=dt.UTC))).json() == as_created
    in_review = (await at(dt.datetime(2026, 11, 22, 3, 30, tzinfo=dt.UTC))).json()
    assert in_review["filing"]["status"] == "under_review"
    assert in_review["version"] == 2
    assert (await at(dt.datetime(2026, 11, 24, tzinfo=dt.UTC))).json() == as_filed
    assert (await at(clock.now)).json() == now
    naive = await client.get(f"/v1/products/{SKU}", params={"as_of": "2026-11-22T03:00:00"}, headers=auth("auditor"))
    assert naive.status_code == 400


KEYS = len(ROLES)  # the fixture makes a key per role


async def test_audit_verify_holds_and_points_at_an_edited_event(app: Litestar, client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY)
    await client.put("/v1/reference/brands", json=[{"brand": "SK-II", "countries": ["JP"]}], headers=auth("admin"))
    verified = await client.get("/v1/audit/verify", headers=auth("auditor"))
    # The fixture's keys were made first, each with its audit event: the record's events follow them.
    assert verified.json() == {"ok": True, "events": KEYS + 4, "first_bad_seq": None}
    assert (await client.get("/v1/audit/verify", headers=auth("catalog"))).status_code == 403

    async with app.state.ctx.db.engine.begin() as connection:
        await connection.execute(text(f"UPDATE history_event SET actor = 'someone else' WHERE seq = {KEYS + 2}"))
    tampered = (await client.get("/v1/audit/verify", headers=auth("admin"))).json()
    assert tampered == {"ok": False, "events": KEYS + 4, "first_bad_seq": KEYS + 2}


async def test_audit_verify_notices_a_removed_last_event(app: Litestar, client: Client, auth: Auth) -> None:
    await file_product(client, auth, NEXT_YEAR_DAY)
    async with app.state.ctx.db.engine.begin() as connection:
        await connection.execute(text(f"DELETE FROM history_event WHERE seq = {KEYS + 3}"))
    assert (await client.get("/v1/audit/verify", headers=auth("auditor"))).json() == {
        "ok": False,
        "events": KEYS + 2,
        "first_bad_seq": KEYS + 3,
    }


async def test_a_failure_after_the_change_leaves_neither_change_nor_event(
    app: Litestar, client: Client, auth: Auth
) -> None:
    """The history insert fails after the product row was updated: the transaction keeps neither."""
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    async with app.state.ctx.db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE history_head"))
    failed = await act(client, auth, "submit", "catalog")
    assert failed.status_code >= 500
    product = (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json()
    assert (product["version"], product["filing"]["status"]) == (1, "unfiled")
    async with app.state.ctx.db.reads() as tx:
        events = (await tx.scalars(select(HistoryEvent).where(HistoryEvent.sku.is_not(None)))).all()
    assert [event.action for event in events] == ["create"]
