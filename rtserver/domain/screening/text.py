"""Bilingual text of the screening data files: Indonesian and English, both always present."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["id", "en"]

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
"""A stable snake_case identifier used in data files and results."""


class FrozenModel(BaseModel):
    """Base of every data-file model: unknown fields are errors and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(FrozenModel):
    id: str = Field(min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)

    def in_language(self, lang: Language) -> str:
        return self.id if lang == "id" else self.en
