"""Pure rules around stored submissions: trend series and the daily risk counts ops see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtserver.domain.screening import (
    FlaggedSubmission,
    RiskFlag,
    ScaleScore,
    ScreeningResult,
    Submission,
    daily_risk_counts,
    support_message,
    trends,
)

T0 = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)


def submission(sid: str, instrument: str, at: datetime, total: int = 5) -> Submission:
    result = ScreeningResult(instrument, "1.0.0", (ScaleScore("total", total, "mild"),), ())
    return Submission(sid, "client", at, None, result, 0)


def test_trends_group_per_instrument_oldest_first() -> None:
    found = trends(
        [
            submission("c", "phq9", T0 + timedelta(days=2)),
            submission("a", "gad7", T0),
            submission("b", "phq9", T0),
            submission("d", "phq9", T0),  # same instant: ordered by id
        ]
    )
    assert [(t.instrument_id, [p.id for p in t.points]) for t in found] == [
        ("gad7", ["a"]),
        ("phq9", ["b", "d", "c"]),
    ]
    assert trends([]) == ()


def test_submission_level_is_the_most_pressing_flag() -> None:
    flags = (RiskFlag("self_harm", "urgent", item=9), RiskFlag("severe", "elevated", "total"))
    result = ScreeningResult("phq9", "1.0.0", (ScaleScore("total", 22, "severe"),), flags)
    assert Submission("s", "c", T0, "b-1", result, 1).level == "urgent"


def test_daily_counts_cover_every_day_with_zeros() -> None:
    today = date(2026, 10, 7)
    flagged = [
        FlaggedSubmission(datetime(2026, 10, 7, 23, 59, tzinfo=UTC), "urgent", 1),
        FlaggedSubmission(datetime(2026, 10, 7, 0, 0, tzinfo=UTC), "elevated", 0),
        FlaggedSubmission(datetime(2026, 10, 5, 12, 0, tzinfo=UTC), "urgent", 0),
        FlaggedSubmission(datetime(2026, 10, 4, 23, 59, tzinfo=UTC), "urgent", 0),  # outside
    ]
    counts = daily_risk_counts(flagged, today, 3)
    assert [(c.day.day, c.urgent, c.elevated, c.without_counselor) for c in counts] == [
        (5, 1, 0, 1),
        (6, 0, 0, 0),
        (7, 1, 1, 1),
    ]
    with pytest.raises(ValueError):
        daily_risk_counts([], today, 0)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=20 * 24 * 60),
            st.sampled_from(["urgent", "elevated"]),
            st.integers(min_value=0, max_value=3),
        ),
        max_size=50,
    ),
    st.integers(min_value=1, max_value=20),
)
def test_counts_add_up_to_the_flags_in_the_window(
    raw: list[tuple[int, str, int]], days: int
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    today = date(2026, 1, 20)
    flagged = [
        FlaggedSubmission(start + timedelta(minutes=m), level, alerted)  # type: ignore[arg-type]
        for m, level, alerted in raw
    ]
    counts = daily_risk_counts(flagged, today, days)
    assert len(counts) == days and counts[-1].day == today
    assert [c.day for c in counts] == sorted(c.day for c in counts)
    inside = [f for f in flagged if (today - f.submitted_at.date()).days in range(days)]
    assert sum(c.urgent + c.elevated for c in counts) == len(inside)
    assert sum(c.without_counselor for c in counts) == sum(
        1 for f in inside if f.counselors_alerted == 0
    )


@pytest.mark.parametrize("level", ["urgent", "elevated"])
def test_support_wording_never_diagnoses(level: str) -> None:
    english = support_message(level, "en")  # type: ignore[arg-type]
    indonesian = support_message(level, "id")  # type: ignore[arg-type]
    assert "not a diagnosis" in english and "bukan diagnosis" in indonesian
    for word in ("depress", "disorder", "suicid", "you have", "anda mengalami", "gangguan"):
        assert word not in english.lower() and word not in indonesian.lower()
