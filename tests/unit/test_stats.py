"""The statistics' arithmetic on its edges."""

from __future__ import annotations

import datetime as dt

from registry.domain import stats
from registry.domain.stats import FirstSubmits

SUNDAY = dt.date(2026, 11, 22)
MONDAY = dt.date(2026, 11, 23)


def _quantile(values: list[float], q: float) -> float:
    """The q-quantile as the statistics read it: the nearest ranks of the ordered values, interpolated."""
    low, fraction = stats.ranks(len(values), q)
    return stats.between(sorted(values)[low : low + 2], fraction)


def test_percentiles_interpolate_between_ranks() -> None:
    assert _quantile([7.0], 0.9) == 7.0
    assert _quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert _quantile([4.0, 1.0, 3.0, 2.0], 0.9) == 3.7000000000000002
    assert stats.ranks(4, 0.9) == (2, 0.7000000000000002)
    assert stats.between([3.0], 0.5) == 3.0  # the last rank has no next one


def test_the_first_submit_of_each_record_decides_its_first_pass() -> None:
    firsts = [FirstSubmits(SUNDAY, 1, 0), FirstSubmits(MONDAY, 2, 1)]
    assert stats.first_pass_rate(firsts) == 0.3333
    assert stats.first_pass_by_week(firsts) == {"2026-W47": 0.0, "2026-W48": 0.5}
    assert stats.first_pass_rate([]) is None
    assert [(r.code, r.count, r.share) for r in stats.by_rule({"brand.unknown": 1, "hs.unknown": 2}, 4)] == [
        ("hs.unknown", 2, 0.5),
        ("brand.unknown", 1, 0.25),
    ]
    assert stats.by_week({SUNDAY: 1, MONDAY: 2, MONDAY + dt.timedelta(days=1): 3}) == {"2026-W47": 1, "2026-W48": 5}


def test_a_submit_is_keyed_by_its_records_previous_submit() -> None:
    assert stats.previous_key(None) == stats.FIRST
    assert stats.previous_key(SUNDAY) == "2026-11-22"
    assert stats.previous_key(dt.date(1999, 12, 31)) < SUNDAY.isoformat()  # ISO days compare as texts


def test_weeks_are_iso_weeks_of_the_customs_day() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    sunday_late = dt.datetime(2026, 11, 22, 15, 59, tzinfo=dt.UTC)  # Sunday 23:59 in Shanghai
    monday = dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)  # Monday 00:00 in Shanghai
    assert stats.week_of(sunday_late.astimezone(shanghai).date()) == "2026-W47"
    assert stats.week_of(monday.astimezone(shanghai).date()) == "2026-W48"
    assert stats.week_of(dt.date(2027, 1, 1)) == "2026-W53"


def test_the_best_sellers_start_at_the_80th_percentile_by_nearest_rank() -> None:
    assert stats.best_seller_rank(1) == 0
    assert stats.best_seller_rank(5) == 3  # of 100…500: 400
    assert stats.best_seller_rank(10) == 7
