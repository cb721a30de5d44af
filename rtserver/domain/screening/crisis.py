"""Crisis contacts per country, read from `crisis_resources.json` and picked for a client."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from rtserver.domain.screening.package_data import packaged, parse_model
from rtserver.domain.screening.text import FrozenModel, Key, Text

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class CrisisContact(FrozenModel):
    """A service to call; `extension` is the menu choice to press after dialing (e.g. 119 ext 8)."""

    key: Key
    name: Text
    numbers: tuple[Annotated[str, Field(pattern=r"^[0-9]{3,15}$")], ...] = Field(min_length=1)
    extension: Annotated[str, Field(pattern=r"^[0-9]{1,4}$")] | None = None


class CrisisResources(FrozenModel):
    advice: Text
    contacts: tuple[CrisisContact, ...]


class CrisisDirectory(FrozenModel):
    verified_note: str = Field(min_length=1)
    default_country: CountryCode
    countries: Mapping[CountryCode, CrisisResources]
    fallback: CrisisResources

    @model_validator(mode="after")
    def _default_known(self) -> CrisisDirectory:
        if self.default_country not in self.countries:
            raise ValueError(f"default_country: '{self.default_country}' is not in countries")
        return self


def load_crisis_directory(file: Traversable | Path | None = None) -> CrisisDirectory:
    """The crisis directory in `file` (default: the packaged `crisis_resources.json`)."""
    source = file if file is not None else packaged("crisis_resources.json")
    return parse_model(CrisisDirectory, source)


def crisis_resources_for(directory: CrisisDirectory, country: str | None) -> CrisisResources:
    """Resources for an ISO 3166-1 alpha-2 `country`.

    An unknown client country (None or empty) gets the default country's resources, since the
    service runs there; a known country that has no entry gets the fallback, which points to
    local emergency services rather than numbers that would not work there.
    """
    if not country:
        return directory.countries[directory.default_country]
    return directory.countries.get(country.strip().upper(), directory.fallback)
