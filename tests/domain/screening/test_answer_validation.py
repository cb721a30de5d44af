"""Answers that cannot be scored are rejected with a stable code and the offending items."""

from __future__ import annotations

import pytest

from rtserver.domain.screening import Instrument, ScreeningInputError, score, validate_answers

from .factories import uniform


def rejected(instrument: Instrument, answers: dict[int, int]) -> ScreeningInputError:
    with pytest.raises(ScreeningInputError) as caught:
        score(instrument, answers)
    return caught.value


def test_missing_answers_are_listed(instruments: dict[str, Instrument]) -> None:
    answers = uniform(instruments["phq9"], 1)
    del answers[5], answers[3]
    error = rejected(instruments["phq9"], answers)
    assert error.code == "missing_answers"
    assert error.details == {"items": [3, 5]}


def test_no_answers_at_all_misses_every_item(instruments: dict[str, Instrument]) -> None:
    error = rejected(instruments["gad7"], {})
    assert error.code == "missing_answers"
    assert error.details["items"] == list(range(1, 8))


@pytest.mark.parametrize("number", [0, 10, -1, 99])
def test_unknown_item_is_rejected(instruments: dict[str, Instrument], number: int) -> None:
    error = rejected(instruments["phq9"], uniform(instruments["phq9"], 0) | {number: 0})
    assert error.code == "unknown_item"
    assert error.details == {"items": [number]}


def test_unknown_item_is_reported_before_missing_ones(instruments: dict[str, Instrument]) -> None:
    error = rejected(instruments["phq9"], {1: 0, 12: 0})
    assert error.code == "unknown_item"
    assert error.details == {"items": [12]}


def test_out_of_range_answers_are_listed_with_the_allowed_values(
    instruments: dict[str, Instrument],
) -> None:
    error = rejected(instruments["phq9"], uniform(instruments["phq9"], 0) | {2: 4, 9: -1})
    assert error.code == "answer_out_of_range"
    assert error.details == {"items": [2, 9], "allowed": [0, 1, 2, 3]}


@pytest.mark.parametrize(("instrument_id", "answer"), [("k10", 0), ("k10", 6), ("pss10", 5)])
def test_answers_outside_the_options_are_rejected(
    instruments: dict[str, Instrument], instrument_id: str, answer: int
) -> None:
    instrument = instruments[instrument_id]
    error = rejected(instrument, uniform(instrument, instrument.lowest_answer) | {1: answer})
    assert error.code == "answer_out_of_range"
    assert error.details["items"] == [1]


def test_booleans_are_not_answers(instruments: dict[str, Instrument]) -> None:
    error = rejected(instruments["gad7"], uniform(instruments["gad7"], 0) | {4: True})
    assert error.code == "answer_out_of_range"


def test_input_error_is_a_value_error_with_a_message(instruments: dict[str, Instrument]) -> None:
    error = rejected(instruments["gad7"], {})
    assert isinstance(error, ValueError)
    assert "gad7" in str(error)


def test_complete_valid_answers_pass(instruments: dict[str, Instrument]) -> None:
    for instrument in instruments.values():
        validate_answers(instrument, uniform(instrument, instrument.highest_answer))
