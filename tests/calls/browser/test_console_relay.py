"""Relay only: with `turn_prefer_relay` the console sets iceTransportPolicy "relay" from
GET /api/v1/turn, and its call with the Python client goes through a real coturn on loopback
(TURN REST credentials), both sides relayed, media both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from playwright.async_api import expect

from rtclient.ice import selected_pair_types
from tests.calls.browser.console_page import ConsolePage
from tests.calls.media_devices import CallDevices, media_flows
from tests.e2ee.browser.console import BROWSER_GROUP
from tests.support.clients import Api
from tests.support.coturn import running_coturn
from tests.support.people import Person, make_counselor, open_direct
from tests.support.server import RunningServer

pytestmark = BROWSER_GROUP

SECRET = "turn-secret-for-console-tests-only"


def ice_connection(pc: RTCPeerConnection) -> Any:
    """aioice's connection under aiortc's bundled transport (its remote candidates are public
    there; aiortc does not expose them)."""
    return pc.getTransceivers()[0].sender.transport.transport._connection


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    with running_coturn(tmp_path, SECRET) as port:
        yield port


@pytest.fixture
def server_settings(coturn: int) -> dict[str, Any]:
    return {
        "turn_secret": SECRET,
        "turn_uris": [f"turn:127.0.0.1:{coturn}?transport=udp"],
        "turn_prefer_relay": True,
    }


async def test_relay_only_call_between_the_console_and_an_aiortc_phone(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang"))
    conversation_id = await open_direct(api, counselor, client)
    phone = await lines.open(client)
    assert (await phone.ice_config()).relay_only
    desk: ConsolePage = await consoles()
    await desk.sign_in("dr.sari", "counselor pw 123")

    call_id = await desk.call(conversation_id, "video")
    incoming = await phone.next_incoming()
    await incoming.answer()
    await incoming.wait_connected()
    await desk.wait_state("active")

    assert incoming.connection is not None
    assert selected_pair_types(incoming.connection.pc) == ("relay", "relay")
    await media_flows(incoming, frames=20)
    await desk.remote_video_playing()
    first = await desk.wait_stat("framesDecoded", 0)
    await desk.wait_stat("framesDecoded", first + 10)
    await expect(desk.by("call-stats")).to_have_attribute("data-relayed", "true")
    offered = {c.type for c in ice_connection(incoming.connection.pc).remote_candidates}
    assert offered == {"relay"}  # the console never offered a host address

    await desk.by("hangup").click()
    assert (await incoming.wait_ended()).reason == "hangup"
    stored = await api.request("GET", f"/api/v1/calls/{call_id}", token=counselor.token)
    assert stored.body["quality"]["relayed"] is True
