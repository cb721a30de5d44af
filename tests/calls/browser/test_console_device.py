"""The console's device in this browser: a reload continues the same device with the keys it
published (nothing republished), signing out revokes it and forgets its keys, and a second
browser cannot silently replace the master key that another device holds; tokens are
refreshed before they expire and the socket keeps working past the first token's expiry."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2ee.browser.console import BROWSER_GROUP
from tests.support.clients import Api, connect
from tests.support.people import Person, make_counselor, open_direct
from tests.support.server import RunningServer, wait_for

pytestmark = BROWSER_GROUP


async def test_a_reload_continues_the_device_and_signing_out_revokes_it(
    api: Api, server: RunningServer, consoles: Any
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    desk = await consoles()
    await desk.sign_in("dr.sari", "counselor pw 123")
    device_id = await desk.by("whoami").get_attribute("data-device-id")
    keys_path = f"/api/v1/keys/users/{counselor.id}"
    published = (await api.request("GET", keys_path, token=counselor.token)).body
    assert published["device_list"]["devices"] == [device_id]

    await desk.page.reload()
    await desk.page.wait_for_selector("body[data-ready=true]", state="attached")
    await expect(desk.by("conversations")).to_be_visible()
    await expect(desk.by("login-form")).to_be_hidden()
    assert await desk.by("whoami").get_attribute("data-device-id") == device_id
    again = (await api.request("GET", keys_path, token=counselor.token)).body
    assert again == published  # same device, same keys, same signed list: nothing republished

    await desk.by("logout").click()
    await expect(desk.by("login-form")).to_be_visible()
    devices = (await api.request("GET", "/api/v1/devices", token=counselor.token)).body["devices"]
    assert next(d for d in devices if d["id"] == device_id)["revoked_at"] is not None
    stored = await desk.remembered()
    assert stored["session"] is None  # the device keys and refresh token are gone
    assert counselor.id in stored["masters"]  # the master key stays to sign the next device


async def test_a_second_browser_does_not_replace_the_master_key(
    api: Api, server: RunningServer, consoles: Any
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    first = await consoles()
    await first.sign_in("dr.sari", "counselor pw 123")
    keys_path = f"/api/v1/keys/users/{counselor.id}"
    before = (await api.request("GET", keys_path, token=counselor.token)).body["master_key"]

    second = await consoles()
    await second.by("login-input").fill("dr.sari")
    await second.by("password-input").fill("counselor pw 123")
    await second.by("login-button").click()
    await expect(second.by("error")).to_contain_text("master key is on another device")
    await expect(second.by("login-form")).to_be_visible()
    after = (await api.request("GET", keys_path, token=counselor.token)).body["master_key"]
    assert after == before


@pytest.mark.parametrize("server_settings", [{"access_token_ttl_seconds": 30}])
async def test_the_console_refreshes_its_token_and_keeps_calling(
    api: Api, server: RunningServer, consoles: Any, server_settings: Any
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang"))
    conversation_id = await open_direct(api, counselor, client)
    desk = await consoles()
    signed_in = time.monotonic()
    await desk.sign_in("dr.sari", "counselor pw 123")
    device_id = await desk.by("whoami").get_attribute("data-device-id")

    async def refreshed() -> bool:
        devices = (await api.request("GET", "/api/v1/devices", token=counselor.token)).body
        mine = next(d for d in devices["devices"] if d["id"] == device_id)
        return bool(mine["last_seen_at"] != mine["created_at"])

    await wait_for(refreshed, timeout=40, interval=0.5)  # at 4/5 of the token's 30 s
    # Past the first token's expiry: the socket carries the renewed token, so a call still goes.
    await wait_for(lambda: time.monotonic() - signed_in > 32, timeout=40, interval=0.5)
    fresh = await api.login("bintang", "correct horse 42", device="phone")
    phone = await connect(server.url, fresh["access_token"])  # any device of the client rings
    try:
        call_id = await desk.call(conversation_id, "audio")
        assert (await phone.next("call.incoming", timeout=10))["call_id"] == call_id
        await expect(desk.by("error")).to_be_hidden()
        await desk.by("hangup").click()
        await desk.wait_state("ended")
    finally:
        await phone.close()
