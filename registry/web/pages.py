"""The reviewer workbench: server-rendered pages under /ui/ over the same services as the API.

This module holds the pages and their routing; its rooms: web/session.py (the session, its cookie and CSRF),
web/access.py (what a role may see and do: the API routes' own declarations), web/forms.py (a form as the service
takes it), web/words.py (the message catalogue). Every page answers with a Content-Security-Policy that allows no
inline script and no other origin's script or style. Chinese by default, English with `?lang=en`, kept in the
session.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, FromQuery
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router

from registry.api.alerts import AlertId
from registry.api.auth import FailedAuthentications, client_address
from registry.api.errors import EXCEPTION_HANDLERS as API_ERRORS
from registry.api.errors import Problem
from registry.api.policy import Policy
from registry.domain import context, lifecycle
from registry.domain import stats as stats_rules
from registry.domain.alerts import AlertStatus
from registry.domain.errors import BadRequest, RegistryError, ValidationFailed
from registry.domain.lifecycle import Action
from registry.domain.records import (
    FIELDS,
    Category,
    ImportMode,
    ProductIn,
    ProductOut,
    ProductPatch,
    Status,
)
from registry.domain.violations import Violation
from registry.services import alerts, filings, history, products, reports, sessions, stats
from registry.services.context import Context
from registry.services.sessions import LANGS, Lang, Session
from registry.web import access, forms, inbox
from registry.web.charts import weekly_bars
from registry.web.session import COOKIE, SignedOut, WorkbenchCsrf, require, resume
from registry.web.words import catalogue, translate, words

FORM = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
PAGE = 50
DONE = frozenset({"correct", *(f"act_{action.value}" for action in Action)})  # what a change's notice may name
TEMPLATES = Path(str(importlib.resources.files("registry.web").joinpath("templates")))
STATIC = Path(str(importlib.resources.files("registry.web").joinpath("static")))


def page(*query: str) -> dict[str, Any]:
    """The route options of a workbench page: no API key (the session is checked here), forms accepted, and the
    query parameters it reads."""
    policy = Policy(public=True, accepts=FORM)
    policy.query = frozenset({"lang", *query})
    return {"opt": {"policy": policy, "page": True}, "include_in_schema": False}


def _render(
    name: str,
    lang: str,
    session: Session | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        template_name=name,
        context={
            "t": functools.partial(translate, lang),
            "lang": lang,
            "session": session,
            "may": access.grants(session.principal.role) if session else {},
            **context,
            "age": _age(lang),
            "percent": _percent,
            "rate": _rate,
            "show": _show,
            "term": functools.partial(term, lang),
            "label": functools.partial(label, lang),
        },
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def _age(lang: str) -> Any:
    def age(moment: dt.datetime | None) -> str:
        if moment is None:
            return ""
        hours = (dt.datetime.now(dt.UTC) - moment).total_seconds() / 3600
        if hours < 48:
            return translate(lang, "age_hours", hours=max(0, round(hours)))
        return translate(lang, "age_days", days=round(hours / 24))

    return age


def configure(zone: dt.tzinfo) -> Callable[[JinjaTemplateEngine], None]:
    """The templates' globals that depend on the deployment: a moment is shown in the customs time zone."""

    def moment(value: dt.datetime) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    def callback(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["moment"] = moment

    return callback


def term(lang: str, prefix: str, value: str | None) -> str:
    """A value of a closed set (a status, a category, a document or alert kind, a history action) in words; one
    the catalogue does not know, as it is."""
    if value is None:
        return ""
    key = f"{prefix}_{value}"
    return translate(lang, key) if key in catalogue(lang) else value


def label(lang: str, name: str) -> str:
    """A field's label: the record's own (its Spec), else a filing field's from the catalogue, else its name."""
    spec = FIELDS.get(name)
    if spec is not None:
        return spec.label if lang == "zh" else spec.label_en
    return term(lang, "field", name)


def _rate(value: Any) -> str:
    """A tax rate as a percentage, to the hundredth where it has one: 9.1 %, 13 %."""
    return "—" if value is None else f"{value * 100:.2f}".rstrip("0").rstrip(".") + " %"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _show(value: Any) -> str:
    """A single value as text ("—" for none); lists and documents are shown item by item by the templates."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " · ".join(str(v) for v in value.values() if v not in (None, "", []))
    return str(value)


@get("/sign-in", **page())
async def sign_in_page(request: Request[Any, Any, Any]) -> Template:
    _, lang, _ = await resume(request)
    return _render("sign_in.html", lang, None)


@post("/sign-in", **page())
async def sign_in(request: Request[Any, Any, Any]) -> Template | Redirect:
    form = await request.form()
    lang: Lang = "en" if forms.field_text(form, "lang") == "en" else "zh"
    request.state.lang = lang
    failures: FailedAuthentications = request.app.state.failures
    client, key = client_address(request.scope), forms.field_text(form, "key")
    if not request.app.state.keyring.trusted(key.strip()):  # as the API: a trusted key is not held back
        failures.check(client)  # counted with the API's: past the limit, 429 here as there
    token = await sessions.start(request.app.state.ctx, request.app.state.keyring, key, lang)
    if token is None:
        failures.failed(client)
        return _render("sign_in.html", lang, None, status=401, error=translate(lang, "bad_key"))
    response = Redirect("/ui/", status_code=303)
    response.set_cookie(
        COOKIE, token, path="/ui", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@post("/sign-out", **page())
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    token = request.cookies.get(COOKIE)
    if token:
        await sessions.end(request.app.state.ctx, token)
    response = Redirect("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


@get("/", **page())
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    """The landing page of every role: each part shows what the role may read through the API."""
    session, lang = await require(request)
    ctx: Context = request.app.state.ctx
    may = access.grants(session.principal.role)
    parts: dict[str, Any] = {}
    if may["catalogue"]:
        counts = await products.count_by_status(ctx)
        queue = await products.search(
            ctx, products.ProductQuery(status=Status.UNDER_REVIEW, sort=products.Sort.SUBMITTED_AT, limit=1)
        )
        oldest = queue.items[0] if queue.items else None
        parts["backlog"] = [(status.value, counts.get(status.value, 0)) for status in Status]
        parts["oldest"] = {"sku": oldest.sku, "submitted_at": oldest.filing.submitted_at} if oldest else None
    if may["statistics"]:
        figures = parts["stats"] = await stats.submits(ctx, None, None)
        today = ctx.today()
        weeks = [stats_rules.week_of(today - dt.timedelta(weeks=n)) for n in range(11, -1, -1)]
        parts["chart"] = weekly_bars(weeks, figures.first_pass_by_week, translate(lang, "chart_label"))
    if may["expiring"]:
        parts["expiring"] = await reports.expiring(ctx, 30)
    if may["alerts"]:
        parts["open_alerts"] = await alerts.count_open(ctx)
    return _render("dashboard.html", lang, session, **parts)


def _input(record: ProductOut) -> ProductIn:
    """The record's editable fields, as a validation run reads them."""
    return ProductIn(**{name: getattr(record, name) for name in ProductIn.__struct_fields__})


async def _rows(ctx: Context, items: list[ProductOut]) -> list[dict[str, Any]]:
    """Each record with the counts of a live validation run."""
    found = await _validator(ctx)(items)
    return [_counted(item, violations) for item, violations in zip(items, found, strict=True)]


@get("/review", **page("cursor", *inbox.PARAMS))
async def review_queue(request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None) -> Template:
    """The inbox: the review queue as its filters (kept in the URL) select and order it."""
    session, lang = await require(request, "catalogue")
    ctx: Context = request.app.state.ctx
    box = inbox.read(request.query_params)
    found, next_cursor = await inbox.page(ctx, box, cursor, _validator(ctx))
    rows = [_counted(item, violations) for item, violations in found]
    return _render(
        "inbox.html",
        lang,
        session,
        rows=rows,
        inbox=box,
        queue=urlencode(box.params()),
        categories=[c.value for c in Category],
        modes=[m.value for m in ImportMode],
        sorts=[s.value for s in inbox.SORTS],
        next_url=box.url(cursor=next_cursor) if next_cursor else None,
    )


def _validator(ctx: Context) -> inbox.Validate:
    async def validate(items: list[ProductOut]) -> list[list[Violation]]:
        return await products.validate_many(ctx, [_input(item) for item in items])

    return validate


def _counted(item: ProductOut, violations: list[Violation]) -> dict[str, Any]:
    """A record as a list shows it: with the counts of its live violations."""
    errors = sum(v.severity == "error" for v in violations)
    return {"record": item, "errors": errors, "warnings": len(violations) - errors}


@post("/review/decide", **page())
async def decide_many(request: Request[Any, Any, Any]) -> Template:
    """Bulk decisions from the inbox: approve each selected record with its own number and validity, or reject
    them all with one set of reasons; each in its own transaction, at the version its row showed. The answer
    lists each record's result."""
    session, lang = await require(request)
    ctx: Context = request.app.state.ctx
    form = await request.form()
    decision = forms.field_text(form, "decision")
    if decision not in (Action.APPROVE, Action.REJECT):
        raise BadRequest("choose approve or reject")
    chosen = Action(decision)
    if not lifecycle.may(session.principal.role, chosen):
        raise PermissionDeniedException(translate(lang, "forbidden"))
    box = inbox.read({name: forms.field_text(form, name) for name in inbox.PARAMS})  # refused before any decision
    results = []
    for sku in [value for value in form.getall("sku") if isinstance(value, str)][: inbox.PAGE]:
        fields = {name: forms.field_text(form, f"{name}_{sku}") for name in ("filing_no", "valid_until", "version")}
        typed = {**fields, "reasons": forms.field_text(form, "reasons")}
        results.append(await _decide_one(ctx, session, lang, sku, chosen, typed))
    return _render("decided.html", lang, session, results=results, back=box.url(), action=chosen.value)


async def _decide_one(
    ctx: Context, session: Session, lang: Lang, sku: str, action: Action, typed: dict[str, str]
) -> dict[str, Any]:
    """One record's decision from the bulk form: done, or refused in words."""
    body, problems = forms.action_body(action, typed)
    try:
        if problems:
            raise ValidationFailed(problems)
        await filings.act(ctx, sku, action, body, forms.version(typed, lang), session.principal)
    except ValidationFailed as exc:
        return {"sku": sku, "ok": False, "words": "; ".join(f"{v.field} {v.message}" for v in exc.violations)}
    except RegistryError as exc:
        return {"sku": sku, "ok": False, "words": words(exc, lang)}
    return {"sku": sku, "ok": True, "words": translate(lang, "done", action=translate(lang, f"act_{action.value}"))}


@get("/products", **page("q", "status", "category", "brand", "rejected", "cursor"))
async def search_products(
    request: Request[Any, Any, Any],
    q: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    brand: FromQuery[str | None] = None,
    rejected: FromQuery[bool | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    session, lang = await require(request, "catalogue")
    ctx: Context = request.app.state.ctx
    query = products.ProductQuery(
        q=q or None,
        status=Status(status) if status in {s.value for s in Status} else None,
        category=Category(category) if category in {c.value for c in Category} else None,
        brand=brand or None,
        rejected=rejected,
        limit=PAGE,
        cursor=cursor,
    )
    found = await products.search(ctx, query)
    rows = await _rows(ctx, found.items)
    params = {k: v for k, v in {"q": q, "status": status, "category": category, "brand": brand}.items() if v}
    if rejected:
        params["rejected"] = "true"
    next_url = f"/ui/products?{urlencode({**params, 'cursor': found.next_cursor})}" if found.next_cursor else None
    heading = translate(lang, "nav_rejected" if rejected else "nav_products")
    return _render(
        "queue.html",
        lang,
        session,
        heading=heading,
        rows=rows,
        query=query,
        searchable=True,
        statuses=[s.value for s in Status],
        categories=[c.value for c in Category],
        next_url=next_url,
    )


async def _product_page(
    request: Request[Any, Any, Any],
    sku: str,
    session: Session,
    lang: Lang,
    status: int = 200,
    typed: dict[str, str] | None = None,
    **extra: Any,
) -> Template:
    """A record's page; `typed` holds what a refused correction form had in its inputs, shown again."""
    ctx: Context = request.app.state.ctx
    record = await products.get(ctx, sku)
    report = await products.validate(ctx, _input(record))
    by_field: dict[str, list[Violation]] = {}
    for violation in report.violations:
        by_field.setdefault(violation.field.strip("/").split("/")[0] or "record", []).append(violation)
    today = ctx.today()
    documents = [
        {**msgspec.to_builtins(doc), "days_left": (doc.valid_until - today).days if doc.valid_until else None}
        for doc in record.documents
    ]
    fields = [(name, getattr(record, name)) for name in forms.EDITABLE]
    role = session.principal.role
    actions = [a.value for a in lifecycle.allowed_actions(Status(record.filing.status)) if lifecycle.may(role, a)]
    editable = record.filing.status == Status.UNFILED and access.may(role, "correct")
    entries = {name: forms.entry(getattr(record, name)) for name in forms.EDITABLE} | (typed or {}) if editable else {}
    events = await history.of_product(ctx, sku) if access.may(role, "history") else []
    customs = await products.customs_context(ctx, _input(record))
    lapse = customs.documents_lapse
    outlives = record.filing.valid_until is not None and lapse is not None and record.filing.valid_until > lapse
    return _render(
        "product.html",
        lang,
        session,
        status=status,
        record=record,
        customs=customs,
        outlives=outlives,
        since=context.since_rejection(events) if record.filing.status == Status.UNDER_REVIEW else None,
        by_field=by_field,
        fields=fields,
        documents=documents,
        actions=actions,
        entries=entries,
        lists=forms.LISTS,
        history=events,
        **extra,
    )


@get("/products/{sku:str}", **page("done", "inbox", *inbox.PARAMS))
async def product(request: Request[Any, Any, Any], sku: FromPath[str], done: FromQuery[str | None] = None) -> Template:
    """A record's page; after a change, `done` names it (one of DONE), and the page says it is done. Opened from
    the inbox (`inbox=1` and its filters), its decisions open the next record of the same inbox."""
    session, lang = await require(request, "catalogue")
    notice = translate(lang, "done", action=translate(lang, done)) if done in DONE else None
    return await _product_page(
        request, sku, session, lang, notice=notice, queue_fields=_from_inbox(request.query_params)
    )


def _from_inbox(params: Any) -> dict[str, str]:
    """The inbox a page was opened from, as the fields its forms carry on (none: not from the inbox)."""
    if params.get("inbox") != "1":
        return {}
    return {"inbox": "1", **inbox.read({name: params.get(name) for name in inbox.PARAMS}).params()}


@post("/products/{sku:str}/filing/{action:str}", **page())
async def act(request: Request[Any, Any, Any], sku: FromPath[str], action: FromPath[str]) -> Template | Redirect:
    session, lang = await require(request)
    ctx: Context = request.app.state.ctx
    form = await request.form()
    try:
        chosen = Action(action)
    except ValueError:
        raise HTTPException(status_code=404, detail=translate(lang, "no_action")) from None
    if not lifecycle.may(session.principal.role, chosen):
        raise PermissionDeniedException(translate(lang, "forbidden"))
    body, problems = forms.action_body(chosen, form)
    acting = {"action": chosen.value, **forms.action_typed(form)}  # shown again when refused
    if problems:
        problem = {"detail": translate(lang, "field_error"), "violations": problems}
        return await _product_page(request, sku, session, lang, status=422, problem=problem, acting=acting)

    async def work() -> None:
        await filings.act(ctx, sku, chosen, body, forms.version(form, lang), session.principal)

    queue = _from_inbox(form)
    then = functools.partial(_next_in_inbox, ctx, queue, f"act_{chosen.value}") if queue else None
    return await _attempt(
        request, sku, session, lang, work, f"act_{chosen.value}", acting=acting, queue_fields=queue, then=then
    )


async def _next_in_inbox(ctx: Context, queue: dict[str, str], done: str) -> str:
    """Save and next: the first record of the inbox the decision was taken from, or the inbox when none is left."""
    box = inbox.read(queue)
    following = await inbox.first(ctx, box, _validator(ctx))
    if following is None:
        return box.url()
    return f"/ui/products/{quote(following, safe='')}?{urlencode({**queue, 'done': done})}"


async def _attempt(
    request: Request[Any, Any, Any],
    sku: str,
    session: Session,
    lang: Lang,
    work: Callable[[], Awaitable[None]],
    done: str,
    typed: dict[str, str] | None = None,
    then: Callable[[], Awaitable[str]] | None = None,
    **extra: Any,
) -> Template | Redirect:
    """A form's change through its service, then `303 See Other` to the record's page, which says that `done` (a
    message key) is done; or the page with the refusal in words and its violations (and what was typed, shown
    again)."""
    try:
        await work()
    except ValidationFailed as exc:
        problem = {"detail": exc.detail, "violations": exc.violations}
        return await _product_page(request, sku, session, lang, status=422, typed=typed, problem=problem, **extra)
    except RegistryError as exc:
        problem = {"detail": words(exc, lang), "violations": []}
        return await _product_page(
            request, sku, session, lang, status=exc.status, typed=typed, problem=problem, **extra
        )
    if then is not None:
        return Redirect(await then(), status_code=303)
    return Redirect(f"/ui/products/{quote(sku, safe='')}?{urlencode({'done': done})}", status_code=303)


@post("/products/{sku:str}/fields", **page())
async def correct(request: Request[Any, Any, Any], sku: FromPath[str]) -> Template | Redirect:
    """Correct fields of an unfiled record from its page: the fields whose input differs from the record's value
    go to the same change as PATCH, at the version the page showed."""
    session, lang = await require(request, "correct")
    ctx: Context = request.app.state.ctx
    form = await request.form()
    record = await products.get(ctx, sku)
    typed = {name: forms.field_text(form, name) for name in forms.EDITABLE if name in form}
    changes, problems = forms.changed_fields(record, typed)
    if problems:
        problem = {"detail": translate(lang, "field_error"), "violations": problems}
        return await _product_page(request, sku, session, lang, status=422, typed=typed, problem=problem)
    if not changes:
        return await _product_page(request, sku, session, lang, notice=translate(lang, "unchanged"))

    async def work() -> None:
        await products.change(
            ctx, sku, msgspec.convert(changes, ProductPatch), forms.version(form, lang), session.principal
        )

    return await _attempt(request, sku, session, lang, work, "correct", typed)


@get("/expiring", **page())
async def expiring_list(request: Request[Any, Any, Any]) -> Template:
    """Every filing and document lapsing within 30 days (the dashboard shows the first 20)."""
    session, lang = await require(request, "expiring")
    return _render("expiring.html", lang, session, expiring=await reports.expiring(request.app.state.ctx, 30))


@get("/alerts", **page("cursor"))
async def alert_list(request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None) -> Template:
    session, lang = await require(request, "alerts")
    found = await alerts.search(request.app.state.ctx, AlertStatus.OPEN, None, None, PAGE, cursor)
    next_url = f"/ui/alerts?{urlencode({'cursor': found.next_cursor})}" if found.next_cursor else None
    return _render("alerts.html", lang, session, alerts=found.items, next_url=next_url)


@post("/alerts/{alert_id:int}/ack", **page())
async def acknowledge(request: Request[Any, Any, Any], alert_id: AlertId) -> Redirect:
    session, _ = await require(request, "acknowledge")
    await alerts.acknowledge(request.app.state.ctx, alert_id, session.principal)
    return Redirect("/ui/alerts", status_code=303)


def _signed_out(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if request.method == "GET":
        lang = request.query_params.get("lang")
        return Redirect("/ui/sign-in" + (f"?lang={lang}" if lang in LANGS else ""), status_code=303)
    return _render("sign_in.html", "zh", None, status=401, error=translate("zh", "bad_key"))


def _as_page(api: Callable[[Request[Any, Any, Any], Any], Response[Problem]]) -> Callable[..., Response[Any]]:
    """One of the API's exception handlers, answering as a page: the API decides the status and the words (so the
    two never differ), the page says them in the session's language (the language this request was answered in,
    else the one it asked for), Retry-After kept."""

    def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        answer = api(request, exc)
        problem: Problem = answer.content
        wanted = request.state.get("lang") or request.query_params.get("lang")
        lang = wanted if wanted in LANGS else "zh"
        status = answer.status_code or 500
        detail = words(exc, lang) if isinstance(exc, RegistryError) else problem.detail or ""
        heading = translate(lang, f"problem_{status}") if f"problem_{status}" in catalogue(lang) else str(status)
        headers = {name: value for name, value in answer.headers.items() if name.lower() == "retry-after"}
        return _render("problem.html", lang, None, status=status, headers=headers, heading=heading, message=detail)

    return handler


async def _secured(response: Response[Any]) -> Response[Any]:
    response.headers.update(SECURITY_HEADERS)
    return response


def router() -> Router:
    static = create_static_files_router(
        "/static",
        directories=[STATIC],
        opt={"policy": Policy(public=True)},
        include_in_schema=False,
        after_request=_secured,
    )
    return Router(
        "/ui",
        route_handlers=[
            sign_in_page,
            sign_in,
            sign_out,
            dashboard,
            review_queue,
            decide_many,
            search_products,
            product,
            act,
            correct,
            alert_list,
            expiring_list,
            acknowledge,
            static,
        ],
        middleware=[DefineMiddleware(WorkbenchCsrf)],
        exception_handlers={
            SignedOut: _signed_out,
            **{kind: _as_page(api) for kind, api in API_ERRORS.items()},
        },
        after_request=_secured,
        include_in_schema=False,
    )
