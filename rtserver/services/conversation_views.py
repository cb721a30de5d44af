"""A node's cache of conversation views (members and their current devices).

What may rely on it, and why that is safe:
- `message.send` checks the envelope against the cached view, but the group commit re-reads the
  view inside its write transaction and stores nothing unless it is unchanged (services.
  group_commit): a stale entry costs a second check, never a wrong acceptance. Every batch
  writes its fresh views back.
- `typing` (ephemeral, never stored) relays to the cached members. Entries are dropped on this
  node as soon as a membership change commits here, on other nodes when the bus carries the
  change (signaling.view_invalidation), and in any case after `ttl` seconds: the bound on how
  long a lost bus message can leave a removed member receiving typing indicators.

A fill that started before an invalidation never stores what it read (epochs, below).

Reads are coalesced: misses (and refreshes) queued while the event loop is busy are read in one
statement per batch, and a conversation already being read is not read twice. An entry that is
used in the last `refresh_ahead` fraction of its life is re-read in the background while it is
still served, so a busy conversation never waits on the store; entries nobody uses simply
expire. Without this, entries filled together expired together and every one of them cost a
separate read in the same instant (a stall of about a second per 250 conversations on SQLite).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from rtserver.domain.chat_send import ConversationView
from rtserver.store.database import Database
from rtserver.store.view_reads import ViewReader, view_reader_for

log = logging.getLogger(__name__)

# Invalidation marks kept to guard in-flight fills; past this many, everything is invalidated.
_MAX_MARKS = 10_000
# Conversations read by one statement (a bound on its parameter list).
_MAX_BATCH = 500

_Pending = asyncio.Future[ConversationView | None]


class ConversationViews:
    def __init__(
        self,
        database: Database,
        *,
        ttl: float,
        max_entries: int = 100_000,
        refresh_ahead: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
        reader_for: Callable[[Database], ViewReader] = view_reader_for,
    ) -> None:
        self._db = database
        self._ttl = ttl
        self._max_entries = max_entries
        self._refresh_window = ttl * refresh_ahead
        self._now = monotonic
        self._entries: dict[str, tuple[ConversationView, float]] = {}
        self._epoch = 0
        self._marks: dict[str, int] = {}  # conversation id -> epoch of its last invalidation
        self._cleared = 0  # epoch of the last invalidate_all
        self._queued: dict[str, _Pending] = {}  # to be read by the next batch
        self._reading: dict[str, _Pending] = {}  # being read now
        self._reading_task: asyncio.Task[None] | None = None
        self._reader_for = reader_for
        self._reader: ViewReader | None = None  # opened on the first read

    def epoch(self) -> int:
        """Take before reading a view from the store; pass to `put` with what was read."""
        self._epoch += 1
        return self._epoch

    async def get(self, conversation_id: str) -> ConversationView | None:
        """The view (None: no such conversation), from the cache while it is fresh."""
        entry = self._entries.get(conversation_id)
        if entry is not None:
            view, expires = entry
            left = expires - self._now()
            if left > 0:
                if left < self._refresh_window and not self._pending(conversation_id):
                    self._enqueue(conversation_id)  # nobody waits for it
                return view
        pending = self._pending(conversation_id) or self._enqueue(conversation_id)
        return await asyncio.shield(pending)

    async def fresh(self, conversation_id: str) -> ConversationView | None:
        """Read the view from the store (sharing a batch that has not started yet) and keep it."""
        pending = self._queued.get(conversation_id) or self._enqueue(conversation_id)
        return await asyncio.shield(pending)

    def put(self, view: ConversationView, since: int) -> None:
        """Keep a view read after `since` = epoch(), unless it was invalidated meanwhile."""
        conversation_id = view.conversation_id
        if since <= self._cleared or since <= self._marks.get(conversation_id, 0):
            return
        if len(self._entries) >= self._max_entries and conversation_id not in self._entries:
            self._evict()
        self._entries[conversation_id] = (view, self._now() + self._ttl)

    def invalidate(self, conversation_id: str) -> None:
        self._entries.pop(conversation_id, None)
        if len(self._marks) >= _MAX_MARKS:
            self.invalidate_all()
            return
        self._marks[conversation_id] = self.epoch()

    def invalidate_all(self) -> None:
        self._entries.clear()
        self._marks.clear()
        self._cleared = self.epoch()

    async def close(self) -> None:
        """Stop reading; whoever still waits gets CancelledError."""
        if self._reading_task is not None:
            self._reading_task.cancel()
            await asyncio.gather(self._reading_task, return_exceptions=True)
            self._reading_task = None
        for pending in [*self._queued.values(), *self._reading.values()]:
            pending.cancel()
        self._queued.clear()
        self._reading.clear()
        if self._reader is not None:
            await self._reader.close()
            self._reader = None

    # batched reads ----------------------------------------------------------------------------

    def _pending(self, conversation_id: str) -> _Pending | None:
        return self._reading.get(conversation_id) or self._queued.get(conversation_id)

    def _enqueue(self, conversation_id: str) -> _Pending:
        pending: _Pending = asyncio.get_running_loop().create_future()
        pending.add_done_callback(_consume_error)  # refresh-ahead reads have no waiter
        self._queued[conversation_id] = pending
        if self._reading_task is None or self._reading_task.done():
            self._reading_task = asyncio.create_task(self._read_queued(), name="conversation-views")
        return pending

    async def _read_queued(self) -> None:
        await asyncio.sleep(0)  # let this loop iteration queue what it will
        while self._queued:
            wanted = list(self._queued)[:_MAX_BATCH]
            for conversation_id in wanted:
                self._reading[conversation_id] = self._queued.pop(conversation_id)
            since = self.epoch()
            try:
                found = await self._read(wanted)
            except Exception as exc:
                for conversation_id in wanted:
                    _settle(self._reading.pop(conversation_id), error=exc)
                continue
            for conversation_id in wanted:
                view = found.get(conversation_id)
                if view is not None:
                    self.put(view, since)
                _settle(self._reading.pop(conversation_id), view)

    async def _read(self, conversation_ids: list[str]) -> dict[str, ConversationView]:
        if self._reader is None:
            self._reader = self._reader_for(self._db)
        return await self._reader.read(conversation_ids)

    def _evict(self) -> None:
        now = self._now()
        for conversation_id in [c for c, (_, expires) in self._entries.items() if expires <= now]:
            del self._entries[conversation_id]
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest filled


def _settle(
    pending: _Pending, view: ConversationView | None = None, *, error: Exception | None = None
) -> None:
    if pending.done():
        return
    if error is not None:
        pending.set_exception(error)
    else:
        pending.set_result(view)


def _consume_error(pending: _Pending) -> None:
    if not pending.cancelled() and pending.exception() is not None:
        log.debug("reading a conversation view failed", exc_info=pending.exception())
