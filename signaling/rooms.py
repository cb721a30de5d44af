"""Room names: every socket joins its user's and its device's room."""

from __future__ import annotations

from typing import Any

USER_ROOM_PREFIX = "user:"
DEVICE_ROOM_PREFIX = "device:"


def user_room(user_id: str) -> str:
    return f"{USER_ROOM_PREFIX}{user_id}"


def device_room(device_id: str) -> str:
    return f"{DEVICE_ROOM_PREFIX}{device_id}"


def addressed_across_nodes(room: Any) -> bool:
    """Whether emits to this room may come from another node: user and device rooms. Emits to a
    socket's own room (its sid) are made only by the node that holds it."""
    return isinstance(room, str) and room.startswith((USER_ROOM_PREFIX, DEVICE_ROOM_PREFIX))
