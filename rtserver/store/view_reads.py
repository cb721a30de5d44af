"""Reads of conversation views (members and their current devices) for the node's cache, on
the driver itself: the same constant statements the group commit uses inside its transactions,
without SQLAlchemy's per-statement work (about 4 ms of CPU per read through aiosqlite, measured
under the `typing` relay; a fraction of a millisecond this way)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import orjson
from sqlalchemy.engine import make_url

from rtserver.domain.chat_send import ConversationView
from rtserver.store.chat_batch import (
    _PG_CURRENT_DEVICES,
    _PG_MEMBERS,
    _SQLITE_CURRENT_DEVICES,
    _SQLITE_MEMBERS,
    _views,
)
from rtserver.store.database import Database


class ViewReader(Protocol):
    async def read(self, conversation_ids: Collection[str]) -> dict[str, ConversationView]:
        """The views of those conversations that exist and have members."""
        ...

    async def close(self) -> None: ...


def view_reader_for(database: Database) -> ViewReader:
    if database.is_sqlite:
        return SqliteViewReader(str(make_url(database.url).database))
    return PostgresViewReader(database)


class PostgresViewReader:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def read(self, conversation_ids: Collection[str]) -> dict[str, ConversationView]:
        ids = sorted(conversation_ids)
        # one snapshot for both statements: members and devices agree with each other
        async with (
            self._db.driver_connection() as db,
            db.transaction(isolation="repeatable_read", readonly=True),
        ):
            members = await db.fetch(_PG_MEMBERS, ids)
            return _views(members, await db.fetch(_PG_CURRENT_DEVICES, ids))

    async def close(self) -> None:
        return None


class SqliteViewReader:
    """One query-only connection owned by one thread: one hand-off per read. WAL lets it read
    while the chat writer commits."""

    def __init__(self, path: str, busy_timeout_ms: int = 10_000) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-view-reader")
        self._connection: sqlite3.Connection | None = None

    async def read(self, conversation_ids: Collection[str]) -> dict[str, ConversationView]:
        ids = orjson.dumps(sorted(conversation_ids)).decode()
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._read, ids)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _read(self, ids: str) -> dict[str, ConversationView]:
        db = self._open()
        db.execute("BEGIN")  # one snapshot for both statements
        try:
            return _views(
                db.execute(_SQLITE_MEMBERS, (ids,)).fetchall(),
                db.execute(_SQLITE_CURRENT_DEVICES, (ids,)).fetchall(),
            )
        finally:
            db.execute("COMMIT")

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)
            connection.execute("PRAGMA query_only=ON")
            connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            self._connection = connection
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
