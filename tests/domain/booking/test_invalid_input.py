from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from rtserver.domain.booking import (
    Busy,
    DateOverride,
    InvalidBookingInput,
    LocalRange,
    Weekday,
    WeeklySchedule,
    availability_windows,
    free_slots,
    to_viewer,
)

from .factories import hours, session_type, utc


def _raises(code: str) -> pytest.RaisesExc[InvalidBookingInput]:
    return pytest.raises(InvalidBookingInput, check=lambda error: error.code == code)


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with _raises("invalid_schedule"):
        LocalRange(time(12), time(9))
    with _raises("invalid_schedule"):
        LocalRange(time(9), time(9))


def test_a_range_may_end_at_midnight() -> None:
    assert hours("20:00", "24:00") == LocalRange(time(20), time(0))


@pytest.mark.parametrize(
    "ranges",
    [
        [hours("09:00", "12:00"), hours("11:00", "13:00")],
        [hours("09:00", "12:00"), hours("10:00", "11:00")],
        [hours("20:00", "24:00"), hours("21:00", "22:00")],
    ],
)
def test_overlapping_ranges_are_refused_weekly_and_on_overrides(ranges: list[LocalRange]) -> None:
    with _raises("invalid_schedule"):
        WeeklySchedule("Asia/Jakarta", {Weekday.MONDAY: ranges})
    with _raises("invalid_schedule"):
        DateOverride(date(2026, 6, 1), ranges)


@pytest.mark.parametrize("zone", ["Asia/Nowhere", "", "../etc/passwd", "WIB", "Asia", "zone.tab"])
def test_an_unknown_time_zone_is_refused(zone: str) -> None:
    with _raises("invalid_schedule"):
        WeeklySchedule(zone)
    with _raises("invalid_time_zone"):
        to_viewer(Busy(utc(2026, 1, 1), utc(2026, 1, 2)), zone)


def test_an_unknown_weekday_is_refused() -> None:
    with _raises("invalid_schedule"):
        WeeklySchedule("Asia/Jakarta", {7: [hours("09:00", "10:00")]})  # type: ignore[dict-item]


def test_two_overrides_for_one_date_are_refused() -> None:
    overrides = [DateOverride(date(2026, 6, 1)), DateOverride(date(2026, 6, 1))]
    with _raises("invalid_schedule"):
        availability_windows(
            WeeklySchedule("Asia/Jakarta"), overrides, utc(2026, 6, 1), utc(2026, 6, 2)
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"duration_minutes": 0},
        {"duration_minutes": -50},
        {"duration_minutes": 50.5},
        {"slot_interval_minutes": 0},
        {"buffer_before_minutes": -1},
        {"buffer_after_minutes": -1},
        {"min_notice_minutes": -1},
        {"booking_window_days": 0},
        {"booking_window_days": 367},
        {"price_minor": -1},
        {"currency": "rupiah"},
        {"duration_minutes": True},
    ],
)
def test_bad_session_types_are_refused(changes: dict[str, Any]) -> None:
    with _raises("invalid_session_type"):
        session_type(**changes)


def test_intervals_need_aware_ordered_instants() -> None:
    with _raises("invalid_interval"):
        Busy(utc(2026, 1, 2), utc(2026, 1, 1))
    with _raises("naive_datetime"):
        Busy(datetime(2026, 1, 1), utc(2026, 1, 2))


def test_queries_need_an_aware_nonempty_range() -> None:
    schedule = WeeklySchedule("Asia/Jakarta")
    with _raises("invalid_range"):
        free_slots(
            schedule, [], session_type(), [], utc(2026, 1, 1), utc(2026, 2, 1), utc(2026, 2, 1)
        )
    with _raises("naive_datetime"):
        free_slots(
            schedule, [], session_type(), [], datetime(2026, 1, 1), utc(2026, 2, 1), utc(2026, 3, 1)
        )
    with _raises("invalid_range"):
        availability_windows(schedule, [], utc(2026, 1, 1), utc(2028, 1, 1))
