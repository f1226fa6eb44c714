"""Entity tags are the record version: `ETag: "3"`."""

from __future__ import annotations

import re

from registry.domain.errors import PreconditionFailed, PreconditionRequired

_TAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, *, required: bool) -> int | None:
    """The version an If-Match header demands; None when any version will do (`*`, or absent and optional)."""
    if if_match is None:
        if required:
            raise PreconditionRequired("send If-Match with the ETag of the version you are changing")
        return None
    if if_match.strip() == "*":
        return None
    tags = [_TAG.match(part) for part in if_match.split(",")]
    versions = {int(tag.group(1)) for tag in tags if tag}
    if len(versions) != 1:
        raise PreconditionFailed("If-Match names no single version of this record")
    return versions.pop()
