"""The definition of a screening instrument, checked for consistency when its data file is loaded.

An answer to an item is the score of the chosen option, as printed on the published form.
Reverse-scored items count `lowest + highest - answer`; a scale's score is the sum of its items'
counted scores times the scale's multiplier.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from rtserver.domain.screening.text import FrozenModel, Key, Text

RiskLevel = Literal["urgent", "elevated"]


class Option(FrozenModel):
    score: int = Field(ge=0, le=100)
    text: Text


class Item(FrozenModel):
    number: int = Field(ge=1)
    text: Text
    reverse: bool = False


class Band(FrozenModel):
    """An inclusive range of scale scores with the plain-language words shown for it."""

    key: Key
    min: int
    max: int
    label: Text
    explanation: Text

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.min > self.max:
            raise ValueError(f"band '{self.key}': min {self.min} is above max {self.max}")
        return self


class Scale(FrozenModel):
    key: Key
    name: Text
    items: tuple[int, ...] = Field(min_length=1)
    multiplier: int = Field(default=1, ge=1, le=10)
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Scale:
        if len(set(self.items)) != len(self.items):
            raise ValueError(f"scale '{self.key}': items {list(self.items)} repeat an item")
        keys = [band.key for band in self.bands]
        if len(set(keys)) != len(keys):
            raise ValueError(f"scale '{self.key}': band keys {keys} repeat a key")
        return self

    def band_for(self, score: int) -> Band:
        for band in self.bands:
            if band.min <= score <= band.max:
                return band
        raise ValueError(f"scale '{self.key}': no band covers score {score}")


class ItemAtLeast(FrozenModel):
    """Flags when the answer to one item is at least `threshold` (e.g. PHQ-9 item 9 >= 1)."""

    kind: Literal["item_at_least"]
    item: int
    threshold: int
    flag: Key
    level: RiskLevel


class BandIn(FrozenModel):
    """Flags when a scale's score falls in one of the named bands."""

    kind: Literal["band_in"]
    scale: Key
    bands: tuple[Key, ...] = Field(min_length=1)
    flag: Key
    level: RiskLevel


RiskRule = Annotated[ItemAtLeast | BandIn, Field(discriminator="kind")]


class Instrument(FrozenModel):
    id: Key
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: Text
    instructions: Text
    sources: tuple[str, ...] = Field(min_length=1)
    licence: str = Field(min_length=1)
    translation_note: str = Field(min_length=1)
    options: tuple[Option, ...] = Field(min_length=2)
    items: tuple[Item, ...] = Field(min_length=1)
    scales: tuple[Scale, ...] = Field(min_length=1)
    risk_rules: tuple[RiskRule, ...] = ()

    @property
    def lowest_answer(self) -> int:
        return self.options[0].score

    @property
    def highest_answer(self) -> int:
        return self.options[-1].score

    def scale(self, key: str) -> Scale:
        for scale in self.scales:
            if scale.key == key:
                return scale
        raise KeyError(f"instrument '{self.id}' has no scale '{key}'")

    def score_range(self, scale: Scale) -> tuple[int, int]:
        """Lowest and highest possible score of `scale`, multiplier applied."""
        count = len(scale.items) * scale.multiplier
        return count * self.lowest_answer, count * self.highest_answer

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        self._check_options()
        self._check_items()
        self._check_scales()
        self._check_risk_rules()
        return self

    def _check_options(self) -> None:
        scores = [option.score for option in self.options]
        expected = list(range(scores[0], scores[0] + len(scores)))
        if scores != expected:
            raise ValueError(f"options: scores {scores} must be consecutive and ascending")

    def _check_items(self) -> None:
        numbers = [item.number for item in self.items]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"items: numbers {numbers} must run 1..{len(numbers)} in order")

    def _check_scales(self) -> None:
        keys = [scale.key for scale in self.scales]
        if len(set(keys)) != len(keys):
            raise ValueError(f"scales: keys {keys} repeat a key")
        numbers = {item.number for item in self.items}
        for scale in self.scales:
            unknown = sorted(set(scale.items) - numbers)
            if unknown:
                raise ValueError(f"scales.{scale.key}.items: unknown items {unknown}")
        orphans = sorted(numbers.difference(*(scale.items for scale in self.scales)))
        if orphans:
            raise ValueError(f"items {orphans} belong to no scale")
        for scale in self.scales:
            _check_bands(scale, *self.score_range(scale))

    def _check_risk_rules(self) -> None:
        numbers = {item.number for item in self.items}
        for index, rule in enumerate(self.risk_rules):
            where = f"risk_rules.{index}"
            if isinstance(rule, ItemAtLeast):
                if rule.item not in numbers:
                    raise ValueError(f"{where}: unknown item {rule.item}")
                if not self.lowest_answer < rule.threshold <= self.highest_answer:
                    raise ValueError(
                        f"{where}: threshold {rule.threshold} must be above "
                        f"{self.lowest_answer} and at most {self.highest_answer}"
                    )
            else:
                if rule.scale not in {scale.key for scale in self.scales}:
                    raise ValueError(f"{where}: unknown scale '{rule.scale}'")
                known = {band.key for band in self.scale(rule.scale).bands}
                unknown_bands = sorted(set(rule.bands) - known)
                if unknown_bands:
                    raise ValueError(f"{where}: scale '{rule.scale}' has no bands {unknown_bands}")


def _check_bands(scale: Scale, lowest: int, highest: int) -> None:
    """Bands must be listed in order and cover lowest..highest with no gap and no overlap."""
    where = f"scales.{scale.key}.bands"
    next_min = lowest
    for band in scale.bands:
        if band.min < next_min:
            if next_min == lowest:
                raise ValueError(
                    f"{where}: band '{band.key}' starts at {band.min}, "
                    f"below the lowest possible score {lowest}"
                )
            raise ValueError(
                f"{where}: band '{band.key}' overlaps the previous band on "
                f"{band.min}..{min(band.max, next_min - 1)}"
            )
        if band.min > next_min:
            raise ValueError(f"{where}: gap, no band covers {next_min}..{band.min - 1}")
        next_min = band.max + 1
    if next_min - 1 < highest:
        raise ValueError(f"{where}: gap, no band covers {next_min}..{highest}")
    if next_min - 1 > highest:
        raise ValueError(
            f"{where}: last band ends at {next_min - 1}, above the highest possible score {highest}"
        )
