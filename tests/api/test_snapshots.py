"""History snapshots: an `as_of` read that starts from one answers what the walk from the first event answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import delete, func, select, update

from registry.models import HistoryEvent, HistorySnapshot
from registry.services import history
from tests.api.conftest import Auth
from tests.conftest import FakeClock
from tests.samples import sk2

SKU = "SK2-FTE-230"


@pytest.fixture(autouse=True)
def _often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "SNAPSHOT_EVERY", 3)


async def _life(client: httpx.AsyncClient, auth: Auth, clock: FakeClock) -> None:
    """Fourteen changes of fields and of status, and a clock set back once (two writers' moments can cross)."""
    await client.post("/v1/products", json=sk2(), headers=auth("catalog"))
    version = 1
    for n in range(10):
        clock.advance(seconds=-90 if n == 6 else 60)
        change: dict[str, Any] = {"usage": f"第{n}版说明"}
        if n % 4 == 0:
            change["spec"] = f"{200 + n} ml"
        if n == 5:
            change["ingredients"] = ["水", "丁二醇"]
        response = await client.patch(
            f"/v1/products/{SKU}", json=change, headers={**auth("catalog"), "If-Match": f'"{version}"'}
        )
        assert response.status_code == 200, response.text
        version += 1
        if n == 3:  # a round trip through review: status and filing fields change too
            await client.post(f"/v1/products/{SKU}/filing/submit", headers=auth("catalog"))
            body = {"reasons": ["标签缺少中文"]}
            assert (
                await client.post(f"/v1/products/{SKU}/filing/reject", json=body, headers=auth("reviewer"))
            ).is_success
            version += 2


async def _answers(client: httpx.AsyncClient, auth: Auth, moments: list[dt.datetime]) -> list[Any]:
    answers = []
    for moment in moments:
        response = await client.get(
            f"/v1/products/{SKU}", params={"as_of": moment.isoformat()}, headers=auth("auditor")
        )
        answers.append((response.status_code, response.json()))
    return answers


async def test_as_of_from_snapshots_answers_what_the_whole_walk_answers(
    app: Litestar, client: httpx.AsyncClient, auth: Auth, clock: FakeClock
) -> None:
    await _life(client, auth, clock)
    db = app.state.ctx.db
    async with db.reads() as tx:
        moments = sorted(set((await tx.scalars(select(HistoryEvent.at).where(HistoryEvent.sku == SKU))).all()))
        snapshots = await tx.scalar(select(func.count()).select_from(HistorySnapshot))
    assert snapshots >= 3  # 14 changes, one snapshot every 3 versions
    probes = [moments[0] - dt.timedelta(seconds=1)]
    for moment in moments:
        probes += [moment - dt.timedelta(microseconds=1), moment, moment + dt.timedelta(seconds=30)]
    from_snapshots = await _answers(client, auth, probes)

    async with db.writes.begin() as tx:
        await tx.execute(delete(HistorySnapshot))
    assert await _answers(client, auth, probes) == from_snapshots
    assert from_snapshots[0][0] == 404
    assert from_snapshots[-1] == (200, (await client.get(f"/v1/products/{SKU}", headers=auth("auditor"))).json())


async def test_verify_re_derives_each_snapshot(
    app: Litestar, client: httpx.AsyncClient, auth: Auth, clock: FakeClock
) -> None:
    await _life(client, auth, clock)
    assert (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()["ok"] is True
    db = app.state.ctx.db
    async with db.writes.begin() as tx:
        seqs = (await tx.scalars(select(HistorySnapshot.seq).order_by(HistorySnapshot.seq))).all()
        second = await tx.scalar(select(HistorySnapshot).where(HistorySnapshot.seq == seqs[1]))
        assert second is not None
        edited = {**second.state, "usage": "从未写过的说明"}
        await tx.execute(update(HistorySnapshot).where(HistorySnapshot.seq == seqs[1]).values(state=edited))
    verdict = (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()
    assert verdict["ok"] is False
    assert verdict["first_bad_seq"] == seqs[1]

    async with db.writes.begin() as tx:  # a snapshot taken away only costs reads time
        await tx.execute(delete(HistorySnapshot).where(HistorySnapshot.seq == seqs[1]))
    assert (await client.get("/v1/audit/verify", headers=auth("auditor"))).json()["ok"] is True
