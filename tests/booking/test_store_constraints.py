"""The PostgreSQL exclusion constraints on their own, without the service's prior checks: live
bookings never overlap for a counselor (occupied span) nor for a client (session time)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from rtserver.api.keys import DATABASE
from rtserver.domain.booking import Booking, BookingEvent, BookingStatus, Busy, EventKind, Party
from rtserver.ids import new_id
from rtserver.store.booking import BookingOverlap
from tests.booking.factories import NOW, Counselor, Person, make_client, make_counselor
from tests.support.clients import Api
from tests.support.server import RunningServer

HOUR = timedelta(hours=1)


def booking(
    counselor: Counselor, client: Person, start_hour: float, status: BookingStatus
) -> Booking:
    start = NOW + timedelta(hours=start_hour)
    return Booking(
        id=new_id(),
        counselor_id=counselor.id,
        client_id=client.id,
        session_type_id=counselor.type_id,
        status=status,
        start=start,
        end=start + timedelta(minutes=50),
        occupied=Busy(start, start + HOUR),
        price_minor=1,
        currency="IDR",
        room_id=new_id(),
        created_at=NOW,
        updated_at=NOW,
    )


# SQLite has no exclusion constraint; its serialised writer re-checks instead (other tests).
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_exclusion_constraints(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    assert server.app is not None
    database = server.app[DATABASE]
    other = await make_client(api)
    colleague = await make_counselor(api, server, "dr.colleague")

    async def insert(item: Booking) -> None:
        async with database.write() as tx:
            await tx.bookings.add(item, [])

    await insert(booking(counselor, client, 2, BookingStatus.CONFIRMED))
    with pytest.raises(BookingOverlap) as refused:
        await insert(booking(counselor, other, 2.5, BookingStatus.PENDING))
    assert refused.value.whose is Party.COUNSELOR
    await insert(booking(counselor, other, 3, BookingStatus.PENDING))  # touching: [) ranges
    cancelled = booking(counselor, other, 2.5, BookingStatus.CANCELLED)
    await insert(cancelled)  # not live: holds no time

    with pytest.raises(BookingOverlap) as refused:
        await insert(booking(colleague, client, 2.5, BookingStatus.PENDING))
    assert refused.value.whose is Party.CLIENT

    with pytest.raises(BookingOverlap):
        async with database.write() as tx:
            revived = replace(cancelled, status=BookingStatus.PENDING, sequence=1)
            event = BookingEvent(
                booking_id=revived.id, kind=EventKind.CONFIRMED, at=NOW, actor_id=None
            )
            await tx.bookings.change(revived, event)
    async with database.read() as tx:
        assert await tx.bookings.live_count(counselor.id) == 2
