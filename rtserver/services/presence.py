"""Presence: device states folded into one state per user, shown only to contacts."""

from __future__ import annotations

from typing import Any

from rtserver.domain.accounts import Principal
from rtserver.domain.presence import PresenceState, aggregate
from rtserver.protocol import PRESENCE
from rtserver.services.connections import Realtime
from rtserver.store.database import Database
from rtserver.store.presence import PresenceStore
from rtserver.timefmt import wire_time


class PresenceService:
    def __init__(
        self, database: Database, store: PresenceStore, realtime: Realtime, ttl: int
    ) -> None:
        self._db = database
        self._store = store
        self._realtime = realtime
        self.ttl = ttl

    async def set_device(self, principal: Principal, state: PresenceState) -> PresenceState:
        before = aggregate(await self._store.states(principal.user_id))
        if state is PresenceState.OFFLINE:
            await self._store.remove(principal.user_id, principal.device_id)
        else:
            await self._store.put(principal.user_id, principal.device_id, state, self.ttl)
        after = aggregate(await self._store.states(principal.user_id))
        if after is not before:
            await self._announce(principal.user_id, after)
        return after

    async def refresh(self, entries: list[tuple[str, str, PresenceState]]) -> None:
        await self._store.refresh(entries, self.ttl)

    async def query(self, principal: Principal, user_ids: list[str]) -> list[dict[str, Any]]:
        """Presence of those asked about who share a conversation with the caller; others are
        left out, exactly as users who do not exist."""
        async with self._db.read() as tx:
            contacts = await tx.conversations.contacts_of(principal.user_id)
        visible = [u for u in dict.fromkeys(user_ids) if u in contacts]
        seen = await self._store.last_seen(visible)
        result = []
        for user_id in visible:
            state = aggregate(await self._store.states(user_id))
            last = seen.get(user_id)
            result.append(
                {
                    "user_id": user_id,
                    "state": state.value,
                    "last_seen": wire_time(last) if last else None,
                }
            )
        return result

    async def _announce(self, user_id: str, state: PresenceState) -> None:
        async with self._db.read() as tx:
            contacts = await tx.conversations.contacts_of(user_id)
        seen = (await self._store.last_seen([user_id])).get(user_id)
        if contacts:
            await self._realtime.to_users(
                contacts,
                PRESENCE,
                {
                    "user_id": user_id,
                    "state": state.value,
                    "last_seen": wire_time(seen) if seen else None,
                },
            )
