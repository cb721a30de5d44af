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
from rtserver.domain.booking.lifecycle import (
    LIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStateError,
    BookingStatus,
    EventKind,
    Party,
    StateCode,
)
from rtserver.domain.booking.policy import CancelTerms, cancellation_terms, check_reschedulable
from rtserver.domain.booking.schedule import (
    DateOverride,
    LocalRange,
    Weekday,
    WeeklySchedule,
    availability_windows,
    to_utc,
)
from rtserver.domain.booking.session_type import OfferedSessionType, SessionType, occupied_span
from rtserver.domain.booking.slots import (
    CounselorAvailability,
    CounselorSlot,
    check_bookable,
    free_slots,
    free_slots_many,
)

__all__ = [
    "LIVE_STATUSES",
    "Booking",
    "BookingError",
    "BookingEvent",
    "BookingRuleError",
    "BookingStateError",
    "BookingStatus",
    "Busy",
    "CancelTerms",
    "CounselorAvailability",
    "CounselorSlot",
    "DateOverride",
    "EventKind",
    "InputCode",
    "Interval",
    "InvalidBookingInput",
    "LocalRange",
    "LocalSlot",
    "OfferedSessionType",
    "Party",
    "RuleCode",
    "SessionType",
    "Slot",
    "StateCode",
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
