"""A secure chat device: its identity, its keyring, and a ChatClient that seals and opens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from rtclient.chat import ChatClient, ChatError, ReceivedMessage
from rtclient.crypto import (
    CryptoError,
    DeviceIdentity,
    MasterIdentity,
    PeerDevice,
    decrypt_backup,
    encrypt_backup,
    open_envelope,
    seal,
    sign_device_list,
)
from rtclient.keyring import Keyring


@dataclass
class SecureDevice:
    base_url: str
    token: str
    identity: DeviceIdentity
    master: MasterIdentity
    http: aiohttp.ClientSession
    keyring: Keyring = field(init=False)
    chat: ChatClient = field(init=False)
    members: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keyring = Keyring(self.base_url, self.token, self.http)

    def attach(self, chat: ChatClient) -> None:
        self.chat = chat
        chat.secure = self

    async def _rest(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method,
            self.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        ) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            if resp.status >= 400:
                raise ChatError((data or {}).get("error", {"code": str(resp.status)}))
            return data

    async def publish_keys(self) -> None:
        """Master key (idempotent), this device's cross-signed keys, and a new device list that
        adds this device to the ones already listed."""
        user_id, device_id = self.identity.user_id, self.identity.device_id
        await self._rest("PUT", "/api/v1/keys/master", {"public_key": self.master.public_key})
        await self._rest(
            "PUT", f"/api/v1/keys/devices/{device_id}", self.identity.keys_signed_by(self.master)
        )
        mine = await self._rest("GET", f"/api/v1/keys/users/{user_id}")
        listing = mine.get("device_list") or {"version": 0, "devices": []}
        devices = set(listing["devices"]) | {device_id}
        await self._rest(
            "PUT",
            "/api/v1/keys/device-list",
            sign_device_list(self.master, user_id, listing["version"] + 1, devices),
        )
        self.keyring.forget(user_id)

    async def upload_backup(
        self,
        passphrase: str,
        version: int,
        older_devices: tuple[DeviceIdentity, ...] = (),
        **kdf_limits: int,
    ) -> None:
        """Back up the master key and device keys (this one and `older_devices`), encrypted
        under the passphrase, so a new device can sign for the user and read old history."""
        secrets = {"master": self.master.export()}
        for device in [self.identity, *older_devices]:
            for part, value in device.export().items():
                secrets[f"device:{device.device_id}:{part}"] = value
        sealed = encrypt_backup(secrets, passphrase, **kdf_limits)
        await self._rest("PUT", "/api/v1/keys/backup", {"version": version, **sealed})

    @staticmethod
    async def restore_backup(
        base_url: str, token: str, user_id: str, passphrase: str, http: aiohttp.ClientSession
    ) -> tuple[MasterIdentity, list[DeviceIdentity]]:
        async with http.get(
            f"{base_url}/api/v1/keys/backup", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            if response.status != 200:
                raise CryptoError("no key backup")
            secrets = decrypt_backup(await response.json(), passphrase)
        devices: dict[str, dict[str, str]] = {}
        for name, value in secrets.items():
            if name.startswith("device:"):
                _, device_id, part = name.split(":")
                devices.setdefault(device_id, {})[part] = value
        return MasterIdentity.restore(secrets["master"]), [
            DeviceIdentity.restore(user_id, device_id, parts)
            for device_id, parts in devices.items()
        ]

    async def member_ids(self, conversation_id: str, refresh: bool = False) -> list[str]:
        if refresh or conversation_id not in self.members:
            found = await self._rest("GET", f"/api/v1/conversations/{conversation_id}")
            self.members[conversation_id] = [m["user_id"] for m in found["members"]]
        return self.members[conversation_id]

    async def seal_for(self, conversation_id: str, text: str, client_msg_id: str) -> dict[str, Any]:
        members = await self.member_ids(conversation_id)
        recipients: list[PeerDevice] = []
        for user_id in members:
            recipients += await self.keyring.devices_of(user_id)
        return seal(
            self.identity, conversation_id, members, client_msg_id, text.encode(), recipients
        )

    async def send_text(
        self, conversation_id: str, text: str, client_msg_id: str | None = None
    ) -> dict[str, Any]:
        """Seal for every current device of every member; if the server says a device is
        missing (someone added a device), refetch keys and seal again."""
        client_msg_id = client_msg_id or uuid.uuid4().hex
        for attempt in range(2):
            envelope = await self.seal_for(conversation_id, text, client_msg_id)
            try:
                return await self.chat.send(conversation_id, envelope, client_msg_id)
            except ChatError as exc:
                # missing/unknown devices: someone's devices changed; bad_signature: the member
                # list we signed over is stale (someone joined or left). Refetch, seal again.
                if attempt == 1 or exc.code not in (
                    "missing_devices",
                    "unknown_devices",
                    "bad_signature",
                ):
                    raise
                self.keyring.forget()
                await self.member_ids(conversation_id, refresh=True)
        raise AssertionError("unreachable")

    async def read(self, message: ReceivedMessage) -> str:
        members = await self.member_ids(message.conversation_id)
        sender_user = message.sender_user_id or self.identity.user_id
        devices = {d.device_id: d for d in await self.keyring.devices_of(sender_user)}
        sender = devices.get(message.sender_device_id)
        if sender is None:
            raise CryptoError("message from a device its owner's master key did not sign")
        return open_envelope(
            self.identity,
            message.envelope,
            message.conversation_id,
            members,
            sender,
            message.client_msg_id,
        ).decode()
