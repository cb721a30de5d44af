"""/api/v1/bookings: book, list, see, confirm, decline, cancel, reschedule; join and end the
session, record a no-show. Only the booking's two participants see or touch it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rtserver.api.availability import Id
from rtserver.api.keys import BOOKINGS
from rtserver.api.routing import Call, RouteTable
from rtserver.domain.accounts import Role
from rtserver.domain.booking import Booking, BookingEvent, BookingStatus, EventKind, Party

routes = RouteTable("bookings")

_STATE_ERRORS = ("booking_not_found", "invalid_transition")
_TIME_ERRORS = (
    "slot_taken",
    "overlapping_booking",
    "outside_availability",
    "in_the_past",
    "too_short_notice",
    "beyond_booking_window",
    "not_aligned",
    "already_started",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=500)


class BookBody(Strict):
    counselor_id: Id
    session_type_id: Id
    start: AwareDatetime = Field(description="an offered slot's start (any UTC offset)")
    end: AwareDatetime | None = Field(
        default=None, description="optional; must be start + the session type's duration"
    )


class CancelBody(Strict):
    reason: str = Field(min_length=1, max_length=500)


class DeclineBody(Strict):
    reason: str | None = Field(default=None, max_length=500)


class RescheduleBody(Strict):
    start: AwareDatetime
    reason: str | None = Field(default=None, max_length=500)


class BookingsQuery(Strict):
    start: AwareDatetime | None = Field(default=None, alias="from")
    end: AwareDatetime | None = Field(default=None, alias="to")
    status: BookingStatus | None = None
    limit: int = Field(default=100, ge=1, le=200)


class BookingOut(BaseModel):
    id: str
    counselor_id: str
    client_id: str
    session_type_id: str
    status: BookingStatus
    start: datetime
    end: datetime
    price_minor: int
    currency: str
    sequence: int = Field(description="grows with every change; the .ics SEQUENCE")
    created_at: datetime
    updated_at: datetime
    cancelled_by: Party | None
    cancel_reason: str | None
    late_cancel: bool | None
    started_at: datetime | None
    ended_at: datetime | None


class BookingEventOut(BaseModel):
    kind: EventKind
    at: datetime
    actor_id: str | None
    reason: str | None
    from_start: datetime | None
    from_end: datetime | None
    to_start: datetime | None
    to_end: datetime | None
    late: bool | None


class BookingDetail(BookingOut):
    history: list[BookingEventOut]


class BookingList(BaseModel):
    bookings: list[BookingOut]


class SessionRoomOut(BaseModel):
    booking_id: str
    room_id: str
    conversation_id: str
    started_at: datetime | None
    ends_at: datetime


def booking_out(booking: Booking) -> BookingOut:
    return BookingOut(
        id=booking.id,
        counselor_id=booking.counselor_id,
        client_id=booking.client_id,
        session_type_id=booking.session_type_id,
        status=booking.status,
        start=booking.start,
        end=booking.end,
        price_minor=booking.price_minor,
        currency=booking.currency,
        sequence=booking.sequence,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        cancelled_by=booking.cancelled_by,
        cancel_reason=booking.cancel_reason,
        late_cancel=booking.late_cancel,
        started_at=booking.started_at,
        ended_at=booking.ended_at,
    )


def event_out(event: BookingEvent) -> BookingEventOut:
    return BookingEventOut(
        kind=event.kind,
        at=event.at,
        actor_id=event.actor_id,
        reason=event.reason,
        from_start=event.from_start,
        from_end=event.from_end,
        to_start=event.to_start,
        to_end=event.to_end,
        late=event.late,
    )


def _booking_id(call: Call[Any]) -> str:
    return call.request.match_info["booking_id"]


@routes.route(
    "POST",
    "/api/v1/bookings",
    summary="Book a slot (client): pending, or confirmed when the type needs no confirmation",
    body=BookBody,
    response=BookingOut,
    roles={Role.CLIENT},
    status=201,
    errors=(
        *_TIME_ERRORS,
        "invalid_interval",
        "counselor_not_found",
        "session_type_not_found",
    ),
)
async def book(call: Call[BookBody]) -> BookingOut:
    b = call.body
    booking = await call.request.app[BOOKINGS].book(
        call.principal, b.counselor_id, b.session_type_id, b.start, b.end
    )
    return booking_out(booking)


@routes.route(
    "GET",
    "/api/v1/bookings",
    summary="My bookings (as client or counselor), earliest first",
    query=BookingsQuery,
    response=BookingList,
)
async def list_bookings(call: Call[None]) -> BookingList:
    query: BookingsQuery = call.query
    found = await call.request.app[BOOKINGS].mine(
        call.principal, query.start, query.end, query.status, query.limit
    )
    return BookingList(bookings=[booking_out(b) for b in found])


@routes.route(
    "GET",
    "/api/v1/bookings/{booking_id}",
    summary="One of my bookings with its history",
    response=BookingDetail,
    errors=("booking_not_found",),
)
async def get_booking(call: Call[None]) -> BookingDetail:
    booking, events = await call.request.app[BOOKINGS].get(call.principal, _booking_id(call))
    return BookingDetail(
        **booking_out(booking).model_dump(), history=[event_out(e) for e in events]
    )


@routes.route(
    "POST",
    "/api/v1/bookings/{booking_id}/confirm",
    summary="Confirm a pending booking (its counselor)",
    response=BookingOut,
    errors=(*_STATE_ERRORS, "counselor_only"),
)
async def confirm(call: Call[None]) -> BookingOut:
    return booking_out(await call.request.app[BOOKINGS].confirm(call.principal, _booking_id(call)))


@routes.route(
    "POST",
    "/api/v1/bookings/{booking_id}/decline",
    summary="Decline a pending booking (its counselor)",
    body=DeclineBody,
    response=BookingOut,
    errors=(*_STATE_ERRORS, "counselor_only"),
)
async def decline(call: Call[DeclineBody]) -> BookingOut:
    return booking_out(
        await call.request.app[BOOKINGS].decline(
            call.principal, _booking_id(call), call.body.reason
        )
    )


@routes.route(
    "POST",
    "/api/v1/bookings/{booking_id}/cancel",
    summary="Cancel before the start (either participant); late cancellations are recorded",
    body=CancelBody,
    response=BookingOut,
    errors=(*_STATE_ERRORS, "already_started"),
)
async def cancel(call: Call[CancelBody]) -> BookingOut:
    return booking_out(
        await call.request.app[BOOKINGS].cancel(call.principal, _booking_id(call), call.body.reason)
    )


@routes.route(
    "POST",
    "/api/v1/bookings/{booking_id}/reschedule",
    summary="Move a booking to another free slot (either participant); history is kept",
    body=RescheduleBody,
    response=BookingOut,
    errors=(*_STATE_ERRORS, *_TIME_ERRORS),
)
async def reschedule(call: Call[RescheduleBody]) -> BookingOut:
    b = call.body
    return booking_out(
        await call.request.app[BOOKINGS].reschedule(
            call.principal, _booking_id(call), b.start, b.reason
        )
    )


@routes.route(
    "POST",
    "/api/v1/bookings/{booking_id}/join",
    summary="Enter the session room, from a few minutes before the start until its end",
    response=SessionRoomOut,
    errors=(*_STATE_ERRORS, "not_confirmed", "too_early", "session_over"),
)
async def join(call: Call[None]) -> SessionRoomOut:
    room = await call.request.app[BOOKINGS].join(call.principal, _booking_id(call))
    return SessionRoomOut(
        booking_id=room.booking.id,
        room_id=room.room_id,
        conversation_id=room.conversation_id,
        started_at=room.booking.started_at,
        ends_at=room.booking.end,
    )


@routes.route(
    "POST",
    "/api/v1/bookings/{booking_id}/end",
    summary="End a started session (either participant); the booking is completed",
    response=BookingOut,
    errors=(*_STATE_ERRORS, "not_started", "session_over"),
)
async def end(call: Call[None]) -> BookingOut:
    return booking_out(await call.request.app[BOOKINGS].end(call.principal, _booking_id(call)))


@routes.route(
    "POST",
    "/api/v1/bookings/{booking_id}/no-show",
    summary="Record that the client did not come (its counselor, after the start)",
    body=DeclineBody,
    response=BookingOut,
    errors=(*_STATE_ERRORS, "counselor_only", "not_started", "client_joined"),
)
async def no_show(call: Call[DeclineBody]) -> BookingOut:
    return booking_out(
        await call.request.app[BOOKINGS].no_show(
            call.principal, _booking_id(call), call.body.reason
        )
    )
