"""Random action sequences by random roles against the API: only the lifecycle table's transitions succeed."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from litestar.testing import TestClient

from registry.app import create_app
from registry.config import Settings
from registry.db import Database
from registry.domain.lifecycle import TRANSITIONS, Action
from registry.domain.records import Status
from registry.services import keys as key_service
from registry.services.context import Context
from tests.conftest import FakeClock
from tests.samples import TODAY, sk2

ROLES = ("catalog", "reviewer", "declaration", "auditor", "admin")
ROUTE_ROLES = {"catalog", "reviewer", "admin"}
NEXT_YEAR = (TODAY + dt.timedelta(days=365)).isoformat()


def _body(action: Action, good: bool, number: str) -> Any:
    if action is Action.APPROVE:
        return {"filing_no": number if good else "123", "valid_until": NEXT_YEAR}
    if action is Action.REJECT:
        return {"reasons": ["标签不符"]} if good else {"reasons": []}
    if action is Action.EXPIRE:
        return {"reason": "授权到期"} if good else {}
    if action is Action.AMEND:
        return {"reason": "包装更新"} if good else {"reasons": ["takes none"]}
    return None if good else {"reason": "takes none"}


async def _seed(url: str) -> dict[str, str]:
    db = Database(Settings(database_url=url, scheduler=False))
    try:
        ctx = Context(db=db)
        return {role: await key_service.create(ctx, role, f"machine {role}") for role in ROLES}
    finally:
        await db.dispose()


@pytest.fixture
def seeded(database_url: str) -> tuple[str, dict[str, str]]:
    """This test's database, holding one key per role."""
    return database_url, asyncio.run(_seed(database_url))


def test_random_sequences_follow_the_lifecycle_table(seeded: tuple[str, dict[str, str]]) -> None:
    """Each sequence drives a product of its own through one running service."""
    url, keys = seeded
    runs = itertools.count()
    numbers = (f"{n:010d}" for n in itertools.count(2025110201))
    clock = FakeClock(dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC))
    client = TestClient(create_app(Settings(database_url=url, scheduler=False), clock=clock))

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.client = client
            self.sku = f"M-{next(runs)}"
            self.status = Status.UNFILED
            self.changes = 0

        def headers(self, role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {keys[role]}"}

        @initialize()
        def create(self) -> None:
            response = self.client.post("/v1/products", json=sk2(sku=self.sku), headers=self.headers("catalog"))
            assert response.status_code == 201
            self.changes += 1

        @rule(action=st.sampled_from(list(Action)), role=st.sampled_from(ROLES), good=st.booleans())
        def act(self, action: Action, role: str, good: bool) -> None:
            number = next(numbers)
            response = self.client.post(
                f"/v1/products/{self.sku}/filing/{action}", json=_body(action, good, number), headers=self.headers(role)
            )
            rule_ = TRANSITIONS[action]
            if role not in ROUTE_ROLES or role not in rule_.roles:
                assert response.status_code == 403, response.text
            elif not good:
                assert response.status_code == 422, response.text
            elif self.status not in rule_.sources:
                assert response.status_code == 409, response.text
                assert response.json()["allowed_actions"] == [
                    a.value for a, r in TRANSITIONS.items() if self.status in r.sources
                ]
            else:
                assert response.status_code == 200, response.text
                self.status = rule_.target
                self.changes += 1
            if response.status_code == 200:
                assert response.json()["filing"]["status"] == self.status

        @rule(role=st.sampled_from(ROLES), spec=st.sampled_from(["230 ml", "250 ml", "2×115ml"]))
        def patch(self, role: str, spec: str) -> None:
            current = self.client.get(f"/v1/products/{self.sku}", headers=self.headers("auditor")).json()
            response = self.client.patch(
                f"/v1/products/{self.sku}",
                json={"spec": spec},
                headers={**self.headers(role), "If-Match": f'"{current["version"]}"'},
            )
            if role not in ("catalog", "admin"):
                assert response.status_code == 403
            elif self.status is not Status.UNFILED:
                assert response.status_code == 409
            else:
                assert response.status_code == 200
                self.changes += current["spec"] != spec

        @invariant()
        def matches_the_model(self) -> None:
            record = self.client.get(f"/v1/products/{self.sku}", headers=self.headers("auditor")).json()
            assert record["filing"]["status"] == self.status
            assert record["version"] == self.changes

        def teardown(self) -> None:
            history = self.client.get(f"/v1/products/{self.sku}/history", headers=self.headers("auditor")).json()
            assert len(history["items"]) == self.changes
            assert [event["version"] for event in history["items"]] == list(range(1, self.changes + 1))

    Lifecycle.TestCase.settings = settings(
        max_examples=300,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    with client:
        Lifecycle.TestCase().runTest()
        audit = client.get("/v1/audit/verify", headers={"Authorization": f"Bearer {keys['auditor']}"}).json()
    assert next(runs) >= 300, "fewer sequences ran than asked for"
    assert audit["ok"] is True
