"""Tables. The schema changes only through the Alembic migrations in migrations/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.domain import limits
from registry.domain.alerts import SUBJECT

Json = JSON().with_variant(JSONB(), "postgresql")
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")  # None is SQL NULL


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class DecimalText(TypeDecorator[Decimal]):
    """Exact decimals stored as text, so no engine turns a rate into a float."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU), unique=True)
    brand: Mapped[str] = mapped_column(String(limits.TEXT))
    brand_key: Mapped[str] = mapped_column(String(limits.BRAND_KEY), index=True)
    name_cn: Mapped[str] = mapped_column(String(limits.NAME))
    name_foreign: Mapped[str | None] = mapped_column(String(limits.NAME))
    spec: Mapped[str] = mapped_column(String(limits.TEXT))
    category: Mapped[str] = mapped_column(String(32), index=True)
    hs_code: Mapped[str] = mapped_column(String(10))
    ciq_code: Mapped[str | None] = mapped_column(String(3))
    origin_country: Mapped[str] = mapped_column(String(2))
    ingredients: Mapped[list[str]] = mapped_column(Json)
    shelf_life_months: Mapped[int | None] = mapped_column(Integer)
    usage: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[str]] = mapped_column(Json)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    # The earliest valid_until among the documents, kept with them, so the expiry scan can use an index.
    next_document_expiry: Mapped[dt.date | None] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    filing_no: Mapped[str | None] = mapped_column(String(10))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    filed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, index=True)
    tax_rate: Mapped[Decimal | None] = mapped_column(DecimalText)
    rejection_reasons: Mapped[list[str]] = mapped_column(Json)
    monthly_units: Mapped[int | None] = mapped_column(Integer)
    import_mode: Mapped[str | None] = mapped_column(String(4))
    item_record_no: Mapped[str | None] = mapped_column(String(30))
    gtin: Mapped[str | None] = mapped_column(String(14))
    declared_unit: Mapped[str | None] = mapped_column(String(limits.UNIT))
    # The tax terms fixed at approval, from the tax-rates row in force: VAT and consumption tax, and for a rate
    # with a price threshold the composite rate above it and the threshold (the consumption tax applies from it).
    vat: Mapped[Decimal | None] = mapped_column(DecimalText)
    consumption_tax: Mapped[Decimal | None] = mapped_column(DecimalText)
    tax_rate_above: Mapped[Decimal | None] = mapped_column(DecimalText)
    threshold_per: Mapped[str | None] = mapped_column(String(8))
    threshold_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    # When the filing was approved or last reviewed: the periodic review is due an interval after it. Kept beside
    # the record, not in it: a review changes neither the record nor its version.
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    # A hold (records.Hold): a filed record the reference in force no longer passes, since when, against which
    # editions, and the errors it now has. Null while not held.
    hold_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    hold_reference: Mapped[str | None] = mapped_column(String(limits.HOLD_REFERENCE))
    hold_violations: Mapped[list[dict[str, Any]] | None] = mapped_column(NullableJson)

    # Every ORM update of a product says `WHERE version = <the version read>` and raises the version by one.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    # The expiry scan's filings past (or near) their validity: a range of this index, in valid_until order.
    __table_args__ = (
        Index("ix_product_status_valid_until", "status", "valid_until"),
        # the backlog's counts and best-seller split, from the index alone
        Index("ix_product_status_units", "status", "monthly_units", "submitted_at"),
    )


class HistoryEvent(Base):
    """One appended event per change; never updated or deleted."""

    __tablename__ = "history_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(limits.ACTOR))
    action: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str | None] = mapped_column(String(limits.SKU))
    reference_name: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int | None] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(Json)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    # A record's events in order, and any stretch of them after a snapshot, as a range of this index.
    __table_args__ = (Index("ix_history_event_sku_seq", "sku", "seq"),)


class HistorySnapshot(Base):
    """A record's fields as they stood after one of its events, taken every `SNAPSHOT_EVERY` changes in the
    transaction of that change: where an `as_of` read starts, so it reads a bounded stretch of events however long
    the history. Derived from the chained events, never in their place: the audit's verify re-derives each one."""

    __tablename__ = "history_snapshot"

    sku: Mapped[str] = mapped_column(String(limits.SKU), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The latest moment among the events it sums up: it stands for any moment from then on.
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Field name -> value; "#created" -> the first event's moment; "#updated" -> [moment, version] of the last change.
    state: Mapped[dict[str, Any]] = mapped_column(Json)


# The Core tables, for bulk inserts that need none of the ORM's per-row work.
PRODUCT_TABLE = cast(Table, Product.__table__)
HISTORY_TABLE = cast(Table, HistoryEvent.__table__)
SNAPSHOT_TABLE = cast(Table, HistorySnapshot.__table__)


class HistoryHead(Base):
    """The chain's last link, one row: appending locks it, so the chain stays linear across writers."""

    __tablename__ = "history_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class FilingNumber(Base):
    """Every filing number ever issued, and the SKU that holds it: a number is never given to another SKU."""

    __tablename__ = "filing_number"

    filing_no: Mapped[str] = mapped_column(String(10), primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    superseded_by: Mapped[str | None] = mapped_column(String(10))


class Alert(Base):
    """One alert per record, kind, subject, expiry date and threshold: the unique key makes raising idempotent."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("kind", "sku", "subject", "expires_on", "threshold_days"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(limits.SKU), index=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT))
    expires_on: Mapped[dt.date] = mapped_column(Date)
    threshold_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(limits.ACTOR))


class Submission(Base):
    """Every submit of a record, passed or refused by the rules, and what the reviewer decided on a passed one:
    the filing statistics are counted from these."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(limits.SKU), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    codes: Mapped[list[str]] = mapped_column(Json)  # the rules a refused submit failed, each once
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))  # approve or reject
    review_hours: Mapped[float | None] = mapped_column(Float)  # from the submit to the decision

    # the review hours of a window's decisions, counted and ranked from the index alone
    __table_args__ = (Index("ix_submission_decided_at_review_hours", "decided_at", "review_hours"),)


class DailyCount(Base):
    """Counts of each day (in the customs time zone) kept in the transaction of what they count, so that statistics
    add up days, never submissions. `measure` names what is counted and `key` what it is counted by:

    - `submitted`, `passed`: submits (and the passed among them) by the day of the record's previous submit
      (`""` for a record's first), so that the first submit of each record in any window of days is known;
    - `refused`: refused submits by the rule code they failed;
    - `approved`: approvals (`key` `""`).
    """

    __tablename__ = "daily_count"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(limits.CODE), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class Outbox(Base):
    """Alerts waiting for the webhook, written with the alert; a row leaves only when delivered."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(limits.KEY_NAME))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Who made and who revoked it: a key id, or `system` for the command line (null: made before it was recorded).
    created_by: Mapped[str | None] = mapped_column(String(limits.KEY_ID))
    revoked_by: Mapped[str | None] = mapped_column(String(limits.KEY_ID))


class ReferenceSet(Base):
    __tablename__ = "reference_set"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[Any] = mapped_column(Json)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(limits.ACTOR))


class ReferenceEdition(Base):
    """Every version of a reference set put since the shipped one (version 1, never stored), with the day it takes
    effect. `applied_at`: when the holds scan first checked the filed records against the reference with it in
    force (null: not yet; a future edition waits for its day)."""

    __tablename__ = "reference_edition"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    put_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(limits.ACTOR))
    source: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    data: Mapped[Any] = mapped_column(Json)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)


class UiSession(Base):
    """A workbench session: the browser's cookie holds a random token, this row its SHA-256, the key it was opened
    with (a revoked key ends it: every page joins the key) and the language chosen."""

    __tablename__ = "ui_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class UiSecret(Base):
    """The workbench's signing secret (CSRF tokens), one row made at migration: every instance and worker on this
    database signs and checks with the same one."""

    __tablename__ = "ui_secret"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[str] = mapped_column(String(64))


__all__ = [
    "Alert",
    "ApiKey",
    "FilingNumber",
    "HistoryEvent",
    "HistoryHead",
    "Outbox",
    "Product",
    "ReferenceSet",
    "UiSecret",
    "UiSession",
]
