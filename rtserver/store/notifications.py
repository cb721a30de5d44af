"""Repository of the notifications inbox."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.domain.notifications import Notification
from rtserver.store.notification_tables import NotificationRow


def _notification(row: NotificationRow) -> Notification:
    return Notification(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        payload=json.loads(row.payload),
        created_at=row.created_at,
        read_at=row.read_at,
    )


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, notification: Notification) -> None:
        self._session.add(
            NotificationRow(
                id=notification.id,
                user_id=notification.user_id,
                kind=notification.kind,
                payload=json.dumps(notification.payload, separators=(",", ":")),
                created_at=notification.created_at,
                read_at=notification.read_at,
            )
        )
        await self._session.flush()

    async def get(self, notification_id: str) -> Notification | None:
        row = await self._session.get(NotificationRow, notification_id)
        return _notification(row) if row else None

    async def of_user(
        self, user_id: str, limit: int, *, unread_only: bool, before: Notification | None
    ) -> list[Notification]:
        """The user's notifications, newest first, strictly older than `before` if given."""
        row = NotificationRow
        query = select(row).where(row.user_id == user_id)
        if unread_only:
            query = query.where(row.read_at.is_(None))
        if before is not None:
            query = query.where(
                or_(
                    row.created_at < before.created_at,
                    and_(row.created_at == before.created_at, row.id < before.id),
                )
            )
        rows = await self._session.execute(
            query.order_by(row.created_at.desc(), row.id.desc()).limit(limit)
        )
        return [_notification(r) for r in rows.scalars()]

    async def mark_read(self, notification_id: str, at: datetime) -> None:
        """Set read_at unless already set: the first read time is kept."""
        await self._session.execute(
            update(NotificationRow)
            .where(NotificationRow.id == notification_id, NotificationRow.read_at.is_(None))
            .values(read_at=at)
        )
