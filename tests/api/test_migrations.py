"""The migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from registry import schema
from registry.config import Settings
from registry.db import Base, create_engine
from registry.models import DailyCount, Product, Submission


def _on(url: str, work: Callable[[AsyncConnection], Awaitable[Any]], *, write: bool = False) -> Any:
    """`work` on a connection of its own to the database at `url`, in a transaction when it writes."""

    async def run() -> Any:
        engine = create_engine(Settings(database_url=url))
        try:
            async with engine.begin() if write else engine.connect() as connection:
                return await work(connection)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _diff_and_tables(url: str) -> tuple[list[Any], set[str]]:
    def collect(connection: Connection) -> tuple[list[Any], set[str]]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata), set(inspect(connection).get_table_names())

    found: tuple[list[Any], set[str]] = _on(url, lambda connection: connection.run_sync(collect))
    return found


async def test_upgrade_matches_the_models_and_downgrade_undoes_it(database_url: str) -> None:
    await asyncio.to_thread(_upgrade_check_downgrade, database_url)


def _upgrade_check_downgrade(url: str) -> None:
    schema.downgrade(url)
    _, tables = _diff_and_tables(url)
    assert tables <= {"alembic_version"}  # an empty database
    schema.upgrade(url)
    diff, tables = _diff_and_tables(url)
    assert diff == []
    assert {table.name for table in Base.metadata.sorted_tables} <= tables

    schema.downgrade(url)
    _, tables = _diff_and_tables(url)
    assert tables <= {"alembic_version"}

    schema.upgrade(url)
    diff, _ = _diff_and_tables(url)
    assert diff == []


async def test_records_filed_or_under_review_before_the_periodic_review_are_carried_over(database_url: str) -> None:
    """0004: a filed record's review interval counts from its approval, and a record under review counts as a
    passed submission awaiting its decision."""
    await asyncio.to_thread(_carry_over, database_url)


def _carry_over(url: str) -> None:
    schema.downgrade(url, "0003")
    row = (
        "INSERT INTO product (sku, brand, brand_key, name_cn, spec, category, hs_code, origin_country, ingredients, "
        "images, documents, version, created_at, updated_at, status, submitted_at, filed_at, rejection_reasons) "
        "VALUES (:sku, 'b', 'b', 'n', '1件', 'cosmetics', '3304990099', 'JP', '[]', '[]', '[]', 3, :at, :at, "
        ":status, :at, :filed, '[]')"
    )
    at = dt.datetime(2026, 1, 2, 3, 4, 5)
    filed = dt.datetime(2026, 1, 3, 4, 5, 6)

    async def insert(connection: AsyncConnection) -> None:
        await connection.execute(text(row), {"sku": "OLD-FILED", "at": at, "status": "filed", "filed": filed})
        await connection.execute(text(row), {"sku": "OLD-WAITING", "at": at, "status": "under_review", "filed": None})

    async def read(connection: AsyncConnection) -> tuple[Any, Any]:
        reviewed = (await connection.execute(select(Product.sku, Product.reviewed_at))).all()
        submitted = (await connection.execute(select(Submission.sku, Submission.passed, Submission.at))).all()
        return reviewed, submitted

    _on(url, insert, write=True)
    schema.upgrade(url)
    reviewed, submitted = _on(url, read)
    utc = dt.UTC
    assert sorted(reviewed) == [("OLD-FILED", filed.replace(tzinfo=utc)), ("OLD-WAITING", None)]
    assert submitted == [("OLD-WAITING", True, at.replace(tzinfo=utc))]


async def test_filings_approved_before_the_tax_terms_get_the_vat_and_consumption_tax_of_their_rate(
    database_url: str,
) -> None:
    """0005: a filing's composite rate was made of the tax-rates row of its HS code; the row's VAT and consumption
    tax are written beside it, so the order check can price it line by line."""
    await asyncio.to_thread(_tax_terms, database_url)


def _tax_terms(url: str) -> None:
    schema.downgrade(url, "0004")
    row = (
        "INSERT INTO product (sku, brand, brand_key, name_cn, spec, category, hs_code, origin_country, ingredients, "
        "images, documents, version, created_at, updated_at, status, filing_no, valid_until, tax_rate, "
        "rejection_reasons) VALUES (:sku, 'b', 'b', 'n', '750ml', 'food', :hs, 'FR', '[]', '[]', '[]', 3, :at, :at, "
        ":status, :no, :until, :rate, '[]')"
    )
    at = dt.datetime(2026, 1, 2, 3, 4, 5)

    async def insert(connection: AsyncConnection) -> None:
        for sku, hs, status, no, rate in (
            ("WINE", "2204210000", "filed", "2025110301", "0.1789"),
            ("HONEY", "0409000000", "expired", "2025110302", "0.063"),
            ("DRAFT", "3304990099", "unfiled", None, None),
        ):
            until = dt.date(2027, 1, 1) if no else None
            values = {"sku": sku, "hs": hs, "at": at, "status": status, "no": no, "until": until, "rate": rate}
            await connection.execute(text(row), values)

    async def read(connection: AsyncConnection) -> list[Any]:
        columns = (Product.sku, Product.vat, Product.consumption_tax, Product.tax_rate_above)
        return list((await connection.execute(select(*columns).order_by(Product.sku))).all())

    _on(url, insert, write=True)
    schema.upgrade(url)
    assert _on(url, read) == [
        ("DRAFT", None, None, None),
        ("HONEY", Decimal("0.09"), Decimal("0"), None),
        ("WINE", Decimal("0.13"), Decimal("0.10"), None),
    ]


async def test_submissions_made_before_the_daily_counts_are_counted_in_their_days(database_url: str) -> None:
    """0011: the submissions already made are counted in the customs days (Asia/Shanghai by default), each keyed by
    the day of its record's previous submit, and a decided one gets its review hours."""
    await asyncio.to_thread(_count_days, database_url)


def _count_days(url: str) -> None:
    schema.downgrade(url, "0010")
    rows = [
        # sku, at (UTC), passed, codes, decided_at, decision
        ("A", dt.datetime(2026, 11, 22, 15, 0), False, '["hs.unknown"]', None, None),  # Sunday 23:00 in Shanghai
        ("A", dt.datetime(2026, 11, 22, 17, 0), True, "[]", dt.datetime(2026, 11, 23, 1, 30), "approve"),  # Monday
        ("B", dt.datetime(2026, 11, 22, 17, 0), True, "[]", None, None),
    ]

    async def insert(connection: AsyncConnection) -> None:
        for sku, at, passed, codes, decided_at, decision in rows:
            await connection.execute(
                text(
                    "INSERT INTO submission (sku, at, passed, codes, decided_at, decision) "
                    f"VALUES (:sku, :at, :passed, '{codes}', :decided_at, :decision)"
                ),
                {"sku": sku, "at": at, "passed": passed, "decided_at": decided_at, "decision": decision},
            )

    async def read(connection: AsyncConnection) -> tuple[Any, Any]:
        columns = (DailyCount.day, DailyCount.measure, DailyCount.key, DailyCount.count)
        counts = (await connection.execute(select(*columns))).all()
        hours = (await connection.execute(select(Submission.sku, Submission.review_hours))).all()
        return counts, hours

    _on(url, insert, write=True)
    schema.upgrade(url)
    counts, hours = _on(url, read)
    sunday, monday = dt.date(2026, 11, 22), dt.date(2026, 11, 23)
    assert sorted(counts) == [
        (sunday, "refused", "hs.unknown", 1),
        (sunday, "submitted", "", 1),
        (monday, "approved", "", 1),
        (monday, "passed", "", 1),
        (monday, "passed", "2026-11-22", 1),
        (monday, "submitted", "", 1),
        (monday, "submitted", "2026-11-22", 1),
    ]
    assert sorted(hours, key=str) == [("A", 8.5), ("A", None), ("B", None)]
