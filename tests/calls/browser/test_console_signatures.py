"""The console uses no SDP it cannot verify. Here the counselor's browser pinned another master
key for the client than the one the server now hands out (what a server swapping keys to sit
in the middle of a call looks like): an incoming call is declined without ever ringing, and an
answer is hung up on, each with a visible error; the Python phone sees the call end."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import expect

from rtclient.crypto import MasterIdentity
from tests.calls.browser.console_page import STORAGE_KEY, ConsolePage
from tests.calls.media_devices import CallDevices
from tests.e2ee.browser.console import BROWSER_GROUP
from tests.support.clients import Api
from tests.support.people import Person, make_counselor, open_direct
from tests.support.server import RunningServer

pytestmark = BROWSER_GROUP


async def console_with_a_stale_pin(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> tuple[str, ConsolePage, Any]:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang"))
    conversation_id = await open_direct(api, counselor, client)
    phone = await lines.open(client)
    desk: ConsolePage = await consoles()
    remembered = {"pins": {counselor.id: {client.id: MasterIdentity.generate().public_key}}}
    await desk.page.evaluate(
        "([key, state]) => localStorage.setItem(key, state)", [STORAGE_KEY, json.dumps(remembered)]
    )
    await desk.sign_in("dr.sari", "counselor pw 123")
    return conversation_id, desk, phone


async def test_an_offer_that_does_not_verify_is_declined_without_ringing(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> None:
    conversation_id, desk, phone = await console_with_a_stale_pin(api, server, consoles, lines)

    outgoing = await phone.place_call(conversation_id, "video")
    assert (await outgoing.wait_ended()).reason == "rejected"
    await desk.wait_state("ended")
    await expect(desk.by("call-error")).to_contain_text("master key")
    await expect(desk.by("call-error")).to_contain_text("verify")
    await expect(desk.by("incoming")).to_be_hidden()
    assert await desk.tracks("remote-video") == 0  # no media set up with the unverified offer


async def test_an_answer_that_does_not_verify_is_hung_up_on(
    api: Api, server: RunningServer, consoles: Any, lines: CallDevices
) -> None:
    conversation_id, desk, phone = await console_with_a_stale_pin(api, server, consoles, lines)

    await desk.call(conversation_id, "audio")
    incoming = await phone.next_incoming()
    await incoming.answer()
    assert (await incoming.wait_ended()).reason == "hangup"
    await desk.wait_state("ended")
    await expect(desk.by("call-error")).to_contain_text("master key")
