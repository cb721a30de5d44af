"""Data-defined screening instruments (PHQ-9, GAD-7, PSS-10, DASS-21, K10), their scoring and
the crisis resources shown alongside results. Pure: the only I/O is reading packaged data files.
"""

from rtserver.domain.screening.catalog import load_instrument, load_instruments
from rtserver.domain.screening.crisis import (
    CrisisContact,
    CrisisDirectory,
    CrisisResources,
    crisis_resources_for,
    load_crisis_directory,
)
from rtserver.domain.screening.errors import DefinitionError, ScreeningInputError
from rtserver.domain.screening.instrument import Instrument, RiskLevel
from rtserver.domain.screening.localized import (
    LocalizedInstrument,
    ScaleOutcome,
    localized,
    localized_outcomes,
)
from rtserver.domain.screening.scoring import (
    RiskFlag,
    ScaleScore,
    ScreeningResult,
    score,
    validate_answers,
)
from rtserver.domain.screening.text import Language

__all__ = [
    "CrisisContact",
    "CrisisDirectory",
    "CrisisResources",
    "DefinitionError",
    "Instrument",
    "Language",
    "LocalizedInstrument",
    "RiskFlag",
    "RiskLevel",
    "ScaleOutcome",
    "ScaleScore",
    "ScreeningInputError",
    "ScreeningResult",
    "crisis_resources_for",
    "load_crisis_directory",
    "load_instrument",
    "load_instruments",
    "localized",
    "localized_outcomes",
    "score",
    "validate_answers",
]
