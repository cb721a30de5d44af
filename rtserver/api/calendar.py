"""iCalendar over HTTP: a booking's invite (.ics) for its participants, and each user's private
calendar feed, whose URL carries a random token that can be rotated or revoked."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from rtserver.api.keys import ACCOUNTS, CALENDAR
from rtserver.api.routing import Call, Route, RouteTable, bearer_token
from rtserver.errors import Forbidden, NotFound

ICS_TYPE = "text/calendar"


class IcsDocument(BaseModel):
    """What an .ics route handler returns; sent as text/calendar, never as JSON."""

    model_config = ConfigDict(frozen=True)
    content: bytes
    filename: str
    attachment: bool = True


class IcsRoutes(RouteTable):
    """Declared like every route (roles, summary, OpenAPI), answered with calendar bytes."""

    def install(self, app: web.Application) -> None:
        for route in self.routes:
            app.router.add_route(route.method, route.path, _ics_endpoint(route))


def _ics_endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @functools.wraps(route.handler)
    async def handle(request: web.Request) -> web.StreamResponse:
        caller = None
        if route.roles is not None:
            caller = await request.app[ACCOUNTS].authenticate(bearer_token(request))
            if caller.role not in route.roles:
                raise Forbidden("your role may not do this")
        document = await route.handler(Call(request, None, caller))
        assert isinstance(document, IcsDocument)
        disposition = "attachment" if document.attachment else "inline"
        return web.Response(
            body=document.content,
            content_type=ICS_TYPE,
            charset="utf-8",
            headers={"Content-Disposition": f'{disposition}; filename="{document.filename}"'},
        )

    return handle


routes = RouteTable("calendar")
files = IcsRoutes("calendar")


class FeedOut(BaseModel):
    url: str
    token: str
    created_at: datetime


class FeedStatus(BaseModel):
    active: bool
    created_at: datetime | None


@files.route(
    "GET",
    "/api/v1/bookings/{booking_id}/invite.ics",
    summary="The booking's current iCalendar invite (text/calendar; REQUEST, or CANCEL)",
    errors=("booking_not_found",),
)
async def booking_invite(call: Call[None]) -> IcsDocument:
    booking_id = call.request.match_info["booking_id"]
    content = await call.request.app[CALENDAR].invite(call.principal, booking_id)
    return IcsDocument(content=content, filename=f"booking-{booking_id}.ics")


@files.route(
    "GET",
    "/api/v1/calendar/{token}.ics",
    summary="A private calendar feed (text/calendar); the token in the URL is the credential",
    roles=None,
    errors=("calendar_feed_not_found",),
)
async def calendar_feed(call: Call[None]) -> IcsDocument:
    token = call.request.match_info["token"]
    if not 16 <= len(token) <= 128:
        raise NotFound("no such calendar feed", code="calendar_feed_not_found")
    content = await call.request.app[CALENDAR].feed(token)
    return IcsDocument(content=content, filename="counseling.ics", attachment=False)


@routes.route(
    "GET",
    "/api/v1/calendar/feed",
    summary="Whether I have a calendar feed (its URL is only shown when created)",
    response=FeedStatus,
)
async def feed_status(call: Call[None]) -> FeedStatus:
    created_at = await call.request.app[CALENDAR].feed_created_at(call.principal)
    return FeedStatus(active=created_at is not None, created_at=created_at)


@routes.route(
    "POST",
    "/api/v1/calendar/feed",
    summary="Create my private calendar feed URL, or rotate it (the old URL stops working)",
    response=FeedOut,
    status=201,
)
async def create_feed(call: Call[None]) -> FeedOut:
    link = await call.request.app[CALENDAR].create_feed(call.principal)
    return FeedOut(url=link.url, token=link.token, created_at=link.created_at)


@routes.route(
    "DELETE",
    "/api/v1/calendar/feed",
    summary="Revoke my calendar feed URL",
    status=204,
    errors=("calendar_feed_not_found",),
)
async def revoke_feed(call: Call[None]) -> None:
    await call.request.app[CALENDAR].revoke_feed(call.principal)
