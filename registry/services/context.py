"""What every use case is given: the database, the clock and who is acting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from registry.db import Database

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}:{self.name}"


@dataclass(frozen=True)
class Context:
    db: Database
    clock: Clock = utc_now
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    reference_cache: dict[Any, Any] = field(default_factory=dict, compare=False)
    # Called with the product rows a use case changed, after its transaction commits (the look-up index).
    watchers: list[Callable[[Sequence[Any]], None]] = field(default_factory=list, compare=False)
    # Run at each refresh of this instance's view of what other instances changed (the look-up index's poller:
    # every half staleness, and at once on PostgreSQL's NOTIFY), after the index itself.
    refreshers: list[Callable[[], Awaitable[None]]] = field(default_factory=list, compare=False)

    def changed(self, rows: Sequence[Any]) -> None:
        for watcher in self.watchers:
            watcher(rows)

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        """The calendar day in the customs time zone, the one filing and document dates are written in."""
        return self.clock().astimezone(self.zone).date()
