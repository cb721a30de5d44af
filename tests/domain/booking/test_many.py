"""Slot search across counselors: a limited search is exactly the first page of the full one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rtserver.domain.booking import (
    CounselorAvailability,
    Weekday,
    WeeklySchedule,
    free_slots_many,
    occupied_span,
)

from .factories import hours, session_type, utc

ZONES = ["Asia/Jakarta", "Asia/Jayapura", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"]
NOW = utc(2026, 10, 20, 5)
RANGE = (utc(2026, 10, 20), utc(2026, 11, 3))  # across the European and American DST ends


def counselors(busy_every: int) -> dict[str, CounselorAvailability]:
    found = {}
    for index, zone in enumerate(ZONES):
        rules = session_type(slot_interval_minutes=30 + 15 * index)
        schedule = WeeklySchedule(
            zone,
            {Weekday(day): [hours("08:00", "12:00"), hours("13:00", "18:00")] for day in range(6)},
        )
        taken = free_slots_many({"x": CounselorAvailability(schedule, rules)}, NOW, *RANGE)[
            ::busy_every
        ]
        found[f"c{index}"] = CounselorAvailability(
            schedule, rules, busy=[occupied_span(item.slot.start, rules) for item in taken]
        )
    return found


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=2, max_value=7), st.integers(min_value=0, max_value=400))
def test_limit_is_the_first_page(busy_every: int, limit: int) -> None:
    inputs = counselors(busy_every)
    everything = free_slots_many(inputs, NOW, *RANGE)
    assert free_slots_many(inputs, NOW, *RANGE, limit=limit) == everything[:limit]
    starts = [(item.slot.start, item.counselor_id) for item in everything]
    assert starts == sorted(starts)
    assert all(item.slot.start >= NOW for item in everything)
    assert everything[-1].slot.start < RANGE[1]
