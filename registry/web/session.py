"""A workbench session: opened with an API key (registry/services/sessions.py keeps it), held by an HttpOnly,
SameSite=Strict cookie, every form carrying a CSRF token; what a page needs of it (the session, its language, the
grants of its role)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from registry.services import sessions
from registry.services.context import Context
from registry.services.sessions import LANGS, Lang, Session
from registry.web import access
from registry.web.words import translate

COOKIE = "registry_session"


CSRF_COOKIE = "registry_csrf"


class WorkbenchCsrf(CSRFMiddleware):
    """Litestar's CSRF middleware, keyed with this database's workbench secret (read once at start-up into the
    application's state, so every worker and instance signs alike)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.config: CSRFConfig | None = None  # type: ignore[assignment]
        self.exclude = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.config is None:
            secret = scope["litestar_app"].state.ui_secret
            self.config = CSRFConfig(
                secret=secret,
                cookie_name=CSRF_COOKIE,
                cookie_path="/ui",
                cookie_samesite="strict",
                cookie_httponly=True,
            )
        await super().__call__(scope, receive, send)

    def _csrf_tokens_match(self, request_csrf_token: Any, cookie_csrf_token: Any) -> bool:
        """A token that is not ASCII text (a file sent in its place, other characters) matches nothing: refused
        as any wrong token is (403), never a failure."""
        tokens = (request_csrf_token, cookie_csrf_token)
        if not all(isinstance(token, str) and token.isascii() for token in tokens):
            return False
        return super()._csrf_tokens_match(request_csrf_token, cookie_csrf_token)


async def resume(request: Request[Any, Any, Any]) -> tuple[Session | None, Lang, str | None]:
    """The signed-in session (None when there is none), the page's language, and the session's token."""
    ctx: Context = request.app.state.ctx
    token = request.cookies.get(COOKIE)
    found = await sessions.resume(ctx, token) if token else None
    wanted = request.query_params.get("lang")
    lang: Lang = wanted if wanted in LANGS else (found.lang if found else "zh")
    if found is not None and token and wanted in LANGS and wanted != found.lang:
        await sessions.set_lang(ctx, token, lang)
    request.state.lang = lang  # for an error page of this request
    return found, lang, token


class SignedOut(Exception):
    """No session: a page answers with the sign-in page."""


async def require(request: Request[Any, Any, Any], *grants: access.Grant) -> tuple[Session, Lang]:
    """The session, which must hold `grants` (what its role may call in the API)."""
    found, lang, _ = await resume(request)
    if found is None:
        raise SignedOut
    if not all(access.may(found.principal.role, grant) for grant in grants):
        raise PermissionDeniedException(translate(lang, "forbidden"))
    return found, lang
