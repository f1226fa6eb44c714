"""API keys: made once and shown once, stored as a SHA-256 digest, checked in constant time, revoked everywhere
within a second."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

import msgspec
from sqlalchemy import func, select, text

from registry.domain import limits
from registry.domain.errors import BadRequest, Conflict, NotFound, ValidationFailed
from registry.domain.records import normalize_text
from registry.domain.roles import Role
from registry.domain.violations import Violation, text_problems
from registry.models import ApiKey
from registry.services import history
from registry.services.context import Context, Principal
from registry.services.history import CHANGES_CHANNEL

ROLES = tuple(role.value for role in Role)
KEY_CREATE, KEY_REVOKE = "key_create", "key_revoke"  # the audit events of keys
PREFIX = "rk_"


SYSTEM = "system"  # who makes and revokes keys from the command line


class KeyOut(msgspec.Struct):
    key_id: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    created_by: str | None  # a key id, or `system`
    revoked_by: str | None


class LastAdminKey(Conflict):
    slug = "last-admin-key"


class NewKey(KeyOut):
    key: str  # the key itself: shown this once, stored only as its digest


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _out(row: ApiKey) -> KeyOut:
    return KeyOut(row.key_id, row.name, row.role, row.created_at, row.revoked_at, row.created_by, row.revoked_by)


async def create(ctx: Context, role: str, name: str, by: Principal | None = None) -> str:
    """A new key for `role`; the returned text is the only time it exists outside its holder's hands."""
    return (await issue(ctx, role, name, by)).key


def _by(actor: Principal | None) -> tuple[str, str]:
    """(the key id recorded on the key, the actor history records) of who acts: a key, or the command line."""
    return (SYSTEM, SYSTEM) if actor is None or actor.key_id == "cli" else (actor.key_id, actor.actor)


async def issue(ctx: Context, role: str, name: str, by: Principal | None = None) -> NewKey:
    """Make a key, with who made it and an audit event (the key's id, role and name; never the key)."""
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    name = normalize_text(name)
    problems = text_problems(name, limits.KEY_NAME, "name")
    if not name:
        problems.append(Violation("/name", "required", "a key needs a name"))
    if problems:
        raise ValidationFailed(problems)
    key_id = secrets.token_hex(limits.KEY_ID // 2)
    secret = secrets.token_urlsafe(32)
    maker, actor = _by(by)
    now = ctx.now()
    row = ApiKey(key_id=key_id, key_hash=_digest(secret), name=name, role=role, created_at=now, created_by=maker)
    async with ctx.db.writes.begin() as tx:
        tx.add(row)
        await history.append(
            tx,
            at=now,
            actor=actor,
            action=KEY_CREATE,
            changes={"key": {"old": None, "new": {"key_id": key_id, "role": role, "name": name}}},
        )
    return NewKey(**msgspec.structs.asdict(_out(row)), key=f"{PREFIX}{key_id}_{secret}")


async def count(ctx: Context) -> int:
    async with ctx.db.reads() as tx:
        return int((await tx.execute(select(func.count()).select_from(ApiKey))).scalar_one())


async def list_keys(ctx: Context) -> list[KeyOut]:
    async with ctx.db.reads() as tx:
        return [_out(row) for row in (await tx.scalars(select(ApiKey).order_by(ApiKey.id))).all()]


async def revoke(ctx: Context, key_id: str, by: Principal | None = None) -> KeyOut:
    """Revoke a key (again is no change), with who revoked it and an audit event; the last active admin key is
    not revoked (409 `last-admin-key`: no one could make or revoke keys over HTTP after it). Other instances learn
    of it at their next refresh: within half the look-up staleness, and on PostgreSQL at once, by the NOTIFY that
    look-up changes travel by."""
    revoker, actor = _by(by)
    now = ctx.now()
    async with ctx.db.writes.begin() as tx:
        row = await tx.scalar(select(ApiKey).where(ApiKey.key_id == key_id).with_for_update())
        if row is None:
            raise NotFound(f"no key {key_id}")
        if row.revoked_at is not None:
            return _out(row)
        if row.role == Role.ADMIN.value:
            admins = await tx.scalars(  # locked: two revocations of the last two admin keys are ordered
                select(ApiKey.key_id)
                .where(ApiKey.role == Role.ADMIN.value, ApiKey.revoked_at.is_(None))
                .with_for_update()
            )
            if set(admins.all()) == {key_id}:
                raise LastAdminKey(f"{key_id} is the last active admin key; make another admin key first")
        row.revoked_at, row.revoked_by = now, revoker
        await history.append(
            tx,
            at=now,
            actor=actor,
            action=KEY_REVOKE,
            changes={"key": {"old": {"key_id": key_id, "role": row.role}, "new": None}},
        )
        if tx.get_bind().dialect.name == "postgresql":
            await tx.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANGES_CHANNEL})
    return _out(row)


class KeyRing:
    """Resolves bearer keys to principals; a key verified once is trusted from memory until it is revoked (seen
    at the instance's next refresh) or for `ttl_seconds` at most."""

    def __init__(self, ctx: Context, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._ctx = ctx
        self._ttl = ttl_seconds
        self._max = max_entries
        self._known: dict[str, tuple[Principal, float]] = {}
        ctx.refreshers.append(self.refresh)

    def cached(self, token: str) -> Principal | None:
        """The principal of a key verified a short while ago, without touching the database."""
        hit = self._known.get(token)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def trusted(self, token: str) -> bool:
        """Whether this key was verified here before (its entry may be due for a new check): a failed-authentication
        limit never holds it back, so a key in steady use keeps working while others' bad keys are refused."""
        return token in self._known

    async def resolve(self, token: str) -> Principal | None:
        if (principal := self.cached(token)) is not None:
            return principal
        principal = await self._verify(token)
        if principal is not None:
            if len(self._known) >= self._max:
                self._known.clear()
            self._known[token] = (principal, time.monotonic() + self._ttl)
        return principal

    async def revoke(self, key_id: str, by: Principal | None = None) -> KeyOut:
        """Revoke a key, and refuse it on this instance at once."""
        out = await revoke(self._ctx, key_id, by)
        self.forget([key_id])
        return out

    def forget(self, key_ids: Iterable[str]) -> None:
        gone = set(key_ids)
        for token in [token for token, (principal, _) in self._known.items() if principal.key_id in gone]:
            del self._known[token]

    async def refresh(self) -> None:
        """Forget the trusted keys that have been revoked meanwhile, on any instance."""
        trusted = {principal.key_id for principal, _ in self._known.values()}
        if not trusted:
            return
        async with self._ctx.db.reads() as tx:
            revoked = await tx.scalars(
                select(ApiKey.key_id).where(ApiKey.key_id.in_(trusted), ApiKey.revoked_at.is_not(None))
            )
            self.forget(revoked.all())

    async def _verify(self, token: str) -> Principal | None:
        key_id, sep, secret = token.removeprefix(PREFIX).partition("_")
        if not token.startswith(PREFIX) or not sep or not secret or len(key_id) > limits.KEY_ID:
            return None
        async with self._ctx.db.reads() as tx:
            row = (await tx.execute(select(ApiKey).where(ApiKey.key_id == key_id))).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.key_hash, _digest(secret)):
            return None
        return Principal(key_id=row.key_id, name=row.name, role=row.role)
