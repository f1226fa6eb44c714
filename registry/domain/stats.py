"""Filing statistics from the submissions of a window: pure functions over plain values.

The first-pass rate is the share of records whose first submit in the window passed the rules (the business aim:
from 60 % to 95 %); review hours run from a passed submit to the reviewer's decision; the priority split of the
backlog puts the records at or above the 80th percentile of `monthly_units` (nearest rank) in class "A".
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec

BEST_SELLERS = 0.8  # the percentile of monthly_units at and above which a record is an "A" best seller


class Submitted(msgspec.Struct, frozen=True):
    """A submission as the statistics read it."""

    sku: str
    at: dt.datetime
    passed: bool
    codes: list[str]


class Waiting(msgspec.Struct, frozen=True):
    """A record under review as the backlog reads it."""

    submitted_at: dt.datetime | None
    monthly_units: int | None


class RuleCount(msgspec.Struct):
    code: str
    count: int  # submits in the window refused by this rule
    share: float  # of all submits in the window


class ReviewHours(msgspec.Struct):
    p50: float | None
    p90: float | None


class Queue(msgspec.Struct):
    under_review: int
    oldest_submitted_at: dt.datetime | None


class PriorityBacklog(msgspec.Struct):
    threshold: int | None  # monthly_units from which a record is an "A" best seller; null with none to split
    a: Queue
    rest: Queue


class Backlog(msgspec.Struct):
    under_review: int
    oldest_submitted_at: dt.datetime | None
    by_priority: PriorityBacklog


def first_pass_rate(submissions: Iterable[Submitted]) -> float | None:
    """The share of records whose first submit (in the order given) passed; None without submits."""
    first: dict[str, bool] = {}
    for submission in submissions:
        first.setdefault(submission.sku, submission.passed)
    return round(sum(first.values()) / len(first), 4) if first else None


def first_pass_by_week(submissions: Iterable[Submitted], zone: dt.tzinfo) -> dict[str, float]:
    """The first-pass rate of each ISO week, over the records whose first submit (in the order given) fell in it."""
    first: dict[str, Submitted] = {}
    for submission in submissions:
        first.setdefault(submission.sku, submission)
    weeks: dict[str, list[bool]] = {}
    for submission in first.values():
        weeks.setdefault(iso_week(submission.at, zone), []).append(submission.passed)
    return {week: round(sum(passed) / len(passed), 4) for week, passed in sorted(weeks.items())}


def by_rule(submissions: Sequence[Submitted]) -> list[RuleCount]:
    """How many submits each rule refused, most first (then by code), with their share of all submits."""
    counts = Counter(code for submission in submissions for code in submission.codes)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [RuleCount(code, count, round(count / len(submissions), 4)) for code, count in ranked]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0–1) by linear interpolation between the nearest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def review_hours(waits: Sequence[dt.timedelta]) -> ReviewHours:
    hours = [wait.total_seconds() / 3600 for wait in waits]
    p50, p90 = percentile(hours, 0.5), percentile(hours, 0.9)
    return ReviewHours(None if p50 is None else round(p50, 2), None if p90 is None else round(p90, 2))


def iso_week(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """`2026-W47`: the ISO week of the moment's day in the customs time zone."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def by_week(moments: Iterable[dt.datetime], zone: dt.tzinfo) -> dict[str, int]:
    """How many moments fall in each ISO week, weeks in order."""
    return dict(sorted(Counter(iso_week(moment, zone) for moment in moments).items()))


def _queue(records: Sequence[Waiting]) -> Queue:
    times = [r.submitted_at for r in records if r.submitted_at is not None]
    return Queue(len(records), min(times, default=None))


def backlog(waiting: Sequence[Waiting]) -> Backlog:
    """The records under review, the oldest among them, and the same for the best sellers and the rest."""
    units = sorted(r.monthly_units for r in waiting if r.monthly_units is not None)
    threshold = units[math.ceil(BEST_SELLERS * len(units)) - 1] if units else None
    best: list[Waiting] = []
    rest: list[Waiting] = []
    for record in waiting:
        sells = record.monthly_units
        (best if threshold is not None and sells is not None and sells >= threshold else rest).append(record)
    whole = _queue(waiting)
    split = PriorityBacklog(threshold, _queue(best), _queue(rest))
    return Backlog(whole.under_review, whole.oldest_submitted_at, split)
