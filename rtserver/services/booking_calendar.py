"""iCalendar for bookings: the .ics invite of one booking (METHOD REQUEST or CANCEL, stable UID,
SEQUENCE growing with each change) and each user's private feed behind a revocable token.

Calendars are shared with other apps, so events carry no health information: a neutral
summary, the participants' display names, times in UTC.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vText

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.booking import Booking, BookingStatus
from rtserver.errors import NotFound
from rtserver.services.booking_errors import booking_not_found
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction

SUMMARY = "Counseling session"
PRODID = "-//rtserver//booking//EN"
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=400)
FEED_MAX_EVENTS = 500
_CANCELLED = frozenset({BookingStatus.CANCELLED, BookingStatus.DECLINED})
_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
    BookingStatus.DECLINED: "CANCELLED",
    BookingStatus.CANCELLED: "CANCELLED",
}


@dataclass(frozen=True)
class FeedLink:
    url: str
    token: str
    created_at: datetime


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def event_uid(booking: Booking) -> str:
    return f"{booking.id}@rtserver"


def _address(user_id: str, name: str, **params: str) -> vCalAddress:
    # No e-mail addresses: the participant is named by display name and an opaque URN.
    address = vCalAddress(f"urn:uuid:{user_id}")
    address.params["cn"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def booking_event(booking: Booking, names: Mapping[str, str], now: datetime) -> Event:
    event = Event()
    event.add("uid", event_uid(booking))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("summary", SUMMARY)
    event.add("status", _STATUS[booking.status])
    event.add("transp", "TRANSPARENT" if booking.status in _CANCELLED else "OPAQUE")
    event.add("organizer", _address(booking.counselor_id, names[booking.counselor_id]))
    confirmed = booking.status is not BookingStatus.PENDING
    event.add(
        "attendee",
        _address(
            booking.client_id,
            names[booking.client_id],
            role="REQ-PARTICIPANT",
            partstat="ACCEPTED" if confirmed else "NEEDS-ACTION",
        ),
    )
    return event


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def invite_ics(booking: Booking, names: Mapping[str, str], now: datetime) -> bytes:
    """The booking's current invite: CANCEL once cancelled or declined, REQUEST otherwise."""
    calendar = _calendar("CANCEL" if booking.status in _CANCELLED else "REQUEST")
    calendar.add_component(booking_event(booking, names, now))
    return bytes(calendar.to_ical())


def feed_ics(bookings: Iterable[Booking], names: Mapping[str, str], now: datetime) -> bytes:
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", "Counseling sessions")
    for booking in bookings:
        calendar.add_component(booking_event(booking, names, now))
    return bytes(calendar.to_ical())


class CalendarService:
    def __init__(self, database: Database, clock: Clock, public_url: str) -> None:
        self._db = database
        self._clock = clock
        self._public_url = public_url.rstrip("/")

    async def invite(self, principal: Principal, booking_id: str) -> bytes:
        """The .ics of a booking, for either participant (nobody else)."""
        async with self._db.read() as tx:
            booking = await tx.bookings.get(booking_id)
            if booking is None or booking.party_of(principal.user_id) is None:
                raise booking_not_found()
            names = await _names(tx, booking.participant_ids)
        return invite_ics(booking, names, self._clock.now())

    async def create_feed(self, principal: Principal) -> FeedLink:
        """A new private feed URL; any earlier one stops working."""
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._db.write() as tx:
            await tx.calendar_feeds.put(principal.user_id, feed_token_hash(token), now)
        return FeedLink(f"{self._public_url}/api/v1/calendar/{token}.ics", token, now)

    async def feed_created_at(self, principal: Principal) -> datetime | None:
        async with self._db.read() as tx:
            return await tx.calendar_feeds.created_at(principal.user_id)

    async def revoke_feed(self, principal: Principal) -> None:
        async with self._db.write() as tx:
            if not await tx.calendar_feeds.delete(principal.user_id):
                raise _feed_not_found()

    async def feed(self, token: str) -> bytes:
        """The feed of whoever holds `token`: their bookings from 90 days back on."""
        now = self._clock.now()
        async with self._db.read() as tx:
            user_id = await tx.calendar_feeds.owner(feed_token_hash(token))
            if user_id is None:
                raise _feed_not_found()
            bookings = await tx.bookings.of_user(
                user_id, now - FEED_PAST, now + FEED_AHEAD, (), FEED_MAX_EVENTS
            )
            ids = {user for booking in bookings for user in booking.participant_ids}
            names = await _names(tx, ids)
        return feed_ics(bookings, names, now)


def _feed_not_found() -> NotFound:
    return NotFound("no such calendar feed", code="calendar_feed_not_found")


async def _names(tx: Transaction, user_ids: Iterable[str]) -> dict[str, str]:
    names = {}
    for user_id in set(user_ids):
        user = await tx.users.get(user_id)
        names[user_id] = user.display_name if user else "Former user"
    return names
