"""The counselor console (Chromium, fake camera) calls a client whose device is a second
Chromium context, through the real server: both see and decode the other's video, the hangup
is recorded with its duration; a declined call says so on the caller's screen."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.calls.browser.console_page import ConsolePage
from tests.e2ee.browser.console import BROWSER_GROUP
from tests.support.clients import Api
from tests.support.people import Person, make_counselor, open_direct
from tests.support.server import RunningServer

pytestmark = BROWSER_GROUP

CLIENT_PASSWORD = "correct horse 42"
COUNSELOR_PASSWORD = "counselor pw 123"


async def signed_in_pair(
    api: Api, server: RunningServer, consoles: Any
) -> tuple[Person, Person, str, ConsolePage, ConsolePage]:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang", password=CLIENT_PASSWORD))
    conversation_id = await open_direct(api, counselor, client)
    desk = await consoles()
    await desk.sign_in("dr.sari", COUNSELOR_PASSWORD)
    phone = await consoles()
    await phone.sign_in("bintang", CLIENT_PASSWORD)
    return counselor, client, conversation_id, desk, phone


async def test_video_call_between_two_browsers_is_seen_both_ways_and_recorded(
    api: Api, server: RunningServer, consoles: Any
) -> None:
    counselor, client, conversation_id, desk, phone = await signed_in_pair(api, server, consoles)

    call_id = await desk.call(conversation_id, "video")
    await expect(phone.by("incoming")).to_be_visible()
    await expect(phone.by("incoming-text")).to_contain_text("video call")
    await phone.by("accept-call").click()

    for side in (desk, phone):
        await side.wait_state("active")
        await expect(side.by("call-status")).to_have_text("In call", timeout=15_000)
        await side.remote_video_playing()
        first = await side.wait_stat("framesDecoded", 0)
        await side.wait_stat("framesDecoded", first + 10)  # decoding goes on
    live = await api.request("GET", f"/api/v1/calls/{call_id}", token=client.token)
    assert live.body["state"] == "active"
    assert live.body["answered_by_device_id"] != client.device_id  # the browser, not the API login

    await desk.by("hangup").click()
    for side in (desk, phone):
        await side.wait_state("ended")
        await expect(side.by("call")).to_have_attribute("data-end-reason", "hangup")
    assert (await desk.status()).startswith("Call ended")

    stored = await api.request("GET", f"/api/v1/calls/{call_id}", token=counselor.token)
    assert stored.status == 200, stored.body
    record = stored.body
    assert (record["state"], record["end_reason"], record["media"]) == ("ended", "hangup", "video")
    assert record["duration_seconds"] > 0
    assert record["ended_by_user_id"] == counselor.id
    assert record["quality"]["reports"] >= 2  # each side reports once it is connected
    assert record["quality"]["relayed"] is False


async def test_a_declined_call_shows_declined_on_the_caller(
    api: Api, server: RunningServer, consoles: Any
) -> None:
    counselor, _, conversation_id, desk, phone = await signed_in_pair(api, server, consoles)

    call_id = await desk.call(conversation_id, "audio")
    await expect(phone.by("incoming-text")).to_contain_text("voice call")
    await phone.by("decline-call").click()

    await desk.wait_state("ended")
    await expect(desk.by("call")).to_have_attribute("data-end-reason", "rejected")
    await expect(desk.by("call-status")).to_have_text("Call declined")
    await expect(phone.by("incoming")).to_be_hidden()
    stored = await api.request("GET", f"/api/v1/calls/{call_id}", token=counselor.token)
    assert (stored.body["state"], stored.body["end_reason"]) == ("ended", "rejected")
    assert stored.body["answered_at"] is None
