"""The notifications inbox: stored first, then pushed to connected devices as `notification`.

Callers that create notifications together with other data stage them in their own
transaction and deliver them after it commits, so an offline user still finds them later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.notifications import Notification
from rtserver.errors import NotFound
from rtserver.ids import new_id
from rtserver.protocol import NOTIFICATION
from rtserver.services.connections import Realtime
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction
from rtserver.timefmt import wire_time

log = logging.getLogger(__name__)


def notification_event(notification: Notification) -> dict[str, Any]:
    """The `notification` event payload, also the shape of an inbox entry over REST."""
    return {
        "id": notification.id,
        "kind": notification.kind,
        "payload": notification.payload,
        "created_at": wire_time(notification.created_at),
        "read_at": wire_time(notification.read_at) if notification.read_at else None,
    }


def not_found() -> NotFound:
    # Also for another user's notification: ids of others' notifications are not confirmed.
    return NotFound("no such notification", code="notification_not_found")


class NotificationService:
    def __init__(self, database: Database, realtime: Realtime, clock: Clock) -> None:
        self._db = database
        self._realtime = realtime
        self._clock = clock

    async def stage(
        self, tx: Transaction, user_ids: Iterable[str], kind: str, payload: dict[str, Any]
    ) -> list[Notification]:
        """Store one notification per user in the caller's transaction; `deliver` them after
        it commits."""
        now = self._clock.now()
        staged = []
        for user_id in dict.fromkeys(user_ids):
            notification = Notification(new_id(), user_id, kind, dict(payload), now, None)
            await tx.notifications.add(notification)
            staged.append(notification)
        return staged

    async def deliver(self, notifications: Iterable[Notification]) -> None:
        """Push stored notifications to connected devices. Best effort: a failure is logged and
        the notification waits in the inbox."""
        for notification in notifications:
            try:
                await self._realtime.to_users(
                    [notification.user_id], NOTIFICATION, notification_event(notification)
                )
            except Exception:
                log.exception("notification %s stored but not pushed", notification.id)

    async def notify(
        self, user_ids: Iterable[str], kind: str, payload: dict[str, Any]
    ) -> list[Notification]:
        async with self._db.write() as tx:
            staged = await self.stage(tx, user_ids, kind, payload)
        await self.deliver(staged)
        return staged

    async def inbox(
        self, principal: Principal, *, limit: int, unread_only: bool, before: str | None
    ) -> tuple[list[Notification], bool]:
        """A page of the caller's notifications, newest first, and whether more follow."""
        async with self._db.read() as tx:
            cursor = await self._own(tx, principal, before) if before else None
            found = await tx.notifications.of_user(
                principal.user_id, limit + 1, unread_only=unread_only, before=cursor
            )
        return found[:limit], len(found) > limit

    async def mark_read(self, principal: Principal, notification_id: str) -> Notification:
        """Idempotent: reading again keeps the first read time."""
        async with self._db.write() as tx:
            await self._own(tx, principal, notification_id)
            await tx.notifications.mark_read(notification_id, self._clock.now())
            updated = await tx.notifications.get(notification_id)
        assert updated is not None
        return updated

    @staticmethod
    async def _own(tx: Transaction, principal: Principal, notification_id: str) -> Notification:
        notification = await tx.notifications.get(notification_id)
        if notification is None or notification.user_id != principal.user_id:
            raise not_found()
        return notification
