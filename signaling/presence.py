"""Presence events, and the heartbeat that keeps this node's devices alive in the store."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rtserver.domain.accounts import Principal
from rtserver.domain.presence import PresenceState
from rtserver.services.presence import PresenceService
from signaling.acks import SocketSessions, acked
from signaling.chat_payloads import PresenceQuery, PresenceSet
from signaling.group import EventGroup

log = logging.getLogger(__name__)


class PresenceEvents(EventGroup):
    def __init__(self, sessions: SocketSessions, presence: PresenceService) -> None:
        super().__init__(sessions)
        self._presence = presence
        self._states: dict[str, tuple[Principal, PresenceState]] = {}
        self._sockets_of_device: dict[str, int] = {}  # a device may hold several sockets

    async def socket_connected(self, sid: str, principal: Principal) -> None:
        self._states[sid] = (principal, PresenceState.ONLINE)
        device = principal.device_id
        self._sockets_of_device[device] = self._sockets_of_device.get(device, 0) + 1
        await self._presence.set_device(principal, PresenceState.ONLINE)

    async def socket_disconnected(self, sid: str, principal: Principal) -> None:
        if self._states.pop(sid, None) is None:
            return
        device = principal.device_id
        left = self._sockets_of_device.get(device, 1) - 1
        if left > 0:
            self._sockets_of_device[device] = left
            return
        self._sockets_of_device.pop(device, None)
        await self._presence.set_device(principal, PresenceState.OFFLINE)

    @acked(PresenceSet)
    async def on_presence_set(
        self, sid: str, principal: Principal, payload: PresenceSet
    ) -> dict[str, Any]:
        state = PresenceState(payload.state)
        self._states[sid] = (principal, state)
        return {"state": (await self._presence.set_device(principal, state)).value}

    @acked(PresenceQuery)
    async def on_presence_query(
        self, sid: str, principal: Principal, payload: PresenceQuery
    ) -> dict[str, Any]:
        return {"presence": await self._presence.query(principal, payload.user_ids)}

    async def heartbeat(self) -> None:
        """Refresh every local device's entry well before it expires (runs until cancelled)."""
        interval = max(self._presence.ttl / 3, 1)
        while True:
            await asyncio.sleep(interval)
            entries = {(p.user_id, p.device_id): state for p, state in self._states.values()}
            try:
                await self._presence.refresh([(u, d, s) for (u, d), s in entries.items()])
            except Exception as exc:  # Redis away: entries may lapse; devices re-announce
                log.warning("presence heartbeat failed: %s", type(exc).__name__)
