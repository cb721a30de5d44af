"""A browser device and a Python device talk end to end through the real server: the page logs
in over REST, publishes its keys, sends and reads over Socket.IO (socket.io-client), and backs
its keys up for a new device."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, Route

from rtclient import crypto
from rtclient.secure import SecureDevice
from tests.conftest import SettingsFactory
from tests.e2ee.browser.console import BROWSER_GROUP, KDF_LIMITS, ORIGIN, peer_json
from tests.support.clients import Api
from tests.support.people import Devices, Person, chat, make_counselor, open_direct
from tests.support.server import RunningServer, serve_in_process

pytestmark = BROWSER_GROUP


@pytest.fixture
async def server(make_settings: SettingsFactory) -> AsyncIterator[RunningServer]:
    """The real app, accepting Socket.IO from the console's origin."""
    async with serve_in_process(make_settings(allowed_origins=[ORIGIN])) as running:
        yield running


async def test_browser_device_chats_with_a_python_device_and_backs_up_its_keys(
    page: Page, server: RunningServer, api: Api, clients: Devices
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang", password="correct horse 42"))
    conversation_id = await open_direct(api, counselor, client)
    console = await chat(clients, server.url, counselor)

    async def same_origin_api(route: Route) -> None:
        """The console's origin serves the API too, as behind the production reverse proxy."""
        path = route.request.url.removeprefix(ORIGIN)
        await route.fulfill(response=await route.fetch(url=server.url + path))

    await page.route(f"{ORIGIN}/api/**", same_origin_api)
    browser = await page.evaluate(
        """async ({socketUrl, conversationId}) => {
          const response = await fetch("/api/v1/auth/login", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(
              { login: "bintang", password: "correct horse 42", device_name: "browser" }),
          });
          const session = await response.json();
          const device = new e2ee.SecureDevice({
            token: session.access_token,
            identity: e2ee.generateDevice(session.user.id, session.device_id),
            master: e2ee.generateMaster(),
          });
          await device.publishKeys();
          const socket = await e2ee.openSocket(socketUrl, session.access_token);
          device.attach(socket);
          state.inbox = [];
          socket.on("message", (event) => state.inbox.push(event));
          Object.assign(state, { device, socket });
          const ack = await device.sendText(conversationId, "halo dari browser ✓", "web-1");
          return { seq: ack.seq, master: device.master.publicKey, device: device.identity.peer };
        }""",
        {"socketUrl": server.url, "conversationId": conversation_id},
    )
    assert (browser["seq"], browser["device"]["userId"]) == (1, client.id)

    got = await asyncio.wait_for(console.inbox.get(), 10)
    assert (got.seq, got.client_msg_id, got.sender_user_id) == (1, "web-1", client.id)
    assert await console.read(got) == "halo dari browser ✓"
    await console.send_text(conversation_id, "halo dari python", "py-1")

    await page.wait_for_function("state.inbox.length > 0", timeout=10_000)
    reply = await page.evaluate(
        """async ({counselorId}) => {
          const event = state.inbox[0];
          const { device } = state;
          return {
            seq: event.seq,
            text: await device.read(event),
            safety: e2ee.safetyNumber(device.identity.userId, device.master.publicKey,
                                      counselorId, device.keyring.pins.get(counselorId)),
          };
        }""",
        {"counselorId": counselor.id},
    )
    assert counselor.secure is not None
    assert reply == {
        "seq": 2,
        "text": "halo dari python",
        "safety": crypto.safety_number(
            counselor.id, counselor.secure.master.public_key, client.id, browser["master"]
        ),
    }
    # The counselor's device pinned the master key the browser published.
    assert counselor.secure.keyring.pins[client.id] == browser["master"]

    # Its key backup, uploaded from the page, restores on a new Python device of the same user.
    await page.evaluate("(kdf) => state.device.uploadBackup('sandi bintang', 1, kdf)", KDF_LIMITS)
    master, devices = await SecureDevice.restore_backup(
        server.url, client.token, client.id, "sandi bintang", clients.http
    )
    assert master.public_key == browser["master"]
    assert [peer_json(d) for d in devices] == [browser["device"]]
    await page.evaluate("state.socket.close()")  # before the server stops, so it need not wait
