"""What a route declares about itself, once: who may call it, the body it reads, the problems it may answer, the
preconditions and validators it honours, the media types it answers besides JSON.

The auth middleware reads `roles` and `public`, the request check `accepts`, the OpenAPI document (registry.api.
openapi) all of it, and docs/api.md is written from that document. A route says it with `declare(...)`, which
gives the decorator its `opt` and `responses`:

    @post("/v1/products", status_code=201, **declare(Role.CATALOG, body=JSON, problems=(409,)))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from litestar import Litestar, Request
from litestar.handlers import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Reference, RequestBody
from litestar.params import QueryParameter
from litestar.routes import HTTPRoute

from registry.api.errors import problems as problem_responses
from registry.domain.roles import Role, with_admin

JSON = ("application/json",)
# A page's cursor: opaque, as the last page gave it (any other is a 400).
Cursor = Annotated[
    str | None, QueryParameter(max_length=400, schema_extra={"pattern": "^[A-Za-z0-9_-]+$"}, description="next_cursor")
]
JSON_TYPES = frozenset({"application/json", "application/merge-patch+json"})


@dataclass(eq=False)
class Policy:
    roles: frozenset[str] = frozenset()  # who may call it (admin always); none and not public: nobody
    public: bool = False  # open, no key needed
    accepts: frozenset[str] = JSON_TYPES  # body media types the request check lets through (else 415)
    body: RequestBody | None = None  # the body as the document states it, where the signature cannot say it
    reads_body: bool = False  # whether the route reads a body: 413, 415 and 422 are then among its problems
    needs_body: bool = False  # whether that body is required (a request without one: 400)
    problems: tuple[int, ...] = ()  # the statuses of the problems it may answer, beyond the common ones
    if_match: Literal["required", "optional"] | None = None  # the If-Match precondition it honours
    conditional: bool = False  # a read with an ETag: If-None-Match, 304, Cache-Control
    also: tuple[str, ...] = ()  # media types its 200 may be, besides JSON (`text/csv`)
    answers: tuple[str, ...] = ()  # the headers its success carries (`Location`, `ETag`)
    # Learned from the application once it is built (`learn`), not declared:
    query: frozenset[str] = field(default=frozenset(), init=False)  # the query parameters it reads
    allow: str = field(default="OPTIONS", init=False)  # the methods its path answers

    def statuses(self) -> tuple[int, ...]:
        """Every problem status the route may answer: its own, and those of every route of its kind."""
        common = {400, 500, 503}  # a bad parameter or query (every route refuses unknown ones), and failures
        if not self.public:
            common |= {401, 403, 429}
        if self.reads_body:
            common |= {413, 415, 422}
        if self.if_match == "required":
            common |= {412, 428}
        elif self.if_match == "optional":
            common.add(412)
        return tuple(sorted(common | set(self.problems)))


OPEN = Policy(public=True)
DENIED = Policy()  # what a route without a declaration gets: deny by default


def declare(
    *roles: Role,
    public: bool = False,
    body: tuple[str, ...] | RequestBody | None = None,
    problems: tuple[int, ...] = (),
    if_match: Literal["required", "optional"] | None = None,
    conditional: bool = False,
    also: tuple[str, ...] = (),
    answers: tuple[str, ...] = (),
    ok: ResponseSpec | None = None,
) -> dict[str, Any]:
    """The route decorator's `opt` and `responses` for a route that `roles` may call (admin always).

    `body` is the media types of a body the framework decodes (`JSON`), or the RequestBody of one the handler
    reads itself; `answers` the headers a success carries; `ok` the 200 response when the handler's return type
    does not say it.
    """
    reads = body is not None
    accepts = frozenset(body.content) if isinstance(body, RequestBody) else JSON_TYPES
    policy = Policy(
        roles=frozenset() if public else with_admin(*roles),
        public=public,
        accepts=accepts,
        body=body if isinstance(body, RequestBody) else None,
        reads_body=reads,
        needs_body=reads and (body.required is not False if isinstance(body, RequestBody) else True),
        problems=problems,
        if_match=if_match,
        conditional=conditional,
        also=also,
        answers=answers,
    )
    responses = problem_responses(*policy.statuses())
    if ok is not None:
        responses[200] = ok
    return {"opt": {"policy": policy}, "responses": responses}


def json_body(component: str, *, required: bool = True) -> RequestBody:
    """A JSON body the document states as the schema component `component`, where the signature cannot say it."""
    schema = Reference(f"#/components/schemas/{component}")
    return RequestBody(required=required, content={"application/json": OpenAPIMediaType(schema=schema)})


class Format(StrEnum):
    """What a route that also answers CSV answers (`format=`)."""

    JSON = "json"
    CSV = "csv"


def wants_csv(request: Request[Any, Any, Any], requested: str | None) -> bool:
    """Whether a route that also answers CSV should: `format=csv`, or `Accept` preferring `text/csv` to JSON
    when no format is named."""
    if requested is not None:
        return requested == "csv"
    return request.accept.best_match(["application/json", "text/csv"], default="application/json") == "text/csv"


CSV_TYPE = "text/csv; charset=utf-8"  # set as the Content-Type header: a media_type would get a second charset


def policy_of(handler: BaseRouteHandler) -> Policy:
    policy: Policy = handler.opt.get("policy", DENIED)
    return policy


def learn(app: Litestar) -> None:
    """Note on each route's policy what the built application says of it: the query parameters its operation
    names in the OpenAPI document, and the methods its path answers (for OPTIONS)."""
    paths = app.openapi_schema.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        allow = ", ".join(sorted(route.methods))
        item = paths.get(route.path_format)
        for handler in route.route_handlers:
            policy = handler.opt.get("policy")
            if policy is None and handler.http_methods == {"OPTIONS"}:  # the framework's own, for every path
                policy = handler.opt["policy"] = Policy()  # the auth middleware lets OPTIONS through
            if policy is None or policy is OPEN:
                continue
            policy.allow = allow
            if item is None:  # outside the document (the workbench's pages): it declared its query itself
                continue
            names: set[str] = set()
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None) if item is not None else None
                for parameter in (operation.parameters or []) if operation is not None else []:
                    if getattr(parameter, "param_in", None) == "query":
                        names.add(parameter.name)
            policy.query = frozenset(names)
