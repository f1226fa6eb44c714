"""Filing statistics: submissions and decisions of a window of days, and the backlog now.

Every figure comes from the database by aggregate: the daily counts (`DailyCount`, kept in the transaction of each
submit and decision) add up the days of the window, the review hours' quantiles are read at their ranks, the
backlog is counted where it lies. No row per submission reaches the service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Insert, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import limits, stats
from registry.domain.errors import BadRequest
from registry.domain.lifecycle import Action
from registry.domain.records import Status
from registry.domain.stats import Backlog, FirstSubmits, PriorityBacklog, Queue, ReviewHours, RuleCount
from registry.models import DailyCount, Product, Submission
from registry.services.context import Context

WINDOW = dt.timedelta(weeks=12)  # the window when none is given: the twelve weeks to today
ORDERED = "from is a day no later than to, both in years 1900–9999"


class FilingStats(msgspec.Struct):
    from_: dt.date = msgspec.field(name="from")
    to: dt.date
    submissions: int  # every submit in the window, passed or refused
    first_pass_rate: float | None  # the share of records whose first submit in the window passed
    first_pass_by_week: dict[str, float]  # ISO week → the same, for the records first submitted in it
    by_rule: list[RuleCount]
    review_hours: ReviewHours  # from a passed submit to the reviewer's decision, for decisions in the window
    filed_by_week: dict[str, int]  # ISO week → records approved in it
    backlog: Backlog  # now, whatever the window


async def count_submit(
    ctx: Context, tx: AsyncSession, sku: str, at: dt.datetime, passed: bool, codes: list[str]
) -> None:
    """Record a submit, passed or refused by the rules `codes`, and count it in its day. Called before the record's
    row is changed (its statements would flush the change, and the row's version would rise twice)."""
    previous = await tx.scalar(select(func.max(Submission.at)).where(Submission.sku == sku))
    tx.add(Submission(sku=sku, at=at, passed=passed, codes=codes))
    day = at.astimezone(ctx.zone).date()
    key = stats.previous_key(None if previous is None else previous.astimezone(ctx.zone).date())
    await _add(tx, day, stats.SUBMITTED, key)
    if passed:
        await _add(tx, day, stats.PASSED, key)
    for code in codes:
        await _add(tx, day, stats.REFUSED, code)


async def count_decision(ctx: Context, tx: AsyncSession, sku: str, action: Action, now: dt.datetime) -> None:
    """Record the reviewer's decision on the record's submission under review, with the hours it waited. Called
    before the record's row is changed, as `count_submit` is."""
    found = (
        await tx.execute(
            select(Submission.id, Submission.at).where(
                Submission.sku == sku, Submission.passed, Submission.decided_at.is_(None)
            )
        )
    ).all()
    for row_id, at in found:
        waited = (now - at).total_seconds() / 3600
        await tx.execute(
            update(Submission)
            .where(Submission.id == row_id)
            .values(decided_at=now, decision=action.value, review_hours=waited)
        )
    if action is Action.APPROVE:
        await _add(tx, now.astimezone(ctx.zone).date(), stats.APPROVED, "")


async def _add(tx: AsyncSession, day: dt.date, measure: str, key: str) -> None:
    dialect: Any = postgresql if tx.get_bind().dialect.name == "postgresql" else sqlite
    stmt: Insert = dialect.insert(DailyCount).values(day=day, measure=measure, key=key, count=1)
    await tx.execute(
        stmt.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["day", "measure", "key"], set_={"count": DailyCount.count + 1}
        )
    )


class Submits(msgspec.Struct):
    """The figures of a window's submits and approvals: what the daily counts give (the dashboard's part)."""

    from_: dt.date = msgspec.field(name="from")
    to: dt.date
    submissions: int
    first_pass_rate: float | None
    first_pass_by_week: dict[str, float]
    by_rule: list[RuleCount]
    filed_by_week: dict[str, int]


def _window(ctx: Context, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The days `start` to `end`, by default the twelve weeks to today; 400 outside 1900–9999 or out of order."""
    end = end or ctx.today()
    if not limits.FIRST_DAY <= end <= limits.LAST_DAY or not (start is None or start >= limits.FIRST_DAY):
        raise BadRequest(ORDERED)  # before the default start is counted back from it: year 1 has no twelve weeks before
    start = start or max(end - WINDOW + dt.timedelta(days=1), limits.FIRST_DAY)
    if not start <= end:
        raise BadRequest(ORDERED)
    return start, end


async def submits(ctx: Context, start: dt.date | None, end: dt.date | None) -> Submits:
    """The submits and approvals of the days `start` to `end` (in the customs time zone, both included)."""
    start, end = _window(ctx, start, end)
    async with ctx.db.reads() as tx:
        return await _submits(tx, start, end)


async def _submits(tx: AsyncSession, start: dt.date, end: dt.date) -> Submits:
    """The window's figures from the daily counts, added up by the database: a row per day or rule reaches here."""
    days = (DailyCount.day >= start, DailyCount.day <= end)
    total = func.sum(DailyCount.count)
    first = or_(DailyCount.key == stats.FIRST, DailyCount.key < start.isoformat())  # see stats.FIRST
    by_day: dict[dt.date, list[int]] = {}
    for day, measure, count in await tx.execute(
        select(DailyCount.day, DailyCount.measure, total)
        .where(*days, DailyCount.measure.in_((stats.SUBMITTED, stats.PASSED)), first)
        .group_by(DailyCount.day, DailyCount.measure)
    ):
        by_day.setdefault(day, [0, 0])[measure == stats.PASSED] += int(count)
    firsts = [FirstSubmits(day, records, passed) for day, (records, passed) in sorted(by_day.items())]
    submitted = await tx.scalar(select(total).where(*days, DailyCount.measure == stats.SUBMITTED)) or 0
    refused = {
        code: int(count)
        for code, count in await tx.execute(
            select(DailyCount.key, total).where(*days, DailyCount.measure == stats.REFUSED).group_by(DailyCount.key)
        )
    }
    approved = {
        day: int(count)
        for day, count in await tx.execute(
            select(DailyCount.day, total).where(*days, DailyCount.measure == stats.APPROVED).group_by(DailyCount.day)
        )
    }
    return Submits(
        from_=start,
        to=end,
        submissions=int(submitted),
        first_pass_rate=stats.first_pass_rate(firsts),
        first_pass_by_week=stats.first_pass_by_week(firsts),
        by_rule=stats.by_rule(refused, int(submitted)),
        filed_by_week=stats.by_week(approved),
    )


async def filings(ctx: Context, start: dt.date | None, end: dt.date | None) -> FilingStats:
    """Statistics of the days `start` to `end` (in the customs time zone, both included)."""
    start, end = _window(ctx, start, end)
    low = dt.datetime.combine(start, dt.time.min, tzinfo=ctx.zone)
    high = dt.datetime.combine(end, dt.time.max, tzinfo=ctx.zone)
    async with ctx.db.reads() as tx, tx.begin():
        if ctx.db.engine.dialect.name == "postgresql":  # one snapshot for every figure
            await tx.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        counted = await _submits(tx, start, end)
        decided = (Submission.decided_at >= low, Submission.decided_at <= high)
        review = stats.hours(*[await _quantile(tx, Submission.review_hours, decided, q) for q in (0.5, 0.9)])
        backlog = await _backlog(tx)
    return FilingStats(
        from_=start,
        to=end,
        submissions=counted.submissions,
        first_pass_rate=counted.first_pass_rate,
        first_pass_by_week=counted.first_pass_by_week,
        by_rule=counted.by_rule,
        review_hours=review,
        filed_by_week=counted.filed_by_week,
        backlog=backlog,
    )


async def _quantile(tx: AsyncSession, column: Any, where: tuple[ColumnElement[bool], ...], q: float) -> float | None:
    """The q-quantile of a column over the rows `where` picks, read at its two nearest ranks."""
    n = await tx.scalar(select(func.count()).where(*where, column.is_not(None)))
    if not n:
        return None
    rank, fraction = stats.ranks(n, q)
    nearest = (
        await tx.scalars(select(column).where(*where, column.is_not(None)).order_by(column).offset(rank).limit(2))
    ).all()
    return stats.between([float(value) for value in nearest], fraction)


async def _queue(tx: AsyncSession, *where: ColumnElement[bool]) -> Queue:
    waiting = Product.status == Status.UNDER_REVIEW.value
    count, oldest = (
        await tx.execute(select(func.count(), func.min(Product.submitted_at)).where(waiting, *where))
    ).one()
    return Queue(count, oldest)


async def _backlog(tx: AsyncSession) -> Backlog:
    """The records under review, the oldest among them, and the same for the best sellers and the rest."""
    waiting = Product.status == Status.UNDER_REVIEW.value
    whole = await _queue(tx)
    with_units = await tx.scalar(select(func.count(Product.monthly_units)).where(waiting))
    threshold = None
    if with_units:
        threshold = await tx.scalar(
            select(Product.monthly_units)
            .where(waiting, Product.monthly_units.is_not(None))
            .order_by(Product.monthly_units)
            .offset(stats.best_seller_rank(with_units))
            .limit(1)
        )
    if threshold is None:
        split = PriorityBacklog(None, Queue(0, None), whole)
    else:
        best = Product.monthly_units >= threshold
        rest = or_(Product.monthly_units < threshold, Product.monthly_units.is_(None))
        split = PriorityBacklog(threshold, await _queue(tx, best), await _queue(tx, rest))
    return Backlog(whole.under_review, whole.oldest_submitted_at, split)
