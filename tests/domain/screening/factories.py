"""Answer sets for tests, built from what each item should count rather than what is answered."""

from __future__ import annotations

from rtserver.domain.screening import Instrument


def uniform(instrument: Instrument, answer: int) -> dict[int, int]:
    """The same answer to every item."""
    return {item.number: answer for item in instrument.items}


def answers_with(instrument: Instrument, raw: int, scale: str = "total") -> dict[int, int]:
    """Complete answers whose items in `scale` count `raw` in total (before the multiplier).

    Items are filled in order up to the highest answer; every other item counts the lowest.
    Reverse-scored items get the answer that makes them count what is needed.
    """
    lowest, highest = instrument.lowest_answer, instrument.highest_answer
    members = instrument.scale(scale).items
    counted = {item.number: lowest for item in instrument.items}
    remaining = raw - lowest * len(members)
    assert 0 <= remaining <= (highest - lowest) * len(members), f"{raw} is out of reach"
    for number in members:
        extra = min(remaining, highest - lowest)
        counted[number] += extra
        remaining -= extra
    return {
        item.number: lowest + highest - counted[item.number]
        if item.reverse
        else counted[item.number]
        for item in instrument.items
    }
