"""Best-effort delivery of server events to users' devices, on every node (services.Realtime)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from signaling.rooms import device_room, user_room
from signaling.server import SocketServer

log = logging.getLogger(__name__)


class SocketDelivery:
    def __init__(self, sio: SocketServer) -> None:
        self._sio = sio

    async def to_users(self, user_ids: Iterable[str], event: str, payload: dict[str, Any]) -> None:
        rooms = sorted({user_room(user_id) for user_id in user_ids})
        if not rooms:
            return
        # One publish for all rooms; python-socketio de-duplicates sockets in several rooms.
        await self._sio.emit(event, payload, room=rooms if len(rooms) > 1 else rooms[0])

    async def to_devices(
        self, device_ids: Iterable[str], event: str, payload: dict[str, Any]
    ) -> None:
        rooms = sorted({device_room(device_id) for device_id in device_ids})
        if rooms:
            await self._sio.emit(event, payload, room=rooms if len(rooms) > 1 else rooms[0])
