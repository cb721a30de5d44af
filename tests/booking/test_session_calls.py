"""Calls inside a booked session: only its two participants, only while its room is open, only
in its conversation; the call record names the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from rtserver.clock import FrozenClock
from tests.booking.factories import NOW, Counselor, Person, book, make_client, refreshed
from tests.support import people
from tests.support.calls import Phones, new_call_id
from tests.support.clients import Api
from tests.support.people import Devices, open_direct
from tests.support.server import RunningServer

TWO_AM = NOW + timedelta(hours=2)  # Monday 09:00 in Jakarta


@pytest.fixture
async def phones(server: RunningServer, api: Api, clients: Devices) -> AsyncIterator[Phones]:
    made = Phones(server.url, api, clients)
    yield made
    await made.close()


def session_invite(
    call_id: str, conversation_id: str, session_id: str, sdp: object
) -> dict[str, object]:
    return {
        "call_id": call_id,
        "conversation_id": conversation_id,
        "session_id": session_id,
        "media": "video",
        "sdp": sdp,
    }


async def test_a_session_call_opens_with_the_room_and_is_recorded_with_it(
    api: Api,
    clock: FrozenClock,
    counselor: Counselor,
    client: Person,
    phones: Phones,
) -> None:
    booked = await book(api, client, counselor, TWO_AM)
    assert booked.status == 201, booked.body
    session_id = booked.body["id"]
    the_counselor, the_client = people.Person(counselor.session), people.Person(client.session)
    conversation_id = await open_direct(api, the_counselor, the_client)

    caller = await phones.of(the_client)
    call_id = new_call_id()
    early = await caller.socket.call(
        "call.invite",
        session_invite(call_id, conversation_id, session_id, caller.sdp(call_id, "offer")),
    )
    assert early["error"]["code"] == "too_early"

    clock.advance(NOW + timedelta(hours=1, minutes=55) - clock.now())
    for person, same in ((client, the_client), (counselor, the_counselor)):
        await refreshed(api, person)
        same.session = person.session
    caller = await phones.of(the_client)
    callee = await phones.of(the_counselor)
    stranger = await phones.of(people.Person((await make_client(api, "orang-lain")).session))

    intruder = await stranger.socket.call(
        "call.invite",
        session_invite(call_id, conversation_id, session_id, stranger.sdp(call_id, "offer")),
    )
    assert intruder["error"]["code"] == "booking_not_found"
    other = await open_direct(api, the_counselor, stranger.person)
    wrong_room = await caller.socket.call(
        "call.invite", session_invite(call_id, other, session_id, caller.sdp(call_id, "offer"))
    )
    assert wrong_room["error"]["code"] in (
        "session_conversation_mismatch",
        "conversation_not_found",
    )

    ok = await caller.socket.call(
        "call.invite",
        session_invite(call_id, conversation_id, session_id, caller.sdp(call_id, "offer")),
    )
    assert ok["ok"], ok
    incoming = await callee.socket.next("call.incoming")
    assert incoming["session_id"] == session_id
    assert (await callee.answer(call_id))["ok"]
    listed = await api.request(
        "GET",
        f"/api/v1/conversations/{conversation_id}/calls?session_id={session_id}",
        token=counselor.token,
    )
    assert [c["call_id"] for c in listed.body["calls"]] == [call_id]
    assert listed.body["calls"][0]["session_id"] == session_id
