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
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rtserver.domain.chat_send import ConversationView
from rtserver.store import chat_batch
from rtserver.store.database import Database

# Invalidation marks kept to guard in-flight fills; past this many, everything is invalidated.
_MAX_MARKS = 10_000


class ConversationViews:
    def __init__(
        self,
        database: Database,
        *,
        ttl: float,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self._ttl = ttl
        self._max_entries = max_entries
        self._now = monotonic
        self._entries: dict[str, tuple[ConversationView, float]] = {}
        self._epoch = 0
        self._marks: dict[str, int] = {}  # conversation id -> epoch of its last invalidation
        self._cleared = 0  # epoch of the last invalidate_all

    def epoch(self) -> int:
        """Take before reading a view from the store; pass to `put` with what was read."""
        self._epoch += 1
        return self._epoch

    async def get(self, conversation_id: str) -> ConversationView | None:
        """The view (None: no such conversation), from the cache while it is fresh."""
        entry = self._entries.get(conversation_id)
        if entry is not None and entry[1] > self._now():
            return entry[0]
        return await self.fresh(conversation_id)

    async def fresh(self, conversation_id: str) -> ConversationView | None:
        """Read the view from the store and keep it."""
        since = self.epoch()
        async with self._db.read_connection() as connection:
            view = (await chat_batch.views(connection, [conversation_id])).get(conversation_id)
        if view is not None:
            self.put(view, since)
        return view

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

    def _evict(self) -> None:
        now = self._now()
        for conversation_id in [c for c, (_, expires) in self._entries.items() if expires <= now]:
            del self._entries[conversation_id]
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest filled
