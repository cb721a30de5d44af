"""Socket.IO connection auth over a real WebSocket: tokens, Origin, deadlines, limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import socketio

from rtserver.api.keys import SETTINGS
from rtserver.auth.tokens import AccessTokens
from rtserver.domain.accounts import Role
from rtserver.secret_keys import load_secret_keys
from tests.support.clients import Api, connect, new_socket
from tests.support.server import RunningServer


async def refused_with(url: str, auth: object, origin: str | None = None) -> object:
    sock = new_socket()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sock.client.connect(
            url,
            auth=auth,
            transports=["websocket"],
            headers={"Origin": origin} if origin else {},
            wait_timeout=5,
        )
    error = await asyncio.wait_for(sock.connect_error.get(), 5) if origin is None else None
    await sock.close()
    return error


async def test_connect_with_token_then_call(api: Api, server: RunningServer) -> None:
    session = await api.register()
    sock = await connect(server.url, session["access_token"])
    try:
        info = await sock.call("session.info")
        assert info["ok"] is True
        assert info["user_id"] == session["user"]["id"]
        assert info["device_id"] == session["device_id"]
    finally:
        await sock.close()


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "unauthenticated"),
        ({}, "unauthenticated"),
        ({"token": "forged"}, "invalid_token"),
        ({"token": 42}, "invalid_token"),
        ("just a string", "unauthenticated"),
    ],
)
async def test_connect_without_valid_token_is_refused(
    server: RunningServer, auth: object, code: str
) -> None:
    error = await refused_with(server.url, auth)
    assert isinstance(error, dict)
    assert error["data"]["code"] == code
    assert error["message"]


async def test_connect_with_revoked_device_token_is_refused(
    api: Api, server: RunningServer
) -> None:
    session = await api.register()
    await api.request("POST", "/api/v1/auth/logout", token=session["access_token"])
    error = await refused_with(server.url, {"token": session["access_token"]})
    assert isinstance(error, dict) and error["data"]["code"] == "device_revoked"


async def test_foreign_origin_is_refused_allowed_origin_accepted(
    api: Api, server: RunningServer
) -> None:
    token = (await api.register())["access_token"]
    await refused_with(server.url, {"token": token}, origin="http://evil.example")
    ok = await connect(server.url, token, origin="http://console.test")
    await ok.close()


async def test_foreign_origin_refused_at_the_handshake(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await http.ws_connect(url, headers={"Origin": "http://evil.example"})
        assert caught.value.status == 400


async def test_polling_transport_is_off(server: RunningServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.url + "/socket.io/?EIO=4&transport=polling") as response,
    ):
        assert response.status == 400


async def test_silent_connection_is_closed_after_auth_deadline(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        ws = await http.ws_connect(url)
        opening = await ws.receive(timeout=5)
        assert opening.type == aiohttp.WSMsgType.TEXT and opening.data.startswith("0{")
        # Never send the Socket.IO CONNECT packet; the server must hang up (deadline: 1s).
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            message = await ws.receive(timeout=5)
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                break
        assert loop.time() - started < 4


async def test_per_message_deflate_is_not_negotiated(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        ws = await http.ws_connect(url, compress=15)
        assert ws.compress == 0
        await ws.close()


async def test_oversize_message_closes_the_socket(api: Api, server: RunningServer) -> None:
    sock = await connect(server.url, (await api.register())["access_token"])
    try:
        await sock.client.emit("session.info", {"padding": "x" * 100_000})
        await sock.wait_disconnected()
    finally:
        await sock.close()


async def test_bad_event_payloads_get_codes(api: Api, server: RunningServer) -> None:
    sock = await connect(server.url, (await api.register())["access_token"])
    try:
        assert (await sock.call("session.info", {"x": 1}))["error"]["code"] == "invalid_payload"
        assert (await sock.call("session.info", [1, 2]))["error"]["code"] == "invalid_payload"
        renew = await sock.call("auth.renew", {"token": ""})
        assert renew["error"]["code"] == "invalid_payload"
        forged = await sock.call("auth.renew", {"token": "v1.x.y"})
        assert forged["error"]["code"] == "invalid_token"
    finally:
        await sock.close()


def short_lived_token(server: RunningServer, session: dict[str, Any], seconds: float) -> str:
    assert server.app is not None
    key = load_secret_keys(server.app[SETTINGS]).token_signing_key
    ttl = timedelta(minutes=10)
    token, _ = AccessTokens(key, ttl).issue(
        str(session["user"]["id"]),
        str(session["device_id"]),
        Role.CLIENT,
        datetime.now(UTC) - ttl + timedelta(seconds=seconds),
    )
    return token


async def test_expired_token_gets_event_and_renewal_keeps_the_socket(
    api: Api, server: RunningServer
) -> None:
    session = await api.register()
    sock = await connect(server.url, short_lived_token(server, session, 2.5))
    try:
        sid = sock.client.get_sid()
        expired = await sock.next("auth.expired", timeout=5)
        assert expired["code"] == "token_expired"
        blocked = await sock.call("session.info")
        assert blocked["ok"] is False and blocked["error"]["code"] == "token_expired"

        renewed = await sock.call("auth.renew", {"token": session["access_token"]})
        assert renewed["ok"] is True and renewed["expires_at"]
        assert (await sock.call("session.info"))["ok"] is True
        assert sock.client.get_sid() == sid
        # still in its device room: logout reaches this very socket
        await api.request("POST", "/api/v1/auth/logout", token=session["access_token"])
        closed = await sock.next("session.closed")
        assert closed == {"reason": "logged_out"}
        await sock.wait_disconnected()
    finally:
        await sock.close()


async def test_expired_token_without_renewal_is_closed(api: Api, server: RunningServer) -> None:
    session = await api.register()
    sock = await connect(server.url, short_lived_token(server, session, 2.5))
    try:
        await sock.next("auth.expired", timeout=5)
        assert (await sock.next("session.closed", timeout=5)) == {"reason": "token_expired"}
        await sock.wait_disconnected()
    finally:
        await sock.close()


async def test_renewal_with_another_devices_token_is_refused(
    api: Api, server: RunningServer
) -> None:
    session = await api.register()
    other = await api.login(session["user"]["login"], "correct horse 42")
    sock = await connect(server.url, session["access_token"])
    try:
        reply = await sock.call("auth.renew", {"token": other["access_token"]})
        assert reply["error"]["code"] == "token_mismatch"
        info = await sock.call("session.info")
        assert info["device_id"] == session["device_id"]
    finally:
        await sock.close()


async def test_revocation_closes_only_that_devices_sockets(api: Api, server: RunningServer) -> None:
    phone = await api.register(device="phone")
    laptop = await api.login(phone["user"]["login"], "correct horse 42", device="laptop")
    phone_sock = await connect(server.url, phone["access_token"])
    laptop_sock = await connect(server.url, laptop["access_token"])
    try:
        reply = await api.request(
            "DELETE", f"/api/v1/devices/{phone['device_id']}", token=laptop["access_token"]
        )
        assert reply.status == 204
        assert (await phone_sock.next("session.closed")) == {"reason": "device_revoked"}
        await phone_sock.wait_disconnected()
        assert (await laptop_sock.call("session.info"))["ok"] is True
    finally:
        await phone_sock.close()
        await laptop_sock.close()


async def test_client_cannot_send_lifecycle_events(api: Api, server: RunningServer) -> None:
    session = await api.register()
    sock = await connect(server.url, short_lived_token(server, session, 2.5))
    try:
        for name in ("disconnect", "connect"):
            await sock.client.emit(name, {"forged": True})
        # still authenticated and still watched: the expiry notice arrives as usual
        assert (await sock.call("session.info"))["ok"] is True
        assert (await sock.next("auth.expired", timeout=5))["code"] == "token_expired"
    finally:
        await sock.close()
