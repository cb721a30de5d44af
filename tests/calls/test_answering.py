"""The SDK's side of who ends up in the call, with real media: the device that answers gets the
media while the user's other device stops ringing, and on glare both people end up in the one
call the server chose."""

from __future__ import annotations

import asyncio

from tests.calls.media_devices import CallDevices, media_flows
from tests.support.clients import Api
from tests.support.people import Pair, Person


async def test_the_answering_device_gets_the_media_and_the_other_stops_ringing(
    pair: Pair, lines: CallDevices, api: Api
) -> None:
    console = await lines.open(pair.counselor)
    phone = await lines.open(pair.client)
    laptop_person = Person(await api.login("bintang", "correct horse 42", device="laptop"))
    laptop = await lines.open(laptop_person)  # publishes the laptop's keys on first use

    outgoing = await console.place_call(pair.conversation_id, "video")
    on_phone, on_laptop = await phone.next_incoming(), await laptop.next_incoming()
    assert on_phone.call_id == on_laptop.call_id == outgoing.call_id
    await on_laptop.answer()
    assert (await on_phone.wait_ended()).reason == "answered_elsewhere"
    assert on_phone.connection is None  # the phone never built a media connection

    await outgoing.wait_connected()
    await on_laptop.wait_connected()
    assert outgoing.peer_device_id == laptop_person.device_id  # verified with the laptop's key
    await media_flows(outgoing, on_laptop)
    await on_laptop.hangup()
    assert (await outgoing.wait_ended()).reason == "hangup"


async def test_glare_leaves_both_people_in_the_call_the_server_chose(
    pair: Pair, lines: CallDevices
) -> None:
    console = await lines.open(pair.counselor)
    phone = await lines.open(pair.client)
    first, second = await asyncio.gather(
        console.place_call(pair.conversation_id, "video"),
        phone.place_call(pair.conversation_id, "video"),
    )
    assert first.call_id == second.call_id  # one invite won; the other device answered it
    assert {first.role, second.role} == {"caller", "callee"}
    assert len(console.calls) == len(phone.calls) == 1  # the losing offer left nothing behind
    for call in (first, second):
        await call.wait_active()
        await call.wait_connected()
    await media_flows(first, second)
    await first.hangup()
    assert (await second.wait_ended()).reason == "hangup"
