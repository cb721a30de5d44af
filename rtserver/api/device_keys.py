"""/api/v1/keys: publish and fetch E2EE public keys; store and fetch the encrypted key backup."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rtserver.api.keys import KEYS
from rtserver.api.routing import Call, RouteTable
from rtserver.store.keys import DeviceKeys
from rtserver.validation import Id, PublicKey, Signature, base64_of

routes = RouteTable("keys")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MasterKeyBody(Strict):
    public_key: PublicKey


class MasterKeyOut(BaseModel):
    public_key: str
    version: int


class DeviceKeysBody(Strict):
    signing_key: PublicKey
    encryption_key: PublicKey
    signature: Signature = Field(description="master key's signature over the device keys")


class DeviceKeysOut(BaseModel):
    user_id: str
    device_id: str
    signing_key: str
    encryption_key: str
    signature: str


class DeviceListBody(Strict):
    version: int = Field(ge=1)
    devices: list[Id] = Field(min_length=1, max_length=100)
    signature: Signature


class DeviceListOut(BaseModel):
    version: int
    devices: list[str]
    signature: str


class UserKeysOut(BaseModel):
    user_id: str
    master_key: MasterKeyOut | None
    device_list: DeviceListOut | None
    devices: list[DeviceKeysOut]


class Kdf(Strict):
    alg: Literal["argon2id13"]
    opslimit: int = Field(ge=2, le=64)
    memlimit: int = Field(ge=8 * 1024 * 1024, le=1024 * 1024 * 1024)
    salt: Annotated[str, base64_of(16, 16)]


class BackupBody(Strict):
    version: int = Field(ge=1)
    ciphertext: Annotated[str, Field(max_length=64 * 1024), base64_of(17, 48 * 1024)]
    nonce: Annotated[str, base64_of(24, 24)]
    kdf: Kdf


class BackupOut(BaseModel):
    version: int
    ciphertext: str
    nonce: str
    kdf: Kdf
    updated_at: datetime


def device_out(keys: DeviceKeys) -> DeviceKeysOut:
    return DeviceKeysOut(
        user_id=keys.user_id,
        device_id=keys.device_id,
        signing_key=keys.signing_key,
        encryption_key=keys.encryption_key,
        signature=keys.signature,
    )


@routes.route(
    "PUT",
    "/api/v1/keys/master",
    summary="Publish (or reset) my master key",
    body=MasterKeyBody,
    response=MasterKeyOut,
)
async def put_master(call: Call[MasterKeyBody]) -> MasterKeyOut:
    master = await call.request.app[KEYS].set_master(call.principal, call.body.public_key)
    return MasterKeyOut(public_key=master.public_key, version=master.version)


@routes.route(
    "PUT",
    "/api/v1/keys/devices/{device_id}",
    summary="Publish this device's keys, signed by my master key (only the device itself)",
    body=DeviceKeysBody,
    response=DeviceKeysOut,
    errors=("not_this_device", "master_key_missing", "bad_signature", "device_keys_immutable"),
)
async def put_device(call: Call[DeviceKeysBody]) -> DeviceKeysOut:
    b = call.body
    keys = await call.request.app[KEYS].publish_device(
        call.principal,
        call.request.match_info["device_id"],
        b.signing_key,
        b.encryption_key,
        b.signature,
    )
    return device_out(keys)


@routes.route(
    "PUT",
    "/api/v1/keys/device-list",
    summary="Publish my signed, versioned device list",
    body=DeviceListBody,
    response=DeviceListOut,
    errors=("master_key_missing", "bad_signature", "stale_device_list", "unknown_devices"),
)
async def put_device_list(call: Call[DeviceListBody]) -> DeviceListOut:
    b = call.body
    listing = await call.request.app[KEYS].publish_device_list(
        call.principal, b.version, list(b.devices), b.signature
    )
    return DeviceListOut(
        version=listing.version, devices=listing.devices, signature=listing.signature
    )


@routes.route(
    "GET",
    "/api/v1/keys/users/{user_id}",
    summary="A contact's (or my own) master key, signed device list and current device keys",
    response=UserKeysOut,
    errors=("user_not_found",),
)
async def get_user_keys(call: Call[None]) -> UserKeysOut:
    found = await call.request.app[KEYS].keys_of(call.principal, call.request.match_info["user_id"])
    return UserKeysOut(
        user_id=found.user_id,
        master_key=MasterKeyOut(public_key=found.master.public_key, version=found.master.version)
        if found.master
        else None,
        device_list=DeviceListOut(
            version=found.device_list.version,
            devices=found.device_list.devices,
            signature=found.device_list.signature,
        )
        if found.device_list
        else None,
        devices=[device_out(d) for d in found.devices],
    )


@routes.route(
    "PUT",
    "/api/v1/keys/backup",
    summary="Store my private keys, encrypted under a passphrase-derived key (argon2id)",
    body=BackupBody,
    response=BackupOut,
    errors=("stale_backup",),
)
async def put_backup(call: Call[BackupBody]) -> BackupOut:
    b = call.body
    backup = await call.request.app[KEYS].put_backup(
        call.principal, b.version, b.ciphertext, b.nonce, b.kdf.model_dump()
    )
    return BackupOut(
        version=backup.version,
        ciphertext=backup.ciphertext,
        nonce=backup.nonce,
        kdf=Kdf.model_validate(backup.kdf),
        updated_at=backup.updated_at,
    )


@routes.route(
    "GET",
    "/api/v1/keys/backup",
    summary="Fetch my encrypted key backup",
    response=BackupOut,
    errors=("backup_not_found",),
)
async def get_backup(call: Call[None]) -> BackupOut:
    backup = await call.request.app[KEYS].backup(call.principal)
    return BackupOut(
        version=backup.version,
        ciphertext=backup.ciphertext,
        nonce=backup.nonce,
        kdf=Kdf.model_validate(backup.kdf),
        updated_at=backup.updated_at,
    )
