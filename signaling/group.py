"""An area's Socket.IO events (chat, presence, ...) served inside the one `/` namespace."""

from __future__ import annotations

from rtserver.domain.accounts import Principal
from signaling.acks import SocketSessions


class EventGroup(SocketSessions):
    """Subclasses define `on_<event>` handlers (dots in event names become underscores) and
    may react to sockets arriving and leaving."""

    def __init__(self, sessions: SocketSessions) -> None:
        self._sessions = sessions

    def principal(self, sid: str, *, allow_expired: bool = False) -> Principal:
        return self._sessions.principal(sid, allow_expired=allow_expired)

    async def socket_connected(self, sid: str, principal: Principal) -> None:
        """Called once a socket has authenticated."""

    async def socket_disconnected(self, sid: str, principal: Principal) -> None:
        """Called when a socket has gone, for any reason."""
