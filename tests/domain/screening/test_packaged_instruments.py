"""The packaged instruments match the published structure and speak without diagnosing."""

from __future__ import annotations

import pytest

from rtserver.domain.screening import Instrument

PUBLISHED = [
    # id, item count, answer range, reverse-scored items, {scale: (items, multiplier)}
    ("phq9", 9, (0, 3), set(), {"total": (list(range(1, 10)), 1)}),
    ("gad7", 7, (0, 3), set(), {"total": (list(range(1, 8)), 1)}),
    ("pss10", 10, (0, 4), {4, 5, 7, 8}, {"total": (list(range(1, 11)), 1)}),
    ("k10", 10, (1, 5), set(), {"total": (list(range(1, 11)), 1)}),
    (
        "dass21",
        21,
        (0, 3),
        set(),
        {
            "depression": ([3, 5, 10, 13, 16, 17, 21], 2),
            "anxiety": ([2, 4, 7, 9, 15, 19, 20], 2),
            "stress": ([1, 6, 8, 11, 12, 14, 18], 2),
        },
    ),
]


def test_the_catalog_holds_the_five_instruments(instruments: dict[str, Instrument]) -> None:
    assert sorted(instruments) == ["dass21", "gad7", "k10", "phq9", "pss10"]


@pytest.mark.parametrize(("instrument_id", "count", "answers", "reverse", "scales"), PUBLISHED)
def test_structure_matches_the_publication(
    instruments: dict[str, Instrument],
    instrument_id: str,
    count: int,
    answers: tuple[int, int],
    reverse: set[int],
    scales: dict[str, tuple[list[int], int]],
) -> None:
    instrument = instruments[instrument_id]
    assert len(instrument.items) == count
    assert (instrument.lowest_answer, instrument.highest_answer) == answers
    assert {item.number for item in instrument.items if item.reverse} == reverse
    assert {s.key: (list(s.items), s.multiplier) for s in instrument.scales} == scales


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "pss10", "dass21", "k10"])
def test_every_band_explanation_says_it_is_not_a_diagnosis(
    instruments: dict[str, Instrument], instrument_id: str
) -> None:
    for scale in instruments[instrument_id].scales:
        for band in scale.bands:
            assert "This is not a diagnosis." in band.explanation.en
            assert "Ini bukan diagnosis." in band.explanation.id


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "pss10", "dass21", "k10"])
def test_sources_licence_and_translation_note_are_filled_in(
    instruments: dict[str, Instrument], instrument_id: str
) -> None:
    instrument = instruments[instrument_id]
    assert all("19" in source or "20" in source for source in instrument.sources)
    assert instrument.licence
    assert instrument.translation_note


def test_phq9_item_9_asks_about_self_harm(instruments: dict[str, Instrument]) -> None:
    item = instruments["phq9"].items[8]
    assert "hurting yourself" in item.text.en
    assert "melukai diri sendiri" in item.text.id
