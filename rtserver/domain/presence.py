"""Presence: each device reports a state; a user's presence is the strongest of their devices."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class PresenceState(StrEnum):
    OFFLINE = "offline"
    AWAY = "away"
    ONLINE = "online"
    IN_SESSION = "in_session"


_RANK = {
    PresenceState.OFFLINE: 0,
    PresenceState.AWAY: 1,
    PresenceState.ONLINE: 2,
    PresenceState.IN_SESSION: 3,
}


def aggregate(device_states: Iterable[PresenceState]) -> PresenceState:
    """in_session beats online beats away; no live device means offline."""
    return max(device_states, key=_RANK.__getitem__, default=PresenceState.OFFLINE)
