"""Bookable slots: which session starts a counselor offers, and whether one requested start is
bookable. Both apply the same rules, so every offered slot passes `check_bookable`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

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
    last_start = window.end - session_type.duration
    steps = max(0, -((window.start - earliest) // interval))
    start = window.start + steps * interval
    while start <= latest and start <= last_start:
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
    duration = session_type.duration
    before, after = session_type.buffer_before, session_type.buffer_after
    slots: list[Slot] = []
    for window in windows:
        for start in _aligned_starts(window, session_type, earliest, latest):
            end = start + duration
            # The same span as `occupied_span(start, session_type)`, without building it.
            if not taken.overlaps_between(start - before, end + after):
                slots.append(Slot(start, end))
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


def _order(item: CounselorSlot) -> tuple[datetime, datetime, str]:
    return (item.slot.start, item.slot.end, item.counselor_id)


_CHUNK = timedelta(days=1)


def _day_by_day(
    counselor_id: str,
    inputs: CounselorAvailability,
    now: datetime,
    range_start: datetime,
    range_end: datetime,
) -> Iterator[CounselorSlot]:
    """`free_slots` over the range a day at a time, so a caller that stops early stops
    computing. Slots are chosen by their start, so chunking the range changes nothing."""
    chunk_start = range_start
    while chunk_start < range_end:
        chunk_end = min(chunk_start + _CHUNK, range_end)
        for slot in _all_free(inputs, now, chunk_start, chunk_end):
            yield CounselorSlot(counselor_id, slot)
        chunk_start = chunk_end


def free_slots_many(
    counselors: Mapping[str, CounselorAvailability],
    now: datetime,
    range_start: datetime,
    range_end: datetime,
    limit: int | None = None,
) -> list[CounselorSlot]:
    """Every counselor's free slots in one list, sorted by start, end, then counselor id.

    With `limit`, only the first `limit` of them: each counselor's slots are produced in order
    a day at a time and merged, so later days are only computed when they are needed.
    """
    range_start, range_end = check_range(range_start, range_end)
    if limit is None:
        everything = [
            [
                CounselorSlot(counselor_id, slot)
                for slot in _all_free(inputs, now, range_start, range_end)
            ]
            for counselor_id, inputs in counselors.items()
        ]
        return list(heapq.merge(*everything, key=_order))
    lazily = [
        _day_by_day(counselor_id, inputs, now, range_start, range_end)
        for counselor_id, inputs in counselors.items()
    ]
    return list(islice(heapq.merge(*lazily, key=_order), limit))


def _all_free(
    inputs: CounselorAvailability, now: datetime, range_start: datetime, range_end: datetime
) -> list[Slot]:
    return free_slots(
        inputs.schedule,
        inputs.overrides,
        inputs.session_type,
        inputs.busy,
        now,
        range_start,
        range_end,
    )
