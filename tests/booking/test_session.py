"""From booking to counseling session: the room opens a few minutes early, the first join
records the start, either side ends it, the counselor records a no-show."""

from __future__ import annotations

from datetime import timedelta

from rtserver.api.keys import DATABASE
from rtserver.clock import FrozenClock
from rtserver.domain.chat import pair_key
from tests.booking.factories import NOW, Counselor, Person, act, book, refreshed
from tests.support.clients import Api
from tests.support.server import RunningServer

TWO_AM = NOW + timedelta(hours=2)  # Monday 09:00 in Jakarta


async def later(api: Api, clock: FrozenClock, to: timedelta, *people: Person) -> None:
    clock.advance(NOW + to - clock.now())
    for person in people:
        await refreshed(api, person)


async def test_join_window_start_end(
    api: Api, server: RunningServer, clock: FrozenClock, counselor: Counselor, client: Person
) -> None:
    booked = await book(api, client, counselor, TWO_AM)
    assert booked.status == 201 and booked.body["status"] == "confirmed"
    booking_id = booked.body["id"]

    early = await act(api, client, booking_id, "join")
    assert early.status == 409 and early.code == "too_early"
    assert (await act(api, client, booking_id, "end")).code == "not_started"

    await later(api, clock, timedelta(hours=1, minutes=51), client, counselor)
    joined = await act(api, client, booking_id, "join")
    assert joined.status == 200, joined.body
    assert joined.body["started_at"] == "2026-10-19T01:51:00Z"
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        conversation = await tx.conversations.by_pair(pair_key(counselor.id, client.id))
    assert conversation is not None and joined.body["conversation_id"] == conversation.id

    await later(api, clock, timedelta(hours=2, minutes=3), client, counselor)
    again = await act(api, counselor, booking_id, "join")
    assert again.body["room_id"] == joined.body["room_id"]
    assert again.body["started_at"] == "2026-10-19T01:51:00Z"  # the first join counts
    assert (await act(api, counselor, booking_id, "no-show", {})).code == "client_joined"

    ended = await act(api, counselor, booking_id, "end")
    assert ended.status == 200 and ended.body["status"] == "completed"
    assert ended.body["ended_at"] == "2026-10-19T02:03:00Z"
    assert (await act(api, client, booking_id, "join")).code == "session_over"
    assert (await act(api, client, booking_id, "cancel", {"reason": "x"})).code == (
        "invalid_transition"
    )
    kinds = [
        e["kind"]
        for e in (
            await api.request("GET", f"/api/v1/bookings/{booking_id}", token=client.token)
        ).body["history"]
    ]
    assert kinds == ["created", "confirmed", "started", "started", "ended"]


async def test_no_show_and_a_session_that_is_over(
    api: Api, clock: FrozenClock, counselor: Counselor, client: Person
) -> None:
    missed = (await book(api, client, counselor, TWO_AM)).body["id"]
    unjoined = (await book(api, client, counselor, TWO_AM + timedelta(hours=1))).body["id"]

    assert (await act(api, counselor, missed, "no-show", {})).code == "not_started"
    await later(api, clock, timedelta(hours=2, minutes=15), client, counselor)
    assert (await act(api, client, missed, "no-show", {})).code == "counselor_only"
    marked = await act(api, counselor, missed, "no-show", {"reason": "did not come"})
    assert marked.status == 200 and marked.body["status"] == "no_show"
    assert (await act(api, client, missed, "join")).code == "session_over"
    assert (await act(api, client, missed, "cancel", {"reason": "x"})).code == (
        "invalid_transition"
    )

    await later(api, clock, timedelta(hours=3, minutes=50), client)
    over = await act(api, client, unjoined, "join")
    assert over.status == 409 and over.code == "session_over"


async def test_a_pending_booking_cannot_be_joined(
    api: Api, server: RunningServer, clock: FrozenClock, client: Person
) -> None:
    from tests.booking.factories import make_counselor

    careful = await make_counselor(api, server, "dr.careful", requires_confirmation=True)
    booking_id = (await book(api, client, careful, TWO_AM)).body["id"]
    await later(api, clock, timedelta(hours=1, minutes=55), client)
    assert (await act(api, client, booking_id, "join")).code == "not_confirmed"
