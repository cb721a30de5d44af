"""Inbox notifications: what a user is told about, kept until read so offline devices see it.

A payload carries identifiers and a level at most; never answers, scores or message content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

SCREENING_ALERT_KIND: Final = "screening.alert"
"""A client the user cares for raised a screening risk flag: {client_id, submission_id, level}."""


@dataclass(frozen=True)
class Notification:
    id: str
    user_id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
