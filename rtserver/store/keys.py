"""Repository for public keys, signed device lists and encrypted key backups."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.store.keys_tables import DeviceKeysRow, DeviceListRow, KeyBackupRow, MasterKeyRow
from rtserver.store.tables import DeviceRow


@dataclass(frozen=True)
class MasterKey:
    public_key: str
    version: int


@dataclass(frozen=True)
class DeviceKeys:
    user_id: str
    device_id: str
    signing_key: str
    encryption_key: str
    signature: str
    master_version: int


@dataclass(frozen=True)
class DeviceList:
    version: int
    devices: list[str]
    signature: str
    master_version: int


@dataclass(frozen=True)
class KeyBackup:
    version: int
    ciphertext: str
    nonce: str
    kdf: dict[str, Any]
    updated_at: datetime


class KeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def master(self, user_id: str) -> MasterKey | None:
        row = await self._session.get(MasterKeyRow, user_id)
        return MasterKey(row.public_key, row.version) if row else None

    async def put_master(self, user_id: str, public_key: str, at: datetime) -> MasterKey:
        row = await self._session.get(MasterKeyRow, user_id)
        if row is None:
            row = MasterKeyRow(user_id=user_id, public_key=public_key, version=1, updated_at=at)
            self._session.add(row)
        elif row.public_key != public_key:
            row.public_key, row.version, row.updated_at = public_key, row.version + 1, at
        await self._session.flush()
        return MasterKey(row.public_key, row.version)

    async def device(self, device_id: str) -> DeviceKeys | None:
        row = await self._session.get(DeviceKeysRow, device_id)
        return _device(row) if row else None

    async def put_device(self, keys: DeviceKeys, at: datetime) -> None:
        row = await self._session.get(DeviceKeysRow, keys.device_id)
        if row is None:
            self._session.add(
                DeviceKeysRow(
                    device_id=keys.device_id,
                    user_id=keys.user_id,
                    signing_key=keys.signing_key,
                    encryption_key=keys.encryption_key,
                    signature=keys.signature,
                    master_version=keys.master_version,
                    created_at=at,
                )
            )
        else:  # re-signed under a new master key; the keys themselves never change
            row.signature, row.master_version = keys.signature, keys.master_version
        await self._session.flush()

    async def device_list(self, user_id: str) -> DeviceList | None:
        row = await self._session.get(DeviceListRow, user_id)
        if row is None:
            return None
        return DeviceList(row.version, json.loads(row.devices), row.signature, row.master_version)

    async def put_device_list(self, user_id: str, listing: DeviceList, at: datetime) -> None:
        row = await self._session.get(DeviceListRow, user_id)
        if row is None:
            row = DeviceListRow(user_id=user_id)
            self._session.add(row)
        row.version, row.devices = listing.version, json.dumps(sorted(listing.devices))
        row.signature, row.master_version, row.updated_at = (
            listing.signature,
            listing.master_version,
            at,
        )
        await self._session.flush()

    async def current_devices(self, user_ids: Iterable[str]) -> dict[str, dict[str, DeviceKeys]]:
        """Per user, the devices others must encrypt to: listed in the user's device list signed
        by the current master key, with keys signed by that master key, and not signed out."""
        ids = list(set(user_ids))
        result: dict[str, dict[str, DeviceKeys]] = {u: {} for u in ids}
        if not ids:
            return result
        masters = {
            r.user_id: r.version
            for r in (
                await self._session.execute(
                    select(MasterKeyRow).where(MasterKeyRow.user_id.in_(ids))
                )
            ).scalars()
        }
        lists = {
            r.user_id: set(json.loads(r.devices))
            for r in (
                await self._session.execute(
                    select(DeviceListRow).where(DeviceListRow.user_id.in_(ids))
                )
            ).scalars()
            if masters.get(r.user_id) == r.master_version
        }
        rows = await self._session.execute(
            select(DeviceKeysRow)
            .join(DeviceRow, DeviceRow.id == DeviceKeysRow.device_id)
            .where(DeviceKeysRow.user_id.in_(ids), DeviceRow.revoked_at.is_(None))
        )
        for row in rows.scalars():
            if masters.get(row.user_id) == row.master_version and row.device_id in lists.get(
                row.user_id, set()
            ):
                result[row.user_id][row.device_id] = _device(row)
        return result

    async def backup(self, user_id: str) -> KeyBackup | None:
        row = await self._session.get(KeyBackupRow, user_id)
        if row is None:
            return None
        return KeyBackup(
            row.version, row.ciphertext, row.nonce, json.loads(row.kdf), row.updated_at
        )

    async def put_backup(self, user_id: str, backup: KeyBackup) -> None:
        row = await self._session.get(KeyBackupRow, user_id)
        if row is None:
            row = KeyBackupRow(user_id=user_id)
            self._session.add(row)
        row.version, row.ciphertext, row.nonce = backup.version, backup.ciphertext, backup.nonce
        row.kdf, row.updated_at = json.dumps(backup.kdf), backup.updated_at
        await self._session.flush()


def _device(row: DeviceKeysRow) -> DeviceKeys:
    return DeviceKeys(
        user_id=row.user_id,
        device_id=row.device_id,
        signing_key=row.signing_key,
        encryption_key=row.encryption_key,
        signature=row.signature,
        master_version=row.master_version,
    )
