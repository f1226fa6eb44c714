"""Reference data over time: the shipped defaults (version 1 of each set), then editions an admin puts, each in
force from its day, with history. The reference in force on a day is built once and cached."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import limits
from registry.domain.errors import NotFound, ValidationFailed
from registry.domain.reference import SET_NAMES, Reference, check_set, default_sets, digest, entry_count
from registry.domain.violations import Violation
from registry.models import ReferenceEdition, ReferenceSet
from registry.services import history
from registry.services.context import Context, Principal

SHIPPED_ACTOR = "system"
CACHED = 4  # references kept built: today's, and the days an order check or a dry run asked for


class SetOut(msgspec.Struct):
    name: str
    version: int
    data: Any
    effective_from: dt.date | None = None  # null: the shipped edition, in force until an admin's takes effect


class SetSummary(msgspec.Struct):
    name: str
    version: int
    effective_from: dt.date | None = None


class EditionOut(msgspec.Struct):
    """One version of a set: the day it takes effect, who put it when, from where, its digest and its size."""

    version: int
    effective_from: dt.date | None
    put_at: dt.datetime | None
    actor: str
    source: str | None
    sha256: str
    entries: int


Dated = tuple[int, dt.date]  # (version, effective_from) of an edition


async def _dated(tx: AsyncSession) -> dict[str, list[Dated]]:
    """Every set's stored editions, (version, effective_from), in version order."""
    rows = await tx.execute(
        select(ReferenceEdition.name, ReferenceEdition.version, ReferenceEdition.effective_from).order_by(
            ReferenceEdition.version
        )
    )
    editions: dict[str, list[Dated]] = collections.defaultdict(list)
    for name, version, effective_from in rows:
        editions[name].append((version, effective_from))
    return editions


def in_force(editions: list[Dated], day: dt.date) -> Dated | None:
    """The edition in force on `day`: the latest effective_from not after it, the later version on a tie;
    None: the shipped one."""
    found = [edition for edition in editions if edition[1] <= day]
    return max(found, key=lambda e: (e[1], e[0]), default=None)


async def on(ctx: Context, tx: AsyncSession, day: dt.date) -> Reference:
    """The reference data in force on `day`; rebuilt only when the editions in force have changed."""
    editions = await _dated(tx)
    chosen = {name: in_force(editions.get(name, []), day) for name in SET_NAMES}
    versions = {name: edition[0] if edition else 1 for name, edition in chosen.items()}
    key = tuple(sorted(versions.items()))
    cache: collections.OrderedDict[Any, Reference] = ctx.reference_cache.setdefault("built", collections.OrderedDict())
    if (ref := cache.get(key)) is None:
        ref = Reference.from_sets(await _sets(tx, versions), versions)
        cache[key] = ref
        while len(cache) > CACHED:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return ref


async def current(ctx: Context, tx: AsyncSession) -> Reference:
    """The reference data in force today."""
    return await on(ctx, tx, ctx.today())


async def _sets(tx: AsyncSession, versions: dict[str, int]) -> dict[str, Any]:
    sets = dict(default_sets())
    for name, version in versions.items():
        if version > 1:
            sets[name] = await tx.scalar(
                select(ReferenceEdition.data).where(ReferenceEdition.name == name, ReferenceEdition.version == version)
            )
    return sets


async def candidate(tx: AsyncSession, base: Reference, name: str, data: Any) -> Reference:
    """`base` with a candidate edition of `name` in place of its own (version 0: not stored)."""
    sets = await _sets(tx, base.versions)
    return Reference.from_sets({**sets, name: data}, {**base.versions, name: 0})


async def list_sets(ctx: Context) -> list[SetSummary]:
    async with ctx.db.reads() as tx:
        editions = await _dated(tx)
    today = ctx.today()
    summaries = []
    for name in SET_NAMES:
        edition = in_force(editions.get(name, []), today)
        summaries.append(SetSummary(name, *edition) if edition else SetSummary(name, 1))
    return summaries


async def get_set(ctx: Context, name: str, day: dt.date | None = None) -> SetOut:
    """The edition of a set in force on `day` (default today)."""
    _known(name)
    day = day or ctx.today()
    _check_day(day, "on")
    async with ctx.db.reads() as tx:
        edition = in_force((await _dated(tx)).get(name, []), day)
        if edition is None:
            return SetOut(name, 1, default_sets()[name])
        data = await tx.scalar(
            select(ReferenceEdition.data).where(ReferenceEdition.name == name, ReferenceEdition.version == edition[0])
        )
    return SetOut(name, edition[0], data, edition[1])


async def editions(ctx: Context, name: str) -> list[EditionOut]:
    """Every version of a set, newest first, the shipped one last."""
    _known(name)
    async with ctx.db.reads() as tx:
        rows = (
            await tx.scalars(
                select(ReferenceEdition).where(ReferenceEdition.name == name).order_by(ReferenceEdition.version.desc())
            )
        ).all()
    shipped = default_sets()[name]
    return [
        *(EditionOut(r.version, r.effective_from, r.put_at, r.actor, r.source, r.sha256, r.entries) for r in rows),
        EditionOut(1, None, None, SHIPPED_ACTOR, "shipped with registry", digest(shipped), entry_count(shipped)),
    ]


def check(ctx: Context, name: str, data: Any, effective_from: dt.date | None) -> dt.date:
    """An edition's data and day as a put takes them, or ValidationFailed with every reason; returns the day."""
    _known(name)
    day = effective_from or ctx.today()
    problems = check_set(name, data)
    if problems:
        raise ValidationFailed(problems)
    _check_day(day, "effective_from")
    return day


async def put_set(
    ctx: Context,
    name: str,
    data: Any,
    actor: Principal,
    source: str | None = None,
    effective_from: dt.date | None = None,
) -> SetOut:
    """Put a new edition of a set, in force from `effective_from` (default today): checked, its version one above
    the last, the change in history with its day, source and digest. The holds it brings are applied by
    `holds.apply_due`, at once when it is in force today."""
    day = check(ctx, name, data, effective_from)
    now = ctx.now()
    sha256 = digest(data)
    async with ctx.db.writes.begin() as tx:
        row = await tx.get(ReferenceSet, name, with_for_update=True)  # the lock that orders a set's versions
        last = row.version if row else 1
        before = in_force((await _dated(tx)).get(name, []), day)
        old_version = before[0] if before else 1
        old_data = (await _sets(tx, {name: old_version}))[name]
        if row is None:
            row = ReferenceSet(name=name, version=last + 1, data=data, updated_at=now, updated_by=actor.actor)
            tx.add(row)
        else:
            row.version, row.data, row.updated_at, row.updated_by = last + 1, data, now, actor.actor
        tx.add(
            ReferenceEdition(
                name=name,
                version=last + 1,
                effective_from=day,
                put_at=now,
                actor=actor.actor,
                source=source,
                sha256=sha256,
                entries=entry_count(data),
                data=data,
            )
        )
        await history.append(
            tx,
            at=now,
            actor=actor.actor,
            action="reference_update",
            reference_name=name,
            changes={
                name: {"old": old_data, "new": data},
                "version": {"old": old_version, "new": last + 1},
                "effective_from": {"old": None, "new": day.isoformat()},
                "sha256": {"old": None, "new": sha256},
            },
            reason=source,
        )
    return SetOut(name, last + 1, data, day)


def _check_day(day: dt.date, parameter: str) -> None:
    if not limits.FIRST_DAY <= day <= limits.LAST_DAY:
        raise ValidationFailed([Violation(f"/{parameter}", "format.date", "a date lies in years 1900–9999")])


def _known(name: str) -> None:
    if name not in SET_NAMES:
        raise NotFound(f"no reference set {name!r}; the sets are {', '.join(SET_NAMES)}")
