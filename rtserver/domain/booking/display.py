"""Showing UTC slots on a viewer's wall clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rtserver.domain.booking.intervals import Interval
from rtserver.domain.booking.schedule import load_zone


@dataclass(frozen=True)
class LocalSlot:
    """The same instants as a slot, as aware datetimes in the viewer's zone."""

    start: datetime
    end: datetime


def to_viewer(slot: Interval, viewer_tz: str | ZoneInfo) -> LocalSlot:
    """`slot` in `viewer_tz` (IANA name or zone); an unknown name is `invalid_time_zone`."""
    zone = viewer_tz if isinstance(viewer_tz, ZoneInfo) else load_zone(viewer_tz)
    return LocalSlot(slot.start.astimezone(zone), slot.end.astimezone(zone))
