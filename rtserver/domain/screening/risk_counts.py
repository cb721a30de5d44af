"""Risk flags counted per UTC day and level: what ops may see of screening, and nothing more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from rtserver.domain.screening.instrument import RiskLevel


@dataclass(frozen=True)
class FlaggedSubmission:
    """The only facts of a flagged submission that are counted: when, how pressing, and
    whether any counselor was alerted."""

    submitted_at: datetime
    level: RiskLevel
    counselors_alerted: int


@dataclass(frozen=True)
class DayRiskCount:
    day: date
    urgent: int
    elevated: int
    without_counselor: int
    """Flagged submissions of clients who had no counselor to alert."""


def risk_window(today: date, days: int) -> date:
    """The first day of a window of `days` days ending with `today`."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    return today - timedelta(days=days - 1)


def daily_risk_counts(
    flagged: Iterable[FlaggedSubmission], today: date, days: int
) -> tuple[DayRiskCount, ...]:
    """Counts for each of the `days` UTC days ending with `today`, oldest first, zeros
    included; submissions outside the window are ignored."""
    first = risk_window(today, days)
    counts = {first + timedelta(days=offset): [0, 0, 0] for offset in range(days)}
    for submission in flagged:
        day = submission.submitted_at.astimezone(UTC).date()
        if day not in counts:
            continue
        row = counts[day]
        row[0 if submission.level == "urgent" else 1] += 1
        if submission.counselors_alerted == 0:
            row[2] += 1
    return tuple(
        DayRiskCount(day, urgent, elevated, without)
        for day, (urgent, elevated, without) in counts.items()
    )
