"""What a reviewer sees beside a record: the changes since its rejection, read from its history alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from registry.domain.context import since_rejection

AT = dt.datetime(2026, 11, 22, 2, tzinfo=dt.UTC)


class Event(msgspec.Struct):
    action: str
    changes: dict[str, Any]
    reason: str | None = None
    at: dt.datetime = AT


def test_a_record_never_rejected_has_no_changes_since() -> None:
    assert since_rejection([Event("create", {}), Event("submit", {})]) is None


def test_changes_since_the_last_rejection_keep_the_first_old_and_the_last_new_value() -> None:
    events = [
        Event("create", {"brand": {"old": None, "new": "SK-II"}}),
        Event("reject", {}, "old reason"),
        Event("update", {"usage": {"old": "a", "new": "b"}}),
        Event("reject", {}, "成分表缺少防腐剂; brand letter expired; 规格型号 unclear"),
        Event("update", {"ingredients": {"old": ["x"], "new": ["x", "y"]}, "spec": {"old": "1件", "new": "2件"}}),
        Event("update", {"spec": {"old": "2件", "new": "1件"}}),  # back as it was: no change since
        Event("import", {"ingredients": {"old": ["x", "y"], "new": ["x", "y", "z"]}}),
        Event("submit", {"status": {"old": "unfiled", "new": "under_review"}}),
    ]
    since = since_rejection(events)
    assert since is not None
    assert since.reasons == ["成分表缺少防腐剂", "brand letter expired", "规格型号 unclear"]
    assert since.changes == {"ingredients": {"old": ["x"], "new": ["x", "y", "z"]}}
    # Named by a reason (Chinese label, English name, Chinese label) and not changed: brand and spec.
    assert since.unchanged == ["brand", "spec"]
