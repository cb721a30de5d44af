"""One counselor, one slot: 100 clients race for the same slot over HTTP; the database lets
exactly one through, on SQLite (serialised writer) and PostgreSQL (exclusion constraint)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from rtserver.api.keys import DATABASE
from tests.booking.factories import NOW, Counselor, Person, book, make_client, stored_bookings
from tests.support.clients import Api
from tests.support.server import RunningServer

SLOT = NOW + timedelta(hours=3)
RACERS = 100


async def test_hundred_clients_one_slot(
    api: Api, server: RunningServer, counselor: Counselor
) -> None:
    clients = await asyncio.gather(*(make_client(api) for _ in range(RACERS)))

    replies = await asyncio.gather(*(book(api, client, counselor, SLOT) for client in clients))

    statuses = sorted((reply.status, reply.code) for reply in replies)
    assert statuses.count((201, None)) == 1, statuses
    assert statuses.count((409, "slot_taken")) == RACERS - 1, statuses
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        assert await tx.bookings.live_count(counselor.id) == 1
    assert len(await stored_bookings(server, counselor.id)) == 1


async def test_buffers_count_as_taken_and_a_client_cannot_overlap_themselves(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    from tests.booking.factories import make_counselor

    assert (await book(api, client, counselor, SLOT)).status == 201
    other = await make_client(api)
    # 30-minute slots: the 10-minute buffer after the 50-minute session blocks the next start.
    tight = await make_counselor(api, server, "dr.tight", slot_interval_minutes=30)
    assert (await book(api, other, tight, SLOT)).status == 201
    overlapping = await book(api, await make_client(api), tight, SLOT + timedelta(minutes=30))
    assert overlapping.code == "slot_taken"

    free = await make_counselor(api, server, "dr.free", slot_interval_minutes=30)
    clash = await book(api, client, free, SLOT + timedelta(minutes=30))
    assert clash.status == 409 and clash.code == "overlapping_booking"
    assert len(await stored_bookings(server, client.id)) == 1
