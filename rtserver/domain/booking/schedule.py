"""A counselor's weekly hours and date overrides, and their expansion into UTC windows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from itertools import pairwise
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rtserver.domain.booking.errors import InvalidBookingInput
from rtserver.domain.booking.intervals import Interval, require_aware

MAX_RANGE = timedelta(days=400)
_MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)
_RESOLUTION = timedelta(microseconds=1)


class Weekday(IntEnum):
    """Numbered like `date.weekday()`."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@dataclass(frozen=True, order=True)
class LocalRange:
    """Wall-clock hours `[start, end)` within one local day; `end == time(0)` means 24:00."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidBookingInput("invalid_schedule", "range times must be naive wall times")
        if self.end != _MIDNIGHT and self.end <= self.start:
            raise InvalidBookingInput(
                "invalid_schedule", f"range {self.start}-{self.end} does not end after it starts"
            )

    def on(self, day: date) -> tuple[datetime, datetime]:
        """Naive local start and end of this range on `day`."""
        end_day = day + _ONE_DAY if self.end == _MIDNIGHT else day
        return datetime.combine(day, self.start), datetime.combine(end_day, self.end)


def _disjoint(ranges: Iterable[LocalRange], where: str) -> tuple[LocalRange, ...]:
    ordered = tuple(sorted(ranges))
    for before, after in pairwise(ordered):
        if before.end == _MIDNIGHT or after.start < before.end:
            raise InvalidBookingInput(
                "invalid_schedule",
                f"{where}: {before.start}-{before.end} overlaps {after.start}-{after.end}",
            )
    return ordered


def load_zone(
    key: str, code: Literal["invalid_schedule", "invalid_time_zone"] = "invalid_time_zone"
) -> ZoneInfo:
    """The IANA zone named `key`; unknown or malformed names raise `InvalidBookingInput`."""
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidBookingInput(code, f"unknown time zone {key!r}") from exc


@dataclass(frozen=True)
class WeeklySchedule:
    """A counselor's IANA time zone and their recurring hours per weekday (absent = off)."""

    time_zone: str
    week: Mapping[Weekday, Sequence[LocalRange]] = field(default_factory=dict, hash=False)
    zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", load_zone(self.time_zone, "invalid_schedule"))
        week: dict[Weekday, tuple[LocalRange, ...]] = {}
        for key, ranges in self.week.items():
            try:
                weekday = Weekday(key)
            except ValueError as exc:
                raise InvalidBookingInput("invalid_schedule", f"unknown weekday {key!r}") from exc
            week[weekday] = _disjoint(ranges, weekday.name.lower())
        object.__setattr__(self, "week", MappingProxyType(week))

    def ranges_on(self, weekday: Weekday) -> Sequence[LocalRange]:
        return self.week.get(weekday, ())


@dataclass(frozen=True)
class DateOverride:
    """Replaces the weekly hours on one local date: other hours, or a day off when empty."""

    day: date
    ranges: Sequence[LocalRange] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranges", _disjoint(self.ranges, self.day.isoformat()))


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The earliest instant at which clocks in `zone` show the naive wall time `local`.

    A repeated wall time (autumn fold) resolves to its first occurrence (`fold=0`). A wall time
    skipped by a spring-forward gap resolves forward to the instant the gap ends, so the mapping
    never goes backwards: a range starting inside the gap begins when clocks reach its end.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first <= second:
        return first
    # In a gap fold=1 applies the offset after the transition, landing before it, and fold=0
    # the offset before it, landing after it: the transition lies in (second, first].
    before_offset = second.astimezone(zone).utcoffset()
    low, high = second, first
    while high - low > _RESOLUTION:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == before_offset:
            low = middle
        else:
            high = middle
    return high


def _day_windows(
    schedule: WeeklySchedule, overrides: Mapping[date, DateOverride], day: date
) -> list[Interval]:
    override = overrides.get(day)
    ranges = override.ranges if override is not None else schedule.ranges_on(Weekday(day.weekday()))
    merged: list[tuple[datetime, datetime]] = []
    for local_range in ranges:
        start, end = local_range.on(day)
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    windows = []
    for start, end in merged:
        utc_start, utc_end = to_utc(start, schedule.zone), to_utc(end, schedule.zone)
        if utc_start < utc_end:
            windows.append(Interval(utc_start, utc_end))
    return windows


def index_overrides(overrides: Iterable[DateOverride]) -> Mapping[date, DateOverride]:
    by_day: dict[date, DateOverride] = {}
    for override in overrides:
        if override.day in by_day:
            raise InvalidBookingInput(
                "invalid_schedule", f"two overrides for {override.day.isoformat()}"
            )
        by_day[override.day] = override
    return by_day


def windows_around(
    schedule: WeeklySchedule,
    overrides: Mapping[date, DateOverride],
    first: datetime,
    last: datetime,
) -> list[Interval]:
    """Whole windows of every local day that can overlap `[first, last]`, sorted."""
    day = first.astimezone(schedule.zone).date() - _ONE_DAY
    last_day = last.astimezone(schedule.zone).date() + _ONE_DAY
    windows: list[Interval] = []
    while day <= last_day:
        windows.extend(_day_windows(schedule, overrides, day))
        day += _ONE_DAY
    return windows


def check_range(range_start: datetime, range_end: datetime) -> tuple[datetime, datetime]:
    start = require_aware(range_start, "range_start")
    end = require_aware(range_end, "range_end")
    if start >= end:
        raise InvalidBookingInput("invalid_range", "range_start must be before range_end")
    return start, end


def availability_windows(
    schedule: WeeklySchedule,
    overrides: Iterable[DateOverride],
    range_start: datetime,
    range_end: datetime,
) -> list[Interval]:
    """The counselor's available UTC windows overlapping `[range_start, range_end)`, sorted.

    Windows are whole, not clipped to the range: a window's start anchors slot alignment. Each
    local day is expanded on its own (its date override replacing its weekday's hours), and
    touching ranges within a day merge, so a session may span 12:00 of 09:00-12:00 + 12:00-15:00
    but never local midnight. Ranges are converted with `to_utc`; one wholly inside a DST gap
    yields no window. The range may span at most `MAX_RANGE`.
    """
    start, end = check_range(range_start, range_end)
    if end - start > MAX_RANGE:
        raise InvalidBookingInput("invalid_range", f"range longer than {MAX_RANGE.days} days")
    windows = windows_around(schedule, index_overrides(overrides), start, end)
    return [window for window in windows if window.start < end and start < window.end]
