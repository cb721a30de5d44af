"""The people a chat benchmark needs, made through the public API as real clients would: for each
1:1 conversation a client (self-registered) and a counselor (created by an admin), each signed
in on one device that has published its E2EE keys (rtclient's SecureDevice)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp

from rtclient.crypto import DeviceIdentity, MasterIdentity, PeerDevice
from rtclient.secure import SecureDevice

PAIRS_IN_FLIGHT = 8  # enough to keep every node's argon2 threads busy


class SetupError(RuntimeError):
    """The server refused a setup call."""


@dataclass(frozen=True)
class Device:
    user_id: str
    device_id: str
    token: str
    identity: DeviceIdentity

    @property
    def peer(self) -> PeerDevice:
        """How other members see this device once they have fetched its keys."""
        return PeerDevice(
            self.user_id,
            self.device_id,
            self.identity.public_signing_key,
            self.identity.public_encryption_key,
        )


@dataclass(frozen=True)
class Pair:
    """One direct conversation; `members` as the server lists them."""

    conversation_id: str
    counselor: Device
    client: Device

    @property
    def members(self) -> list[str]:
        return [self.counselor.user_id, self.client.user_id]


class Api:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method, self.url + path, json=body, headers=headers
        ) as response:
            data = await response.json()
            if response.status >= 400:
                raise SetupError(f"{method} {path}: {response.status} {data}")
            return dict(data)


async def _device(api: Api, session: dict[str, Any]) -> Device:
    user_id = str(session["user"]["id"])
    device_id = str(session["device_id"])
    token = str(session["access_token"])
    identity = DeviceIdentity.generate(user_id, device_id)
    secure = SecureDevice(api.url, token, identity, MasterIdentity.generate(), api.http)
    await secure.publish_keys()
    return Device(user_id, device_id, token, identity)


async def _pair(api: Api, admin_token: str, number: int, run: str) -> Pair:
    password = secrets.token_urlsafe(18)
    client = await api.call(
        "POST",
        "/api/v1/auth/register",
        {
            "login": f"c{number}.{run}",
            "password": password,
            "display_name": f"Client {number}",
            "device_name": "bench",
        },
    )
    counselor_login = f"k{number}.{run}"
    await api.call(
        "POST",
        "/api/v1/admin/users",
        {
            "login": counselor_login,
            "password": password,
            "display_name": f"Counselor {number}",
            "role": "counselor",
        },
        admin_token,
    )
    counselor = await api.call(
        "POST",
        "/api/v1/auth/login",
        {"login": counselor_login, "password": password, "device_name": "bench"},
    )
    conversation = await api.call(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "direct", "client_id": client["user"]["id"]}},
        counselor["access_token"],
    )
    return Pair(str(conversation["id"]), await _device(api, counselor), await _device(api, client))


async def make_pairs(
    urls: list[str], admin_login: str, admin_password: str, count: int
) -> list[Pair]:
    """`count` conversations, their setup calls spread over the nodes."""
    run = secrets.token_hex(3)
    limit = asyncio.Semaphore(PAIRS_IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=4 * PAIRS_IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as http:
        admin = await Api(http, urls[0]).call(
            "POST",
            "/api/v1/auth/login",
            {"login": admin_login, "password": admin_password, "device_name": "bench"},
        )

        async def one(number: int) -> Pair:
            async with limit:
                api = Api(http, urls[number % len(urls)])
                return await _pair(api, str(admin["access_token"]), number, run)

        return list(await asyncio.gather(*(one(n) for n in range(count))))
