"""The single place that turns failures into RFC 9457 problem+json; no stack trace or SQL ever leaves here."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from registry.api.metrics import count_unmatched
from registry.domain.errors import MalformedJson, RegistryError, ValidationFailed
from registry.domain.violations import Violation, from_msgspec_error
from registry.services.imports import ImportReport

log = logging.getLogger("registry.errors")
PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:registry:problem:"

# The status phrases of RFC 9110, the title of every `about:blank` problem (RFC 9457 4.2.1).
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class InvalidParam(msgspec.Struct):
    name: str
    reason: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem. `violations` on 422, `allowed_actions` on a refused filing action."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    violations: list[Violation] | None = None
    truncated: bool | None = None  # with violations: more were found than are listed
    invalid_params: list[InvalidParam] | None = None
    allowed_actions: list[str] | None = None
    current_version: int | None = None
    current_status: str | None = None
    report: ImportReport | None = None  # an atomic import refused: what each row did


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    title: str | None = None,
    **extra: Any,
) -> Response[Problem]:
    """A problem of the type `slug` (titled `title`), or `about:blank` titled with the status phrase."""
    body = Problem(
        type=TYPE_PREFIX + slug if slug else "about:blank",
        title=(title if slug else None) or _TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path,
        **{name: value for name, value in extra.items() if name in Problem.__struct_fields__},
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _registry_error(request: Request[Any, Any, Any], exc: RegistryError) -> Response[Problem]:
    retry = {"Retry-After": "1"} if exc.status == 503 else None  # a passing state: the client may try again
    return problem(request, exc.status, exc.detail, exc.slug, headers=retry, title=exc.title, **exc.extra)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Litestar's decoding failures: a bad body is a 422 with violations, a bad parameter a 400."""
    items: list[dict[str, Any]] = exc.extra if isinstance(exc.extra, list) else []
    body = [item for item in items if item.get("source") == "body"]
    if any(item.get("key") == "data" and item.get("message") == "'data'" for item in body):
        # The framework found no body at all (an empty chunked one): as a request without its body, a 400.
        return problem(request, 400, "this request needs a body; none was sent", "bad-request")
    if body:
        violations = [
            from_msgspec_error(str(item.get("message", "")), "" if item.get("key") == "data" else str(item["key"]))
            for item in body
        ]
        return problem(
            request,
            422,
            "the body does not match the schema",
            ValidationFailed.slug,
            title=ValidationFailed.title,
            violations=violations,
        )
    params = [InvalidParam(_named(request, str(item.get("key", ""))), str(item.get("message", ""))) for item in items]
    return problem(request, 400, "invalid request parameters", "invalid-parameters", invalid_params=params)


def _named(request: Request[Any, Any, Any], key: str) -> str:
    """A parameter as the client names it (`from`), not as the handler's argument is called (`start`)."""
    handler = request.scope.get("route_handler")
    field = handler.parsed_fn_signature.parameters.get(key) if handler is not None else None
    kwarg = getattr(field, "kwarg_definition", None)
    return getattr(kwarg, "query", None) or getattr(kwarg, "name", None) or key


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        return _unexpected(request, exc)
    if status in (404, 405) and request.scope.get("route_handler") is None:
        count_unmatched(request.method, status)
    if isinstance(exc.__cause__, SerializationException):  # the framework could not decode a JSON body
        return _registry_error(request, MalformedJson(f"the body is not valid JSON: {exc.__cause__}"))
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="registry"')
    detail = exc.detail if exc.detail and exc.detail.lower() != _TITLES.get(status, "").lower() else None
    return problem(request, status, detail, headers=headers or None)


def _database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.warning("database unavailable: %s", type(exc).__name__)
    return problem(
        request, 503, "the database is unavailable; retry shortly", "unavailable", headers={"Retry-After": "1"}
    )


def _integrity(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[Problem]:
    log.info("integrity conflict on %s", request.url.path)
    return problem(request, 409, "a concurrent change conflicted with this one; retry", "conflict")


# SQLSTATE classes and codes that say the server cannot serve now, not that the request was wrong: connection
# exceptions, insufficient resources (too many connections), shutting down or starting up, a cancelled statement
# (the statement timeout), a serialization failure or deadlock a retry resolves.
_TRANSIENT_SQLSTATES = ("08", "53", "57P", "57014", "40001", "40P01")


def _dbapi(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Problem]:
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if (
        exc.connection_invalidated
        or isinstance(exc, (OperationalError, InterfaceError))
        or (sqlstate and sqlstate.startswith(_TRANSIENT_SQLSTATES))
    ):
        return _database_unavailable(request, exc)
    return _unexpected(request, exc)


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Problem]:
    return problem(request, 400, "the body is nested too deeply", "bad-request")


def _not_utf8(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Problem]:
    return problem(request, 400, "the body is not valid UTF-8", "bad-request")


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unexpected failure on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "an unexpected failure; it has been logged", "internal")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    RegistryError: _registry_error,
    ValidationException: _validation,
    HTTPException: _http,
    IntegrityError: _integrity,
    DBAPIError: _dbapi,
    PoolTimeout: _database_unavailable,
    OSError: _database_unavailable,
    RecursionError: _too_deep,
    UnicodeDecodeError: _not_utf8,
    Exception: _unexpected,
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The error responses a route declares in the OpenAPI document; every route may meet 500 and 503, and one that
    takes a key 429 (too many failed authentications from one address)."""
    statuses = (*statuses, 500, 503, *((429,) if 401 in statuses else ()))
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_TITLES.get(status, "Error"),
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in sorted(set(statuses))
    }
