"""Closing sockets of a device or user on every node (logout, revocation, disable)."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError

from rtserver.protocol import SESSION_CLOSED, TOPIC_CLOSE_SOCKETS
from signaling.bus import Bus
from signaling.rooms import device_room, user_room
from signaling.server import SocketServer

log = logging.getLogger(__name__)


class SocketConnections:
    """Implements services.connections.LiveConnections over the bus."""

    def __init__(self, sio: SocketServer, bus: Bus) -> None:
        self._sio = sio
        self._bus = bus
        bus.subscribe(TOPIC_CLOSE_SOCKETS, self._close_local)

    async def close_device(self, device_id: str, reason: str) -> None:
        await self._publish({"room": device_room(device_id), "reason": reason})

    async def close_user(self, user_id: str, reason: str) -> None:
        await self._publish({"room": user_room(user_id), "reason": reason})

    async def _publish(self, message: dict[str, Any]) -> None:
        # The store already says the device is revoked; if the bus is down, sockets elsewhere
        # are refused at their next token renewal (within access_token_ttl_seconds).
        await self._close_local(message)
        try:
            await self._bus.publish(TOPIC_CLOSE_SOCKETS, message)
        except (RedisError, OSError):
            log.warning("bus unavailable; remote sockets close at their next token renewal")

    async def _close_local(self, message: dict[str, Any]) -> None:
        room, reason = str(message["room"]), str(message["reason"])
        for sid in self._sio.local_sids(room):
            await self._sio.emit(SESSION_CLOSED, {"reason": reason}, to=sid, ignore_queue=True)
            await self._sio.disconnect(sid)
