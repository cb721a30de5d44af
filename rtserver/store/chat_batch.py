"""Set-at-a-time chat storage for the group commit and the conversation-view cache.

A batch is one write transaction: read the truth (conversation heads, members and their current
devices, client ids already stored), let `plan_batch` decide every send, insert the new
messages and advance the heads, commit. Two writers do it:

- PostgreSQL: the driver (asyncpg) on a connection from the engine's pool, the conversation rows
  locked FOR UPDATE.
- SQLite: the stdlib driver on a connection of its own, the whole transaction run in one call on
  a dedicated thread. Through aiosqlite every statement costs several thread hand-offs
  (cursor, execute, fetch, close) and SQLAlchemy's per-statement work; measured, that was ~4 ms
  of CPU per transaction against ~0.2 ms for the same statements here.

Both use constant SQL (lists are one array parameter), so the drivers keep them prepared; the
view statements and the rows-to-views functions are store.view_sql's, shared with the cache's
reads (store.view_reads). SQLite still has one writer at a time: BEGIN IMMEDIATE, and
busy_timeout to wait for the other connection.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import asyncpg
import orjson
from sqlalchemy import Table, bindparam, select, tuple_
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from rtserver.domain.chat import Message
from rtserver.domain.chat_send import (
    BatchSend,
    ConversationView,
    Decision,
    SendKey,
    Store,
    plan_batch,
)
from rtserver.store import view_sql
from rtserver.store.database import Database
from rtserver.store.sqlite_thread import SqliteOnThread
from rtserver.store.tables import MessageRow


@dataclass(frozen=True)
class NewMessage:
    """A checked send for the batch: its seq is 0 until the batch gives it one."""

    send: BatchSend
    message: Message
    envelope_json: str


@dataclass(frozen=True)
class BatchResult:
    """What the committed batch decided for each send, and the truth it decided from."""

    decisions: list[Decision]
    messages: list[Message | None]  # the stored message for Store and Stored decisions
    views: dict[str, ConversationView]


class BatchConflict(Exception):
    """The database refused the batch because of a concurrent transaction (a client id stored
    meanwhile, a deadlock, a serialisation failure): worth another try."""


class ChatWriter(Protocol):
    concurrency: int  # batches that may be written at the same time

    async def write(self, batch: Sequence[NewMessage]) -> BatchResult: ...

    async def close(self) -> None: ...


def writer_for(database: Database) -> ChatWriter:
    if database.is_sqlite:
        return SqliteChatWriter(str(make_url(database.url).database))
    return PostgresChatWriter(database)


def _plan(
    batch: Sequence[NewMessage],
    heads: dict[str, int],
    views: dict[str, ConversationView],
    stored: dict[SendKey, Message],
) -> tuple[BatchResult, list[Message], dict[str, int]]:
    decisions, advanced = plan_batch(
        [item.send for item in batch], heads, views, {key: m.seq for key, m in stored.items()}
    )
    messages: list[Message | None] = []
    new: list[Message] = []
    for item, decision in zip(batch, decisions, strict=True):
        if isinstance(decision, Store):
            message = replace(item.message, seq=decision.seq)
            new.append(message)
            messages.append(message)
        else:
            messages.append(stored.get(item.send.key))
    return BatchResult(decisions, messages, views), new, advanced


def _conversation_ids(keys: Collection[SendKey]) -> list[str]:
    return sorted({k[0] for k in keys})


def _stored_messages(
    rows: Iterable[Sequence[Any]],
    instant: Callable[[Any], datetime] = lambda value: value,
) -> dict[SendKey, Message]:
    """Messages by their send key, from (conversation, seq, sender, device, client id,
    envelope JSON, sent_at) rows."""
    return {
        (cid, sender, client_msg_id): Message(
            cid, int(seq), sender, device, client_msg_id, orjson.loads(envelope), instant(sent_at)
        )
        for cid, seq, sender, device, client_msg_id, envelope, sent_at in rows
    }


# --- SQLAlchemy Core: the stored message a retry is answered with ---------------------------

_messages = cast(Table, MessageRow.__table__)
_STORED = select(
    _messages.c.conversation_id,
    _messages.c.seq,
    _messages.c.sender_id,
    _messages.c.sender_device_id,
    _messages.c.client_msg_id,
    _messages.c.envelope,
    _messages.c.sent_at,
).where(
    # the whole unique key: a conversation's other messages are never read
    tuple_(_messages.c.conversation_id, _messages.c.sender_id, _messages.c.client_msg_id).in_(
        bindparam("keys", expanding=True)
    )
)


async def stored(connection: AsyncConnection, keys: Collection[SendKey]) -> dict[SendKey, Message]:
    """The messages already stored under any of these (conversation, sender, client_msg_id)."""
    if not keys:
        return {}
    return _stored_messages(await connection.execute(_STORED, {"keys": sorted(keys)}))


class PostgresChatWriter:
    """Batches on the driver's connection (asyncpg) taken from the engine's pool: constant,
    prepared statements and no SQLAlchemy work per statement. Concurrent batches lock their
    conversations in id order, so they wait for each other instead of deadlocking; membership
    changes take the same row lock (ConversationRepository.lock), so the view read after the
    lock stays true until the batch commits."""

    concurrency = 4

    def __init__(self, database: Database) -> None:
        self._db = database

    async def write(self, batch: Sequence[NewMessage]) -> BatchResult:
        keys = sorted({item.send.key for item in batch})
        ids = _conversation_ids(keys)
        try:
            async with self._db.driver_connection() as db, db.transaction():
                heads = {cid: int(seq) for cid, seq in await db.fetch(_PG_HEADS, ids)}
                present = sorted(heads)
                found = view_sql.views(
                    await db.fetch(view_sql.PG_MEMBERS, present),
                    await db.fetch(view_sql.PG_CURRENT_DEVICES, present),
                )
                columns = [list(column) for column in zip(*keys, strict=True)]
                already = _stored_messages(await db.fetch(_PG_STORED, *columns))
                result, new, advanced = _plan(batch, heads, found, already)
                if new:
                    await db.executemany(
                        _PG_INSERT,
                        [
                            (
                                m.conversation_id,
                                m.seq,
                                m.sender_id,
                                m.sender_device_id,
                                m.client_msg_id,
                                item.envelope_json,
                                m.sent_at,
                            )
                            for m, item in _new_with_items(batch, result)
                        ],
                    )
                if advanced:
                    await db.executemany(
                        _PG_ADVANCE, [(seq, cid) for cid, seq in sorted(advanced.items())]
                    )
        except (
            asyncpg.UniqueViolationError,
            asyncpg.DeadlockDetectedError,
            asyncpg.SerializationError,
        ) as exc:
            raise BatchConflict(type(exc).__name__) from exc
        return result

    async def close(self) -> None:
        pass


_PG_HEADS = """
SELECT id, last_seq FROM conversations WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE
"""
# By the whole unique key (uq_messages_client_id): one index probe per send.
_PG_STORED = """
SELECT m.conversation_id, m.seq, m.sender_id, m.sender_device_id, m.client_msg_id, m.envelope,
  m.sent_at
FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS k(conversation_id, sender_id, client_id)
JOIN messages AS m ON m.conversation_id = k.conversation_id AND m.sender_id = k.sender_id
  AND m.client_msg_id = k.client_id
"""
_PG_INSERT = """
INSERT INTO messages
  (conversation_id, seq, sender_id, sender_device_id, client_msg_id, envelope, sent_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_PG_ADVANCE = "UPDATE conversations SET last_seq = $1 WHERE id = $2"


def _new_with_items(
    batch: Sequence[NewMessage], result: BatchResult
) -> list[tuple[Message, NewMessage]]:
    return [
        (message, item)
        for item, decision, message in zip(batch, result.decisions, result.messages, strict=True)
        if isinstance(decision, Store) and message is not None
    ]


# --- the stdlib driver on a thread of its own (SQLite) --------------------------------------


def _sqlite_time(instant: datetime) -> str:
    """As SQLAlchemy's SQLite DATETIME stores UtcDateTime: naive UTC, microseconds."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _from_sqlite_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class SqliteChatWriter(SqliteOnThread):
    """Batches on one SQLite connection owned by one thread: one hand-off per transaction."""

    concurrency = 1
    pragmas = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON")

    async def write(self, batch: Sequence[NewMessage]) -> BatchResult:
        result: BatchResult = await self._on_thread(self._write, list(batch))
        return result

    def _write(self, batch: list[NewMessage]) -> BatchResult:
        db = self._open()
        keys = sorted({item.send.key for item in batch})
        ids = orjson.dumps(_conversation_ids(keys)).decode()
        db.execute("BEGIN IMMEDIATE")
        try:
            heads = dict(db.execute(_SQLITE_HEADS, (ids,)))
            present = orjson.dumps(sorted(heads)).decode()
            found = view_sql.views(
                db.execute(view_sql.SQLITE_MEMBERS, (present,)),
                db.execute(view_sql.SQLITE_CURRENT_DEVICES, (present,)),
            )
            already = _stored_messages(
                db.execute(_SQLITE_STORED, (orjson.dumps(keys).decode(),)), _from_sqlite_time
            )
            result, new, advanced = _plan(batch, heads, found, already)
            if new:
                db.executemany(
                    _SQLITE_INSERT,
                    [
                        (
                            m.conversation_id,
                            m.seq,
                            m.sender_id,
                            m.sender_device_id,
                            m.client_msg_id,
                            item.envelope_json,
                            _sqlite_time(m.sent_at),
                        )
                        for m, item in _new_with_items(batch, result)
                    ],
                )
            if advanced:
                db.executemany(_SQLITE_ADVANCE, [(s, c) for c, s in sorted(advanced.items())])
            db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if db.in_transaction:  # the connection is in no state to begin the next batch
                self._close()
            if isinstance(exc, sqlite3.IntegrityError | sqlite3.OperationalError):
                raise BatchConflict(type(exc).__name__) from exc
            raise
        return result


# Constant statements (the driver keeps them prepared); id lists are one JSON array parameter.
_SQLITE_HEADS = (
    "SELECT id, last_seq FROM conversations WHERE id IN (SELECT value FROM json_each(?))"
)
# By the whole unique key, one index probe per [conversation, sender, client id] of the JSON
# parameter; CROSS JOIN keeps the key list the outer loop.
_SQLITE_STORED = """
SELECT m.conversation_id, m.seq, m.sender_id, m.sender_device_id, m.client_msg_id, m.envelope,
  m.sent_at
FROM json_each(?) AS k
CROSS JOIN messages AS m
WHERE m.conversation_id = json_extract(k.value, '$[0]')
  AND m.sender_id = json_extract(k.value, '$[1]')
  AND m.client_msg_id = json_extract(k.value, '$[2]')
"""
_SQLITE_INSERT = """
INSERT INTO messages
  (conversation_id, seq, sender_id, sender_device_id, client_msg_id, envelope, sent_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
_SQLITE_ADVANCE = "UPDATE conversations SET last_seq = ? WHERE id = ?"
