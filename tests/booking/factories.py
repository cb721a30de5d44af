"""Builders for booking tests over real HTTP: counselors with hours and a session type, clients,
bookings, and reading the store to check that nothing changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from rtserver.api.keys import ACCOUNTS, DATABASE
from rtserver.domain.accounts import Role
from rtserver.domain.booking import Booking, BookingEvent
from tests.support.clients import Api, Reply
from tests.support.server import RunningServer

NOW = datetime(2026, 10, 19, 0, 0, tzinfo=UTC)  # a Monday, 07:00 in Jakarta
WORKDAY = [("09:00", "12:00"), ("13:00", "17:00")]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
PASSWORD = "counselor pw 123"


@dataclass
class Person:
    session: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.session["user"]["id"])

    @property
    def token(self) -> str:
        return str(self.session["access_token"])


@dataclass
class Counselor(Person):
    session_type: dict[str, Any] = field(default_factory=dict)

    @property
    def type_id(self) -> str:
        return str(self.session_type["id"])


def week(*days: str, hours: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    return {
        day: [{"start": start, "end": end} for start, end in (hours or WORKDAY)]
        for day in days or WEEKDAYS
    }


def session_type_body(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Individual session",
        "duration_minutes": 50,
        "slot_interval_minutes": 60,
        "buffer_after_minutes": 10,
        "price_minor": 15_000_000,
        "currency": "IDR",
        "requires_confirmation": False,
        **changes,
    }


async def make_counselor(
    api: Api,
    server: RunningServer,
    login: str,
    *,
    time_zone: str = "Asia/Jakarta",
    hours: dict[str, Any] | None = None,
    **session_type: Any,
) -> Counselor:
    assert server.app is not None
    await server.app[ACCOUNTS].create_user(login, PASSWORD, f"Dr. {login}", Role.COUNSELOR)
    person = Counselor(await api.login(login, PASSWORD, device="console"))
    base = f"/api/v1/counselors/{person.id}"
    reply = await api.request(
        "PUT",
        f"{base}/availability",
        {"time_zone": time_zone, "week": hours or week()},
        token=person.token,
    )
    assert reply.status == 200, reply.body
    reply = await api.request(
        "POST", f"{base}/session-types", session_type_body(**session_type), token=person.token
    )
    assert reply.status == 201, reply.body
    person.session_type = reply.body
    return person


async def make_client(api: Api, login: str | None = None) -> Person:
    return Person(await api.register(login))


async def book(
    api: Api, client: Person, counselor: Counselor, start: datetime | str, **extra: Any
) -> Reply:
    body = {
        "counselor_id": counselor.id,
        "session_type_id": counselor.type_id,
        "start": start if isinstance(start, str) else start.isoformat(),
        **extra,
    }
    return await api.request("POST", "/api/v1/bookings", body, token=client.token)


async def act(api: Api, person: Person, booking_id: str, action: str, body: Any = None) -> Reply:
    return await api.request(
        "POST", f"/api/v1/bookings/{booking_id}/{action}", body, token=person.token
    )


async def slots(api: Api, person: Person, path: str, **query: Any) -> Reply:
    return await api.request("GET", f"{path}?{urlencode(query)}", token=person.token)


async def refreshed(api: Api, person: Person) -> None:
    """New access token after the test moved the clock past the old one's expiry."""
    reply = await api.request(
        "POST", "/api/v1/auth/refresh", {"refresh_token": person.session["refresh_token"]}
    )
    assert reply.status == 200, reply.body
    person.session = reply.body


async def stored_bookings(server: RunningServer, user_id: str) -> list[Booking]:
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        return await tx.bookings.of_user(
            user_id, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC), (), 1000
        )


async def history(server: RunningServer, booking_id: str) -> list[BookingEvent]:
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        return await tx.bookings.events(booking_id)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
