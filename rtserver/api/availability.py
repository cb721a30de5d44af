"""/api/v1/counselors/{id}/...: a counselor's availability and session types (edited by that
counselor, read by anyone signed in) and free slots; /api/v1/slots searches across counselors."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rtserver.api.keys import AVAILABILITY
from rtserver.api.routing import Call, RouteTable
from rtserver.domain.accounts import Role
from rtserver.domain.booking import LocalRange, OfferedSessionType, Weekday
from rtserver.errors import Invalid
from rtserver.services.booking_availability import (
    Availability,
    SessionTypeDraft,
    SlotPage,
    WallRange,
)

routes = RouteTable("availability")

Id = Annotated[str, Field(min_length=1, max_length=64)]
Wall = Annotated[
    str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", examples=["09:00", "24:00"])
]
Zone = Annotated[str, Field(min_length=1, max_length=64, examples=["Asia/Jakarta"])]
DayName = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_DAY_NAMES: dict[str, Weekday] = {day.name.lower(): day for day in Weekday}
_SLOT_ERRORS = ("invalid_range", "invalid_time_zone", "counselor_not_found")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=256)


class WallRangeIn(Strict):
    start: Wall
    end: Wall = Field(description='"24:00" ends the range at midnight')


Ranges = Annotated[list[WallRangeIn], Field(max_length=12)]


class ScheduleBody(Strict):
    time_zone: Zone
    week: dict[DayName, Ranges] = Field(
        max_length=7, description="hours per weekday in the counselor's zone; absent = off"
    )


class OverrideBody(Strict):
    ranges: Ranges = Field(description="empty: a day off")


class SessionTypeBody(Strict):
    name: str = Field(min_length=1, max_length=80, examples=["Individual session"])
    duration_minutes: int = Field(examples=[50])
    slot_interval_minutes: int | None = Field(
        default=None, description="defaults to duration + buffers"
    )
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    booking_window_days: int = 60
    price_minor: int = Field(examples=[15000000], description="in the currency's minor unit")
    currency: str = Field(min_length=3, max_length=3, examples=["IDR"])
    requires_confirmation: bool | None = Field(
        default=None, description="defaults to the server's booking_requires_confirmation"
    )


class WallRangeOut(BaseModel):
    start: str
    end: str


class OverrideOut(BaseModel):
    date: date
    ranges: list[WallRangeOut]


class AvailabilityOut(BaseModel):
    counselor_id: str
    time_zone: str | None
    week: dict[str, list[WallRangeOut]]
    overrides: list[OverrideOut]


class SessionTypeOut(BaseModel):
    id: str
    counselor_id: str
    name: str
    duration_minutes: int
    slot_interval_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    booking_window_days: int
    price_minor: int
    currency: str
    requires_confirmation: bool


class SessionTypeList(BaseModel):
    session_types: list[SessionTypeOut]


class SlotOut(BaseModel):
    counselor_id: str
    session_type_id: str
    start: datetime = Field(description="in the viewer's time zone")
    end: datetime
    start_utc: datetime
    end_utc: datetime


class SlotList(BaseModel):
    time_zone: str
    slots: list[SlotOut]
    truncated: bool


class SlotQuery(Strict):
    session_type_id: Id
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    tz: Zone = "UTC"


class MatchingSlotQuery(Strict):
    session_minutes: int = Field(ge=1, le=1440)
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    tz: Zone = "UTC"
    limit: int = Field(default=200, ge=1, le=1000)


def _wall(text: str) -> time:
    return time(0) if text == "24:00" else time.fromisoformat(text)


def _walls(ranges: list[WallRangeIn]) -> list[WallRange]:
    return [(_wall(r.start), _wall(r.end)) for r in ranges]


def _ranges_out(ranges: tuple[LocalRange, ...] | list[LocalRange]) -> list[WallRangeOut]:
    return [
        WallRangeOut(
            start=r.start.strftime("%H:%M"),
            end="24:00" if r.end == time(0) else r.end.strftime("%H:%M"),
        )
        for r in ranges
    ]


def availability_out(found: Availability) -> AvailabilityOut:
    schedule = found.schedule
    return AvailabilityOut(
        counselor_id=found.counselor_id,
        time_zone=schedule.time_zone if schedule else None,
        week={
            day.name.lower(): _ranges_out(list(ranges))
            for day, ranges in (schedule.week.items() if schedule else ())
        },
        overrides=[
            OverrideOut(date=o.day, ranges=_ranges_out(list(o.ranges))) for o in found.overrides
        ],
    )


def session_type_out(offered: OfferedSessionType) -> SessionTypeOut:
    rules = offered.rules
    return SessionTypeOut(
        id=offered.id,
        counselor_id=offered.counselor_id,
        name=offered.name,
        duration_minutes=rules.duration_minutes,
        slot_interval_minutes=rules.slot_interval_minutes,
        buffer_before_minutes=rules.buffer_before_minutes,
        buffer_after_minutes=rules.buffer_after_minutes,
        min_notice_minutes=rules.min_notice_minutes,
        booking_window_days=rules.booking_window_days,
        price_minor=rules.price_minor,
        currency=rules.currency,
        requires_confirmation=rules.requires_confirmation,
    )


def slot_list(page: SlotPage) -> SlotList:
    return SlotList(
        time_zone=page.time_zone,
        slots=[
            SlotOut(
                counselor_id=found.counselor_id,
                session_type_id=found.session_type_id,
                start=found.local.start,
                end=found.local.end,
                start_utc=found.slot.start,
                end_utc=found.slot.end,
            )
            for found in page.slots
        ],
        truncated=page.truncated,
    )


def _draft(body: SessionTypeBody) -> SessionTypeDraft:
    return SessionTypeDraft(**body.model_dump())


def _counselor_id(call: Call[Any]) -> str:
    return call.request.match_info["counselor_id"]


def _day(call: Call[Any]) -> date:
    try:
        return date.fromisoformat(call.request.match_info["day"])
    except ValueError as exc:
        raise Invalid("the date must look like 2026-10-25", code="invalid_request") from exc


@routes.route(
    "GET",
    "/api/v1/counselors/{counselor_id}/availability",
    summary="A counselor's weekly hours (in their zone) and upcoming date overrides",
    response=AvailabilityOut,
    errors=("counselor_not_found",),
)
async def get_availability(call: Call[None]) -> AvailabilityOut:
    found = await call.request.app[AVAILABILITY].availability(_counselor_id(call))
    return availability_out(found)


@routes.route(
    "PUT",
    "/api/v1/counselors/{counselor_id}/availability",
    summary="Replace my weekly hours and time zone (counselor, own only)",
    body=ScheduleBody,
    response=AvailabilityOut,
    roles={Role.COUNSELOR},
    errors=("invalid_schedule", "not_your_availability", "counselor_not_found"),
)
async def put_availability(call: Call[ScheduleBody]) -> AvailabilityOut:
    week = {_DAY_NAMES[name]: _walls(ranges) for name, ranges in call.body.week.items()}
    found = await call.request.app[AVAILABILITY].set_schedule(
        call.principal, _counselor_id(call), call.body.time_zone, week
    )
    return availability_out(found)


@routes.route(
    "PUT",
    "/api/v1/counselors/{counselor_id}/overrides/{day}",
    summary="Other hours on one of my local dates; no ranges = day off (counselor, own only)",
    body=OverrideBody,
    response=AvailabilityOut,
    roles={Role.COUNSELOR},
    errors=("invalid_schedule", "not_your_availability", "counselor_not_found"),
)
async def put_override(call: Call[OverrideBody]) -> AvailabilityOut:
    found = await call.request.app[AVAILABILITY].set_override(
        call.principal, _counselor_id(call), _day(call), _walls(call.body.ranges)
    )
    return availability_out(found)


@routes.route(
    "DELETE",
    "/api/v1/counselors/{counselor_id}/overrides/{day}",
    summary="Back to the weekly hours on that date (counselor, own only)",
    roles={Role.COUNSELOR},
    status=204,
    errors=("override_not_found", "not_your_availability", "counselor_not_found"),
)
async def delete_override(call: Call[None]) -> None:
    await call.request.app[AVAILABILITY].remove_override(
        call.principal, _counselor_id(call), _day(call)
    )


@routes.route(
    "GET",
    "/api/v1/counselors/{counselor_id}/session-types",
    summary="The session types a counselor offers",
    response=SessionTypeList,
    errors=("counselor_not_found",),
)
async def list_session_types(call: Call[None]) -> SessionTypeList:
    found = await call.request.app[AVAILABILITY].session_types(_counselor_id(call))
    return SessionTypeList(session_types=[session_type_out(o) for o in found])


@routes.route(
    "POST",
    "/api/v1/counselors/{counselor_id}/session-types",
    summary="Offer a session type (counselor, own only)",
    body=SessionTypeBody,
    response=SessionTypeOut,
    roles={Role.COUNSELOR},
    status=201,
    errors=("invalid_session_type", "not_your_availability", "counselor_not_found"),
)
async def create_session_type(call: Call[SessionTypeBody]) -> SessionTypeOut:
    offered = await call.request.app[AVAILABILITY].add_session_type(
        call.principal, _counselor_id(call), _draft(call.body)
    )
    return session_type_out(offered)


@routes.route(
    "PUT",
    "/api/v1/counselors/{counselor_id}/session-types/{session_type_id}",
    summary="Change a session type for future bookings (counselor, own only)",
    body=SessionTypeBody,
    response=SessionTypeOut,
    roles={Role.COUNSELOR},
    errors=("invalid_session_type", "session_type_not_found", "not_your_availability"),
)
async def replace_session_type(call: Call[SessionTypeBody]) -> SessionTypeOut:
    offered = await call.request.app[AVAILABILITY].replace_session_type(
        call.principal,
        _counselor_id(call),
        call.request.match_info["session_type_id"],
        _draft(call.body),
    )
    return session_type_out(offered)


@routes.route(
    "DELETE",
    "/api/v1/counselors/{counselor_id}/session-types/{session_type_id}",
    summary="Stop offering a session type; existing bookings keep it (counselor, own only)",
    roles={Role.COUNSELOR},
    status=204,
    errors=("session_type_not_found", "not_your_availability"),
)
async def retire_session_type(call: Call[None]) -> None:
    await call.request.app[AVAILABILITY].retire_session_type(
        call.principal, _counselor_id(call), call.request.match_info["session_type_id"]
    )


@routes.route(
    "GET",
    "/api/v1/counselors/{counselor_id}/slots",
    summary="A counselor's free slots of one session type, in the viewer's zone and in UTC",
    query=SlotQuery,
    response=SlotList,
    errors=(*_SLOT_ERRORS, "session_type_not_found"),
)
async def counselor_slots(call: Call[None]) -> SlotList:
    query: SlotQuery = call.query
    page = await call.request.app[AVAILABILITY].slots(
        _counselor_id(call), query.session_type_id, query.start, query.end, query.tz
    )
    return slot_list(page)


@routes.route(
    "GET",
    "/api/v1/slots",
    summary="Free slots of every counselor offering sessions of that length, earliest first",
    query=MatchingSlotQuery,
    response=SlotList,
    errors=_SLOT_ERRORS,
)
async def matching_slots(call: Call[None]) -> SlotList:
    query: MatchingSlotQuery = call.query
    page = await call.request.app[AVAILABILITY].matching_slots(
        query.session_minutes, query.start, query.end, query.tz, query.limit
    )
    return slot_list(page)
