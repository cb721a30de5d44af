"""Chat fixtures: a counselor and a client with an open conversation, on a running server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from rtclient import ChatClient
from rtclient.envelope import sealed_envelope
from rtserver.api.keys import ACCOUNTS
from rtserver.domain.accounts import Role
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.server import RunningServer, serve_in_process


@dataclass
class Person:
    session: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.session["user"]["id"])

    @property
    def token(self) -> str:
        return str(self.session["access_token"])

    @property
    def device_id(self) -> str:
        return str(self.session["device_id"])


async def make_counselor(api: Api, server: RunningServer, login: str) -> Person:
    assert server.app is not None
    await server.app[ACCOUNTS].create_user(login, "counselor pw 123", login, Role.COUNSELOR)
    return Person(await api.login(login, "counselor pw 123", device="console"))


async def open_direct(api: Api, counselor: Person, client: Person) -> str:
    reply = await api.request(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "direct", "client_id": client.id}},
        token=counselor.token,
    )
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def envelope(person: Person, text: str = "halo") -> dict[str, Any]:
    return sealed_envelope(person.device_id, [person.device_id], text.encode())


@dataclass
class Pair:
    counselor: Person
    client: Person
    conversation_id: str


@pytest.fixture
async def server(make_settings: SettingsFactory) -> AsyncIterator[RunningServer]:
    """A chat server whose per-connection rate limit does not get in the way of bursts."""
    settings = make_settings(chat_rate_per_connection=10_000, chat_burst_per_connection=10_000)
    async with serve_in_process(settings) as running:
        yield running


@pytest.fixture
async def pair(api: Api, server: RunningServer) -> Pair:
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang"))
    return Pair(counselor, client, await open_direct(api, counselor, client))


@pytest.fixture
async def clients() -> AsyncIterator[list[ChatClient]]:
    """Chat clients created by a test; all closed at the end."""
    made: list[ChatClient] = []
    yield made
    for client in made:
        await client.close()


async def chat(
    clients: list[ChatClient], url: str | list[str], person: Person, **kwargs: Any
) -> ChatClient:
    client = ChatClient(url, person.token, **kwargs)
    clients.append(client)
    await client.connect()
    return client
