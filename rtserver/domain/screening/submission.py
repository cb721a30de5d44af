"""A stored screening submission: who answered which instrument version when, and its result.

The answers themselves are not part of it: they are sealed at rest and opened only on an
audited read (see `rtserver.services.screening`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rtserver.domain.screening.instrument import RiskLevel
from rtserver.domain.screening.scoring import ScreeningResult


@dataclass(frozen=True)
class Submission:
    id: str
    client_id: str
    submitted_at: datetime
    booking_id: str | None
    result: ScreeningResult
    counselors_alerted: int

    @property
    def instrument_id(self) -> str:
        return self.result.instrument_id

    @property
    def instrument_version(self) -> str:
        return self.result.instrument_version

    @property
    def level(self) -> RiskLevel | None:
        return self.result.level
