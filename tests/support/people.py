"""People in tests: accounts with published E2EE keys, their conversations and chat devices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from rtclient import ChatClient
from rtclient.crypto import DeviceIdentity, MasterIdentity
from rtclient.secure import SecureDevice
from rtserver.api.keys import ACCOUNTS
from rtserver.domain.accounts import Role
from tests.support.clients import Api
from tests.support.server import RunningServer


@dataclass
class Person:
    session: dict[str, Any]
    secure: SecureDevice | None = None

    @property
    def id(self) -> str:
        return str(self.session["user"]["id"])

    @property
    def token(self) -> str:
        return str(self.session["access_token"])

    @property
    def device_id(self) -> str:
        return str(self.session["device_id"])


@dataclass
class Devices:
    """Every secure device and chat client a test opens; masters are shared per user, as a
    user's devices share the master key (restored from the key backup in real life)."""

    http: aiohttp.ClientSession
    masters: dict[str, MasterIdentity] = field(default_factory=dict)
    chats: list[ChatClient] = field(default_factory=list)

    async def secure(self, url: str, person: Person) -> SecureDevice:
        if person.secure is None:
            master = self.masters.setdefault(person.id, MasterIdentity.generate())
            person.secure = SecureDevice(
                url,
                person.token,
                DeviceIdentity.generate(person.id, person.device_id),
                master,
                self.http,
            )
            await person.secure.publish_keys()
        return person.secure

    async def sealed(
        self,
        url: str,
        person: Person,
        conversation_id: str,
        text: str = "halo",
        client_msg_id: str = "c-1",
    ) -> dict[str, Any]:
        device = await self.secure(url, person)
        return await device.seal_for(conversation_id, text, client_msg_id)


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


@dataclass
class Pair:
    counselor: Person
    client: Person
    conversation_id: str


async def chat(devices: Devices, url: str | list[str], person: Person, **kwargs: Any) -> ChatClient:
    secure = await devices.secure(url if isinstance(url, str) else url[0], person)
    client = ChatClient(url, person.token, **kwargs)
    secure.attach(client)
    devices.chats.append(client)
    await client.connect()
    return client
