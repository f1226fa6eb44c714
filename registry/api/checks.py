"""What every request is checked for before its handler runs: a body says what it is (a JSON route refuses
other media types with 415), and the query names only parameters the route has (a misspelt filter is a 400,
not a silently unfiltered answer)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from registry.api.policy import policy_of
from registry.domain.errors import BadRequest

MAX_CONDITION = 8192  # the document's maxLength of If-Match and If-None-Match
_BOUNDED = (b"if-none-match", b"if-match")


class UnsupportedMediaType(HTTPException):
    status_code = 415


async def check_request(request: Request[Any, Any, Any]) -> Response[None] | None:
    # A NUL matches every text on SQLite (`q=%00`) and is refused by PostgreSQL: no path or query may carry one.
    if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
        raise BadRequest("a NUL character (%00) is not allowed in a path or a query")
    for name, value in request.scope["headers"]:
        if name in _BOUNDED and len(value) > MAX_CONDITION:
            raise BadRequest(f"{name.decode()} is longer than {MAX_CONDITION:,} characters")
    policy = policy_of(request.route_handler)
    if request.scope["query_string"]:
        known = policy.query
        unknown = sorted({name for name in request.query_params if name not in known})
        if unknown:
            problems = [
                {"key": name, "message": "not a parameter of this route", "source": "query"} for name in unknown
            ]
            raise ValidationException("unknown query parameters", extra=problems)
    if request.method == "OPTIONS":  # every method of the path (the framework's own answer names only some)
        return Response(None, status_code=204, headers={"Allow": policy.allow})
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    allowed = policy.accepts
    media_type, has_body = "", False
    for name, value in request.scope["headers"]:  # read once, without building a headers object per request
        if name == b"content-type":
            media_type = value.decode("latin-1").partition(";")[0].strip().lower()
        elif (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
            has_body = True
    if (has_body or media_type) and media_type not in allowed:
        raise UnsupportedMediaType(f"send the body as one of: {', '.join(sorted(allowed))}")
    if policy.needs_body and not has_body:
        raise BadRequest(f"this request needs a body, as one of: {', '.join(sorted(allowed))}")
    return None
