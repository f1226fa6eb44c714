"""Filing statistics: submissions and decisions of a window of days, and the backlog now."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
from sqlalchemy import select

from registry.domain import limits, stats
from registry.domain.errors import BadRequest
from registry.domain.lifecycle import Action
from registry.domain.records import Status
from registry.domain.stats import Backlog, ReviewHours, RuleCount, Submitted, Waiting
from registry.models import Product, Submission
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


async def filings(ctx: Context, start: dt.date | None, end: dt.date | None) -> FilingStats:
    """Statistics of the days `start` to `end` (in the customs time zone, both included)."""
    end = end or ctx.today()
    if not limits.FIRST_DAY <= end <= limits.LAST_DAY or not (start is None or start >= limits.FIRST_DAY):
        raise BadRequest(ORDERED)  # before the default start is counted back from it: year 1 has no twelve weeks before
    start = start or max(end - WINDOW + dt.timedelta(days=1), limits.FIRST_DAY)
    if not start <= end:
        raise BadRequest(ORDERED)
    low = dt.datetime.combine(start, dt.time.min, tzinfo=ctx.zone)
    high = dt.datetime.combine(end, dt.time.max, tzinfo=ctx.zone)
    async with ctx.db.reads() as tx:
        submitted = (
            await tx.execute(
                select(Submission.sku, Submission.at, Submission.passed, Submission.codes)
                .where(Submission.at >= low, Submission.at <= high)
                .order_by(Submission.id)
            )
        ).all()
        decided = (
            await tx.execute(
                select(Submission.at, Submission.decided_at, Submission.decision).where(
                    Submission.decided_at >= low, Submission.decided_at <= high
                )
            )
        ).all()
        waiting = (
            await tx.execute(
                select(Product.submitted_at, Product.monthly_units).where(Product.status == Status.UNDER_REVIEW.value)
            )
        ).all()
    submissions = [Submitted(sku, at, passed, list(codes)) for sku, at, passed, codes in submitted]
    waits: list[dt.timedelta] = []
    approved: list[dt.datetime] = []
    for at, decided_at, decision in decided:
        assert decided_at is not None  # the query took decided submissions only
        waits.append(decided_at - at)
        if decision == Action.APPROVE:
            approved.append(decided_at)
    queue = [Waiting(submitted_at, units) for submitted_at, units in waiting]
    # Off the event loop: a window may hold many thousands of submissions.
    return await asyncio.to_thread(_count, ctx, start, end, submissions, waits, approved, queue)


def _count(
    ctx: Context,
    start: dt.date,
    end: dt.date,
    submissions: list[Submitted],
    waits: list[dt.timedelta],
    approved: list[dt.datetime],
    queue: list[Waiting],
) -> FilingStats:
    return FilingStats(
        from_=start,
        to=end,
        submissions=len(submissions),
        first_pass_rate=stats.first_pass_rate(submissions),
        first_pass_by_week=stats.first_pass_by_week(submissions, ctx.zone),
        by_rule=stats.by_rule(submissions),
        review_hours=stats.review_hours(waits),
        filed_by_week=stats.by_week(approved, ctx.zone),
        backlog=stats.backlog(queue),
    )
