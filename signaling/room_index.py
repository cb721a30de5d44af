"""Socket.IO client managers that know each socket's rooms.

python-socketio finds the rooms of a socket that disconnects by scanning every room of the
namespace (every socket has a room of its own, and here one per user and per device), so a
disconnect costs time in proportion to all connected sockets and a reconnect storm costs their
square. This keeps the rooms of each socket as they are entered and left. `basic_disconnect`
repeats the bookkeeping of python-socketio 5.18's own after its room scan (callbacks, pending
connects and disconnects); the version is pinned, and tests/signaling/test_room_index.py checks the
result against the stock manager.
"""

from __future__ import annotations

from typing import Any

from signaling.direct_emit import DirectEmit


class IndexedRooms:
    """Mixin: put before a python-socketio manager class."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._joined: dict[tuple[str, str], set[Any]] = {}  # (namespace, sid) -> rooms

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._joined.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        joined = self._joined.get((namespace, sid))
        if joined is not None:
            joined.discard(room)
            if not joined:
                del self._joined[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        if namespace not in self.rooms:
            return
        for room in self._joined.pop((namespace, sid), set()):
            super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._joined.get((namespace, sid), ()) if room is not None]


class IndexedAsyncManager(IndexedRooms, DirectEmit):
    """The single-node manager."""
