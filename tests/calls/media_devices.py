"""aiortc call devices for the media tests: each person's rtclient CallDevice on its own real
Socket.IO connection, with ICE host candidates on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aioice.ice
import pytest
import socketio

from rtclient.call import Call
from rtclient.calls import CallDevice
from rtclient.keyring import Keyring
from tests.support.clients import Api
from tests.support.people import Devices, Person

MEDIA_KINDS = ("audio", "video")


def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice offers every interface address except loopback; tests stay on 127.0.0.1."""
    monkeypatch.setattr(
        aioice.ice, "get_host_addresses", lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]
    )


async def open_socket(url: str, token: str) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    return sio


class CallDevices:
    """The CallDevices a test opens, closed (media stopped, sockets shut) at the end."""

    def __init__(self, url: str, clients: Devices) -> None:
        self.url = url
        self.clients = clients
        self.devices: list[CallDevice] = []
        self.sockets: list[socketio.AsyncClient] = []

    async def open(
        self, person: Person, keyring: Keyring | None = None, **options: Any
    ) -> CallDevice:
        secure = await self.clients.secure(self.url, person)
        options.setdefault("stats_interval", 0)
        sio = await open_socket(self.url, person.token)
        self.sockets.append(sio)
        device = CallDevice(sio, secure.identity, keyring or secure.keyring, **options)
        self.devices.append(device)
        return device

    async def reconnect(self, device: CallDevice, token: str) -> None:
        """A new connection for `device` after its socket dropped (not yet resumed)."""
        sio = await open_socket(self.url, token)
        self.sockets.append(sio)
        device.attach(sio)

    async def close(self) -> None:
        for device in self.devices:
            await device.close()
        for sio in self.sockets:
            if sio.connected:
                await sio.disconnect()
            with contextlib.suppress(Exception):
                await sio.shutdown()


@contextlib.asynccontextmanager
async def call_devices(url: str, clients: Devices) -> AsyncIterator[CallDevices]:
    made = CallDevices(url, clients)
    try:
        yield made
    finally:
        await made.close()


async def connected_call(
    caller: CallDevice, callee: CallDevice, conversation_id: str, media: str = "video"
) -> tuple[Call, Call]:
    """Place, ring, answer; returns (caller's call, callee's call) with media connected."""
    outgoing = await caller.place_call(conversation_id, media)
    incoming = await callee.next_incoming()
    assert incoming.call_id == outgoing.call_id and incoming.media == media
    await incoming.answer()
    await outgoing.wait_active()
    for call in (outgoing, incoming):
        await call.wait_connected()
    return outgoing, incoming


async def media_flows(*calls: Call, kinds: tuple[str, ...] = MEDIA_KINDS, frames: int = 15) -> None:
    """`frames` more decoded frames of every kind arrive at every one of `calls`."""
    for call in calls:
        for kind in kinds:
            await call.frames.wait_more(kind, frames, timeout=10)


async def record(api: Api, person: Person, call_id: str) -> dict[str, Any]:
    reply = await api.request("GET", f"/api/v1/calls/{call_id}", token=person.token)
    assert reply.status == 200, reply.body
    return dict(reply.body)
