"""Opaque page cursors: the last key of a page, which the next page starts after."""

from __future__ import annotations

import base64
import binascii
from typing import TypeVar

import msgspec

from registry.domain import limits
from registry.domain.errors import BadRequest

Key = TypeVar("Key", str, int)


def encode(after: str | int) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode({"after": after})).decode().rstrip("=")


def decode(cursor: str, key: type[Key]) -> Key:
    """The key a cursor names; 400 for anything this service did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after: Key = msgspec.json.decode(raw, type=dict[str, key])["after"]  # type: ignore[valid-type]
    except (binascii.Error, ValueError, KeyError, msgspec.DecodeError) as exc:
        raise BadRequest("the cursor is not one this service gave out") from exc
    # Keys this service gives out: a SKU, or an id no larger than a 32-bit column holds.
    fits = (
        0 <= after <= limits.MAX_INT32 if isinstance(after, int) else len(after) <= limits.SKU and "\x00" not in after
    )
    if not fits:
        raise BadRequest("the cursor is not one this service gave out")
    return after
