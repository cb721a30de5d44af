"""Errors of the booking domain: a requested time that breaks a rule, or malformed rule inputs."""

from __future__ import annotations

from typing import Literal

RuleCode = Literal[
    "outside_availability",
    "in_the_past",
    "too_short_notice",
    "beyond_booking_window",
    "slot_taken",
    "not_aligned",
    "already_started",
]

InputCode = Literal[
    "invalid_schedule",
    "invalid_session_type",
    "invalid_interval",
    "invalid_range",
    "invalid_policy",
    "invalid_time_zone",
    "naive_datetime",
]


class BookingError(ValueError):
    """Base of the booking domain's errors; `code` is a stable snake_case string."""

    code: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BookingRuleError(BookingError):
    """A requested start (booking or reschedule) breaks a booking rule."""

    def __init__(self, code: RuleCode, message: str) -> None:
        super().__init__(code, message)
        self.code: RuleCode = code


class InvalidBookingInput(BookingError):
    """A schedule, session type, interval or query that the rules cannot work with."""

    def __init__(self, code: InputCode, message: str) -> None:
        super().__init__(code, message)
        self.code: InputCode = code
