"""API keys: made once and shown once, stored as a SHA-256 digest, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy import func, select

from registry.domain.errors import BadRequest
from registry.models import ApiKey
from registry.services.context import Context, Principal

ROLES = ("catalog", "reviewer", "declaration", "auditor", "admin")
PREFIX = "rk_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create(ctx: Context, role: str, name: str) -> str:
    """A new key for `role`; the returned text is the only time it exists outside its holder's hands."""
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not name.strip():
        raise BadRequest("a key needs a name")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    async with ctx.db.writes.begin() as tx:
        tx.add(ApiKey(key_id=key_id, key_hash=_digest(secret), name=name.strip(), role=role, created_at=ctx.now()))
    return f"{PREFIX}{key_id}_{secret}"


async def count(ctx: Context) -> int:
    async with ctx.db.reads() as tx:
        return int((await tx.execute(select(func.count()).select_from(ApiKey))).scalar_one())


class KeyRing:
    """Resolves bearer keys to principals; a key verified once is trusted from memory for a short while."""

    def __init__(self, ctx: Context, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._ctx = ctx
        self._ttl = ttl_seconds
        self._max = max_entries
        self._known: dict[str, tuple[Principal, float]] = {}

    def cached(self, token: str) -> Principal | None:
        """The principal of a key verified a short while ago, without touching the database."""
        hit = self._known.get(token)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    async def resolve(self, token: str) -> Principal | None:
        if (principal := self.cached(token)) is not None:
            return principal
        principal = await self._verify(token)
        if principal is not None:
            if len(self._known) >= self._max:
                self._known.clear()
            self._known[token] = (principal, time.monotonic() + self._ttl)
        return principal

    async def _verify(self, token: str) -> Principal | None:
        key_id, sep, secret = token.removeprefix(PREFIX).partition("_")
        if not token.startswith(PREFIX) or not sep or not secret:
            return None
        async with self._ctx.db.reads() as tx:
            row = (await tx.execute(select(ApiKey).where(ApiKey.key_id == key_id))).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.key_hash, _digest(secret)):
            return None
        return Principal(key_id=row.key_id, name=row.name, role=row.role)
