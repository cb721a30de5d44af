"""Scoring vectors checked against the published scoring rules and cut-offs."""

from __future__ import annotations

import pytest

from rtserver.domain.screening import Instrument, RiskFlag, score

from .factories import answers_with, uniform

UNIFORM_CASES = [
    # instrument, answer to every item, expected {scale: (score, band)}
    ("phq9", 0, {"total": (0, "minimal")}),
    ("phq9", 3, {"total": (27, "severe")}),
    ("gad7", 0, {"total": (0, "minimal")}),
    ("gad7", 3, {"total": (21, "severe")}),
    # PSS-10 items 4, 5, 7 and 8 are reverse-scored, so uniform answers land mid-range.
    ("pss10", 0, {"total": (16, "moderate")}),
    ("pss10", 4, {"total": (24, "moderate")}),
    ("k10", 1, {"total": (10, "low")}),
    ("k10", 5, {"total": (50, "very_high")}),
    (
        "dass21",
        0,
        {"depression": (0, "normal"), "anxiety": (0, "normal"), "stress": (0, "normal")},
    ),
    (
        "dass21",
        3,
        {
            "depression": (42, "extremely_severe"),
            "anxiety": (42, "extremely_severe"),
            "stress": (42, "extremely_severe"),
        },
    ),
]


@pytest.mark.parametrize(("instrument_id", "answer", "expected"), UNIFORM_CASES)
def test_uniform_answers(
    instruments: dict[str, Instrument],
    instrument_id: str,
    answer: int,
    expected: dict[str, tuple[int, str]],
) -> None:
    instrument = instruments[instrument_id]
    result = score(instrument, uniform(instrument, answer))
    assert {s.scale: (s.score, s.band) for s in result.scores} == expected


PUBLISHED_CUTOFFS = {
    # Both sides of every published cut-off, plus the extremes of the range.
    "phq9": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
    "gad7": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
    "pss10": [
        (0, "low"),
        (13, "low"),
        (14, "moderate"),
        (26, "moderate"),
        (27, "high"),
        (40, "high"),
    ],
    "k10": [
        (10, "low"),
        (15, "low"),
        (16, "moderate"),
        (21, "moderate"),
        (22, "high"),
        (29, "high"),
        (30, "very_high"),
        (50, "very_high"),
    ],
}
SINGLE_SCALE_BOUNDARIES = [
    (instrument_id, total, band)
    for instrument_id, cases in PUBLISHED_CUTOFFS.items()
    for total, band in cases
]


@pytest.mark.parametrize(("instrument_id", "total", "band"), SINGLE_SCALE_BOUNDARIES)
def test_single_scale_band_boundaries(
    instruments: dict[str, Instrument], instrument_id: str, total: int, band: str
) -> None:
    instrument = instruments[instrument_id]
    result = score(instrument, answers_with(instrument, total))
    assert (result.score_of("total").score, result.score_of("total").band) == (total, band)


DASS_BOUNDARIES = [
    # subscale, raw item sum, doubled score, band. Doubled scores are even, so an odd
    # cut-off (e.g. depression 9|10) is checked at the nearest reachable scores on each side.
    ("depression", 4, 8, "normal"),
    ("depression", 5, 10, "mild"),
    ("depression", 6, 12, "mild"),
    ("depression", 7, 14, "moderate"),
    ("depression", 10, 20, "moderate"),
    ("depression", 11, 22, "severe"),
    ("depression", 13, 26, "severe"),
    ("depression", 14, 28, "extremely_severe"),
    ("anxiety", 3, 6, "normal"),
    ("anxiety", 4, 8, "mild"),
    ("anxiety", 5, 10, "moderate"),
    ("anxiety", 7, 14, "moderate"),
    ("anxiety", 8, 16, "severe"),
    ("anxiety", 9, 18, "severe"),
    ("anxiety", 10, 20, "extremely_severe"),
    ("stress", 7, 14, "normal"),
    ("stress", 8, 16, "mild"),
    ("stress", 9, 18, "mild"),
    ("stress", 10, 20, "moderate"),
    ("stress", 12, 24, "moderate"),
    ("stress", 13, 26, "severe"),
    ("stress", 16, 32, "severe"),
    ("stress", 17, 34, "extremely_severe"),
]


@pytest.mark.parametrize(("scale", "raw", "doubled", "band"), DASS_BOUNDARIES)
def test_dass21_band_boundaries(
    instruments: dict[str, Instrument], scale: str, raw: int, doubled: int, band: str
) -> None:
    instrument = instruments["dass21"]
    result = score(instrument, answers_with(instrument, raw, scale))
    assert (result.score_of(scale).score, result.score_of(scale).band) == (doubled, band)


def test_dass21_doubles_each_subscale_from_its_own_items(
    instruments: dict[str, Instrument],
) -> None:
    instrument = instruments["dass21"]
    answers = uniform(instrument, 0) | {3: 3, 2: 1, 1: 2}  # depression, anxiety, stress items
    result = score(instrument, answers)
    assert [(s.scale, s.score) for s in result.scores] == [
        ("depression", 6),
        ("anxiety", 2),
        ("stress", 4),
    ]


def test_pss10_reverse_item_counts_the_mirror_of_the_answer(
    instruments: dict[str, Instrument],
) -> None:
    instrument = instruments["pss10"]
    baseline = score(instrument, uniform(instrument, 0)).score_of("total").score
    assert baseline == 16  # items 4, 5, 7, 8 answered 0 count 4 each
    reverse_four = score(instrument, uniform(instrument, 0) | {4: 4})
    forward_four = score(instrument, uniform(instrument, 0) | {3: 4})
    assert reverse_four.score_of("total").score == baseline - 4  # item 4 now counts 0
    assert forward_four.score_of("total").score == baseline + 4


def test_phq9_item_9_flags_self_harm_even_when_total_is_minimal(
    instruments: dict[str, Instrument],
) -> None:
    instrument = instruments["phq9"]
    result = score(instrument, uniform(instrument, 0) | {9: 1})
    assert result.score_of("total").band == "minimal"
    assert result.flags == (RiskFlag("self_harm", "urgent", item=9),)
    assert result.level == "urgent"


def test_phq9_severe_band_flags_elevated_after_self_harm(
    instruments: dict[str, Instrument],
) -> None:
    result = score(instruments["phq9"], uniform(instruments["phq9"], 3))
    assert result.flags == (
        RiskFlag("self_harm", "urgent", item=9),
        RiskFlag("severe", "elevated", scale="total"),
    )


@pytest.mark.parametrize(
    ("instrument_id", "below", "at"),
    [("phq9", 19, 20), ("gad7", 14, 15), ("k10", 29, 30)],
)
def test_severe_flag_starts_at_the_top_band(
    instruments: dict[str, Instrument], instrument_id: str, below: int, at: int
) -> None:
    instrument = instruments[instrument_id]
    # answers_with fills items in order, so PHQ-9 item 9 stays at 0 up to a total of 24.
    assert score(instrument, answers_with(instrument, below)).flags == ()
    flagged = score(instrument, answers_with(instrument, at))
    assert flagged.flags == (RiskFlag("severe", "elevated", scale="total"),)
    assert flagged.level == "elevated"


def test_dass21_flags_each_extremely_severe_subscale(instruments: dict[str, Instrument]) -> None:
    instrument = instruments["dass21"]
    result = score(instrument, answers_with(instrument, 10, "anxiety"))
    assert result.flags == (RiskFlag("severe", "elevated", scale="anxiety"),)
    below = score(instrument, answers_with(instrument, 9, "anxiety"))
    assert below.flags == ()
    assert below.level is None


def test_pss10_has_no_risk_rules(instruments: dict[str, Instrument]) -> None:
    instrument = instruments["pss10"]
    assert score(instrument, answers_with(instrument, 40)).flags == ()


def test_result_names_instrument_and_version(instruments: dict[str, Instrument]) -> None:
    result = score(instruments["gad7"], uniform(instruments["gad7"], 1))
    assert (result.instrument_id, result.instrument_version) == ("gad7", "1.0.0")
    assert not result.has_flag("severe")
    with pytest.raises(KeyError):
        result.score_of("depression")
