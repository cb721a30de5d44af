"""/api/v1/notifications: the caller's inbox (also pushed live as `notification` events)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from rtserver.api.keys import NOTIFICATIONS
from rtserver.api.routing import Call, RouteTable
from rtserver.domain.notifications import Notification

routes = RouteTable("notifications")
Id = Annotated[str, Field(min_length=1, max_length=64)]


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = False
    limit: int = Field(default=50, ge=1, le=100)
    before: Id | None = Field(default=None, description="a notification id: the page after it")


class NotificationOut(BaseModel):
    id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    notifications: list[NotificationOut]
    has_more: bool


def notification_out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=notification.id,
        kind=notification.kind,
        payload=notification.payload,
        created_at=notification.created_at,
        read_at=notification.read_at,
    )


@routes.route(
    "GET",
    "/api/v1/notifications",
    summary="My notifications, newest first (only unread ones with unread=true)",
    query=InboxQuery,
    response=NotificationPage,
    errors=("notification_not_found",),
)
async def inbox(call: Call[None]) -> NotificationPage:
    query: InboxQuery = call.query
    found, has_more = await call.request.app[NOTIFICATIONS].inbox(
        call.principal, limit=query.limit, unread_only=query.unread, before=query.before
    )
    return NotificationPage(notifications=[notification_out(n) for n in found], has_more=has_more)


@routes.route(
    "POST",
    "/api/v1/notifications/{notification_id}/read",
    summary="Mark one of my notifications read (again: keeps the first read time)",
    response=NotificationOut,
    errors=("notification_not_found",),
)
async def mark_read(call: Call[None]) -> NotificationOut:
    return notification_out(
        await call.request.app[NOTIFICATIONS].mark_read(
            call.principal, call.request.match_info["notification_id"]
        )
    )
