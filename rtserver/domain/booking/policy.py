"""Cancellation and rescheduling rules for an existing booking."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rtserver.domain.booking.errors import BookingRuleError, InvalidBookingInput
from rtserver.domain.booking.intervals import Busy, Slot, require_aware
from rtserver.domain.booking.schedule import DateOverride, WeeklySchedule
from rtserver.domain.booking.session_type import SessionType
from rtserver.domain.booking.slots import check_bookable


@dataclass(frozen=True)
class CancelTerms:
    """`late` when cancelled less than the policy's hours before the start."""

    late: bool
    hours_before: float


def _require_not_started(booking_start: datetime, now: datetime) -> None:
    if now >= booking_start:
        raise BookingRuleError("already_started", "the session has already started")


def cancellation_terms(
    booking_start: datetime, now: datetime, late_cancel_hours: float
) -> CancelTerms:
    """How a cancellation made at `now` counts; a started session cannot be cancelled."""
    booking_start = require_aware(booking_start, "booking_start")
    now = require_aware(now, "now")
    if not late_cancel_hours >= 0:
        raise InvalidBookingInput("invalid_policy", "late_cancel_hours must not be negative")
    _require_not_started(booking_start, now)
    notice = booking_start - now
    return CancelTerms(
        late=notice < timedelta(hours=late_cancel_hours),
        hours_before=notice.total_seconds() / 3600,
    )


def check_reschedulable(
    schedule: WeeklySchedule,
    overrides: Iterable[DateOverride],
    session_type: SessionType,
    busy: Iterable[Busy],
    now: datetime,
    current_start: datetime,
    new_start: datetime,
) -> Slot:
    """The new slot for a booking moved from `current_start` to `new_start`.

    Only before the current start (`already_started`), then the same rules as a new booking.
    `busy` must not contain the booking being moved, or it would collide with itself.
    Whether a late move costs anything is `cancellation_terms(current_start, ...)`'s business.
    """
    current_start = require_aware(current_start, "current_start")
    _require_not_started(current_start, require_aware(now, "now"))
    return check_bookable(schedule, overrides, session_type, busy, now, new_start)
