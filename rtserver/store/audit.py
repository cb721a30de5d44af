"""Repository of the audit log: append and read back, never change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.domain.audit import AuditEntry
from rtserver.store.audit_tables import AuditRow


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        actor_id=row.actor_id,
        action=row.action,
        subject_user_id=row.subject_user_id,
        record_id=row.record_id,
        at=row.at,
    )


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> None:
        self._session.add(
            AuditRow(
                id=entry.id,
                actor_id=entry.actor_id,
                action=entry.action,
                subject_user_id=entry.subject_user_id,
                record_id=entry.record_id,
                at=entry.at,
            )
        )
        await self._session.flush()

    async def of_subject(self, subject_user_id: str, limit: int = 1000) -> list[AuditEntry]:
        """Who read this user's records, oldest first."""
        rows = await self._session.execute(
            select(AuditRow)
            .where(AuditRow.subject_user_id == subject_user_id)
            .order_by(AuditRow.at, AuditRow.id)
            .limit(limit)
        )
        return [_entry(r) for r in rows.scalars()]
