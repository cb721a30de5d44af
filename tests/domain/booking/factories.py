"""Builders for booking test data."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from rtserver.domain.booking import LocalRange, SessionType


def hours(start: str, end: str) -> LocalRange:
    """`hours("09:00", "12:00")`; "24:00" is accepted for the end of the day."""
    return LocalRange(_wall(start), _wall(end))


def _wall(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    return time(0) if hour == 24 else time(hour, minute)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def session_type(**changes: Any) -> SessionType:
    """A 50-minute session every 60 minutes with 10 minutes after it, unless changed."""
    fields: dict[str, Any] = {
        "duration_minutes": 50,
        "slot_interval_minutes": 60,
        "buffer_after_minutes": 10,
        "price_minor": 150_000_00,
        "currency": "IDR",
        **changes,
    }
    return SessionType(**fields)
