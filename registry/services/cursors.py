"""Opaque page cursors: the last key of a page, which the next page starts after."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, TypeVar

import msgspec

from registry.domain import limits
from registry.domain.errors import BadRequest

Key = TypeVar("Key")


def encode(after: Any) -> str:
    """A cursor for a key: an id, a SKU, or a tuple of sort values ending in a SKU."""
    return base64.urlsafe_b64encode(msgspec.json.encode({"after": after})).decode().rstrip("=")


def decode(cursor: str, key: type[Key]) -> Key:
    """The key a cursor names, of the given type; 400 for anything this service did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after: Key = msgspec.json.decode(raw, type=dict[str, key])["after"]  # type: ignore[valid-type]
    except (binascii.Error, ValueError, KeyError, msgspec.DecodeError) as exc:
        raise BadRequest("the cursor is not one this service gave out") from exc
    if not all(_fits(value) for value in (after if isinstance(after, tuple) else (after,))):
        raise BadRequest("the cursor is not one this service gave out")
    return after


def _fits(value: object) -> bool:
    """Keys this service gives out: a SKU, a number no larger than a 32-bit column holds, a date or a time in
    UTC in the years a date may lie in, or none."""
    if isinstance(value, str):
        return len(value) <= limits.SKU and "\x00" not in value
    if isinstance(value, int):
        return 0 <= value <= limits.MAX_INT32
    if isinstance(value, dt.datetime):
        return value.tzinfo is dt.UTC and limits.FIRST_DAY <= value.date() <= limits.LAST_DAY
    if isinstance(value, dt.date):
        return limits.FIRST_DAY <= value <= limits.LAST_DAY
    return value is None
