"""Schedules in their counselor's zone, across DST changes, shown in another viewer's zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rtserver.domain.booking import (
    DateOverride,
    Interval,
    LocalRange,
    Weekday,
    WeeklySchedule,
    availability_windows,
    free_slots,
    to_utc,
    to_viewer,
)

from .factories import hours, session_type, utc

BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = {weekday: [hours("09:00", "17:00")] for weekday in Weekday}


def test_jayapura_counselor_and_berlin_client_see_the_same_instant_across_dst() -> None:
    schedule = WeeklySchedule(
        "Asia/Jayapura",
        {Weekday.SATURDAY: [hours("16:00", "17:00")], Weekday.SUNDAY: [hours("16:00", "17:00")]},
    )
    kind = session_type(duration_minutes=60, buffer_after_minutes=0)

    saturday, sunday = free_slots(schedule, [], kind, [], utc(2026, 10, 1), *_days(24, 26))

    assert (saturday.start, sunday.start) == (utc(2026, 10, 24, 7), utc(2026, 10, 25, 7))
    for slot in (saturday, sunday):
        counselor_view = to_viewer(slot, "Asia/Jayapura")
        client_view = to_viewer(slot, "Europe/Berlin")
        assert counselor_view.start == client_view.start == slot.start
        assert counselor_view.start.time() == time(16)
        assert counselor_view.start.utcoffset() == timedelta(hours=9)
    before, after = to_viewer(saturday, BERLIN), to_viewer(sunday, BERLIN)
    assert (before.start.time(), before.start.utcoffset()) == (time(9), timedelta(hours=2))
    assert (after.start.time(), after.start.utcoffset()) == (time(8), timedelta(hours=1))
    assert after.end == datetime(2026, 10, 25, 9, tzinfo=BERLIN)


@pytest.mark.parametrize("change_day", [29, 25], ids=["spring-forward", "fall-back"])
def test_berlin_schedule_keeps_local_nine_oclock_across_dst_changes(change_day: int) -> None:
    month = 3 if change_day == 29 else 10
    schedule = WeeklySchedule("Europe/Berlin", EVERY_DAY)
    kind = session_type(duration_minutes=60, buffer_after_minutes=0)
    range_start = datetime(2026, month, change_day - 1, tzinfo=BERLIN)

    slots = free_slots(
        schedule, [], kind, [], utc(2026, month, 1), range_start, range_start + timedelta(days=3)
    )

    by_day: dict[date, list[time]] = {}
    for slot in slots:
        local = to_viewer(slot, BERLIN).start
        by_day.setdefault(local.date(), []).append(local.time())
    assert list(by_day) == [date(2026, month, change_day + offset) for offset in (-1, 0, 1)]
    assert all(times == [time(hour) for hour in range(9, 17)] for times in by_day.values())
    offsets = {slot.start.astimezone(BERLIN).utcoffset() for slot in slots}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 3, 29, 1, 59), utc(2026, 3, 29, 0, 59)),
        (datetime(2026, 3, 29, 2, 0), utc(2026, 3, 29, 1)),
        (datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1)),
        (datetime(2026, 3, 29, 3, 0), utc(2026, 3, 29, 1)),
        (datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),
        (datetime(2026, 10, 25, 3, 0), utc(2026, 10, 25, 2)),
    ],
    ids=["before-gap", "gap-start", "in-gap", "gap-end", "repeated", "after-fold"],
)
def test_wall_times_resolve_to_the_earliest_instant_and_gaps_forward(
    local: datetime, expected: datetime
) -> None:
    assert to_utc(local, BERLIN) == expected


@pytest.mark.parametrize(
    ("day", "local_range", "expected"),
    [
        (date(2026, 3, 29), hours("01:00", "04:00"), [(utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))]),
        (date(2026, 3, 29), hours("02:30", "04:00"), [(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))]),
        (date(2026, 3, 29), hours("02:15", "02:45"), []),
        (
            date(2026, 10, 25),
            hours("01:00", "04:00"),
            [(utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))],
        ),
        (
            date(2026, 10, 25),
            hours("02:30", "04:00"),
            [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3))],
        ),
    ],
)
def test_night_ranges_on_dst_change_days(
    day: date, local_range: LocalRange, expected: list[tuple[datetime, datetime]]
) -> None:
    schedule = WeeklySchedule("Europe/Berlin")
    override = DateOverride(day, [local_range])
    range_start = datetime.combine(day, time(0), tzinfo=BERLIN)

    windows = availability_windows(
        schedule, [override], range_start, range_start + timedelta(days=1)
    )

    assert windows == [Interval(start, end) for start, end in expected]


def test_a_night_window_across_fall_back_steps_in_elapsed_time() -> None:
    schedule = WeeklySchedule("Europe/Berlin")
    override = DateOverride(date(2026, 10, 25), [hours("01:00", "04:00")])
    kind = session_type(duration_minutes=60, buffer_after_minutes=0)

    slots = free_slots(schedule, [override], kind, [], utc(2026, 10, 1), *_days(24, 26))

    labels = [to_viewer(slot, BERLIN).start.strftime("%H:%M%z") for slot in slots]
    assert labels == ["01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100"]


def _days(first: int, last: int) -> tuple[datetime, datetime]:
    return utc(2026, 10, first), utc(2026, 10, last)
