"""Room names: every socket joins its user's and its device's room."""

from __future__ import annotations


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def device_room(device_id: str) -> str:
    return f"device:{device_id}"
