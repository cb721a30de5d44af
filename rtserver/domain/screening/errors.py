"""Errors of the screening domain: bad answers from a client, bad data files from us."""

from __future__ import annotations

from typing import Literal

InputErrorCode = Literal["missing_answers", "unknown_item", "answer_out_of_range"]


class ScreeningInputError(ValueError):
    """Answers that cannot be scored; `code` is stable and `details["items"]` names the items."""

    def __init__(self, code: InputErrorCode, message: str, details: dict[str, list[int]]) -> None:
        super().__init__(message)
        self.code: InputErrorCode = code
        self.message = message
        self.details = details


class DefinitionError(ValueError):
    """A packaged data file (instrument or crisis resources) is malformed.

    The message names the file and each offending field, one problem per line.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{source}: invalid definition\n{lines}")
        self.source = source
        self.problems = problems
