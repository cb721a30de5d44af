"""A socket's outgoing packet queue for engine.io, lean enough for many idle connections.

engine.io gives every connection an `asyncio.Queue` (three deques and an Event's deque: about
2.5 KiB before anything is queued) and reads it with `asyncio.wait_for(queue.get(), ...)`,
which wraps each read in a new Task. This queue holds nothing until a packet is queued, frees
its buffer when drained, and `get()` returns a plain future, which `wait_for` awaits without a
Task. One reader at a time (engine.io's writer), any number of writers, unbounded as engine.io
uses it.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Any


class SocketQueue:
    __slots__ = ("_all_done", "_getter", "_items", "_unfinished", "write_through")

    def __init__(self) -> None:
        self._items: collections.deque[Any] | None = None
        self._getter: asyncio.Future[Any] | None = None
        self._unfinished = 0
        self._all_done: asyncio.Event | None = None
        # Set by the connection's writer: given an item while the reader is idle and nothing is
        # queued, it may write the item to the connection at once (True) instead of waking the
        # reader for it. Order is kept: only an empty queue with a waiting reader is skipped.
        self.write_through: Callable[[Any], bool] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: Any) -> None:
        getter = self._getter
        if getter is not None and not getter.done():
            if self.write_through is not None and self.write_through(item):
                return
            self._unfinished += 1
            self._getter = None
            getter.set_result(item)
            return
        self._unfinished += 1
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    def get(self) -> asyncio.Future[Any]:
        """A future of the next item (already done if one is queued)."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._items:
            waiter.set_result(self.get_nowait())
        elif self._getter is not None and not self._getter.done():
            raise RuntimeError("SocketQueue has one reader at a time")
        else:
            self._getter = waiter
        return waiter

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._all_done is not None:
            self._all_done.set()

    async def join(self) -> None:
        if self._unfinished == 0:
            return
        if self._all_done is None or self._all_done.is_set():
            self._all_done = asyncio.Event()
        await self._all_done.wait()
