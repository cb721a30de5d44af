"""What services need from the realtime layer, without importing it."""

from __future__ import annotations

from typing import Protocol


class LiveConnections(Protocol):
    async def close_device(self, device_id: str, reason: str) -> None:
        """Close every socket of a device, on every node."""
        ...

    async def close_user(self, user_id: str, reason: str) -> None:
        """Close every socket of a user, on every node."""
        ...
