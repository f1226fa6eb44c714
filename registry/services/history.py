"""History: one chained event per change, appended inside the transaction of the change it records."""

from __future__ import annotations

import asyncio
import datetime as dt
import zlib
from typing import Any

import msgspec
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from registry.domain import history as chain
from registry.domain.errors import NotFound
from registry.domain.records import read_sku
from registry.models import HISTORY_TABLE, SNAPSHOT_TABLE, HistoryEvent, HistoryHead, UtcDateTime
from registry.services.context import Context

OFF_LOOP = 64  # events appended at once past which their hashing leaves the event loop
CHANGES_CHANNEL = "registry_changes"  # PostgreSQL: a NOTIFY per committing change, with the chain's new last seq


class EventOut(msgspec.Struct):
    seq: int
    at: dt.datetime
    actor: str
    action: str
    version: int | None
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    reason: str | None
    hash: str


class VerifyOut(msgspec.Struct):
    ok: bool
    events: int
    first_bad_seq: int | None


class NewEvent(msgspec.Struct, kw_only=True):
    at: dt.datetime
    actor: str
    action: str
    changes: dict[str, Any]
    sku: str | None = None
    reference_name: str | None = None
    version: int | None = None
    from_status: str | None = None
    to_status: str | None = None
    reason: str | None = None


async def append(tx: AsyncSession, **event: Any) -> None:
    """Append one event (the fields of NewEvent) as the next link of the chain."""
    await append_many(tx, [NewEvent(**event)])


async def append_many(tx: AsyncSession, events: list[NewEvent]) -> None:
    """Append events in order as the next links of the chain. Locks the head row, so do it last in the
    transaction: the chain stays linear however many writers there are."""
    if not events:
        return
    head = (await tx.execute(select(HistoryHead).where(HistoryHead.id == 1).with_for_update())).scalar_one()
    if len(events) > OFF_LOOP:  # an import's batch: hashed in a worker thread, so look-ups go on meanwhile
        rows, seq, previous = await asyncio.to_thread(_link, events, head.last_seq, head.last_hash)
    else:
        rows, seq, previous = _link(events, head.last_seq, head.last_hash)
    await tx.execute(insert(HISTORY_TABLE), rows)
    head.last_seq, head.last_hash = seq, previous
    for row in rows:
        if row["sku"] and row["changes"] and row["version"] and snapshot_due(row["sku"], row["version"]):
            await _snapshot(tx, row["sku"], row["seq"])
    if tx.get_bind().dialect.name == "postgresql":  # delivered to the listeners when (and if) this commits
        await tx.execute(text("SELECT pg_notify(:channel, :seq)"), {"channel": CHANGES_CHANNEL, "seq": str(seq)})
    await tx.flush()


def _link(events: list[NewEvent], seq: int, previous: str) -> tuple[list[dict[str, Any]], int, str]:
    """The events as rows chained on from `seq` and its hash; returns them with the new last seq and hash."""
    rows = []
    for event in events:
        seq += 1
        fields = {"seq": seq, **msgspec.structs.asdict(event)}
        digest = chain.digest(previous, fields)
        rows.append({**fields, "prev_hash": previous, "hash": digest})
        previous = digest
    return rows, seq, previous


def _out(event: HistoryEvent) -> EventOut:
    return EventOut(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        action=event.action,
        version=event.version,
        from_status=event.from_status,
        to_status=event.to_status,
        changes=event.changes,
        reason=event.reason,
        hash=event.hash,
    )


async def of_product(ctx: Context, sku: str) -> list[EventOut]:
    sku = read_sku(sku)
    async with ctx.db.reads() as tx:
        events = (
            await tx.scalars(select(HistoryEvent).where(HistoryEvent.sku == sku).order_by(HistoryEvent.seq))
        ).all()
    if not events:
        raise NotFound(f"no product with SKU {sku}")
    return [_out(event) for event in events]


async def latest(tx: AsyncSession, sku: str) -> EventOut:
    """The record's last event, as the transaction sees it."""
    stmt = select(HistoryEvent).where(HistoryEvent.sku == sku).order_by(HistoryEvent.seq.desc()).limit(1)
    return _out((await tx.scalars(stmt)).one())


def _as_mapping(event: HistoryEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in (*chain.CHAINED_FIELDS, "prev_hash", "hash")}


async def verify(ctx: Context) -> VerifyOut:
    """Walk the whole chain and check it ends where the head says: an edited, removed or added event shows; then
    re-derive each snapshot from the events, so an edited snapshot shows too (at the seq it stands after)."""
    check = chain.ChainCheck()
    async with ctx.db.reads() as tx, tx.begin():
        if ctx.db.engine.dialect.name == "postgresql":  # one snapshot for the head and the walk
            await tx.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = (await tx.execute(select(HistoryHead).where(HistoryHead.id == 1))).scalar_one()
        result = await tx.stream_scalars(
            select(HistoryEvent).order_by(HistoryEvent.seq).execution_options(yield_per=1000)
        )
        async for event in result:
            check.step(_as_mapping(event))
            tx.expunge(event)
        bad = check.end(head.last_seq, head.last_hash)
        if bad is None:
            bad = await _bad_snapshot(tx)
    return VerifyOut(ok=bad is None, events=check.count, first_bad_seq=bad)


# A record as it was: each field's value from the last event (by seq) that changed it, the first event's moment
# and the last changing event's moment and version. The database does the walk and answers a row a field, each
# value as JSON text; the walk starts from the last snapshot (`s`) at or before both bounds, so it reads at most
# 2 × SNAPSHOT_EVERY events (`h`) however long the history. Rows come in seq order: a later one stands for an earlier.
# "#at" is the latest moment among all the events summed up (the snapshot's own and those after it).
_STATE = {
    "sqlite": """
        WITH s AS (SELECT seq, at, state FROM history_snapshot
                WHERE sku = :sku AND seq <= :base AND at <= :as_of ORDER BY seq DESC LIMIT 1),
            h AS (SELECT seq, at, version, changes FROM history_event
                WHERE sku = :sku AND seq > coalesce((SELECT seq FROM s), 0) AND seq <= :upto AND at <= :as_of)
        SELECT e.key, s.state -> e.fullkey, s.seq FROM s, json_each(s.state) e
        UNION ALL SELECT e.key, e.value -> '$.new', max(h.seq) FROM h, json_each(h.changes) e GROUP BY e.key
        UNION ALL SELECT '#created', json_quote(at), min(seq) FROM h WHERE NOT EXISTS (SELECT 1 FROM s)
        UNION ALL SELECT '#updated', json_array(at, version), max(seq) FROM h WHERE changes != '{}'
        UNION ALL SELECT '#at', json_quote(max(at)), max(seq)
            FROM (SELECT seq, at FROM s UNION ALL SELECT seq, at FROM h)
        ORDER BY 3
    """,
    "postgresql": """
        WITH s AS (SELECT seq, at, state FROM history_snapshot
                WHERE sku = :sku AND seq <= :base AND at <= :as_of ORDER BY seq DESC LIMIT 1),
            h AS (SELECT seq, at, version, changes FROM history_event
                WHERE sku = :sku AND seq > coalesce((SELECT seq FROM s), 0) AND seq <= :upto AND at <= :as_of)
        SELECT * FROM (
            SELECT e.key, e.value::text, s.seq FROM s, jsonb_each(s.state) e
            UNION ALL (SELECT DISTINCT ON (e.key) e.key, (e.value -> 'new')::text, h.seq
                FROM h, jsonb_each(h.changes) e ORDER BY e.key, h.seq DESC)
            UNION ALL (SELECT '#created', to_jsonb(at)::text, seq FROM h
                WHERE NOT EXISTS (SELECT 1 FROM s) ORDER BY seq LIMIT 1)
            UNION ALL (SELECT '#updated', jsonb_build_array(at, version)::text, seq FROM h
                WHERE changes != '{}'::jsonb ORDER BY seq DESC LIMIT 1)
            UNION ALL SELECT '#at', to_jsonb(max(at))::text, max(seq)
                FROM (SELECT seq, at FROM s UNION ALL SELECT seq, at FROM h) m
        ) fields ORDER BY 3
    """,
}
_STATE_QUERIES = {
    dialect: text(sql).bindparams(bindparam("as_of", type_=UtcDateTime())) for dialect, sql in _STATE.items()
}
LAST_SEQ = 2**31 - 1  # no bound on seq (the column is a 32-bit integer on PostgreSQL)
END_OF_TIME = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
SNAPSHOT_EVERY = 100


def snapshot_due(sku: str, version: int) -> bool:
    """Whether the change that brings `sku` to `version` is followed by a snapshot: every SNAPSHOT_EVERY versions
    from the SKU's own offset, so an import that changes a whole catalog takes a share of them each time; none
    in a record's first SNAPSHOT_EVERY versions (its whole history is as short as the stretch after a snapshot)."""
    return version >= SNAPSHOT_EVERY and (version + zlib.crc32(sku.encode())) % SNAPSHOT_EVERY == 0


async def _state(
    connection: AsyncConnection,
    sku: str,
    *,
    as_of: dt.datetime = END_OF_TIME,
    upto: int = LAST_SEQ,
    base: int = LAST_SEQ,
) -> dict[str, str]:
    """Field name -> JSON text of the record after its events up to `upto` and `as_of`, from a snapshot up to
    `base`; empty before the record's first event."""
    query = _STATE_QUERIES["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    params = {"sku": sku, "as_of": as_of, "upto": upto, "base": base}
    rows = (await connection.execute(query, params)).all()
    return {name: value for name, value, seq in rows if seq is not None}


def _decoded(found: dict[str, str]) -> tuple[dict[str, Any], dt.datetime]:
    """A snapshot's state and moment from `_state`'s answer."""
    state = {name: msgspec.json.decode(value) for name, value in found.items() if name != "#at"}
    return state, _moment(msgspec.json.decode(found["#at"]))


async def _snapshot(tx: AsyncSession, sku: str, seq: int) -> None:
    """Sum up the record as it stands after event `seq` (appended in this transaction)."""
    state, at = _decoded(await _state(await tx.connection(), sku, upto=seq))
    await tx.execute(insert(SNAPSHOT_TABLE), {"sku": sku, "seq": seq, "at": at, "state": state})


async def _bad_snapshot(tx: AsyncSession) -> int | None:
    """The seq of the first snapshot that the events before it do not bear out (edited, or made up), if any."""
    connection = await tx.connection()
    snapshots = await tx.stream(select(SNAPSHOT_TABLE).order_by(SNAPSHOT_TABLE.c.seq))
    async for sku, seq, at, state in snapshots:
        found = await _state(connection, sku, upto=seq, base=seq - 1)
        if "#at" not in found or _decoded(found) != (state, at):
            return int(seq)
    return None


async def replay_product(ctx: Context, sku: str, as_of: dt.datetime) -> dict[str, Any] | None:
    """The record's wire fields as they were at `as_of`, rebuilt from its events; None before it existed."""
    async with ctx.db.engine.connect() as connection:  # one statement: no session to build and tear down
        found = await _state(connection, sku, as_of=as_of)
    if "#created" not in found:
        return None
    state: dict[str, Any] = {name: msgspec.json.decode(value) for name, value in found.items() if name[0] != "#"}
    state["created_at"] = _moment(msgspec.json.decode(found["#created"]))
    at, state["version"] = msgspec.json.decode(found["#updated"])
    state["updated_at"] = _moment(at)
    return state


def _moment(text: str) -> dt.datetime:
    """A moment as the database writes it in JSON: naive UTC on SQLite, with its offset on PostgreSQL."""
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
