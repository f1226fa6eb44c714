"""The violation every rule reports, and its JSON Pointer paths."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from registry.domain import limits

Severity = Literal["error", "warning"]


class Violation(msgspec.Struct, frozen=True):
    field: str
    code: str
    message: str
    severity: Severity = "error"


def capped(violations: list[Violation]) -> tuple[list[Violation], bool]:
    """At most `limits.VIOLATIONS` of a record's violations, and whether some were left off: a small request
    never earns a huge answer."""
    if len(violations) <= limits.VIOLATIONS:
        return violations, False
    return violations[: limits.VIOLATIONS], True


def pointer(*parts: str | int) -> str:
    """A JSON Pointer (RFC 6901) from path parts."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


def path_to_pointer(path: str) -> str:
    """msgspec's `$.documents[0].valid_until` (or `documents[0].valid_until`) as `/documents/0/valid_until`."""
    path = path.removeprefix("$")
    if path and not path.startswith((".", "[")):
        path = "." + path
    return pointer(*(name or int(index) for name, index in _PATH_PART.findall(path)))


def from_msgspec_error(exc: msgspec.ValidationError | str, path: str | None = None) -> Violation:
    """A decoder's complaint as a violation: `unknown_field` for a field the record does not have, else `type`."""
    message = str(exc)
    if path is None:
        message, _, tail = message.partition(" - at `")
        path = tail.removesuffix("`")
    if unknown := _UNKNOWN_FIELD.search(message):
        parent = path_to_pointer(path)
        return Violation(parent + pointer(unknown.group(1)), "unknown_field", message)
    return Violation(path_to_pointer(path), "type", message)


# Control characters (Unicode Cc), format characters (Cf: zero-width spaces and joiners, bidirectional
# overrides such as U+202E that make a name read backwards, the BOM, tag characters) and lone surrogates:
# invisible or deceptive in a name, refused by PostgreSQL (NUL), or not storable as UTF-8.
# tests/unit/test_limits.py checks this class against the Unicode database.
UNSEEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\ud800-\udfff]"
)


def text_problems(value: str, limit: int, *path: str | int) -> list[Violation]:
    """A stored text's own faults: unseen characters, or more than `limit` characters."""
    if len(value) <= limit and ((value.isascii() and value.isprintable()) or not UNSEEN.search(value)):
        return []  # the common case, without building a pointer
    found = []
    if UNSEEN.search(value):
        found.append(
            err(pointer(*path), "format.control_character", "control, format and invisible characters are not allowed")
        )
    if len(value) > limit:
        found.append(err(pointer(*path), "format.too_long", f"at most {limit} characters"))
    return found


def err(path: str, code: str, message: str) -> Violation:
    return Violation(path, code, message, "error")
