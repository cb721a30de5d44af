from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rtserver.domain.booking import (
    BookingRuleError,
    Busy,
    CounselorAvailability,
    CounselorSlot,
    DateOverride,
    Slot,
    Weekday,
    WeeklySchedule,
    check_bookable,
    free_slots,
    free_slots_many,
    occupied_span,
)

from .factories import hours, session_type, utc

JAKARTA = WeeklySchedule("Asia/Jakarta", {Weekday.MONDAY: [hours("09:00", "12:00")]})
MONDAY = date(2026, 6, 1)
EARLY = utc(2026, 5, 25)
WEEK = (utc(2026, 5, 31), utc(2026, 6, 7))


def starts(slots: list[Slot]) -> list[datetime]:
    return [slot.start for slot in slots]


def test_monday_morning_in_jakarta_gives_three_utc_slots() -> None:
    slots = free_slots(JAKARTA, [], session_type(), [], EARLY, *WEEK)

    assert slots == [
        Slot(utc(2026, 6, 1, 2), utc(2026, 6, 1, 2, 50)),
        Slot(utc(2026, 6, 1, 3), utc(2026, 6, 1, 3, 50)),
        Slot(utc(2026, 6, 1, 4), utc(2026, 6, 1, 4, 50)),
    ]


def test_a_session_must_lie_inside_availability_but_its_buffers_need_not() -> None:
    longer = session_type(duration_minutes=60, buffer_before_minutes=15, buffer_after_minutes=15)

    slots = free_slots(JAKARTA, [], longer, [], EARLY, *WEEK)

    assert starts(slots) == [utc(2026, 6, 1, 2), utc(2026, 6, 1, 3), utc(2026, 6, 1, 4)]


def test_a_slot_interval_finer_than_the_duration_offers_overlapping_starts() -> None:
    slots = free_slots(JAKARTA, [], session_type(slot_interval_minutes=30), [], EARLY, *WEEK)

    assert [slot.start.astimezone(JAKARTA.zone).strftime("%H:%M") for slot in slots] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
    ]


def test_a_day_off_override_removes_the_day() -> None:
    assert free_slots(JAKARTA, [DateOverride(MONDAY)], session_type(), [], EARLY, *WEEK) == []


def test_an_override_replaces_the_hours_or_adds_a_day() -> None:
    overrides = [
        DateOverride(MONDAY, [hours("14:00", "16:00")]),
        DateOverride(date(2026, 6, 2), [hours("19:00", "20:00")]),
    ]

    slots = free_slots(JAKARTA, overrides, session_type(), [], EARLY, *WEEK)

    assert starts(slots) == [utc(2026, 6, 1, 7), utc(2026, 6, 1, 8), utc(2026, 6, 2, 12)]


def test_touching_ranges_merge_so_a_session_may_span_them() -> None:
    schedule = WeeklySchedule(
        "Asia/Jakarta", {Weekday.MONDAY: [hours("09:00", "09:30"), hours("09:30", "10:00")]}
    )

    slots = free_slots(schedule, [], session_type(), [], EARLY, *WEEK)

    assert starts(slots) == [utc(2026, 6, 1, 2)]


def test_minimum_notice_cuts_off_early_slots_inclusively() -> None:
    notice = session_type(min_notice_minutes=60)

    assert starts(free_slots(JAKARTA, [], notice, [], utc(2026, 6, 1, 1), *WEEK)) == [
        utc(2026, 6, 1, 2),
        utc(2026, 6, 1, 3),
        utc(2026, 6, 1, 4),
    ]
    assert starts(free_slots(JAKARTA, [], notice, [], utc(2026, 6, 1, 1, 1), *WEEK)) == [
        utc(2026, 6, 1, 3),
        utc(2026, 6, 1, 4),
    ]


def test_booking_window_cuts_off_late_slots_inclusively() -> None:
    one_day = session_type(booking_window_days=1)

    slots = free_slots(JAKARTA, [], one_day, [], utc(2026, 5, 31, 3), *WEEK)

    assert starts(slots) == [utc(2026, 6, 1, 2), utc(2026, 6, 1, 3)]


def test_only_slots_starting_inside_the_range_are_returned() -> None:
    slots = free_slots(JAKARTA, [], session_type(), [], EARLY, utc(2026, 6, 1, 2, 1), WEEK[1])

    assert starts(slots) == [utc(2026, 6, 1, 3), utc(2026, 6, 1, 4)]


def test_a_busy_booking_removes_the_slots_its_span_touches_including_buffers() -> None:
    kind = session_type(buffer_before_minutes=10)
    existing = occupied_span(utc(2026, 6, 1, 3), session_type())

    slots = free_slots(JAKARTA, [], kind, [existing], EARLY, *WEEK)

    assert existing == Busy(utc(2026, 6, 1, 3), utc(2026, 6, 1, 4))
    assert starts(slots) == [utc(2026, 6, 1, 2)]


def test_a_busy_span_ending_where_a_slot_begins_does_not_block_it() -> None:
    block = Busy(utc(2026, 6, 1, 1), utc(2026, 6, 1, 2))

    slots = free_slots(JAKARTA, [], session_type(), [block], EARLY, *WEEK)

    assert starts(slots)[0] == utc(2026, 6, 1, 2)


def test_a_short_block_removes_both_slots_around_it() -> None:
    block = Busy(utc(2026, 6, 1, 2, 55), utc(2026, 6, 1, 3, 5))

    slots = free_slots(JAKARTA, [], session_type(), [block], EARLY, *WEEK)

    assert starts(slots) == [utc(2026, 6, 1, 4)]


@pytest.mark.parametrize(
    ("now", "start", "busy", "code"),
    [
        (utc(2026, 6, 1, 3), utc(2026, 6, 1, 2), [], "in_the_past"),
        (utc(2026, 6, 1, 1, 30), utc(2026, 6, 1, 2), [], "too_short_notice"),
        (utc(2026, 3, 1), utc(2026, 6, 1, 2), [], "beyond_booking_window"),
        (EARLY, utc(2026, 6, 1, 4, 30), [], "outside_availability"),
        (EARLY, utc(2026, 6, 2, 2), [], "outside_availability"),
        (EARLY, utc(2026, 6, 1, 2, 30), [], "not_aligned"),
        (EARLY, utc(2026, 6, 1, 3), [Busy(utc(2026, 6, 1, 2), utc(2026, 6, 1, 3))], "slot_taken"),
        (
            EARLY,
            utc(2026, 6, 1, 3),
            [Busy(utc(2026, 6, 1, 3, 55), utc(2026, 6, 1, 5))],
            "slot_taken",
        ),
    ],
)
def test_check_bookable_names_the_broken_rule(
    now: datetime, start: datetime, busy: list[Busy], code: str
) -> None:
    kind = session_type(min_notice_minutes=60, buffer_before_minutes=5)

    with pytest.raises(BookingRuleError) as raised:
        check_bookable(JAKARTA, [], kind, busy, now, start)

    assert raised.value.code == code


def test_check_bookable_returns_the_slot_and_accepts_other_zones_for_the_start() -> None:
    start = datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Asia/Jakarta"))

    slot = check_bookable(JAKARTA, [], session_type(), [], EARLY, start)

    assert slot == Slot(utc(2026, 6, 1, 3), utc(2026, 6, 1, 3, 50))
    assert slot.start.tzinfo is UTC


def test_free_slots_many_merges_counselors_sorted_by_start_then_id() -> None:
    makassar = WeeklySchedule("Asia/Makassar", {Weekday.MONDAY: [hours("10:00", "12:00")]})
    counselors = {
        "c-jkt": CounselorAvailability(JAKARTA, session_type()),
        "b-mks": CounselorAvailability(
            makassar, session_type(), busy=[Busy(utc(2026, 6, 1, 3), utc(2026, 6, 1, 4))]
        ),
        "a-mks": CounselorAvailability(makassar, session_type(duration_minutes=30)),
    }

    found = free_slots_many(counselors, EARLY, *WEEK)

    two, three, four = (utc(2026, 6, 1, hour) for hour in (2, 3, 4))
    minutes = timedelta(minutes=1)
    assert found == [
        CounselorSlot("a-mks", Slot(two, two + 30 * minutes)),
        CounselorSlot("b-mks", Slot(two, two + 50 * minutes)),
        CounselorSlot("c-jkt", Slot(two, two + 50 * minutes)),
        CounselorSlot("a-mks", Slot(three, three + 30 * minutes)),
        CounselorSlot("c-jkt", Slot(three, three + 50 * minutes)),
        CounselorSlot("c-jkt", Slot(four, four + 50 * minutes)),
    ]
