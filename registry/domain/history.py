"""The history chain: pure functions over events."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

GENESIS = "0" * 64
CHAINED_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "sku",
    "reference_name",
    "version",
    "from_status",
    "to_status",
    "changes",
    "reason",
)


def _at(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def digest(prev_hash: str, event: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the event's canonical JSON (sorted keys, UTC microsecond times)."""
    body = {name: event[name] for name in CHAINED_FIELDS}
    body["at"] = _at(body["at"])
    canonical = msgspec.json.encode(body, order="sorted")
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical).hexdigest()


class ChainCheck:
    """Walks the chain in seq order, one event at a time, remembering the first event that does not hold.

    An event holds when its seq follows the one before, it links to the previous hash, and its own hash is
    the digest of what it says.
    """

    def __init__(self) -> None:
        self.count = 0
        self.first_bad: int | None = None
        self.last_hash = GENESIS

    def step(self, event: Mapping[str, Any]) -> None:
        self.count += 1
        holds = (
            event["seq"] == self.count
            and event["prev_hash"] == self.last_hash
            and digest(self.last_hash, event) == event["hash"]
        )
        if not holds and self.first_bad is None:
            self.first_bad = event["seq"]
        self.last_hash = event["hash"]

    def end(self, head_seq: int, head_hash: str) -> int | None:
        """The first bad seq, counting a chain that stops short of (or runs past) its recorded head."""
        if self.first_bad is None and (self.count != head_seq or self.last_hash != head_hash):
            return min(self.count, head_seq) + 1
        return self.first_bad
