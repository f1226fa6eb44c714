"""What a reference edition breaks: its impact before it is put (a dry run), and the holds and releases when it
takes effect, with the look-up bodies of the filings whose tax terms it changes.

Both read the records in batches by id and validate each batch off the event loop, never inside a write
transaction: a batch's changes are written afterwards, each row only if it is still at the version validated.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
from sqlalchemy import Row, select, update

from registry.domain import limits, rules
from registry.domain.alerts import SUBJECT, AlertKind, Due
from registry.domain.records import Status
from registry.domain.reference import Reference, entry_count, wco_subheadings
from registry.domain.spec import net_content
from registry.domain.tax import Terms, terms_for
from registry.domain.violations import Violation
from registry.models import PRODUCT_TABLE, Product, ReferenceEdition
from registry.services import alerts, history, reference
from registry.services.context import Context, Principal
from registry.services.history import NewEvent
from registry.services.products import filing_changes, filing_state, to_record, write_terms, written_terms
from registry.services.reference import SetOut

log = logging.getLogger("registry.holds")
HOLD_ACTOR = "system:reference"
BATCH = 500
HOLD, RELEASE, REPRICE = "hold", "release", "reprice"
# Errors that come from the day, not from the reference: a lapsed document has its own alerts and is renewed by an
# amendment; it does not put a filing on hold when an edition takes effect.
NOT_REFERENCE = frozenset({"documents.expired"})


class RuleFailures(msgspec.Struct):
    """How many records an edition would fail by a rule."""

    code: str
    count: int


class Affected(msgspec.Struct):
    sku: str
    status: str
    filing_no: str | None
    violations: list[Violation]


class Impact(msgspec.Struct):
    """`checked`: filed and under-review records re-validated; `failing`: those that pass on the edition's day
    without it and fail with it (errors only); `lifted`: holds it would release; `records`: the failing ones."""

    checked: int
    failing: int
    lifted: int
    by_rule: list[RuleFailures]
    records: list[Affected]
    truncated: bool


class ImpactOut(msgspec.Struct):
    name: str
    effective_from: dt.date
    entries: int
    impact: Impact


class ApplyReport(msgspec.Struct):
    """One pass of the holds scan: the editions it found taking effect, the filed records it checked, and those it
    held, released and whose tax terms it changed."""

    editions: list[str]
    checked: int = 0
    held: int = 0
    released: int = 0
    repriced: int = 0
    skipped: bool = False  # another instance was applying


async def put(
    ctx: Context,
    name: str,
    data: Any,
    actor: Principal,
    *,
    source: str | None = None,
    effective_from: dt.date | None = None,
    dry_run: bool = False,
) -> SetOut | ImpactOut:
    """Put an edition (then apply what is due: at once when it is in force today), or with `dry_run` answer what
    it would break and write nothing."""
    if dry_run:
        return await impact(ctx, name, data, effective_from)
    out = await reference.put_set(ctx, name, data, actor, source, effective_from)
    if out.effective_from is not None and out.effective_from <= ctx.today():
        await apply_due(ctx)
    return out


async def _batches(ctx: Context, statuses: Sequence[Status]) -> AsyncIterator[list[Row[Any]]]:
    """The records of these statuses, a batch at a time in id order, each batch read in its own transaction: their
    ids first (a range of the status index), then each batch by its ids, as plain rows (the columns by name, as a
    mapped product has them, without the ORM's bookkeeping on the event loop)."""
    async with ctx.db.reads() as tx:
        ids = list(
            (
                await tx.scalars(
                    select(Product.id).where(Product.status.in_([s.value for s in statuses])).order_by(Product.id)
                )
            ).all()
        )
    for start in range(0, len(ids), BATCH):
        async with ctx.db.reads() as tx:
            rows = await tx.execute(select(PRODUCT_TABLE).where(PRODUCT_TABLE.c.id.in_(ids[start : start + BATCH])))
            yield list(rows.all())


def _blocking(violations: list[Violation]) -> list[Violation]:
    """The errors a hold is made of."""
    return [v for v in rules.errors(violations) if v.code not in NOT_REFERENCE]


def _errors(rows: list[Row[Any]], refs: Sequence[Reference], day: dt.date) -> list[list[list[Violation]]]:
    """Each row's blocking violations against each reference, on `day`."""
    subheadings = wco_subheadings()
    found = []
    for row in rows:
        record = to_record(row)  # stored normalised
        found.append([_blocking(rules.validate(record, ref, subheadings, day)) for ref in refs])
    return found


async def impact(ctx: Context, name: str, data: Any, effective_from: dt.date | None) -> ImpactOut:
    """Re-validate every filed and under-review record against the reference in force on the edition's day with
    and without the candidate edition; writes nothing."""
    day = reference.check(ctx, name, data, effective_from)
    async with ctx.db.reads() as tx:
        without = await reference.on(ctx, tx, day)
        with_it = await reference.candidate(tx, without, name, data)
    checked = failing = lifted = 0
    codes: collections.Counter[str] = collections.Counter()
    records: list[Affected] = []
    async for rows in _batches(ctx, (Status.FILED, Status.UNDER_REVIEW)):
        verdicts = await asyncio.to_thread(_errors, rows, (without, with_it), day)
        for row, (before, after) in zip(rows, verdicts, strict=True):
            checked += 1
            if row.hold_since is not None and not after:
                lifted += 1
            if after and not before:
                failing += 1
                codes.update({v.code for v in after})
                if len(records) < limits.ERROR_ROWS:
                    records.append(Affected(row.sku, row.status, row.filing_no, after))
    by_rule = [RuleFailures(code, count) for code, count in sorted(codes.items(), key=lambda c: (-c[1], c[0]))]
    return ImpactOut(
        name=name,
        effective_from=day,
        entries=entry_count(data),
        impact=Impact(checked, failing, lifted, by_rule, records, truncated=failing > len(records)),
    )


def _decide(rows: list[Row[Any]], ref: Reference, day: dt.date) -> list[tuple[list[Violation], Terms]]:
    subheadings = wco_subheadings()
    decided = []
    for row in rows:
        violations = _blocking(rules.validate(to_record(row), ref, subheadings, day))  # stored normalised
        terms = terms_for(row.hs_code, net_content(row.spec), ref)
        decided.append((violations, dataclasses.replace(terms, specific=None)))  # as a row holds them
    return decided


async def apply_due(ctx: Context) -> ApplyReport:
    """Apply the editions that have taken effect and were not applied yet: every filed record is re-validated
    against the reference in force today; one that now fails an error rule is held (an event and a
    `reference_change` alert), a held one that passes is released, and changed tax terms are written, so the
    look-up answers them. Several instances may run it: on PostgreSQL one applies while the others skip; beneath
    that each row is written only at the version it was validated at."""
    async with ctx.db.exclusive("reference-holds") as mine:
        if not mine:
            return ApplyReport(editions=[], skipped=True)
        today = ctx.today()
        async with ctx.db.reads() as tx:
            due = (
                await tx.execute(
                    select(ReferenceEdition.id, ReferenceEdition.name, ReferenceEdition.version).where(
                        ReferenceEdition.applied_at.is_(None), ReferenceEdition.effective_from <= today
                    )
                )
            ).all()
            if not due:
                return ApplyReport(editions=[])
            ref = await reference.current(ctx, tx)
        label = ", ".join(f"{name}@{version}" for _, name, version in sorted(due, key=lambda d: (d[1], d[2])))
        report = ApplyReport(editions=label.split(", "))
        async for rows in _batches(ctx, (Status.FILED,)):
            decided = await asyncio.to_thread(_decide, rows, ref, today)
            await _write(ctx, rows, decided, label, report)
        async with ctx.db.writes.begin() as tx:
            await tx.execute(
                update(ReferenceEdition)
                .where(ReferenceEdition.id.in_([edition_id for edition_id, _, _ in due]))
                .values(applied_at=ctx.now())
            )
    log.info(
        "reference %s in force: %d filed records checked, %d held, %d released, %d repriced",
        label,
        report.checked,
        report.held,
        report.released,
        report.repriced,
    )
    return report


async def _write(
    ctx: Context,
    rows: list[Row[Any]],
    decided: list[tuple[list[Violation], Terms]],
    label: str,
    report: ApplyReport,
) -> None:
    """A batch's holds, releases and new tax terms, each row only if it is still filed at the version read."""
    report.checked += len(rows)
    wanted = {
        row.id: (row.version, violations, terms)
        for row, (violations, terms) in zip(rows, decided, strict=True)
        if bool(violations) != (row.hold_since is not None) or terms != written_terms(row)
    }
    if not wanted:
        return
    now = ctx.now()
    async with ctx.db.writes.begin() as tx:
        locked = (
            await tx.scalars(
                select(Product)
                .where(Product.id.in_(list(wanted)), Product.status == Status.FILED.value)
                .with_for_update()
            )
        ).all()
        events: list[NewEvent] = []
        due: list[Due] = []
        changed = []
        for row in locked:
            version, violations, terms = wanted[row.id]
            if row.version != version:  # changed since it was validated: the next scan sees it as it is now
                continue
            before = filing_state(row)
            action = _change(row, violations, terms, label, now)
            await tx.flush()
            events.append(_event(row, before, action, label, now))
            changed.append(row)
            if action == HOLD:
                report.held += 1
                due.append(_alert(row, violations, label, ctx.today()))
            elif action == RELEASE:
                report.released += 1
            else:
                report.repriced += 1
        await history.append_many(tx, events)
        await alerts.raise_alerts(tx, due, now)
    ctx.changed(changed)


def _change(row: Product, violations: list[Violation], terms: Terms, label: str, now: dt.datetime) -> str:
    """Give the row its hold (or release it) and its tax terms; returns the event's action."""
    action = REPRICE
    if violations and row.hold_since is None:
        row.hold_since, row.hold_reference = now, label
        row.hold_violations = msgspec.to_builtins(violations)
        action = HOLD
    elif not violations and row.hold_since is not None:
        row.hold_since = row.hold_reference = row.hold_violations = None
        action = RELEASE
    write_terms(row, terms)
    row.updated_at = now
    return action


def _event(row: Product, before: dict[str, Any], action: str, label: str, now: dt.datetime) -> NewEvent:
    return NewEvent(
        at=now,
        actor=HOLD_ACTOR,
        action=action,
        sku=row.sku,
        version=row.version,
        from_status=row.status,
        to_status=row.status,
        changes=filing_changes(before, filing_state(row)),
        reason=f"reference {label} in force",
    )


def _alert(row: Product, violations: list[Violation], label: str, today: dt.date) -> Due:
    codes = ", ".join(sorted({v.code for v in violations}))
    return Due(
        kind=AlertKind.REFERENCE_CHANGE,
        sku=row.sku,
        subject=label[:SUBJECT],
        expires_on=today,
        threshold_days=0,
        message=f"{row.sku} (filing {row.filing_no}) is held: under {label} it fails {codes}",
    )


async def scan(ctx: Context, thresholds: Sequence[int], review_days: int = 0) -> alerts.ScanReport:
    """The scheduled scan (and `registry alerts run`): the editions that took effect, then expiries and alerts."""
    await apply_due(ctx)
    return await alerts.scan(ctx, thresholds, review_days)
