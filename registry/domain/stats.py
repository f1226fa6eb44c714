"""Filing statistics from the daily counts of a window of days: pure functions over plain values.

The first-pass rate is the share of records whose first submit in the window passed the rules (the business aim:
from 60 % to 95 %); review hours run from a passed submit to the reviewer's decision; the priority split of the
backlog puts the records at or above the 80th percentile of `monthly_units` (nearest rank) in class "A".
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import msgspec

BEST_SELLERS = 0.8  # the percentile of monthly_units at and above which a record is an "A" best seller


class FirstSubmits(msgspec.Struct, frozen=True):
    """The records whose first submit in a window fell on a day, and how many of those submits passed."""

    day: dt.date
    records: int
    passed: int


# What the daily counts count.
SUBMITTED = "submitted"
PASSED = "passed"
REFUSED = "refused"
APPROVED = "approved"
# The key of a record's first submit ever: no earlier submit. A submit is its record's first in a window from a day
# when its key is FIRST or a day before that one (ISO days compare as texts).
FIRST = ""


def previous_key(previous: dt.date | None) -> str:
    """The key a submit is counted by: the day of the record's previous submit."""
    return FIRST if previous is None else previous.isoformat()


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


def first_pass_rate(firsts: Sequence[FirstSubmits]) -> float | None:
    """The share of records whose first submit in the window passed; None without submits."""
    records = sum(day.records for day in firsts)
    return round(sum(day.passed for day in firsts) / records, 4) if records else None


def first_pass_by_week(firsts: Iterable[FirstSubmits]) -> dict[str, float]:
    """The first-pass rate of each ISO week, over the records whose first submit in the window fell in it."""
    weeks: dict[str, list[int]] = {}
    for day in firsts:
        week = weeks.setdefault(week_of(day.day), [0, 0])
        week[0] += day.records
        week[1] += day.passed
    return {week: round(passed / records, 4) for week, (records, passed) in sorted(weeks.items()) if records}


def by_rule(refused: Mapping[str, int], submitted: int) -> list[RuleCount]:
    """How many submits each rule refused, most first (then by code), with their share of all `submitted`."""
    ranked = sorted(refused.items(), key=lambda item: (-item[1], item[0]))
    return [RuleCount(code, n, round(n / submitted, 4)) for code, n in ranked]


def ranks(n: int, q: float) -> tuple[int, float]:
    """Where the q-quantile (0–1) of `n` ordered values lies: the rank below it (from 0) and how far towards the
    next one, for linear interpolation between the nearest ranks."""
    position = (n - 1) * q
    low = math.floor(position)
    return low, position - low


def between(nearest: Sequence[float], fraction: float) -> float:
    """The value `fraction` of the way from the first of the nearest ranks to the second (when there is one)."""
    low = nearest[0]
    high = nearest[1] if len(nearest) > 1 else low
    return low + (high - low) * fraction


def hours(p50: float | None, p90: float | None) -> ReviewHours:
    return ReviewHours(None if p50 is None else round(p50, 2), None if p90 is None else round(p90, 2))


def week_of(day: dt.date) -> str:
    """`2026-W47`: the ISO week of a day."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def by_week(days: Mapping[dt.date, int]) -> dict[str, int]:
    """The counts of days added up by ISO week, weeks in order."""
    weeks = Counter[str]()
    for day, count in days.items():
        weeks[week_of(day)] += count
    return dict(sorted(weeks.items()))


def best_seller_rank(n: int) -> int:
    """The rank (from 0, ascending) of the `monthly_units` from which a record of `n` with units is a best seller."""
    return math.ceil(BEST_SELLERS * n) - 1
