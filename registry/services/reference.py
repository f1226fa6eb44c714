"""Reference data in force: the shipped defaults, replaced set by set by an admin, versioned, with history."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain.errors import NotFound, ValidationFailed
from registry.domain.reference import SET_NAMES, Reference, check_set, default_sets
from registry.models import ReferenceSet
from registry.services import history
from registry.services.context import Context, Principal


class SetOut(msgspec.Struct):
    name: str
    version: int
    data: Any


class SetSummary(msgspec.Struct):
    name: str
    version: int


async def _versions(tx: AsyncSession) -> dict[str, int]:
    rows = await tx.execute(select(ReferenceSet.name, ReferenceSet.version))
    return {name: version for name, version in rows}


async def current(ctx: Context, tx: AsyncSession) -> Reference:
    """The reference data in force; rebuilt only when a set's version has moved."""
    stored = await _versions(tx)
    versions = {name: stored.get(name, 1) for name in SET_NAMES}
    key = tuple(sorted(versions.items()))
    cache = ctx.reference_cache
    if (ref := cache.get(key)) is None:
        sets = dict(default_sets())
        if stored:
            rows = await tx.execute(select(ReferenceSet.name, ReferenceSet.data))
            sets.update({name: data for name, data in rows})
        ref = Reference.from_sets(sets, versions)
        cache.clear()
        cache[key] = ref
    return ref


async def list_sets(ctx: Context) -> list[SetSummary]:
    async with ctx.db.reads() as tx:
        stored = await _versions(tx)
    return [SetSummary(name, stored.get(name, 1)) for name in SET_NAMES]


async def get_set(ctx: Context, name: str) -> SetOut:
    _known(name)
    async with ctx.db.reads() as tx:
        row = await tx.get(ReferenceSet, name)
    if row is None:
        return SetOut(name, 1, default_sets()[name])
    return SetOut(name, row.version, row.data)


async def put_set(ctx: Context, name: str, data: Any, actor: Principal, source: str | None = None) -> SetOut:
    """Replace a set as a whole: checked, its version raised by one, the change in history (with where the data
    came from, when it was loaded from a file: its name and SHA-256)."""
    _known(name)
    if problems := check_set(name, data):
        raise ValidationFailed(problems)
    now = ctx.now()
    async with ctx.db.writes.begin() as tx:
        row = await tx.get(ReferenceSet, name, with_for_update=True)
        old_version, old_data = (row.version, row.data) if row else (1, default_sets()[name])
        if row is None:
            row = ReferenceSet(name=name, version=old_version + 1, data=data, updated_at=now, updated_by=actor.actor)
            tx.add(row)
        else:
            row.version, row.data, row.updated_at, row.updated_by = old_version + 1, data, now, actor.actor
        await history.append(
            tx,
            at=now,
            actor=actor.actor,
            action="reference_update",
            reference_name=name,
            changes={name: {"old": old_data, "new": data}, "version": {"old": old_version, "new": row.version}},
            reason=source,
        )
    return SetOut(name, row.version, data)


def _known(name: str) -> None:
    if name not in SET_NAMES:
        raise NotFound(f"no reference set {name!r}; the sets are {', '.join(SET_NAMES)}")
