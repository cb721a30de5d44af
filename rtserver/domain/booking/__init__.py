"""Booking rules: counselor schedules in their own time zone, bookable UTC slots, and the
cancellation and reschedule policy. Pure: `now` is always a parameter.
"""

from rtserver.domain.booking.display import LocalSlot, to_viewer
from rtserver.domain.booking.errors import (
    BookingError,
    BookingRuleError,
    InputCode,
    InvalidBookingInput,
    RuleCode,
)
from rtserver.domain.booking.intervals import Busy, Interval, Slot
from rtserver.domain.booking.policy import CancelTerms, cancellation_terms, check_reschedulable
from rtserver.domain.booking.schedule import (
    DateOverride,
    LocalRange,
    Weekday,
    WeeklySchedule,
    availability_windows,
    to_utc,
)
from rtserver.domain.booking.session_type import SessionType, occupied_span
from rtserver.domain.booking.slots import (
    CounselorAvailability,
    CounselorSlot,
    check_bookable,
    free_slots,
    free_slots_many,
)

__all__ = [
    "BookingError",
    "BookingRuleError",
    "Busy",
    "CancelTerms",
    "CounselorAvailability",
    "CounselorSlot",
    "DateOverride",
    "InputCode",
    "Interval",
    "InvalidBookingInput",
    "LocalRange",
    "LocalSlot",
    "RuleCode",
    "SessionType",
    "Slot",
    "Weekday",
    "WeeklySchedule",
    "availability_windows",
    "cancellation_terms",
    "check_bookable",
    "check_reschedulable",
    "free_slots",
    "free_slots_many",
    "occupied_span",
    "to_utc",
    "to_viewer",
]
