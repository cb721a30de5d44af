"""Invariants of scoring over random complete answer sets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtserver.domain.screening import Instrument, score

INSTRUMENT_IDS = ["phq9", "gad7", "pss10", "dass21", "k10"]


def complete_answers(instrument: Instrument) -> st.SearchStrategy[dict[int, int]]:
    choices = st.sampled_from([option.score for option in instrument.options])
    return st.fixed_dictionaries({item.number: choices for item in instrument.items})


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@given(data=st.data())
def test_every_score_is_in_range_and_in_exactly_one_band(
    instruments: dict[str, Instrument], instrument_id: str, data: st.DataObject
) -> None:
    instrument = instruments[instrument_id]
    result = score(instrument, data.draw(complete_answers(instrument)))
    assert [s.scale for s in result.scores] == [scale.key for scale in instrument.scales]
    for scale_score in result.scores:
        scale = instrument.scale(scale_score.scale)
        lowest, highest = instrument.score_range(scale)
        assert lowest <= scale_score.score <= highest
        assert scale_score.score % scale.multiplier == 0
        containing = [b.key for b in scale.bands if b.min <= scale_score.score <= b.max]
        assert containing == [scale_score.band]


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@given(data=st.data())
def test_mirrored_answers_mirror_every_score(
    instruments: dict[str, Instrument], instrument_id: str, data: st.DataObject
) -> None:
    """Answering lowest+highest-a everywhere turns each score s into lowest+highest-s.

    For PSS-10 this pins down reverse scoring: a forward item answered a counts a, a reverse
    item counts 4-a, and mirroring swaps the two, so the total becomes 40 - total.
    """
    instrument = instruments[instrument_id]
    answers = data.draw(complete_answers(instrument))
    mirror = instrument.lowest_answer + instrument.highest_answer
    mirrored = {number: mirror - answer for number, answer in answers.items()}
    original, flipped = score(instrument, answers), score(instrument, mirrored)
    for before, after in zip(original.scores, flipped.scores, strict=True):
        lowest, highest = instrument.score_range(instrument.scale(before.scale))
        assert after.score == lowest + highest - before.score


@given(answers=st.lists(st.integers(0, 4), min_size=10, max_size=10))
def test_pss10_reverse_items_count_four_minus_the_answer(
    instruments: dict[str, Instrument], answers: list[int]
) -> None:
    by_item = dict(enumerate(answers, start=1))
    expected = sum(4 - a if n in {4, 5, 7, 8} else a for n, a in by_item.items())
    assert score(instruments["pss10"], by_item).score_of("total").score == expected


@given(data=st.data())
def test_phq9_self_harm_flag_follows_item_9_alone(
    instruments: dict[str, Instrument], data: st.DataObject
) -> None:
    instrument = instruments["phq9"]
    answers = data.draw(complete_answers(instrument))
    result = score(instrument, answers)
    assert result.has_flag("self_harm") == (answers[9] >= 1)
    assert result.has_flag("severe") == (result.score_of("total").band == "severe")
    if result.flags:
        assert result.level == result.flags[0].level
        assert result.flags[0].level == ("urgent" if answers[9] >= 1 else "elevated")
