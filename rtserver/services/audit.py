"""The audit trail of health-record reads, for any service that reads one on someone's behalf.

Entries are written inside the reading transaction: if the entry cannot be written, the read
does not happen.
"""

from __future__ import annotations

from rtserver.clock import Clock
from rtserver.domain.audit import AuditEntry
from rtserver.ids import new_id
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction


class AuditService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    async def record(
        self,
        tx: Transaction,
        actor_id: str,
        action: str,
        subject_user_id: str | None,
        record_id: str | None = None,
    ) -> AuditEntry:
        """Append an entry in the caller's transaction (it commits or rolls back with the read)."""
        entry = AuditEntry(
            id=new_id(),
            actor_id=actor_id,
            action=action,
            subject_user_id=subject_user_id,
            record_id=record_id,
            at=self._clock.now(),
        )
        await tx.audit.add(entry)
        return entry

    async def of_subject(self, subject_user_id: str) -> list[AuditEntry]:
        """Who read this user's records, oldest first."""
        async with self._db.read() as tx:
            return await tx.audit.of_subject(subject_user_id)
