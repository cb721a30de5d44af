"""The audit trail of reads of health records: who read whose record, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

SCREENING_TREND_READ: Final = "screening.trend.read"
SCREENING_SUBMISSION_READ: Final = "screening.submission.read"


@dataclass(frozen=True)
class AuditEntry:
    """`record_id` names the one record read, or is None when the read covered every record of
    the subject at that instant (e.g. a trend)."""

    id: str
    actor_id: str
    action: str
    subject_user_id: str | None
    record_id: str | None
    at: datetime
