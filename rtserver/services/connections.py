"""What services need from the realtime layer, without importing it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class LiveConnections(Protocol):
    async def close_device(self, device_id: str, reason: str) -> None:
        """Close every socket of a device, on every node."""
        ...

    async def close_user(self, user_id: str, reason: str) -> None:
        """Close every socket of a user, on every node."""
        ...


class Realtime(Protocol):
    async def to_users(self, user_ids: Iterable[str], event: str, payload: dict[str, Any]) -> None:
        """Deliver an event to every connected device of these users, on every node.
        Best effort: whatever must not be lost is also in the store."""
        ...

    async def to_devices(
        self, device_ids: Iterable[str], event: str, payload: dict[str, Any]
    ) -> None:
        """Deliver an event to these devices only, on every node. Best effort."""
        ...
