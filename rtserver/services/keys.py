"""E2EE public keys: master keys, cross-signed device keys, signed device lists, key backups.

The server verifies every signature it is given and hands out only what verifies; it never
holds a private key. Clients still verify everything themselves (the server is not trusted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.keys import device_keys_body, device_list_body, verify
from rtserver.errors import Conflict, Forbidden, Invalid, NotFound
from rtserver.protocol import KEYS_CHANGED
from rtserver.services.connections import Realtime
from rtserver.store.database import Database
from rtserver.store.keys import DeviceKeys, DeviceList, KeyBackup, MasterKey
from rtserver.store.transaction import Transaction


@dataclass(frozen=True)
class UserKeys:
    user_id: str
    master: MasterKey | None
    device_list: DeviceList | None
    devices: list[DeviceKeys]


def bad_signature(what: str) -> Invalid:
    return Invalid(f"{what}: signature does not verify", code="bad_signature")


class KeyService:
    def __init__(self, database: Database, realtime: Realtime, clock: Clock) -> None:
        self._db = database
        self._realtime = realtime
        self._clock = clock

    async def set_master(self, principal: Principal, public_key: str) -> MasterKey:
        async with self._db.write() as tx:
            before = await tx.keys.master(principal.user_id)
            master = await tx.keys.put_master(principal.user_id, public_key, self._clock.now())
        if before is None or before.public_key != public_key:
            await self._announce(principal.user_id, {"master_key_changed": before is not None})
        return master

    async def publish_device(
        self,
        principal: Principal,
        device_id: str,
        signing_key: str,
        encryption_key: str,
        signature: str,
    ) -> DeviceKeys:
        if device_id != principal.device_id:
            raise Forbidden("only a device can publish its own keys", code="not_this_device")
        async with self._db.write() as tx:
            master = await self._master(tx, principal.user_id)
            body = device_keys_body(principal.user_id, device_id, signing_key, encryption_key)
            if not verify(master.public_key, body, signature):
                raise bad_signature("device keys")
            existing = await tx.keys.device(device_id)
            if existing and (existing.signing_key, existing.encryption_key) != (
                signing_key,
                encryption_key,
            ):
                raise Conflict(
                    "a device's keys never change; a new key is a new device",
                    code="device_keys_immutable",
                )
            keys = DeviceKeys(
                principal.user_id, device_id, signing_key, encryption_key, signature, master.version
            )
            await tx.keys.put_device(keys, self._clock.now())
        await self._announce(principal.user_id, {"device_id": device_id})
        return keys

    async def publish_device_list(
        self, principal: Principal, version: int, device_ids: list[str], signature: str
    ) -> DeviceList:
        async with self._db.write() as tx:
            master = await self._master(tx, principal.user_id)
            if not verify(
                master.public_key,
                device_list_body(principal.user_id, version, device_ids),
                signature,
            ):
                raise bad_signature("device list")
            current = await tx.keys.device_list(principal.user_id)
            if current is not None and version <= current.version:
                raise Conflict(
                    f"device list version must be above {current.version}", code="stale_device_list"
                )
            mine = {d.id for d in await tx.devices.of_user(principal.user_id)}
            strangers = sorted(set(device_ids) - mine)
            if strangers:
                raise Invalid(
                    "the list names devices that are not yours",
                    code="unknown_devices",
                    details={"devices": strangers},
                )
            listing = DeviceList(version, sorted(set(device_ids)), signature, master.version)
            await tx.keys.put_device_list(principal.user_id, listing, self._clock.now())
        await self._announce(principal.user_id, {"device_list_version": version})
        return listing

    async def keys_of(self, principal: Principal, user_id: str) -> UserKeys:
        """A user's keys, for themselves and for people who share a conversation with them."""
        async with self._db.read() as tx:
            if user_id != principal.user_id and user_id not in (
                await tx.conversations.contacts_of(principal.user_id)
            ):
                raise NotFound("no such user", code="user_not_found")
            current = (await tx.keys.current_devices([user_id]))[user_id]
            return UserKeys(
                user_id=user_id,
                master=await tx.keys.master(user_id),
                device_list=await tx.keys.device_list(user_id),
                devices=sorted(current.values(), key=lambda d: d.device_id),
            )

    async def put_backup(
        self, principal: Principal, version: int, ciphertext: str, nonce: str, kdf: dict[str, Any]
    ) -> KeyBackup:
        async with self._db.write() as tx:
            current = await tx.keys.backup(principal.user_id)
            if current is not None and version <= current.version:
                raise Conflict(
                    f"backup version must be above {current.version}", code="stale_backup"
                )
            backup = KeyBackup(version, ciphertext, nonce, kdf, self._clock.now())
            await tx.keys.put_backup(principal.user_id, backup)
        return backup

    async def backup(self, principal: Principal) -> KeyBackup:
        async with self._db.read() as tx:
            backup = await tx.keys.backup(principal.user_id)
        if backup is None:
            raise NotFound("no key backup", code="backup_not_found")
        return backup

    @staticmethod
    async def _master(tx: Transaction, user_id: str) -> MasterKey:
        master = await tx.keys.master(user_id)
        if master is None:
            raise Invalid("publish a master key first", code="master_key_missing")
        return master

    async def _announce(self, user_id: str, detail: dict[str, Any]) -> None:
        async with self._db.read() as tx:
            contacts = await tx.conversations.contacts_of(user_id)
        await self._realtime.to_users(
            [user_id, *contacts], KEYS_CHANGED, {"user_id": user_id, **detail}
        )
