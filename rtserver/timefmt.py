"""One spelling of instants on the wire: ISO 8601 in UTC with a Z, as the REST models emit."""

from __future__ import annotations

from datetime import UTC, datetime


def wire_time(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
