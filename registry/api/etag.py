"""Entity tags are the record version: `ETag: "3"`."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from registry.api.policy import policy_of
from registry.domain import limits
from registry.domain.errors import BadRequest, PreconditionFailed, PreconditionRequired

_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e]*)"\s*')  # RFC 9110 entity-tag, opaque-tag's etagc


# What a client may keep of a read with an ETag: nothing it has not revalidated (RFC 9111 5.2.2).
CACHE_CONTROL = "private, max-age=0, must-revalidate"


def etag(version: int) -> str:
    return f'"{version}"'


def not_modified(if_none_match: str | None, current: str) -> bool:
    """Whether If-None-Match names the current entity tag, by weak comparison (RFC 9110 13.1.2): `W/"3"` matches
    `"3"`, and `*` matches any current representation."""
    if if_none_match is None:
        return False
    tags = [part.strip() for part in if_none_match.split(",")]
    return "*" in tags or current.removeprefix("W/") in (tag.removeprefix("W/") for tag in tags)


def expected_version(request: Request[Any, Any, Any]) -> int | None:
    """The version the request's If-Match demands, compared strongly (RFC 9110 13.1.1): a weak tag never matches.

    None when any version will do: absent, or `*`, where the route's policy makes the header optional. Where it
    is required (PATCH), `*` is no better than absent: a change must name the version it was made from.
    """
    if_match = request.headers.get("if-match")
    required = policy_of(request.route_handler).if_match == "required"
    if if_match is None or if_match.strip() == "*":
        if required:
            raise PreconditionRequired("send If-Match with the ETag of the version you are changing (not *)")
        return None
    tags = [_TAG.fullmatch(part) for part in if_match.split(",")]
    if not all(tags):
        raise BadRequest('If-Match is not a list of entity tags such as "3"')
    versions = {
        int(tag.group(2))
        for tag in tags
        if tag and not tag.group(1) and tag.group(2).isdigit() and int(tag.group(2)) <= limits.MAX_INT32
    }
    if len(versions) != 1:
        raise PreconditionFailed("If-Match names no single current version of this record (a weak tag never matches)")
    return versions.pop()
