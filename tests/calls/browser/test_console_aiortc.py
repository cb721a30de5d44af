"""The counselor console (Chromium) and a phone running the Python client (aiortc, rtclient)
call each other through the real server: media flows both ways (frames decoded in Chromium,
counted by aiortc), each side verifies the other's signed SDP, the hangup reaches both; and the
console follows the phone's renegotiations, restarts ICE itself, settles glare, and stops
ringing when the client answers on another device."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from rtclient.crypto import MasterIdentity
from tests.calls.browser.console_page import ConsolePage
from tests.calls.media_devices import CallDevices, media_flows
from tests.e2ee.browser.console import BROWSER_GROUP
from tests.support.clients import Api
from tests.support.people import Devices, Person, make_counselor, open_direct
from tests.support.server import RunningServer

pytestmark = BROWSER_GROUP


async def console_and_phone(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> tuple[Person, str, ConsolePage, Any]:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang"))
    conversation_id = await open_direct(api, counselor, client)
    phone = await lines.open(client)
    desk = await consoles()
    await desk.sign_in("dr.sari", "counselor pw 123")
    return counselor, conversation_id, desk, phone


async def browser_decodes_video(desk: ConsolePage) -> None:
    await desk.remote_video_playing()
    first = await desk.wait_stat("framesDecoded", 0)
    await desk.wait_stat("framesDecoded", first + 10)


async def test_console_calls_an_aiortc_phone_and_media_flows_both_ways(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> None:
    counselor, conversation_id, desk, phone = await console_and_phone(api, server, consoles, lines)

    call_id = await desk.call(conversation_id, "video")
    incoming = await phone.next_incoming()
    assert (incoming.call_id, incoming.media) == (call_id, "video")  # the console's offer verified
    await incoming.answer()
    await incoming.wait_connected()
    await desk.wait_state("active")

    await media_flows(incoming, frames=30)  # the console's audio and video, decoded by aiortc
    await browser_decodes_video(desk)  # the phone's video, decoded by Chromium
    await expect(desk.by("call-stats")).to_have_attribute("data-relayed", "false")

    end = await incoming.hangup()
    assert end.reason == "hangup"
    await desk.wait_state("ended")
    await expect(desk.by("call")).to_have_attribute("data-end-reason", "hangup")
    stored = await api.request("GET", f"/api/v1/calls/{call_id}", token=counselor.token)
    assert (stored.body["state"], stored.body["end_reason"]) == ("ended", "hangup")
    assert stored.body["duration_seconds"] > 0


async def test_console_answers_an_aiortc_call_and_follows_its_renegotiations(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> None:
    _, conversation_id, desk, phone = await console_and_phone(api, server, consoles, lines)

    outgoing = await phone.place_call(conversation_id, "video")
    await expect(desk.by("incoming-text")).to_contain_text("video call")
    await desk.by("accept-call").click()
    await outgoing.wait_active()
    await outgoing.wait_connected()
    await media_flows(outgoing, frames=20)
    await browser_decodes_video(desk)

    # A network change on the phone: it renegotiates a new connection (new ICE credentials and
    # DTLS certificate) over call.renegotiate; the console answers and media flows again.
    await outgoing.restart_ice()
    assert outgoing.restarts == 1
    await media_flows(outgoing, frames=20)
    await browser_decodes_video(desk)

    # Video -> audio: the phone negotiates a connection with an audio section only, which the
    # console's connection cannot take; it answers on a new one and stops its camera.
    await outgoing.change_media("audio")
    await media_flows(outgoing, kinds=("audio",), frames=20)
    await expect(desk.by("call")).to_have_attribute("data-media", "audio")
    await expect(desk.by("camera")).to_be_hidden()
    packets = await desk.wait_stat("audioPackets", 0)
    await desk.wait_stat("audioPackets", packets + 20)
    assert await desk.tracks("local-video", "video") == 0  # the camera is off

    await desk.by("hangup").click()
    assert (await outgoing.wait_ended()).reason == "hangup"
    await desk.wait_state("ended")


async def test_glare_the_console_drops_its_offer_and_answers_the_phone(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> None:
    counselor, conversation_id, desk, phone = await console_and_phone(api, server, consoles, lines)

    outgoing = await phone.place_call(conversation_id, "video")
    await expect(desk.by("incoming")).to_be_visible()
    # The counselor calls the client at the same moment: the server already holds the phone's
    # call, refuses this invite with `glare`, and the console answers the phone's call instead.
    await desk.row(conversation_id).get_by_test_id("call-video").click()
    await outgoing.wait_active()
    await outgoing.wait_connected()
    await expect(desk.by("call")).to_have_attribute("data-call-id", outgoing.call_id)
    await desk.wait_state("active")
    await media_flows(outgoing, frames=20)
    await browser_decodes_video(desk)

    history = await api.request(
        "GET", f"/api/v1/conversations/{conversation_id}/calls", token=counselor.token
    )
    assert [c["call_id"] for c in history.body["calls"]] == [outgoing.call_id]
    await desk.by("hangup").click()
    assert (await outgoing.wait_ended()).reason == "hangup"


async def test_the_console_restarts_ice_when_the_media_path_dies(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> None:
    counselor, conversation_id, desk, phone = await console_and_phone(api, server, consoles, lines)
    phone.auto_restart = False  # only the console notices and acts

    call_id = await desk.call(conversation_id, "video")
    incoming = await phone.next_incoming()
    await incoming.answer()
    await incoming.wait_connected()
    await browser_decodes_video(desk)

    # The phone's media path goes away without a word on the signalling channel (its network
    # changed): the console sees its connection drop, restarts ICE over call.renegotiate, the
    # phone answers on a new connection, and video flows again.
    assert incoming.connection is not None
    await incoming.connection.pc.close()
    await incoming.wait_until(lambda: incoming.restarts == 1, timeout=30)
    await media_flows(incoming, frames=20)
    await browser_decodes_video(desk)
    record = await api.request("GET", f"/api/v1/calls/{call_id}", token=counselor.token)
    assert record.body["state"] == "active"


async def test_answered_on_another_device_stops_the_ringing_in_the_console(
    api: Api, server: RunningServer, consoles: Any, clients: Devices, lines: CallDevices
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang"))
    conversation_id = await open_direct(api, counselor, client)
    browser = await consoles()
    await browser.sign_in("bintang", "correct horse 42")
    # The client's phone signs its device keys with the master key the browser made (as the
    # key backup would carry it over).
    remembered = await browser.remembered()
    clients.masters[client.id] = MasterIdentity.restore(remembered["masters"][client.id])
    phone = await lines.open(client)
    laptop = await lines.open(counselor)

    outgoing = await laptop.place_call(conversation_id, "audio")
    await expect(browser.by("incoming")).to_be_visible()
    incoming = await phone.next_incoming()
    await incoming.answer()
    await outgoing.wait_active()
    await expect(browser.by("incoming")).to_be_hidden()  # call.selected: stop ringing here
    await expect(browser.by("call")).to_be_hidden()
    await outgoing.hangup()
