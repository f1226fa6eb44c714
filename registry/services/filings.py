"""Filing actions: every status change goes through the lifecycle module, with its event, in one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from registry.domain import lifecycle, rules
from registry.domain.alerts import AlertKind, AlertStatus
from registry.domain.errors import Conflict, Forbidden, InvalidTransition, NotFound, NumberTaken, ValidationFailed
from registry.domain.lifecycle import Action, ActionIn, ReviewIn
from registry.domain.records import ProductOut, Status, normalize, read_sku
from registry.domain.reference import Reference, wco_subheadings
from registry.domain.spec import net_content
from registry.domain.tax import terms_for
from registry.domain.violations import Violation, capped
from registry.models import PRODUCT_TABLE, Alert, FilingNumber, Product
from registry.services import history, reference, stats
from registry.services.context import Context, Principal
from registry.services.history import EventOut, NewEvent
from registry.services.products import (
    check_version,
    filing_changes,
    filing_state,
    load_for_update,
    to_out,
    to_record,
    write_terms,
)


async def act(
    ctx: Context,
    sku: str,
    action: Action,
    body: ActionIn,
    expected_version: int | None,
    actor: Principal,
) -> ProductOut:
    if not lifecycle.may(actor.role, action):
        raise Forbidden(f"the {actor.role} role may not {action}")
    today = ctx.today()
    body = lifecycle.normalize(body)
    if problems := lifecycle.check_body(action, body, today):
        raise ValidationFailed(problems)
    checked = await _validated(ctx, read_sku(sku)) if action in (Action.SUBMIT, Action.APPROVE) else None
    try:
        async with ctx.db.writes.begin() as tx:
            row = await load_for_update(tx, read_sku(sku))
            now = ctx.now()  # once the row is held: submits of a record are counted in the order they are made
            check_version(row, expected_version)
            status = Status(row.status)
            target = lifecycle.next_status(status, action)
            if target is None:
                allowed = lifecycle.allowed_actions(status)
                raise InvalidTransition(
                    f"{action} is not allowed while {status}",
                    current_status=status.value,
                    allowed_actions=[a.value for a in allowed],
                )
            before = filing_state(row)
            refused: Refused | None = None
            try:
                reason = await _apply(ctx, tx, row, action, body, checked, now)
            except Refused as exc:  # the submit is counted; nothing else is written
                refused = exc
                await stats.count_submit(ctx, tx, row.sku, now, False, exc.codes)
            else:
                await move(tx, row, action, target, before, actor.actor, now, reason)
    except IntegrityError as exc:
        raise NumberTaken(f"filing number {body.filing_no} was issued meanwhile; it cannot be used again") from exc
    if refused is not None:
        raise refused
    ctx.changed([row])
    return to_out(row)


class Refused(ValidationFailed):
    """A submit the rules refused; `codes` names each rule it failed (the answer lists at most 100 violations)."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(violations, "the record does not pass validation; nothing was submitted")
        self.codes = sorted({v.code for v in violations if v.severity == "error"})


class Refusal(msgspec.Struct):
    sku: str
    violations: list[Violation]


class SubmitReport(msgspec.Struct):
    """A batch submission: the SKUs now under review, those refused with why, those not known, in batch order."""

    submitted: list[str] = msgspec.field(default_factory=list)
    refused: list[Refusal] = msgspec.field(default_factory=list)
    missing: list[str] = msgspec.field(default_factory=list)


async def submit_batch(
    ctx: Context, skus: list[str], actor: Principal, progress: Callable[[int], None] | None = None
) -> SubmitReport:
    """Submit each SKU in its own transaction, with its own history event, as `act` does one: the write lock is
    held for one record at a time, and one refusal does not stop the others. A SKU named twice is submitted once."""
    report = SubmitReport()
    for done, sku in enumerate(dict.fromkeys(skus), start=1):
        if not rules.SKU.fullmatch(read_sku(sku)):  # no record can have it (nor may a query carry a NUL)
            report.missing.append(sku)
            continue
        try:
            await act(ctx, sku, Action.SUBMIT, ActionIn(), None, actor)
            report.submitted.append(sku)
        except NotFound:
            report.missing.append(sku)
        except ValidationFailed as exc:
            report.refused.append(Refusal(sku, exc.violations))
        except InvalidTransition as exc:
            refusal = Violation("/filing/status", "lifecycle.invalid_transition", exc.detail or "not allowed now")
            report.refused.append(Refusal(sku, [refusal]))
        if progress is not None:
            progress(done)
    return report


async def move(
    tx: AsyncSession,
    row: Product,
    action: Action,
    target: Status,
    before: dict[str, Any],
    actor: str,
    now: dt.datetime,
    reason: str | None,
) -> None:
    """One filing's status change: `move_many` of one."""
    await move_many(tx, [(row, before, reason)], action, target, actor, now)


async def move_many(
    tx: AsyncSession,
    moves: Sequence[tuple[Product, dict[str, Any], str | None]],
    action: Action,
    target: Status,
    actor: str,
    now: dt.datetime,
) -> None:
    """The one way filings' statuses change: the new status, each version raised, and an event each, written by
    one flush and one append however many records move (the expiry scan moves hundreds at a time).

    Each move is `(row, before, reason)`: `before` the filing as it was when the action began (`filing_state`),
    so the event names every filing field the action changed.
    """
    if not moves:
        return
    sources = [row.status for row, _, _ in moves]
    if len(moves) == 1:  # an action on one record: its other changes (a number, a date) flush with it
        row = moves[0][0]
        row.status, row.updated_at = target.value, now
        if target is not Status.FILED:  # leaving filed (amend, expire) ends a hold
            row.hold_since = row.hold_reference = row.hold_violations = None
        await tx.flush()
    else:  # a batch (the expiry scan), of locked rows with no other change: one statement for all
        await _move_rows([row for row, _, _ in moves], target, now, tx)
    await history.append_many(
        tx,
        [
            NewEvent(
                at=now,
                actor=actor,
                action=action.value,
                sku=row.sku,
                version=row.version,
                from_status=source,
                to_status=target.value,
                changes=filing_changes(before, filing_state(row)),
                reason=reason,
            )
            for (row, before, reason), source in zip(moves, sources, strict=True)
        ],
    )


_MOVE = (
    update(PRODUCT_TABLE)
    .where(PRODUCT_TABLE.c.id == bindparam("row_id"), PRODUCT_TABLE.c.version == bindparam("seen"))
    .values(
        status=bindparam("to"),
        updated_at=bindparam("at"),
        version=bindparam("next"),
        hold_since=None,  # a batch moves filed records out of filed (the expiry scan): that ends a hold
        hold_reference=None,
        hold_violations=None,
    )
)


async def _move_rows(rows: list[Product], target: Status, now: dt.datetime, tx: AsyncSession) -> None:
    """The status change of many rows as one executemany (the ORM issues an UPDATE a row for a versioned
    mapping), with each row's version raised by one as the ORM would; the mapped rows are brought in line."""
    params = [
        {"row_id": row.id, "seen": row.version, "next": row.version + 1, "to": target.value, "at": now} for row in rows
    ]
    connection = await tx.connection()  # Core, in the session's transaction: the ORM would make this a bulk by key
    result = await connection.execute(_MOVE, params)
    if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        raise Conflict("a record changed while it was being moved; nothing was moved")
    for row in rows:
        for name, value in (("status", target.value), ("updated_at", now), ("version", row.version + 1)):
            set_committed_value(row, name, value)
        for name in ("hold_since", "hold_reference", "hold_violations"):
            set_committed_value(row, name, None)


class Validated(msgspec.Struct):
    """A record's violations against the reference in force, found before the write transaction began."""

    version: int
    violations: list[Violation]
    ref: Reference


async def _validated(ctx: Context, sku: str) -> Validated | None:
    """Validate the record as it is now, outside the write lock (None: no such record; the action says so)."""
    async with ctx.db.reads() as tx:
        row = await tx.scalar(select(Product).where(Product.sku == sku))
        if row is None:
            return None
        ref = await reference.current(ctx, tx)
    violations = await asyncio.to_thread(rules.validate, normalize(to_record(row)), ref, wco_subheadings(), ctx.today())
    return Validated(row.version, violations, ref)


async def _violations(ctx: Context, tx: AsyncSession, row: Product, checked: Validated | None) -> Validated:
    """The row's violations: those found before the lock when the row has not changed since (the common case),
    else found again now."""
    if checked is not None and checked.version == row.version:
        return checked
    ref = await reference.current(ctx, tx)
    violations = await asyncio.to_thread(rules.validate, normalize(to_record(row)), ref, wco_subheadings(), ctx.today())
    return Validated(row.version, violations, ref)


async def _apply(
    ctx: Context,
    tx: AsyncSession,
    row: Product,
    action: Action,
    body: ActionIn,
    checked: Validated | None,
    now: dt.datetime,
) -> str | None:
    """What the action does beyond the status change, at `now`; returns the reason history records."""
    if action is Action.SUBMIT:
        violations = (await _violations(ctx, tx, row, checked)).violations
        if rules.blocks(violations):
            raise Refused(violations)
        await stats.count_submit(ctx, tx, row.sku, now, True, [])
        row.submitted_at = now
        row.rejection_reasons = []
        return None
    if action is Action.APPROVE:
        assert body.filing_no is not None  # lifecycle.check_body saw to both
        assert body.valid_until is not None
        # Approved under the reference in force today: an edition that took effect since the submit may fail it.
        validated = await _violations(ctx, tx, row, checked)
        violations, ref = validated.violations, validated.ref
        if rules.blocks(violations):
            raise ValidationFailed(
                capped(rules.errors(violations))[0],
                "the record no longer passes validation against the reference in force; reject it with the reasons",
            )
        await _issue_number(tx, row.sku, body.filing_no, body.valid_until, now)
        await stats.count_decision(ctx, tx, row.sku, action, now)
        row.filing_no = body.filing_no
        row.valid_until = body.valid_until
        row.filed_at = row.reviewed_at = now
        write_terms(row, terms_for(row.hs_code, net_content(row.spec), ref))
        return None
    if action is Action.REJECT:
        await stats.count_decision(ctx, tx, row.sku, action, now)
        row.rejection_reasons = list(body.reasons or [])
        return "; ".join(row.rejection_reasons)
    return body.reason  # amend and expire: the status change is the whole of it


async def review(ctx: Context, sku: str, body: ReviewIn, actor: Principal) -> EventOut:
    """Record a periodic review of a filed record: an event in its history (action `review`, the status and the
    version as they are), the interval to the next review started again, and its review_due alert acknowledged."""
    body, problems = lifecycle.check_review(body)
    if problems:
        raise ValidationFailed(problems)
    now = ctx.now()
    async with ctx.db.writes.begin() as tx:
        row = await load_for_update(tx, read_sku(sku))
        if row.status != Status.FILED.value:
            raise Conflict(f"{row.sku} is {row.status}; only a filed record is reviewed", current_status=row.status)
        # Through the table, not the mapped row: the record and its version stay as they are.
        await tx.execute(update(PRODUCT_TABLE).where(PRODUCT_TABLE.c.id == row.id).values(reviewed_at=now))
        await tx.execute(
            update(Alert)
            .where(Alert.sku == row.sku, Alert.kind == AlertKind.REVIEW_DUE.value)
            .where(Alert.status == AlertStatus.OPEN.value)
            .values(status=AlertStatus.ACKNOWLEDGED.value, acknowledged_at=now, acknowledged_by=actor.actor)
        )
        await history.append(
            tx,
            at=now,
            actor=actor.actor,
            action=lifecycle.REVIEW,
            sku=row.sku,
            version=row.version,
            from_status=row.status,
            to_status=row.status,
            changes={},
            reason=body.note,
        )
        return await history.latest(tx, row.sku)


async def _issue_number(tx: AsyncSession, sku: str, filing_no: str, valid_until: dt.date, now: dt.datetime) -> None:
    """Record the number for this SKU; one held by another SKU, now or before, is refused."""
    held = await tx.get(FilingNumber, filing_no, with_for_update=True)
    if held is not None and held.sku != sku:
        raise NumberTaken(f"filing number {filing_no} belongs to {held.sku}; a number is never reissued")
    await tx.execute(
        update(FilingNumber)
        .where(FilingNumber.sku == sku, FilingNumber.filing_no != filing_no, FilingNumber.superseded_by.is_(None))
        .values(superseded_by=filing_no)
    )
    if held is None:
        tx.add(FilingNumber(filing_no=filing_no, sku=sku, issued_at=now, valid_until=valid_until))
    else:
        held.valid_until = valid_until
        held.superseded_by = None
