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
