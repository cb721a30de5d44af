"""Reading the JSON data files shipped in this package into validated models."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from rtserver.domain.screening.errors import DefinitionError

M = TypeVar("M", bound=BaseModel)


def packaged(name: str) -> Traversable:
    """A data file or folder shipped inside this package."""
    return files("rtserver.domain.screening") / name


def parse_model(model: type[M], file: Traversable | Path) -> M:
    """Validate a JSON file against `model`, naming the file and each bad field on failure."""
    try:
        return model.model_validate_json(file.read_text(encoding="utf-8"))
    except ValidationError as error:
        problems = [_describe(problem) for problem in error.errors()]
        raise DefinitionError(file.name, problems) from error


def _describe(problem: ErrorDetails) -> str:
    location = ".".join(str(part) for part in problem["loc"])
    message = problem["msg"].removeprefix("Value error, ")
    return f"{location}: {message}" if location else message
