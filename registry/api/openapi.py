"""The OpenAPI document: what Litestar generates from the handlers, completed from each route's policy (roles,
problems, preconditions, headers, tags) and with the request schemas registry.api.schemas derives from the domain,
so that it states what the server enforces.

The field rules run in the domain (registry.domain.rules), after decoding, so that every violation of a record is
reported at once; the decoder itself accepts any shape of the right types. The document states those rules as
JSON Schema (required fields, patterns, enums, bounds, `additionalProperties: false`).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from litestar import Litestar, Request, Router
from litestar.exceptions import ImproperlyConfiguredException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Contact,
    License,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    SecurityScheme,
    Tag,
)
from litestar.openapi.spec import Schema as S
from litestar.routes import HTTPRoute

from registry.api.etag import CACHE_CONTROL
from registry.api.policy import OPEN, Policy, policy_of
from registry.api.schemas import answered, drafts, request_schemas

SCHEMA_ASSETS = "/schema/assets"


def operation_id(handler: HTTPRouteHandler, method: str, path: list[Any]) -> str:
    """The handler's own name in camelCase (`createProduct`), `…Head` for the HEAD of a GET route."""
    first, *rest = handler.handler_name.split("_")
    name = first + "".join(word.title() for word in rest)
    return name + ("Head" if method == "HEAD" else "")


def config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="registry",
        version="1.0.0",
        description=(
            "Product master data and customs filing registry for cross-border retail import. "
            "Every request needs `Authorization: Bearer <api key>` unless its operation says it is open; "
            "each operation names the roles that may call it. Failures are RFC 9457 problem documents."
        ),
        contact=Contact(name="registry maintainers", url="https://example.invalid/registry"),
        license=License(name="Proprietary", identifier="LicenseRef-Proprietary"),
        use_handler_docstrings=True,
        operation_id_creator=operation_id,
        render_plugins=[
            JsonRenderPlugin(),
            # Served from the installed swagger-ui-bundle package: the reference works with no internet.
            SwaggerRenderPlugin(
                path=["/", "/swagger"],
                js_url=f"{SCHEMA_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{SCHEMA_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{SCHEMA_ASSETS}/swagger-ui-standalone-preset.js",
                favicon="",
            ),
        ],
        openapi_router=Router(
            path="/schema",
            route_handlers=[],
            opt={"policy": OPEN},
            include_in_schema=False,
            before_request=_no_such_page,
        ),
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="An API key")}
        ),
        security=[{"bearer": []}],
    )


async def _no_such_page(request: Request[Any, Any, Any]) -> None:
    """A page under /schema that is not the reference or the document is a 404 problem like any other (the
    framework's own answer, for the path parameter its catch-all route has, is an HTML page)."""
    if "path" in request.path_params:
        raise NotFoundException(
            f"no page {request.url.path}; the reference is /schema, the document /schema/openapi.json"
        )


def complete(app: Litestar) -> None:
    """Complete the generated document: each operation from its route's policy, the request bodies' schemas from
    the field rules."""
    document = app.openapi_schema
    schemas = document.components.schemas if document.components and document.components.schemas else {}
    schemas.update(drafts(schemas))
    schemas.update(request_schemas())
    answered(schemas["ProductOut"])
    tags: dict[str, Tag] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        item = (document.paths or {}).get(route.path_format)
        for handler in route.route_handlers:
            if item is None or not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if operation is not None:
                    tag = tag_of(handler)
                    if tags.setdefault(tag.name, tag) is not tag:
                        raise ImproperlyConfiguredException(f"two route modules declare the tag {tag.name!r}")
                    operation.tags = [tag.name]
                    _from_policy(operation, policy_of(handler), handler)
                    if method == "HEAD":  # the GET's headers without a body: no response has content
                        for response in (operation.responses or {}).values():
                            if isinstance(response, OpenAPIResponse):
                                response.content = None
    document.tags = list(tags.values())


# What the headers a success carries say (a route names them in `declare(answers=…)`).
ANSWERS = {
    "Location": "The address of the resource made",
    "ETag": "The entity tag of the record's version now: the If-Match of its next change",
}


def tag_of(handler: HTTPRouteHandler) -> Tag:
    """The tag a route's module declares (`TAG`): its operations are listed under it."""
    tag = getattr(sys.modules[handler.fn.__module__], "TAG", None)
    if not isinstance(tag, Tag):
        raise ImproperlyConfiguredException(f"{handler.fn.__module__} declares no TAG for its operations")
    return tag


def _from_policy(operation: Operation, policy: Policy, handler: HTTPRouteHandler) -> None:
    who = "Open: no key needed." if policy.public else f"Roles: {', '.join(sorted(policy.roles))}."
    operation.description = f"{operation.description or operation.summary or ''}\n\n{who}".strip()
    operation.summary = _first_sentence(operation.description or "") or operation.summary
    if policy.public:
        operation.security = []
    if policy.body is not None:
        operation.request_body = policy.body
    parameters: list[Parameter | Reference] = list(operation.parameters or [])
    headers = {p.name.lower(): p for p in parameters if isinstance(p, Parameter) and p.param_in == "header"}
    responses = operation.responses or {}
    ok = responses.get("200")
    if policy.if_match is not None:
        required = policy.if_match == "required"
        described = (
            "The ETag of the version the change is made from; required (428 without it or with `*`), "
            "compared strongly (a weak tag or another version: 412)"
            if required
            else "The ETag of the version the action is taken on (412 when another version is current)"
        )
        header = headers.get("if-match") or Parameter(name="If-Match", param_in="header")
        header.required, header.description, header.schema = required, described, _ENTITY_TAGS
        if "if-match" not in headers:
            parameters.append(header)
    if policy.conditional:
        header = headers.get("if-none-match") or Parameter(name="If-None-Match", param_in="header")
        header.required = False
        header.description = "ETags the client holds: 304 when one names the current one (weak comparison), or `*`"
        header.schema = S(type=OpenAPIType.STRING, max_length=8192)
        if "if-none-match" not in headers:
            parameters.append(header)
        validators: dict[str, OpenAPIHeader | Reference] = {
            "ETag": OpenAPIHeader(schema=S(type=OpenAPIType.STRING), description="The current version's entity tag"),
            "Cache-Control": OpenAPIHeader(schema=S(type=OpenAPIType.STRING, const=CACHE_CONTROL)),
        }
        if isinstance(ok, OpenAPIResponse):
            ok.headers = {**(ok.headers or {}), **validators}
        responses["304"] = OpenAPIResponse(description="Not Modified: the client's copy is current", headers=validators)
    success = responses.get("201") or ok
    if policy.answers and isinstance(success, OpenAPIResponse):
        success.headers = {
            **(success.headers or {}),
            **{
                name: OpenAPIHeader(schema=S(type=OpenAPIType.STRING), description=ANSWERS[name], required=True)
                for name in policy.answers
            },
        }
    if policy.also and isinstance(ok, OpenAPIResponse):
        for media_type in policy.also:
            (ok.content or {})[media_type] = OpenAPIMediaType(schema=S(type=OpenAPIType.STRING))
    for parameter in parameters:
        if isinstance(parameter, Parameter) and isinstance(parameter.schema, S):
            _tidy(parameter.schema)
            _no_nul(parameter.schema)
    operation.parameters = parameters or None
    operation.responses = dict(sorted(responses.items()))


_BOUNDS = ("max_length", "min_length", "pattern", "minimum", "maximum")


def _tidy(schema: S) -> None:
    """An optional parameter's bounds inside the branch they bound: Litestar writes them beside `oneOf`, where a
    generator may not apply them, and leaves out a bound of 0 (`ge=0`), which the route states in `schema_extra`."""
    value = next((p for p in schema.one_of or [] if isinstance(p, S) and p.type != OpenAPIType.NULL), None)
    if value is None:
        return
    for name in _BOUNDS:
        if getattr(schema, name) is not None:
            setattr(value, name, getattr(schema, name))
            setattr(schema, name, None)


def _first_sentence(text: str) -> str:
    """The summary of a docstring: its first paragraph up to the end of its first sentence or clause."""
    paragraph = " ".join(text.split("\n\n")[0].split())
    return re.split(r"[.;:](?=\s|$)", paragraph, maxsplit=1)[0].strip()


def _no_nul(schema: S) -> None:
    """A text parameter without a pattern of its own says that it may not carry a NUL (every route refuses one)."""
    if schema.type == OpenAPIType.STRING and not (schema.pattern or schema.enum or schema.format):
        schema.pattern = "^[^\\u0000]*$"
    for part in schema.one_of or []:
        if isinstance(part, S):
            _no_nul(part)


_ENTITY_TAGS = S(type=OpenAPIType.STRING, pattern=r'^\s*"[0-9]+"\s*(,\s*"[0-9]+"\s*)*$', max_length=8192)
