"""The look-up index's own bookkeeping: one body a SKU, declarable by the day, ETags from content, no step back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from registry.config import Settings
from registry.db import Database
from registry.services.context import Context
from registry.services.lookup import LookupIndex

DAY = dt.date(2026, 11, 22)


def row(sku: str, version: int, until: dt.date | None = DAY, status: str = "filed") -> tuple[Any, ...]:
    """Look-up columns in LOOKUP_COLUMNS order."""
    return (sku, "2025110201", "3304990099", Decimal("0.091"), status, until, version, None, None, None, None)


@pytest.fixture
def index() -> LookupIndex:
    ctx = Context(
        db=Database(Settings(database_url="sqlite+aiosqlite://")),
        clock=lambda: dt.datetime(2026, 11, 22, 2, tzinfo=dt.UTC),
    )
    return LookupIndex(ctx, 1000)


def declarable(index: LookupIndex, sku: str, day: dt.date) -> bool:
    found = index.body(sku, day.toordinal())
    assert found is not None
    return b'"declarable":true' in found[0]


def test_declarable_follows_the_day_forward_and_back(index: LookupIndex) -> None:
    index.apply([row("A", 3, DAY), row("B", 3, DAY + dt.timedelta(days=2)), row("C", 1, None, "unfiled")])
    assert [declarable(index, sku, DAY) for sku in "ABC"] == [True, True, False]
    later = DAY + dt.timedelta(days=1)
    assert [declarable(index, sku, later) for sku in "ABC"] == [False, True, False]
    assert b'"declarable":false' in index.batch(["A", "B"], later.toordinal()).split(b"},{")[0]
    assert [declarable(index, sku, DAY + dt.timedelta(days=3)) for sku in "AB"] == [False, False]
    assert [declarable(index, sku, DAY) for sku in "AB"] == [True, True]  # a clock set back: rebuilt
    # A renewed filing (a later last day) lapses on its new day, not its old one.
    index.apply([row("A", 5, DAY + dt.timedelta(days=10))])
    assert declarable(index, "A", DAY + dt.timedelta(days=5)) is True


def test_the_etag_is_the_bodys_digest(index: LookupIndex) -> None:
    index.apply([row("A", 3)])
    other = LookupIndex(index._ctx, 1000)
    other.apply([row("A", 7)])  # another instance, another version, the same representation
    first, again = index.body("A", DAY.toordinal()), other.body("A", DAY.toordinal())
    assert first is not None
    assert again is not None
    assert first == again
    lapsed = index.body("A", (DAY + dt.timedelta(days=1)).toordinal())
    assert lapsed is not None
    assert lapsed[1] != first[1]


async def test_a_refresh_that_read_an_older_row_does_not_step_back(index: LookupIndex) -> None:
    index.apply([row("A", 5, DAY + dt.timedelta(days=30))])
    index._read(row("A", 4, DAY))  # a refresh whose read began before version 5 committed
    assert index.record("A", DAY.toordinal()).valid_until == DAY + dt.timedelta(days=30)  # type: ignore[union-attr]
    index.apply([row("A", 4, DAY)])  # nor a write of this instance applied out of order
    assert index.record("A", DAY.toordinal()).valid_until == DAY + dt.timedelta(days=30)  # type: ignore[union-attr]
    index._read(row("A", 6, DAY))  # a later version, read from the database, is taken
    assert index.record("A", DAY.toordinal()).valid_until == DAY  # type: ignore[union-attr]
