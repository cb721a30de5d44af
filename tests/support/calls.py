"""Phones for call tests: a person's device with its socket, placing and answering calls with
signed (well-formed, media-less) SDP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.support.clients import Api, Socket, connect
from tests.support.people import Devices, Person
from tests.support.sdp import signed_sdp


def new_call_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Phone:
    """One device of a person: its socket and its signing identity."""

    person: Person
    socket: Socket

    @property
    def identity(self) -> Any:
        assert self.person.secure is not None
        return self.person.secure.identity

    def sdp(self, call_id: str, kind: str, body: str | None = None) -> Any:
        return signed_sdp(self.identity, call_id, kind, body)

    async def invite(self, conversation_id: str, call_id: str, media: str = "video") -> Any:
        return await self.socket.call(
            "call.invite",
            {
                "call_id": call_id,
                "conversation_id": conversation_id,
                "media": media,
                "sdp": self.sdp(call_id, "offer"),
            },
        )

    async def answer(self, call_id: str) -> Any:
        return await self.socket.call(
            "call.answer", {"call_id": call_id, "sdp": self.sdp(call_id, "answer")}
        )


class Phones:
    """Devices with published keys and a connected socket; `url` is the node they use."""

    def __init__(self, url: str, api: Api, clients: Devices) -> None:
        self.url, self.api, self.clients = url, api, clients
        self.sockets: list[Socket] = []

    async def of(self, person: Person, url: str | None = None) -> Phone:
        await self.clients.secure(self.url, person)
        socket = await connect(url or self.url, person.token)
        self.sockets.append(socket)
        return Phone(person, socket)

    async def another_device(
        self, person: Person, password: str, name: str, url: str | None = None
    ) -> Phone:
        login = await self.api.login(person.session["user"]["login"], password, device=name)
        return await self.of(Person(login), url)

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.close()
