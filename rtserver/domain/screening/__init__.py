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
from rtserver.domain.screening.risk_counts import (
    DayRiskCount,
    FlaggedSubmission,
    daily_risk_counts,
    risk_window,
)
from rtserver.domain.screening.scoring import (
    RiskFlag,
    ScaleScore,
    ScreeningResult,
    score,
    validate_answers,
)
from rtserver.domain.screening.submission import Submission
from rtserver.domain.screening.support import support_message
from rtserver.domain.screening.text import Language
from rtserver.domain.screening.trend import Trend, trends

__all__ = [
    "CrisisContact",
    "CrisisDirectory",
    "CrisisResources",
    "DayRiskCount",
    "DefinitionError",
    "FlaggedSubmission",
    "Instrument",
    "Language",
    "LocalizedInstrument",
    "RiskFlag",
    "RiskLevel",
    "ScaleOutcome",
    "ScaleScore",
    "ScreeningInputError",
    "ScreeningResult",
    "Submission",
    "Trend",
    "crisis_resources_for",
    "daily_risk_counts",
    "load_crisis_directory",
    "load_instrument",
    "load_instruments",
    "localized",
    "localized_outcomes",
    "risk_window",
    "score",
    "support_message",
    "trends",
    "validate_answers",
]
