"""Graceful shutdown: connected sockets are told to reconnect elsewhere, then closed."""

from __future__ import annotations

import aiohttp

from tests.conftest import SettingsFactory
from tests.support.clients import Api, connect
from tests.support.server import serve_in_process


async def test_shutdown_tells_sockets_to_reconnect(
    make_settings: SettingsFactory, http: aiohttp.ClientSession
) -> None:
    async with serve_in_process(make_settings()) as server:
        session = await Api(server.url, http).register()
        sock = await connect(server.url, session["access_token"])
        url = server.url
    # leaving the context ran the app's shutdown: on_shutdown, then cleanup
    notice = await sock.next("server.shutdown")
    assert notice["reconnect"] is True and notice["after_ms"] >= 0
    await sock.wait_disconnected()
    await sock.close()
    try:
        async with http.get(url + "/healthz") as response:
            raise AssertionError(f"server still answering: {response.status}")
    except aiohttp.ClientConnectionError:
        pass
