"""Request bodies must say what they are: a JSON route refuses other media types with 415."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

JSON_TYPES = frozenset({"application/json", "application/merge-patch+json", "application/problem+json"})


class UnsupportedMediaType(HTTPException):
    status_code = 415


def accepts(*media_types: str) -> dict[str, Any]:
    """Route options naming the body media types a route reads (JSON when not named)."""
    return {"accepts": frozenset(media_types)}


async def check_media_type(request: Request[Any, Any, Any]) -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    allowed = request.route_handler.opt.get("accepts", JSON_TYPES)
    media_type, has_body = "", False
    for name, value in request.scope["headers"]:  # read once, without building a headers object per request
        if name == b"content-type":
            media_type = value.decode("latin-1").partition(";")[0].strip().lower()
        elif (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
            has_body = True
    if (has_body or media_type) and media_type not in allowed:
        raise UnsupportedMediaType(f"send the body as one of: {', '.join(sorted(allowed))}")
