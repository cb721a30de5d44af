from __future__ import annotations

from datetime import datetime

import pytest

from rtserver.domain.booking import (
    BookingRuleError,
    CancelTerms,
    InvalidBookingInput,
    Slot,
    Weekday,
    WeeklySchedule,
    cancellation_terms,
    check_reschedulable,
    occupied_span,
)

from .factories import hours, session_type, utc

START = utc(2026, 6, 1, 3)


@pytest.mark.parametrize(
    ("now", "terms"),
    [
        (utc(2026, 5, 30, 3), CancelTerms(late=False, hours_before=48.0)),
        (utc(2026, 5, 31, 3), CancelTerms(late=False, hours_before=24.0)),
        (utc(2026, 5, 31, 3, 30), CancelTerms(late=True, hours_before=23.5)),
        (utc(2026, 6, 1, 2, 59), CancelTerms(late=True, hours_before=1 / 60)),
    ],
)
def test_cancelling_inside_the_late_period_is_late(now: datetime, terms: CancelTerms) -> None:
    assert cancellation_terms(START, now, late_cancel_hours=24) == terms


@pytest.mark.parametrize("now", [START, utc(2026, 6, 1, 4)])
def test_a_started_session_cannot_be_cancelled(now: datetime) -> None:
    with pytest.raises(BookingRuleError, check=lambda error: error.code == "already_started"):
        cancellation_terms(START, now, 24)


def test_a_negative_late_period_is_refused() -> None:
    with pytest.raises(InvalidBookingInput, check=lambda error: error.code == "invalid_policy"):
        cancellation_terms(START, utc(2026, 5, 1), -1)


SCHEDULE = WeeklySchedule("Asia/Jakarta", {Weekday.MONDAY: [hours("09:00", "12:00")]})


def test_rescheduling_applies_booking_rules_to_the_new_start() -> None:
    kind = session_type()
    other = occupied_span(utc(2026, 6, 1, 4), kind)
    now = utc(2026, 5, 25)

    moved = check_reschedulable(SCHEDULE, [], kind, [], now, START, utc(2026, 6, 1, 2))

    assert moved == Slot(utc(2026, 6, 1, 2), utc(2026, 6, 1, 2, 50))
    with pytest.raises(BookingRuleError, check=lambda error: error.code == "slot_taken"):
        check_reschedulable(SCHEDULE, [], kind, [other], now, START, utc(2026, 6, 1, 4))
    with pytest.raises(BookingRuleError, check=lambda error: error.code == "not_aligned"):
        check_reschedulable(SCHEDULE, [], kind, [], now, START, utc(2026, 6, 1, 2, 15))


def test_a_started_session_cannot_be_rescheduled() -> None:
    later = utc(2026, 6, 8, 2)
    with pytest.raises(BookingRuleError, check=lambda error: error.code == "already_started"):
        check_reschedulable(SCHEDULE, [], session_type(), [], START, START, later)
