"""Workbench sessions: opened with an API key, held by an HttpOnly cookie, ended by sign-out, by their age, or by
the key's revocation (every page reads the session joined to its key)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Literal

import msgspec
from sqlalchemy import delete, select, update

from registry.models import ApiKey, UiSecret, UiSession
from registry.services.context import Context, Principal
from registry.services.keys import KeyRing

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
LIFETIME = dt.timedelta(hours=12)


class Session(msgspec.Struct, frozen=True):
    principal: Principal
    lang: Lang


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(ctx: Context, ring: KeyRing, key: str, lang: Lang) -> str | None:
    """A new session for a valid key: the token for the browser's cookie; None when the key is not valid."""
    principal = await ring.resolve(key.strip())
    if principal is None:
        return None
    token, now = secrets.token_urlsafe(32), ctx.now()
    async with ctx.db.writes.begin() as tx:
        await tx.execute(delete(UiSession).where(UiSession.expires_at <= now))  # the old ones go as new ones come
        tx.add(
            UiSession(
                token_hash=_hash(token), key_id=principal.key_id, lang=lang, created_at=now, expires_at=now + LIFETIME
            )
        )
    return token


async def resume(ctx: Context, token: str) -> Session | None:
    """The session a cookie names, while it is unexpired and its key unrevoked."""
    async with ctx.db.reads() as tx:
        found = (
            await tx.execute(
                select(UiSession.lang, ApiKey.key_id, ApiKey.name, ApiKey.role)
                .join(ApiKey, ApiKey.key_id == UiSession.key_id)
                .where(
                    UiSession.token_hash == _hash(token),
                    UiSession.expires_at > ctx.now(),
                    ApiKey.revoked_at.is_(None),
                )
            )
        ).first()
    if found is None:
        return None
    lang, key_id, name, role = found
    return Session(Principal(key_id=key_id, name=name, role=role), lang if lang in LANGS else "zh")


async def set_lang(ctx: Context, token: str, lang: Lang) -> None:
    async with ctx.db.writes.begin() as tx:
        await tx.execute(update(UiSession).where(UiSession.token_hash == _hash(token)).values(lang=lang))


async def end(ctx: Context, token: str) -> None:
    async with ctx.db.writes.begin() as tx:
        await tx.execute(delete(UiSession).where(UiSession.token_hash == _hash(token)))


async def secret(ctx: Context) -> str:
    """The secret the workbench's CSRF tokens are signed with (made by the migration, one per database)."""
    async with ctx.db.reads() as tx:
        value = await tx.scalar(select(UiSecret.value).where(UiSecret.id == 1))
    if value is None:
        raise RuntimeError("the database has no workbench secret: run `registry migrate`")
    return value
