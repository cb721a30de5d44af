"""One-language views of instruments and results for clients."""

from __future__ import annotations

import pytest

from rtserver.domain.screening import Instrument, localized, localized_outcomes, score

from .factories import answers_with


def test_indonesian_view_of_phq9(instruments: dict[str, Instrument]) -> None:
    view = localized(instruments["phq9"], "id")
    assert (view.id, view.lang, view.title) == ("phq9", "id", "Kuesioner Kesehatan Pasien (PHQ-9)")
    assert [item.number for item in view.items] == list(range(1, 10))
    assert view.items[1].text == "Merasa murung, muram, atau putus asa"
    assert (view.options[0].score, view.options[0].text) == (0, "Tidak sama sekali")
    assert [band.label for band in view.scales[0].bands] == [
        "Minimal",
        "Ringan",
        "Sedang",
        "Cukup berat",
        "Berat",
    ]


def test_english_view_keeps_scores_and_numbers(instruments: dict[str, Instrument]) -> None:
    instrument = instruments["k10"]
    english, indonesian = localized(instrument, "en"), localized(instrument, "id")
    assert [o.score for o in english.options] == [o.score for o in indonesian.options]
    assert english.options[0].text == "None of the time"
    assert english.items[0].text.startswith("During the last 30 days")
    assert english.sources == instrument.sources


def test_outcomes_explain_each_scale_in_plain_words(instruments: dict[str, Instrument]) -> None:
    instrument = instruments["dass21"]
    result = score(instrument, answers_with(instrument, 7, "depression"))
    outcomes = localized_outcomes(instrument, result, "en")
    assert [(o.scale, o.score, o.band) for o in outcomes] == [
        ("depression", 14, "moderate"),
        ("anxiety", 0, "normal"),
        ("stress", 0, "normal"),
    ]
    assert outcomes[0].label == "Moderate"
    assert outcomes[0].explanation.startswith(
        "Your answers suggest moderate symptoms of depression"
    )
    assert "This is not a diagnosis." in outcomes[0].explanation


def test_outcomes_refuse_a_result_of_another_instrument(
    instruments: dict[str, Instrument],
) -> None:
    result = score(instruments["gad7"], answers_with(instruments["gad7"], 3))
    with pytest.raises(ValueError, match="gad7"):
        localized_outcomes(instruments["phq9"], result, "id")
