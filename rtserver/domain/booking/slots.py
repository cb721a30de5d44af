"""Bookable slots: which session starts a counselor offers, and whether one requested start is
bookable. Both apply the same rules, so every offered slot passes `check_bookable`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rtserver.domain.booking.errors import BookingRuleError
from rtserver.domain.booking.intervals import Busy, BusyIndex, Interval, Slot, require_aware
from rtserver.domain.booking.schedule import (
    DateOverride,
    WeeklySchedule,
    check_range,
    index_overrides,
    windows_around,
)
from rtserver.domain.booking.session_type import SessionType, occupied_span


def _aligned_starts(
    window: Interval, session_type: SessionType, earliest: datetime, latest: datetime
) -> Iterator[datetime]:
    """Starts `window.start + k * interval` in `[earliest, latest]` whose session fits the window.

    Steps are elapsed time, so a window crossing a DST change keeps its real spacing.
    """
    interval = session_type.slot_interval
    steps = max(0, -((window.start - earliest) // interval))
    start = window.start + steps * interval
    while start <= latest and start + session_type.duration <= window.end:
        yield start
        start += interval


def free_slots(
    schedule: WeeklySchedule,
    overrides: Iterable[DateOverride],
    session_type: SessionType,
    busy: Iterable[Busy],
    now: datetime,
    range_start: datetime,
    range_end: datetime,
) -> list[Slot]:
    """Bookable slots starting in `[range_start, range_end)`, sorted and unique.

    A slot starts on the slot interval counted from its availability window's start, lies
    wholly inside that window, starts no earlier than `now + min_notice` and no later than
    `now + booking_window`, and its occupied span (buffers included, which may reach outside
    availability) overlaps no busy interval.
    """
    now = require_aware(now, "now")
    range_start, range_end = check_range(range_start, range_end)
    earliest = max(range_start, now + session_type.min_notice)
    latest = min(range_end - timedelta.resolution, now + session_type.booking_window)
    if earliest > latest:
        return []
    taken = BusyIndex(busy)
    windows = windows_around(schedule, index_overrides(overrides), earliest, latest)
    slots: list[Slot] = []
    for window in windows:
        for start in _aligned_starts(window, session_type, earliest, latest):
            if not taken.overlaps(occupied_span(start, session_type)):
                slots.append(Slot(start, start + session_type.duration))
    return slots


def check_bookable(
    schedule: WeeklySchedule,
    overrides: Iterable[DateOverride],
    session_type: SessionType,
    busy: Iterable[Busy],
    now: datetime,
    start: datetime,
) -> Slot:
    """The slot starting at `start`, or `BookingRuleError` naming the first rule it breaks.

    Rules in order: `in_the_past`, `too_short_notice`, `beyond_booking_window`,
    `outside_availability`, `not_aligned`, `slot_taken`.
    """
    now = require_aware(now, "now")
    start = require_aware(start, "start")
    slot = Slot(start, start + session_type.duration)
    if start < now:
        raise BookingRuleError("in_the_past", "the requested start has passed")
    if start < now + session_type.min_notice:
        raise BookingRuleError(
            "too_short_notice",
            f"sessions must be booked at least {session_type.min_notice_minutes} minutes ahead",
        )
    if start > now + session_type.booking_window:
        raise BookingRuleError(
            "beyond_booking_window",
            f"sessions can be booked at most {session_type.booking_window_days} days ahead",
        )
    windows = windows_around(schedule, index_overrides(overrides), slot.start, slot.end)
    window = next((window for window in windows if window.contains(slot)), None)
    if window is None:
        raise BookingRuleError("outside_availability", "the counselor is not available then")
    if (start - window.start) % session_type.slot_interval:
        raise BookingRuleError(
            "not_aligned", f"sessions start every {session_type.slot_interval_minutes} minutes"
        )
    if BusyIndex(busy).overlaps(occupied_span(start, session_type)):
        raise BookingRuleError("slot_taken", "the counselor is already busy then")
    return slot


@dataclass(frozen=True)
class CounselorAvailability:
    """One counselor's inputs to `free_slots`."""

    schedule: WeeklySchedule
    session_type: SessionType
    overrides: Sequence[DateOverride] = ()
    busy: Sequence[Busy] = ()


@dataclass(frozen=True)
class CounselorSlot:
    counselor_id: str
    slot: Slot


def free_slots_many(
    counselors: Mapping[str, CounselorAvailability],
    now: datetime,
    range_start: datetime,
    range_end: datetime,
) -> list[CounselorSlot]:
    """Every counselor's free slots in one list, sorted by start, end, then counselor id."""
    found = [
        CounselorSlot(counselor_id, slot)
        for counselor_id, inputs in counselors.items()
        for slot in free_slots(
            inputs.schedule,
            inputs.overrides,
            inputs.session_type,
            inputs.busy,
            now,
            range_start,
            range_end,
        )
    ]
    return sorted(found, key=lambda item: (item.slot.start, item.slot.end, item.counselor_id))
