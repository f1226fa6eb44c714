"""The migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from registry import schema
from registry.config import Settings
from registry.db import Base, create_engine


def _diff_and_tables(url: str) -> tuple[list[Any], set[str]]:
    def collect(connection: Connection) -> tuple[list[Any], set[str]]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata), set(inspect(connection).get_table_names())

    async def run() -> tuple[list[Any], set[str]]:
        engine = create_engine(Settings(database_url=url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(collect)
        finally:
            await engine.dispose()

    return asyncio.run(run())


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
