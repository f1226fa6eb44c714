"""The statistics' arithmetic on its edges."""

from __future__ import annotations

import datetime as dt

from registry.domain import stats
from registry.domain.stats import Submitted, Waiting

AT = dt.datetime(2026, 11, 22, 2, tzinfo=dt.UTC)


def test_percentiles_interpolate_between_ranks() -> None:
    assert stats.percentile([], 0.5) is None
    assert stats.percentile([7.0], 0.9) == 7.0
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert stats.percentile([4.0, 1.0, 3.0, 2.0], 0.9) == 3.7000000000000002


def test_the_first_submit_of_each_record_decides_its_first_pass() -> None:
    submissions = [
        Submitted("A", AT, False, ["hs.unknown"]),
        Submitted("A", AT, True, []),
        Submitted("B", AT, True, []),
        Submitted("C", AT, False, ["hs.unknown", "brand.unknown"]),
    ]
    assert stats.first_pass_rate(submissions) == 0.3333
    assert stats.first_pass_rate([]) is None
    assert [(r.code, r.count, r.share) for r in stats.by_rule(submissions)] == [
        ("hs.unknown", 2, 0.5),
        ("brand.unknown", 1, 0.25),
    ]


def test_weeks_are_iso_weeks_of_the_customs_day() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    sunday_late = dt.datetime(2026, 11, 22, 15, 59, tzinfo=dt.UTC)  # Sunday 23:59 in Shanghai
    monday = dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)  # Monday 00:00 in Shanghai
    assert stats.by_week([monday, sunday_late, monday], shanghai) == {"2026-W47": 1, "2026-W48": 2}
    assert stats.iso_week(dt.datetime(2027, 1, 1, tzinfo=dt.UTC), dt.UTC) == "2026-W53"


def test_a_backlog_without_monthly_units_has_no_best_sellers() -> None:
    backlog = stats.backlog([Waiting(AT, None), Waiting(None, None)])
    assert backlog.under_review == 2
    assert backlog.oldest_submitted_at == AT
    assert backlog.by_priority.threshold is None
    assert backlog.by_priority.a == stats.Queue(0, None)
    assert backlog.by_priority.rest == stats.Queue(2, AT)
    single = stats.backlog([Waiting(AT, 5)])
    assert (single.by_priority.threshold, single.by_priority.a.under_review) == (5, 1)
