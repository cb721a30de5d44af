"""Half-open UTC intervals: availability windows, bookable slots and busy spans."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rtserver.domain.booking.errors import InvalidBookingInput


def require_aware(instant: datetime, name: str) -> datetime:
    """The same instant in UTC; naive datetimes are refused rather than guessed."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidBookingInput("naive_datetime", f"{name} must be timezone-aware")
    return instant.astimezone(UTC)


@dataclass(frozen=True, order=True)
class Interval:
    """`[start, end)` in UTC: touching intervals do not overlap.

    Any aware datetime is accepted and stored converted to UTC.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start = require_aware(self.start, "start")
        end = require_aware(self.end, "end")
        if start >= end:
            raise InvalidBookingInput("invalid_interval", f"start {start} is not before end {end}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, order=True)
class Slot(Interval):
    """A bookable session time, buffers excluded."""


@dataclass(frozen=True, order=True)
class Busy(Interval):
    """Time the counselor cannot take a new session in.

    An existing live booking is given as its whole `occupied_span` (its own buffers included);
    a counselor block is given as-is.
    """


class BusyIndex:
    """Busy intervals merged into sorted disjoint spans, for O(log n) overlap checks."""

    def __init__(self, busy: Iterable[Interval]) -> None:
        merged: list[tuple[datetime, datetime]] = []
        for item in sorted(busy, key=lambda span: (span.start, span.end)):
            if merged and item.start <= merged[-1][1]:
                last_start, last_end = merged[-1]
                merged[-1] = (last_start, max(last_end, item.end))
            else:
                merged.append((item.start, item.end))
        self._starts: Sequence[datetime] = [start for start, _ in merged]
        self._ends: Sequence[datetime] = [end for _, end in merged]

    def overlaps(self, span: Interval) -> bool:
        return self.overlaps_between(span.start, span.end)

    def overlaps_between(self, start: datetime, end: datetime) -> bool:
        """Whether `[start, end)` overlaps a busy span (aware UTC bounds, not re-validated)."""
        index = bisect_right(self._ends, start)
        return index < len(self._starts) and self._starts[index] < end
