"""Invariants of slot generation over random schedules, zones, busy spans and session types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from rtserver.domain.booking import (
    BookingRuleError,
    Busy,
    DateOverride,
    LocalRange,
    SessionType,
    Weekday,
    WeeklySchedule,
    availability_windows,
    check_bookable,
    free_slots,
    occupied_span,
    to_utc,
    to_viewer,
)

# Zones with DST (30-minute DST on Lord Howe, midnight changes in Santiago) and without.
ZONES = [
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "Asia/Kathmandu",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
]
# Wall times where 2026 DST changes begin in the zones above (gaps and folds).
DST_CHANGES = [
    ("Europe/Berlin", datetime(2026, 3, 29, 2)),
    ("Europe/Berlin", datetime(2026, 10, 25, 2)),
    ("America/New_York", datetime(2026, 3, 8, 2)),
    ("America/New_York", datetime(2026, 11, 1, 1)),
    ("America/Santiago", datetime(2026, 4, 4, 23)),
    ("America/Santiago", datetime(2026, 9, 6, 0)),
    ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 30)),
    ("Australia/Lord_Howe", datetime(2026, 10, 4, 2)),
]
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None)


def _wall(minute: int) -> time:
    return time(0) if minute == 24 * 60 else time(minute // 60, minute % 60)


@st.composite
def day_ranges(draw: st.DrawFn) -> list[LocalRange]:
    """Up to three disjoint ranges on 5-minute marks, sometimes touching."""
    marks = sorted(draw(st.lists(st.integers(0, 288), max_size=6)))
    pairs = zip(marks[::2], marks[1::2], strict=False)
    return [LocalRange(_wall(a * 5), _wall(b * 5)) for a, b in pairs if a < b]


@st.composite
def zoned_wall_times(draw: st.DrawFn, spread: timedelta) -> tuple[str, datetime]:
    """A zone and a naive wall time: anywhere in 2026, or within `spread` of a DST change."""
    if draw(st.booleans()):
        zone, change = draw(st.sampled_from(DST_CHANGES))
        minutes = int(spread.total_seconds() // 60)
        return zone, change + timedelta(minutes=draw(st.integers(-minutes, minutes)))
    return draw(st.sampled_from(ZONES)), draw(
        st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1))
    )


@dataclass(frozen=True)
class Scenario:
    schedule: WeeklySchedule
    overrides: list[DateOverride]
    session_type: SessionType
    busy: list[Busy]
    now: datetime
    range_start: datetime
    range_end: datetime


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone, near = draw(zoned_wall_times(spread=timedelta(days=2)))
    schedule = WeeklySchedule(zone, {weekday: draw(day_ranges()) for weekday in Weekday})
    range_start = near.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    range_end = range_start + timedelta(minutes=draw(st.integers(1, 4 * 24 * 60)))
    first_day = range_start.date() - timedelta(days=1)
    override_days = draw(st.sets(st.integers(0, 6), max_size=3))
    overrides = [
        DateOverride(first_day + timedelta(days=offset), draw(day_ranges()))
        for offset in override_days
    ]
    session_type = SessionType(
        duration_minutes=draw(st.sampled_from([15, 30, 45, 50, 60, 90])),
        slot_interval_minutes=draw(st.sampled_from([5, 15, 20, 30, 45, 60, 90])),
        buffer_before_minutes=draw(st.integers(0, 30)),
        buffer_after_minutes=draw(st.integers(0, 30)),
        min_notice_minutes=draw(st.integers(0, 2 * 24 * 60)),
        booking_window_days=draw(st.integers(1, 5)),
        price_minor=0,
        currency="IDR",
    )
    busy = [
        Busy(start, start + timedelta(minutes=length))
        for start, length in draw(
            st.lists(
                st.tuples(
                    st.integers(-24 * 60, 5 * 24 * 60).map(
                        lambda minute: range_start + timedelta(minutes=minute)
                    ),
                    st.integers(1, 300),
                ),
                max_size=8,
            )
        )
    ]
    now = range_start + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 2 * 24 * 60)))
    return Scenario(schedule, overrides, session_type, busy, now, range_start, range_end)


@PROPERTY_SETTINGS
@given(scenarios())
def test_free_slots_obey_every_rule_and_check_bookable_agrees(scenario: Scenario) -> None:
    schedule, overrides, kind, busy = (
        scenario.schedule,
        scenario.overrides,
        scenario.session_type,
        scenario.busy,
    )
    now, range_start, range_end = scenario.now, scenario.range_start, scenario.range_end

    slots = free_slots(schedule, overrides, kind, busy, now, range_start, range_end)
    windows = availability_windows(
        schedule, overrides, range_start - timedelta(days=1), range_end + timedelta(days=1)
    )

    assert [slot.start for slot in slots] == sorted({slot.start for slot in slots})
    for before, after in pairwise(windows):
        assert before.end <= after.start
    for slot in slots:
        assert slot.end - slot.start == kind.duration
        assert range_start <= slot.start < range_end
        assert now + kind.min_notice <= slot.start <= now + kind.booking_window
        window = next(window for window in windows if window.contains(slot))
        assert (slot.start - window.start) % kind.slot_interval == timedelta(0)
        span = occupied_span(slot.start, kind)
        assert not any(span.overlaps(taken) for taken in busy)
        assert check_bookable(schedule, overrides, kind, busy, now, slot.start) == slot
        off_grid = slot.start + timedelta(minutes=1)
        try:
            check_bookable(schedule, overrides, kind, busy, now, off_grid)
        except BookingRuleError:
            pass
        else:
            raise AssertionError(f"{off_grid} is off the slot grid but was accepted")

    offered = {slot.start for slot in slots}
    for window in windows:
        start = window.start
        while start + kind.duration <= window.end:
            if range_start <= start < range_end and start not in offered:
                try:
                    check_bookable(schedule, overrides, kind, busy, now, start)
                except BookingRuleError:
                    pass
                else:
                    raise AssertionError(f"{start} is bookable but was not offered")
            start += kind.slot_interval


@PROPERTY_SETTINGS
@given(zoned_wall_times(spread=timedelta(hours=3)), st.integers(0, 6 * 60))
def test_wall_times_map_to_instants_without_going_backwards(
    zoned: tuple[str, datetime], minutes_later: int
) -> None:
    zone, local = ZoneInfo(zoned[0]), zoned[1]
    later = local + timedelta(minutes=minutes_later)

    instant = to_utc(local, zone)

    assert instant <= to_utc(later, zone)
    shown = instant.astimezone(zone).replace(tzinfo=None)
    if shown != local:
        skipped = local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        assert skipped != local
        assert shown > local


@PROPERTY_SETTINGS
@given(st.sampled_from(ZONES), st.sampled_from(ZONES), st.dates(date(2026, 1, 1)))
def test_to_viewer_keeps_the_instant(counselor: str, viewer: str, day: date) -> None:
    schedule = WeeklySchedule(
        counselor, {weekday: [LocalRange(time(0), time(0))] for weekday in Weekday}
    )
    windows = availability_windows(
        schedule,
        [],
        datetime.combine(day, time(12), tzinfo=UTC),
        datetime.combine(day, time(13), tzinfo=UTC),
    )

    for window in windows:
        shown = to_viewer(window, viewer)
        assert (shown.start, shown.end) == (window.start, window.end)
        assert shown.start.tzinfo == ZoneInfo(viewer)
