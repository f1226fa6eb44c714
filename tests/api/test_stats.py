"""Filing statistics against a known sequence of submits, refusals and decisions at known times."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.api.conftest import Auth
from tests.conftest import FakeClock
from tests.samples import sk2

Client = httpx.AsyncClient


async def act(client: Client, auth: Auth, sku: str, action: str, body: Any = None) -> httpx.Response:
    role = "catalog" if action == "submit" else "reviewer"
    return await client.post(f"/v1/products/{sku}/filing/{action}", json=body, headers=auth(role))


async def filing_stats(client: Client, auth: Auth, **params: str) -> dict[str, Any]:
    response = await client.get("/v1/stats/filings", params=params, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_first_pass_rate_rules_review_hours_and_weeks_are_exact(
    client: Client, auth: Auth, clock: FakeClock
) -> None:
    start = clock.now  # Sunday 2026-11-22, 10:00 in Shanghai: ISO week 47
    for sku, hs_code in (("S-A", "3304990099"), ("S-B", "8517130000"), ("S-C", "3304990099")):
        created = await client.post("/v1/products", json=sk2(sku=sku, hs_code=hs_code), headers=auth("catalog"))
        assert created.status_code == 201, created.text
    assert (await act(client, auth, "S-A", "submit")).status_code == 200  # passes at the first submit
    assert (await act(client, auth, "S-C", "submit")).status_code == 200  # passes at the first submit
    refused = await act(client, auth, "S-B", "submit")  # refused: the HS code is no cosmetic's
    assert refused.status_code == 422
    clock.advance(hours=1)
    fixed = await client.patch(
        "/v1/products/S-B", json={"hs_code": "3304990099"}, headers={**auth("catalog"), "If-Match": '"1"'}
    )
    assert fixed.status_code == 200, fixed.text
    assert (await act(client, auth, "S-B", "submit")).status_code == 200  # passes at the second submit
    clock.now = start + dt.timedelta(hours=4)
    approve = {"filing_no": "2026000001", "valid_until": "2029-01-01"}
    assert (await act(client, auth, "S-A", "approve", approve)).status_code == 200  # 4 hours after its submit
    clock.now = start + dt.timedelta(hours=10)
    assert (await act(client, auth, "S-C", "reject", {"reasons": ["no label"]})).status_code == 200  # 10 hours
    clock.now = start + dt.timedelta(hours=21)  # Monday 07:00 in Shanghai: ISO week 48
    approve = {"filing_no": "2026000002", "valid_until": "2029-01-01"}
    assert (await act(client, auth, "S-B", "approve", approve)).status_code == 200  # 20 hours after its submit

    found = await filing_stats(client, auth)

    assert found["to"] == "2026-11-23"
    assert found["from"] == "2026-09-01"  # twelve weeks, both ends included
    assert found["submissions"] == 4
    assert found["first_pass_rate"] == 0.6667  # S-A and S-C of S-A, S-B, S-C
    assert found["first_pass_by_week"] == {"2026-W47": 0.6667}  # all three first submitted on the Sunday
    assert found["by_rule"] == [{"code": "hs.category_mismatch", "count": 1, "share": 0.25}]
    assert found["review_hours"] == {"p50": 10.0, "p90": 18.0}  # of 4, 10 and 20 hours
    assert found["filed_by_week"] == {"2026-W47": 1, "2026-W48": 1}
    assert found["backlog"]["under_review"] == 0

    # A window of the Monday alone: the one approval in it, and no submits.
    monday = await filing_stats(client, auth, **{"from": "2026-11-23", "to": "2026-11-23"})
    assert monday["submissions"] == 0
    assert monday["first_pass_rate"] is None
    assert monday["first_pass_by_week"] == {}
    assert monday["by_rule"] == []
    assert monday["review_hours"] == {"p50": 20.0, "p90": 20.0}
    assert monday["filed_by_week"] == {"2026-W48": 1}


async def test_the_backlog_splits_best_sellers_from_the_rest(client: Client, auth: Auth, clock: FakeClock) -> None:
    first = clock.now
    for n, units in enumerate([None, 100, 200, 300, 400, 500]):
        sku = f"B-{n}"
        created = await client.post("/v1/products", json=sk2(sku=sku, monthly_units=units), headers=auth("catalog"))
        assert created.status_code == 201
        assert (await act(client, auth, sku, "submit")).status_code == 200
        clock.advance(hours=1)

    backlog = (await filing_stats(client, auth))["backlog"]

    def at(hours: int) -> str:
        return (first + dt.timedelta(hours=hours)).isoformat().replace("+00:00", "Z")

    assert backlog == {
        "under_review": 6,
        "oldest_submitted_at": at(0),
        # The 80th percentile of 100…500 (nearest rank) is 400: the "A" best sellers are 400 and 500.
        "by_priority": {
            "threshold": 400,
            "a": {"under_review": 2, "oldest_submitted_at": at(4)},
            "rest": {"under_review": 4, "oldest_submitted_at": at(0)},
        },
    }


async def test_who_may_read_the_statistics_and_the_window_they_take(client: Client, auth: Auth) -> None:
    for role in ("reviewer", "auditor", "admin"):
        assert (await client.get("/v1/stats/filings", headers=auth(role))).status_code == 200, role
    for role in ("catalog", "declaration"):
        assert (await client.get("/v1/stats/filings", headers=auth(role))).status_code == 403, role
    for params in ({"from": "2026-11-23", "to": "2026-11-22"}, {"from": "0001-01-01"}, {"to": "yesterday"}):
        response = await client.get("/v1/stats/filings", params=params, headers=auth("auditor"))
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
    whole = await filing_stats(client, auth, **{"from": "1900-01-01", "to": "9999-12-31"})
    assert whole["submissions"] == 0
    assert whole["review_hours"] == {"p50": None, "p90": None}  # no decision: no quantile
