"""Instruments and results in one language, as a client is shown them."""

from __future__ import annotations

from dataclasses import dataclass

from rtserver.domain.screening.instrument import Instrument
from rtserver.domain.screening.scoring import ScreeningResult
from rtserver.domain.screening.text import Language


@dataclass(frozen=True)
class LocalizedOption:
    score: int
    text: str


@dataclass(frozen=True)
class LocalizedItem:
    number: int
    text: str


@dataclass(frozen=True)
class LocalizedBand:
    key: str
    min: int
    max: int
    label: str
    explanation: str


@dataclass(frozen=True)
class LocalizedScale:
    key: str
    name: str
    bands: tuple[LocalizedBand, ...]


@dataclass(frozen=True)
class LocalizedInstrument:
    id: str
    version: str
    lang: Language
    title: str
    instructions: str
    options: tuple[LocalizedOption, ...]
    items: tuple[LocalizedItem, ...]
    scales: tuple[LocalizedScale, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ScaleOutcome:
    """One scale of a result in words: 'Your answers suggest ... This is not a diagnosis.'"""

    scale: str
    name: str
    score: int
    band: str
    label: str
    explanation: str


def localized(instrument: Instrument, lang: Language) -> LocalizedInstrument:
    return LocalizedInstrument(
        id=instrument.id,
        version=instrument.version,
        lang=lang,
        title=instrument.title.in_language(lang),
        instructions=instrument.instructions.in_language(lang),
        options=tuple(
            LocalizedOption(option.score, option.text.in_language(lang))
            for option in instrument.options
        ),
        items=tuple(
            LocalizedItem(item.number, item.text.in_language(lang)) for item in instrument.items
        ),
        scales=tuple(
            LocalizedScale(
                key=scale.key,
                name=scale.name.in_language(lang),
                bands=tuple(
                    LocalizedBand(
                        key=band.key,
                        min=band.min,
                        max=band.max,
                        label=band.label.in_language(lang),
                        explanation=band.explanation.in_language(lang),
                    )
                    for band in scale.bands
                ),
            )
            for scale in instrument.scales
        ),
        sources=instrument.sources,
    )


def localized_outcomes(
    instrument: Instrument, result: ScreeningResult, lang: Language
) -> tuple[ScaleOutcome, ...]:
    """The band label and explanation of each scale score in `result`."""
    if result.instrument_id != instrument.id:
        raise ValueError(f"result of '{result.instrument_id}' given with '{instrument.id}'")
    outcomes: list[ScaleOutcome] = []
    for scale_score in result.scores:
        scale = instrument.scale(scale_score.scale)
        band = scale.band_for(scale_score.score)
        outcomes.append(
            ScaleOutcome(
                scale=scale.key,
                name=scale.name.in_language(lang),
                score=scale_score.score,
                band=band.key,
                label=band.label.in_language(lang),
                explanation=band.explanation.in_language(lang),
            )
        )
    return tuple(outcomes)
