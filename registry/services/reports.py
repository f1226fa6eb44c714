"""The expiring report: records whose filing or documents lapse within N days, as JSON or CSV."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from pathlib import Path

import msgspec
from sqlalchemy import or_, select

from registry.domain.records import Document, Status
from registry.domain.rows import csv_line
from registry.models import Product
from registry.services.context import Context

CSV_COLUMNS = ("sku", "brand", "name_cn", "filing_no", "status", "valid_until", "days_left", "lapsing_documents")


class LapsingDocument(msgspec.Struct):
    kind: str | None
    number: str | None
    valid_until: dt.date
    days_left: int


class ExpiringRow(msgspec.Struct):
    sku: str
    brand: str
    name_cn: str
    filing_no: str | None
    status: str
    valid_until: dt.date | None
    days_left: int | None
    lapsing_documents: list[LapsingDocument]


class ExpiringReport(msgspec.Struct):
    as_of: dt.date
    within_days: int
    items: list[ExpiringRow]


async def expiring(ctx: Context, within_days: int) -> ExpiringReport:
    """Filed and under-review records whose filing or a document lapses by today + within_days, soonest first."""
    today = ctx.today()
    horizon = today + dt.timedelta(days=within_days)
    active = [Status.FILED.value, Status.UNDER_REVIEW.value]
    stmt = select(Product).where(
        Product.status.in_(active),
        or_(
            (Product.status == Status.FILED.value) & (Product.valid_until <= horizon),
            Product.next_document_expiry <= horizon,
        ),
    )
    async with ctx.db.reads() as tx:
        products = (await tx.scalars(stmt)).all()
    rows: list[ExpiringRow] = []
    for product in products:
        documents = [
            LapsingDocument(doc.kind, doc.number, doc.valid_until, (doc.valid_until - today).days)
            for doc in msgspec.convert(product.documents, list[Document])
            if doc.valid_until is not None and doc.valid_until <= horizon
        ]
        filing_lapses = product.status == Status.FILED.value and product.valid_until is not None
        rows.append(
            ExpiringRow(
                sku=product.sku,
                brand=product.brand,
                name_cn=product.name_cn,
                filing_no=product.filing_no,
                status=product.status,
                valid_until=product.valid_until,
                days_left=(product.valid_until - today).days if filing_lapses and product.valid_until else None,
                lapsing_documents=sorted(documents, key=lambda d: d.valid_until),
            )
        )

    def soonest(row: ExpiringRow) -> tuple[int, str]:
        lapses = [d.days_left for d in row.lapsing_documents]
        if row.days_left is not None and row.days_left <= within_days:
            lapses.append(row.days_left)
        return min(lapses, default=within_days), row.sku

    return ExpiringReport(as_of=today, within_days=within_days, items=sorted(rows, key=soonest))


def to_csv(report: ExpiringReport) -> str:
    """UTF-8 CSV with a header row; lapsing documents as `kind number (valid_until)` joined by `|`."""
    lines = [csv_line(list(CSV_COLUMNS))]
    for row in report.items:
        lines.append(
            csv_line(
                [
                    row.sku,
                    row.brand,
                    row.name_cn,
                    row.filing_no or "",
                    row.status,
                    row.valid_until.isoformat() if row.valid_until else "",
                    "" if row.days_left is None else str(row.days_left),
                    "|".join(f"{d.kind} {d.number} ({d.valid_until.isoformat()})" for d in row.lapsing_documents),
                ]
            )
        )
    return "".join(lines)


async def write_daily(ctx: Context, folder: Path, within_days: int = 30) -> Path:
    """Today's report as `expiring-YYYY-MM-DD.csv`, written to a temporary file and renamed into place."""
    report = await expiring(ctx, within_days)
    target = folder / f"expiring-{report.as_of.isoformat()}.csv"
    await asyncio.to_thread(_write_atomically, target, to_csv(report))
    return target


def _write_atomically(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".expiring-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
