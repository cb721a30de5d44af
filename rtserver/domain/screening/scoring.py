"""Scoring a complete set of answers: scale scores, their bands, and the risk flags raised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rtserver.domain.screening.errors import ScreeningInputError
from rtserver.domain.screening.instrument import Instrument, ItemAtLeast, RiskLevel

_LEVEL_ORDER: tuple[RiskLevel, ...] = ("urgent", "elevated")


@dataclass(frozen=True)
class ScaleScore:
    scale: str
    score: int
    band: str


@dataclass(frozen=True)
class RiskFlag:
    """A rule that fired: `scale` is set for band rules, `item` for item rules."""

    code: str
    level: RiskLevel
    scale: str | None = None
    item: int | None = None


@dataclass(frozen=True)
class ScreeningResult:
    instrument_id: str
    instrument_version: str
    scores: tuple[ScaleScore, ...]
    flags: tuple[RiskFlag, ...]

    def score_of(self, scale: str) -> ScaleScore:
        for scale_score in self.scores:
            if scale_score.scale == scale:
                return scale_score
        raise KeyError(f"no score for scale '{scale}'")

    @property
    def level(self) -> RiskLevel | None:
        """The most pressing level among the flags, or None when nothing was flagged."""
        return self.flags[0].level if self.flags else None

    def has_flag(self, code: str) -> bool:
        return any(flag.code == code for flag in self.flags)


def validate_answers(instrument: Instrument, answers: Mapping[int, int]) -> None:
    """Reject answers that name unknown items, fall outside the options, or leave items out."""
    numbers = {item.number for item in instrument.items}
    unknown = sorted(number for number in answers if number not in numbers)
    if unknown:
        raise ScreeningInputError(
            "unknown_item",
            f"{instrument.id} has no items {unknown}",
            {"items": unknown},
        )
    allowed = {option.score for option in instrument.options}
    out_of_range = sorted(
        number
        for number, answer in answers.items()
        if type(answer) is not int or answer not in allowed
    )
    if out_of_range:
        raise ScreeningInputError(
            "answer_out_of_range",
            f"answers to items {out_of_range} must be one of {sorted(allowed)}",
            {"items": out_of_range, "allowed": sorted(allowed)},
        )
    missing = sorted(numbers - set(answers))
    if missing:
        raise ScreeningInputError(
            "missing_answers",
            f"items {missing} of {instrument.id} are not answered",
            {"items": missing},
        )


def score(instrument: Instrument, answers: Mapping[int, int]) -> ScreeningResult:
    """Score `answers` (item number -> chosen option score) after validating them."""
    validate_answers(instrument, answers)
    counted = {
        item.number: _counted(instrument, answers[item.number], reverse=item.reverse)
        for item in instrument.items
    }
    scores: list[ScaleScore] = []
    for scale in instrument.scales:
        value = sum(counted[number] for number in scale.items) * scale.multiplier
        scores.append(ScaleScore(scale.key, value, scale.band_for(value).key))
    bands = {scale_score.scale: scale_score.band for scale_score in scores}
    flags: list[RiskFlag] = []
    for rule in instrument.risk_rules:
        if isinstance(rule, ItemAtLeast):
            if answers[rule.item] >= rule.threshold:
                flags.append(RiskFlag(rule.flag, rule.level, item=rule.item))
        elif bands[rule.scale] in rule.bands:
            flags.append(RiskFlag(rule.flag, rule.level, scale=rule.scale))
    flags.sort(key=lambda flag: _LEVEL_ORDER.index(flag.level))
    return ScreeningResult(instrument.id, instrument.version, tuple(scores), tuple(flags))


def _counted(instrument: Instrument, answer: int, *, reverse: bool) -> int:
    if reverse:
        return instrument.lowest_answer + instrument.highest_answer - answer
    return answer
