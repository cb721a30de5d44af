"""With `socketio_polling = true` (a deployment behind a proxy that cannot pass WebSockets),
long-polling works end to end, alone and upgraded to a WebSocket: engine.io's per-socket queue
(signaling/socket_queue.py) serves polls, and the upgrade drains it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.conftest import SettingsFactory
from tests.support.clients import Api, new_socket
from tests.support.server import serve_in_process


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]])
async def test_a_polling_client_connects_calls_and_receives(
    make_settings: SettingsFactory, transports: list[str]
) -> None:
    sock = new_socket()
    try:
        async with (
            serve_in_process(make_settings(socketio_polling=True)) as server,
            aiohttp.ClientSession() as http,
        ):
            session = await Api(server.url, http).register()
            await sock.client.connect(
                server.url,
                auth={"token": session["access_token"]},
                transports=transports,
                wait_timeout=5,
            )
            for _ in range(3):  # several round trips, so queued packets go out on later polls
                info = await asyncio.wait_for(sock.call("session.info"), 5)
                assert info["ok"] is True and info["device_id"] == session["device_id"]
            assert sock.client.transport() == transports[-1]
        # the server's shutdown closed the socket: a polling client's own disconnect would wait
        # for its pending long poll (engine.io holds it up to the ping interval)
        await sock.wait_disconnected()
    finally:
        await sock.close()
