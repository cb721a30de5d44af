"""A stdlib sqlite3 connection owned by one thread, for work that must not pay aiosqlite's and
SQLAlchemy's per-statement hand-offs."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class SqliteOnThread:
    """One stdlib sqlite3 connection, opened on first use and owned by one thread, so that a
    whole unit of work is one hand-off from the event loop."""

    pragmas: tuple[str, ...] = ()

    def __init__(self, path: str, busy_timeout_ms: int = 10_000) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=type(self).__name__)
        self._connection: sqlite3.Connection | None = None

    async def _on_thread(self, work: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work, *args)

    async def close(self) -> None:
        await self._on_thread(self._close)
        self._thread.shutdown(wait=True)

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)
            for pragma in self.pragmas:
                connection.execute(f"PRAGMA {pragma}")
            connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            self._connection = connection
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
