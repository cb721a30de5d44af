"""Session types: length, buffers, notice and booking window of what a client can book."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from rtserver.domain.booking.errors import InvalidBookingInput
from rtserver.domain.booking.intervals import Busy

MAX_BOOKING_WINDOW_DAYS = 366
_DAY_MINUTES = 24 * 60
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, kw_only=True)
class SessionType:
    """What a client books. Price is stored and shown here, never computed with."""

    duration_minutes: int
    slot_interval_minutes: int
    price_minor: int
    currency: str
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    booking_window_days: int = 60
    requires_confirmation: bool = False

    def __post_init__(self) -> None:
        limits = {
            "duration_minutes": (self.duration_minutes, 1, _DAY_MINUTES),
            "slot_interval_minutes": (self.slot_interval_minutes, 1, _DAY_MINUTES),
            "buffer_before_minutes": (self.buffer_before_minutes, 0, _DAY_MINUTES),
            "buffer_after_minutes": (self.buffer_after_minutes, 0, _DAY_MINUTES),
            "min_notice_minutes": (self.min_notice_minutes, 0, MAX_BOOKING_WINDOW_DAYS * 1440),
            "booking_window_days": (self.booking_window_days, 1, MAX_BOOKING_WINDOW_DAYS),
            "price_minor": (self.price_minor, 0, 10**15),
        }
        for name, (value, low, high) in limits.items():
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidBookingInput(
                    "invalid_session_type", f"{name} must be an integer in [{low}, {high}]"
                )
        if not _CURRENCY.fullmatch(self.currency):
            raise InvalidBookingInput(
                "invalid_session_type", "currency must be an ISO 4217 code such as IDR"
            )

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def slot_interval(self) -> timedelta:
        return timedelta(minutes=self.slot_interval_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def booking_window(self) -> timedelta:
        return timedelta(days=self.booking_window_days)


def occupied_span(start: datetime, session_type: SessionType) -> Busy:
    """`[start - buffer_before, start + duration + buffer_after)`: what a booking blocks.

    Store this per live booking (the exclusion constraint compares it with `&&` as a `[)`
    range) and pass it back as that booking's `Busy` interval.
    """
    end = start + session_type.duration
    return Busy(start - session_type.buffer_before, end + session_type.buffer_after)


@dataclass(frozen=True, kw_only=True)
class OfferedSessionType:
    """A session type as one counselor offers it: named, owned, and retired rather than deleted,
    so bookings made under it keep their terms."""

    id: str
    counselor_id: str
    name: str
    rules: SessionType
    active: bool = True
    created_at: datetime
