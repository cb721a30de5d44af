"""Real clients: aiohttp for REST, python-socketio over WebSocket for realtime."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

_counter = itertools.count()


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any = None

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and "error" in self.body:
            return str(self.body["error"]["code"])
        return None


class Api:
    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.session = session

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        token: str | None = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, self.base_url + path, json=json, data=data, headers=all_headers
        ) as response:
            body: Any = None
            if response.content_type == "application/json":
                body = await response.json()
            elif response.status != 204:
                body = await response.text()
            return Reply(response.status, body, response.headers)

    async def register(
        self,
        login: str | None = None,
        password: str = "correct horse 42",
        device: str = "test phone",
    ) -> dict[str, Any]:
        reply = await self.request(
            "POST",
            "/api/v1/auth/register",
            {
                "login": login or f"user{next(_counter)}.{id(self) % 10000}",
                "password": password,
                "display_name": "Test User",
                "device_name": device,
            },
        )
        assert reply.status == 201, reply.body
        return dict(reply.body)

    async def login(
        self,
        login: str,
        password: str,
        device: str = "second device",
    ) -> dict[str, Any]:
        reply = await self.request(
            "POST",
            "/api/v1/auth/login",
            {
                "login": login,
                "password": password,
                "device_name": device,
            },
        )
        assert reply.status == 200, reply.body
        return dict(reply.body)


@dataclass
class Socket:
    """A python-socketio client that queues every received event for the test to await."""

    client: socketio.AsyncClient
    received: dict[str, asyncio.Queue[Any]] = field(default_factory=dict)
    connect_error: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)

    def queue(self, event: str) -> asyncio.Queue[Any]:
        return self.received.setdefault(event, asyncio.Queue())

    async def next(self, event: str, timeout: float = 5.0) -> Any:
        return await asyncio.wait_for(self.queue(event).get(), timeout)

    async def call(self, event: str, data: Any = None, timeout: float = 5.0) -> Any:
        return await self.client.call(event, data if data is not None else {}, timeout=timeout)

    async def wait_disconnected(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self.disconnected.wait(), timeout)

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()
        await self.client.shutdown()


def new_socket() -> Socket:
    client = socketio.AsyncClient(reconnection=False)
    sock = Socket(client)

    async def on_any(event: str, *args: Any) -> None:
        sock.queue(event).put_nowait(args[0] if len(args) == 1 else args)

    async def on_connect_error(data: Any) -> None:
        sock.connect_error.put_nowait(data)

    async def on_disconnect(*_: Any) -> None:
        sock.disconnected.set()

    client.on("*", on_any)
    client.on("connect_error", on_connect_error)
    client.on("disconnect", on_disconnect)
    return sock


async def connect(url: str, token: str | None, *, origin: str | None = None) -> Socket:
    sock = new_socket()
    await sock.client.connect(
        url,
        auth={"token": token} if token is not None else None,
        transports=["websocket"],
        headers={"Origin": origin} if origin else {},
        wait_timeout=5,
    )
    return sock
