"""Engines and transactions. SQLite gets one serialised writer and WAL readers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from rtserver.store.transaction import Transaction


def _sqlite_engine(url: str, *, writer: bool, echo: bool) -> AsyncEngine:
    # One writer connection: SQLite allows one writer anyway; queueing in the pool is fairer
    # than spinning on SQLITE_BUSY, and BEGIN IMMEDIATE makes each write transaction serial.
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,  # error messages must not carry message envelopes into logs
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1 if writer else 4,
        max_overflow=0,
        pool_timeout=60,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """Owns the engines; hands out transactions with repositories attached."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._writer = _sqlite_engine(url, writer=True, echo=echo)
            self._reader = _sqlite_engine(url, writer=False, echo=echo)
        else:
            self._writer = create_async_engine(
                url,
                echo=echo,
                hide_parameters=True,
                pool_size=10,
                max_overflow=10,
                pool_pre_ping=True,
            )
            self._reader = self._writer

    @property
    def engine(self) -> AsyncEngine:
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """A read-write transaction: committed on success, rolled back on any exception."""
        async with (
            AsyncSession(self._writer, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield Transaction(session)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        async with (
            AsyncSession(self._reader, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield Transaction(session)

    @asynccontextmanager
    async def write_connection(self) -> AsyncIterator[AsyncConnection]:
        """A read-write transaction on a bare Core connection (no ORM session), for the set-at-a-
        time statements of the hot paths: committed on success, rolled back on any exception."""
        async with self._writer.begin() as connection:
            yield connection

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.begin() as connection:
            yield connection

    @asynccontextmanager
    async def driver_connection(self) -> AsyncIterator[Any]:
        """The driver's own connection (asyncpg, aiosqlite) from the writer pool, for code that
        manages its transaction itself; back to the pool afterwards."""
        async with self._writer.connect() as connection:
            raw = await connection.get_raw_connection()
            yield raw.driver_connection

    async def ping(self) -> None:
        async with self._reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()
