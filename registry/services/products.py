"""Product records: create, read, change, list, and validate on demand."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from sqlalchemy import ColumnElement, Row, Select, Text, and_, cast, false, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from registry.domain import context, rules
from registry.domain.context import CustomsContext
from registry.domain.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from registry.domain.records import (
    FIELDS,
    Category,
    Document,
    Filing,
    Hold,
    Kind,
    ProductIn,
    ProductOut,
    ProductPatch,
    Status,
    apply_patch,
    brand_key,
    field_changes,
    normalize,
    read_sku,
)
from registry.domain.reference import Reference, wco_subheadings
from registry.domain.spec import net_content
from registry.domain.tax import Terms
from registry.domain.violations import Violation, capped
from registry.models import Product
from registry.services import cursors, history, reference
from registry.services.context import Context, Principal
from registry.services.history import NewEvent
from registry.services.lookup import threshold

EXPORT_PAGE = 1000


class Sort(StrEnum):
    """Orders of the record list; each ends in the SKU, so every order is total."""

    SKU = "sku"
    SUBMITTED_AT = "submitted_at"  # the review queue: oldest submission first
    UPDATED_AT = "updated_at"
    VALID_UNTIL = "valid_until"
    PRIORITY = "priority"  # best sellers first (monthly_units, highest first), then the oldest submission


UtcTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]

# Each order's columns, descending or not; nulls come last in every one. A page's cursor holds the last
# record's values of these columns, of the types given.
ORDERS: dict[Sort, tuple[tuple[tuple[InstrumentedAttribute[Any], bool], ...], Any]] = {
    Sort.SKU: (((Product.sku, False),), tuple[str]),
    Sort.SUBMITTED_AT: (((Product.submitted_at, False), (Product.sku, False)), tuple[UtcTime | None, str]),
    Sort.UPDATED_AT: (((Product.updated_at, False), (Product.sku, False)), tuple[UtcTime, str]),
    Sort.VALID_UNTIL: (((Product.valid_until, False), (Product.sku, False)), tuple[dt.date | None, str]),
    Sort.PRIORITY: (
        ((Product.monthly_units, True), (Product.submitted_at, False), (Product.sku, False)),
        tuple[int | None, UtcTime | None, str],
    ),
}


class ProductQuery(msgspec.Struct, kw_only=True):
    status: Status | None = None
    category: Category | None = None
    brand: str | None = None
    q: str | None = None
    expiring_within_days: int | None = None
    rejected: bool | None = None  # unfiled records carrying a reviewer's reasons (or, false, every other)
    held: bool | None = None  # filed records on hold (or, false, every other)
    import_mode: str | None = None  # the workbench's inbox: records of one import mode
    submitted_before: dt.datetime | None = None  # the workbench's inbox: submitted before this moment
    sort: Sort = Sort.SKU
    limit: int = 100
    cursor: str | None = None


class ProductPage(msgspec.Struct):
    items: list[ProductOut]
    next_cursor: str | None


class ValidationReport(msgspec.Struct, omit_defaults=True):
    valid: bool
    violations: list[Violation]
    truncated: bool = False  # more violations were found than are listed


def to_record(row: Product | Row[Any]) -> ProductIn:
    """The record a product row holds (a mapped product, or a row of the product table's columns): each field of
    the record from the column of its name."""
    return ProductIn(**{name: _stored(spec.kind, getattr(row, name)) for name, spec in FIELDS.items()})


def _stored(kind: Kind, value: Any) -> Any:
    """A column's value as the record holds it: its own lists, documents as structs."""
    if kind is Kind.DOCUMENTS:
        return msgspec.convert(value, list[Document])
    return list(value) if kind is Kind.TEXTS else value


def write_terms(row: Product, terms: Terms) -> None:
    """Give a filing the tax terms it is declared with (its look-up body's rates and threshold)."""
    row.vat, row.consumption_tax = terms.vat, terms.consumption_tax
    row.tax_rate, row.tax_rate_above = terms.rate, terms.rate_above
    row.threshold_per = terms.threshold.per if terms.threshold else None
    row.threshold_price = terms.threshold.price if terms.threshold else None


def written_terms(row: Product | Row[Any]) -> Terms | None:
    """The tax terms a filing's row holds (None: not filed). A specific rate is not kept on the row: the order
    check reads it from the reference in force, so terms are compared without it."""
    if row.vat is None or row.consumption_tax is None:
        return None
    return Terms(row.vat, row.consumption_tax, threshold(row.threshold_per, row.threshold_price))


def filing_of(row: Product) -> Filing:
    return Filing(
        status=Status(row.status),
        filing_no=row.filing_no,
        submitted_at=row.submitted_at,
        filed_at=row.filed_at,
        valid_until=row.valid_until,
        tax_rate=row.tax_rate,
        rejection_reasons=list(row.rejection_reasons),
        hold=hold_of(row),
    )


def hold_of(row: Product) -> Hold | None:
    """A row's hold as the record shows it (None: not held)."""
    if row.hold_since is None:
        return None
    return Hold(
        since=row.hold_since,
        reference=row.hold_reference or "",
        violations=msgspec.convert(row.hold_violations or [], list[Violation]),
    )


def to_out(row: Product) -> ProductOut:
    return ProductOut(
        **msgspec.structs.asdict(to_record(row)),
        net_content=net_content(row.spec),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        filing=filing_of(row),
    )


FILING_FIELDS: tuple[str, ...] = Filing.__struct_fields__


def filing_state(row: Product) -> dict[str, Any]:
    """The filing half of a record in wire form, as history records it."""
    state: dict[str, Any] = msgspec.to_builtins(filing_of(row))
    return state


NEW_FILING: dict[str, Any] = msgspec.to_builtins(Filing(status=Status.UNFILED))


def filing_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"old": before.get(name), "new": after[name]} for name in FILING_FIELDS if before.get(name) != after[name]
    }


def fields_of(record: ProductIn) -> dict[str, Any]:
    """The record as column values; only for a checked record."""
    values: dict[str, Any] = msgspec.to_builtins(record)
    values.pop("sku")
    values["brand_key"] = brand_key(values["brand"])
    values["next_document_expiry"] = min((d.valid_until for d in record.documents if d.valid_until), default=None)
    return values


def checked(record: ProductIn) -> ProductIn:
    """The record normalised and through field validation, or ValidationFailed with every violation."""
    record = normalize(record)
    if violations := rules.check_fields(record):
        raise ValidationFailed(violations)
    return record


# What a product write is, for a single record and for an import row alike: the column values of a new record
# and its creation event, and for an existing one the lock on its fields, its field changes and their event.


def new_values(record: ProductIn, now: dt.datetime) -> dict[str, Any]:
    """The columns of a new, unfiled record at version 1 (a checked record)."""
    return {
        "sku": record.sku,
        **fields_of(record),
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "status": Status.UNFILED.value,
        "filing_no": None,
        "valid_until": None,
        "tax_rate": None,
        "rejection_reasons": [],
    }


_CREATED_FILING = filing_changes({}, NEW_FILING)


def creation_event(record: ProductIn, now: dt.datetime, actor: Principal, action: str) -> NewEvent:
    assert record.sku is not None
    changes = {**field_changes(None, record), **_CREATED_FILING}
    return NewEvent(
        at=now,
        actor=actor.actor,
        action=action,
        sku=record.sku,
        version=1,
        to_status=Status.UNFILED.value,
        changes=changes,
    )


def ensure_editable(row: Product) -> None:
    """Fields change only while unfiled."""
    if row.status != Status.UNFILED.value:
        raise Conflict(
            f"{row.sku} is {row.status}; its fields change only while unfiled (amend it first)",
            current_status=row.status,
        )


def rewrite(row: Product, record: ProductIn, now: dt.datetime) -> dict[str, dict[str, Any]]:
    """Give an editable row the record's fields; returns the field changes (none: the row is left as it was).
    The version rises by one when the row is flushed (the mapper's version counter)."""
    changes = field_changes(to_record(row), record)
    if changes:
        ensure_editable(row)
        for name, value in fields_of(record).items():
            setattr(row, name, value)
        row.updated_at = now
    return changes


def update_event(row: Product, changes: dict[str, Any], now: dt.datetime, actor: Principal, action: str) -> NewEvent:
    """The event of a rewrite, once the row is flushed (and so at its new version)."""
    return NewEvent(
        at=now,
        actor=actor.actor,
        action=action,
        sku=row.sku,
        version=row.version,
        from_status=row.status,
        to_status=row.status,
        changes=changes,
    )


async def create(ctx: Context, data: ProductIn, actor: Principal) -> ProductOut:
    record = await asyncio.to_thread(checked, data)
    now = ctx.now()
    row = Product(**new_values(record, now))
    try:
        async with ctx.db.writes.begin() as tx:
            if await tx.scalar(select(Product.id).where(Product.sku == record.sku)) is not None:
                raise Conflict(f"a product with SKU {record.sku} exists already")
            tx.add(row)
            await tx.flush()
            await history.append_many(tx, [creation_event(record, now, actor, "create")])
    except IntegrityError as exc:
        raise Conflict(f"a product with SKU {record.sku} exists already") from exc
    ctx.changed([row])
    return to_out(row)


async def get(ctx: Context, sku: str, as_of: dt.datetime | None = None) -> ProductOut:
    """The record now, or as it was at `as_of`, rebuilt from its history."""
    sku = read_sku(sku)
    if as_of is not None:
        state = await history.replay_product(ctx, sku, as_of)
        if state is None:
            raise NotFound(f"no product with SKU {sku} at {as_of.isoformat()}")
        return from_state(sku, state)
    async with ctx.db.reads() as tx:
        row = await tx.scalar(select(Product).where(Product.sku == sku))
    if row is None:
        raise NotFound(f"no product with SKU {sku}")
    return to_out(row)


def from_state(sku: str, state: dict[str, Any]) -> ProductOut:
    """A record rebuilt from history: fields an event never named are at their empty value."""
    record = {name: state.get(name) for name in ProductOut.__struct_fields__ if name != "filing"}
    record["net_content"] = net_content(record["spec"])
    for name in ("ingredients", "images", "documents"):
        record[name] = record[name] or []
    filing = {name: state.get(name) for name in FILING_FIELDS}
    filing["rejection_reasons"] = filing["rejection_reasons"] or []
    return msgspec.convert({**record, "sku": sku, "filing": filing}, ProductOut)


async def load_for_update(tx: AsyncSession, sku: str) -> Product:
    """The product row, locked until the transaction ends (SQLite writers hold the database lock already)."""
    row = await tx.scalar(select(Product).where(Product.sku == sku).with_for_update())
    if row is None:
        raise NotFound(f"no product with SKU {sku}")
    return row


def check_version(row: Product, expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise PreconditionFailed(f"the record is at version {row.version}", current_version=row.version)


async def change(
    ctx: Context, sku: str, patch: ProductPatch, expected_version: int | None, actor: Principal
) -> ProductOut:
    """Change fields of an unfiled record, if it is still at `expected_version` (None: whatever it is now)."""
    sku, now = read_sku(sku), ctx.now()
    async with ctx.db.writes.begin() as tx:
        row = await load_for_update(tx, sku)
        check_version(row, expected_version)
        ensure_editable(row)
        new = await asyncio.to_thread(checked, apply_patch(to_record(row), patch))
        if not (changes := rewrite(row, new, now)):
            return to_out(row)
        await tx.flush()
        await history.append_many(tx, [update_event(row, changes, now, actor, "update")])
    ctx.changed([row])
    return to_out(row)


def _filtered(query: ProductQuery, today: dt.date) -> Select[Product]:
    stmt = select(Product)
    if query.status is not None:
        stmt = stmt.where(Product.status == query.status.value)
    if query.category is not None:
        stmt = stmt.where(Product.category == query.category.value)
    if query.brand is not None:
        stmt = stmt.where(Product.brand_key == brand_key(query.brand))
    if query.q:
        needle = query.q.strip().lower()
        stmt = stmt.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (
                        Product.sku,
                        Product.name_cn,
                        Product.name_foreign,
                        Product.brand,
                        Product.filing_no,
                        Product.hs_code,
                    )
                )
            )
        )
    if query.expiring_within_days is not None:
        stmt = stmt.where(
            Product.valid_until >= today,
            Product.valid_until <= today + dt.timedelta(days=query.expiring_within_days),
        )
    if query.rejected is not None:
        # JSON columns hold msgspec's compact text on SQLite and jsonb on PostgreSQL: both read `[]` when empty.
        rejected = and_(Product.status == Status.UNFILED.value, cast(Product.rejection_reasons, Text) != "[]")
        stmt = stmt.where(rejected if query.rejected else not_(rejected))
    if query.held is not None:
        stmt = stmt.where(Product.hold_since.is_not(None) if query.held else Product.hold_since.is_(None))
    if query.import_mode is not None:
        stmt = stmt.where(Product.import_mode == query.import_mode)
    if query.submitted_before is not None:
        stmt = stmt.where(Product.submitted_at < query.submitted_before)
    return stmt


async def count_by_status(ctx: Context) -> dict[str, int]:
    """How many records each status holds."""
    async with ctx.db.reads() as tx:
        rows = await tx.execute(select(Product.status, func.count()).group_by(Product.status))
        return {status: count for status, count in rows}


async def search(ctx: Context, query: ProductQuery) -> ProductPage:
    """One page of the filtered records in the query's order; `next_cursor` continues after the last one."""
    rows = await _page(ctx, query, _after(query), query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return ProductPage(
        items=[to_out(row) for row in rows],
        next_cursor=cursors.encode(_key(query.sort, rows[-1])) if more else None,
    )


async def export(ctx: Context, query: ProductQuery) -> AsyncIterator[ProductIn]:
    """Every record the query's filters select, in the query's order, read a page at a time.

    The cursor is checked and the first page read before this returns, so that a bad cursor or an absent
    database is answered with a problem, not found after the response has begun.
    """
    page = await _page(ctx, query, _after(query), EXPORT_PAGE)

    async def records(page: list[Product]) -> AsyncIterator[ProductIn]:
        while True:
            for row in page:
                yield to_record(row)
            if len(page) < EXPORT_PAGE:
                return
            page = await _page(ctx, query, _key(query.sort, page[-1]), EXPORT_PAGE)

    return records(page)


def _key(sort: Sort, row: Product) -> tuple[Any, ...]:
    """The row's values of the order's columns."""
    return tuple(getattr(row, column.key) for column, _ in ORDERS[sort][0])


def _after(query: ProductQuery) -> tuple[Any, ...] | None:
    """The key a query's cursor continues after; 400 for a cursor this service did not give out."""
    if query.cursor is None:
        return None
    key: tuple[Any, ...] = cursors.decode(query.cursor, ORDERS[query.sort][1])
    return key


def _beyond(sort: Sort, key: tuple[Any, ...]) -> ColumnElement[bool]:
    """Rows that come after `key` in the order: equal on the first columns and beyond on the next, for some
    column (nulls last, so nothing lies beyond a null but what is equal to it on later columns)."""
    branches = []
    equal: list[ColumnElement[bool]] = []
    for (column, descending), value in zip(ORDERS[sort][0], key, strict=True):
        if value is None:
            beyond: ColumnElement[bool] = false()
        else:
            beyond = column < value if descending else column > value
            if _nullable(column):
                beyond = or_(beyond, column.is_(None))
        branches.append(and_(*equal, beyond))
        equal.append(column.is_(None) if value is None else column == value)
    return or_(*branches)


def _nullable(column: InstrumentedAttribute[Any]) -> bool:
    return bool(Product.__table__.c[column.key].nullable)


def _ordered(column: InstrumentedAttribute[Any], descending: bool) -> ColumnElement[Any]:
    """The column in order, nulls last (said only where a null can be, so an index still serves the order)."""
    ordered = column.desc() if descending else column.asc()
    return ordered.nulls_last() if _nullable(column) else ordered


async def _page(ctx: Context, query: ProductQuery, after: tuple[Any, ...] | None, limit: int) -> list[Product]:
    """Up to `limit` filtered records in the query's order, after the key `after`."""
    stmt = _filtered(query, ctx.today())
    if after is not None:
        stmt = stmt.where(_beyond(query.sort, after))
    order = [_ordered(column, descending) for column, descending in ORDERS[query.sort][0]]
    async with ctx.db.reads() as tx:
        return list((await tx.scalars(stmt.order_by(*order).limit(limit))).all())


async def validate(ctx: Context, data: ProductIn) -> ValidationReport:
    """Field and logic validation of a record as it stands; writes nothing."""
    (violations,) = await validate_many(ctx, [data])
    shown, truncated = capped(violations)
    return ValidationReport(valid=not rules.blocks(violations), violations=shown, truncated=truncated)


async def validate_many(ctx: Context, records: list[ProductIn]) -> list[list[Violation]]:
    """Every violation of each record as it stands, against the reference data in force; writes nothing."""
    async with ctx.db.reads() as tx:
        ref = await reference.current(ctx, tx)
    # Off the event loop: a record may carry thousands of list items, and look-ups must not wait on them.
    return await asyncio.to_thread(_validate, records, ref, ctx.today())


def _validate(records: list[ProductIn], ref: Reference, today: dt.date) -> list[list[Violation]]:
    subheadings = wco_subheadings()
    return [rules.validate(normalize(data), ref, subheadings, today) for data in records]


async def customs_context(ctx: Context, record: ProductIn) -> CustomsContext:
    """The record's customs context today, from the reference in force."""
    async with ctx.db.reads() as tx:
        ref = await reference.current(ctx, tx)
    return context.customs_context(record, ref, ctx.today())
