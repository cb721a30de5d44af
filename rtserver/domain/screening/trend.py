"""Trend series: a client's submissions grouped per instrument, oldest first, for a chart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rtserver.domain.screening.submission import Submission


@dataclass(frozen=True)
class Trend:
    instrument_id: str
    points: tuple[Submission, ...]


def trends(submissions: Iterable[Submission]) -> tuple[Trend, ...]:
    """One series per instrument, each in submission order (ties broken by id); the series are
    ordered by instrument id so the same data always reads the same way."""
    by_instrument: dict[str, list[Submission]] = {}
    for submission in submissions:
        by_instrument.setdefault(submission.instrument_id, []).append(submission)
    return tuple(
        Trend(
            instrument_id,
            tuple(sorted(points, key=lambda point: (point.submitted_at, point.id))),
        )
        for instrument_id, points in sorted(by_instrument.items())
    )
