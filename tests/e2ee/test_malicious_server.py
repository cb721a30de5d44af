"""A server that lies about keys or messages is caught by the client SDK."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from rtclient.crypto import (
    CryptoError,
    DeviceIdentity,
    MasterIdentity,
    PeerDevice,
    b64,
    sign_sdp,
    verify_sdp,
)
from rtclient.keyring import KeyChanged, Keyring
from tests.support.clients import Api
from tests.support.people import Devices, Pair, Person, chat
from tests.support.server import RunningServer


class LyingKeyring(Keyring):
    """What a compromised server could hand out: the real answer, edited."""

    edit: Any = None

    async def fetch(self, user_id: str) -> dict[str, Any]:
        published = await super().fetch(user_id)
        return self.edit(copy.deepcopy(published)) if self.edit else published


def lying(pair: Pair, edit: Any) -> LyingKeyring:
    assert pair.client.secure is not None
    real = pair.client.secure.keyring
    keyring = LyingKeyring(real.base_url, real.token, real.http)
    keyring.edit = edit
    return keyring


async def test_swapped_device_key_is_not_trusted(pair: Pair) -> None:
    attacker = DeviceIdentity.generate(pair.counselor.id, pair.counselor.device_id)

    def swap(published: dict[str, Any]) -> dict[str, Any]:
        for device in published["devices"]:
            device["encryption_key"] = attacker.public_encryption_key
        return published

    keyring = lying(pair, swap)
    assert await keyring.devices_of(pair.counselor.id) == []
    assert keyring.rejected and "not signed by master" in keyring.rejected[0]


async def test_injected_unsigned_device_gets_nothing(pair: Pair) -> None:
    intruder = DeviceIdentity.generate(pair.counselor.id, "intruder-device")

    def inject(published: dict[str, Any]) -> dict[str, Any]:
        published["devices"].append(
            {
                "user_id": pair.counselor.id,
                "device_id": "intruder-device",
                "signing_key": intruder.public_signing_key,
                "encryption_key": intruder.public_encryption_key,
                "signature": b64(bytes(64)),
            }
        )
        published["device_list"]["devices"].append("intruder-device")  # list no longer verifies
        return published

    keyring = lying(pair, inject)
    devices = await keyring.devices_of(pair.counselor.id)
    assert "intruder-device" not in {d.device_id for d in devices}
    assert devices == []  # the tampered list itself no longer verifies: encrypt to nobody


async def test_master_key_swap_is_a_blocking_warning(pair: Pair) -> None:
    keyring = lying(pair, None)
    await keyring.devices_of(pair.counselor.id)  # first contact: pinned
    fake = MasterIdentity.generate()

    def swap_master(published: dict[str, Any]) -> dict[str, Any]:
        published["master_key"]["public_key"] = fake.public_key
        return published

    keyring.edit = swap_master
    keyring.forget()
    with pytest.raises(KeyChanged):
        await keyring.devices_of(pair.counselor.id)
    keyring.accept_master(pair.counselor.id, fake.public_key)  # after re-verification
    assert await keyring.devices_of(pair.counselor.id) == []  # its devices are not signed


async def test_new_device_of_a_pinned_master_is_a_notice(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    assert pair.client.secure is not None
    keyring = pair.client.secure.keyring
    assert len(await keyring.devices_of(pair.counselor.id)) == 1
    tablet = Person(await api.login("dr.sari", "counselor pw 123", device="tablet"))
    await clients.secure(server.url, tablet)
    keyring.forget()
    assert len(await keyring.devices_of(pair.counselor.id)) == 2
    assert any("new device" in notice for notice in keyring.notices)


async def test_readdressed_message_is_refused_by_the_reader(
    server: RunningServer, pair: Pair, clients: Devices
) -> None:
    phone = await chat(clients, server.url, pair.client)
    console = await chat(clients, server.url, pair.counselor)
    await console.send_text(pair.conversation_id, "hanya untukmu")
    real = await asyncio.wait_for(phone.inbox.get(), 5)
    assert await phone.read(real) == "hanya untukmu"
    from dataclasses import replace

    replayed = replace(real, client_msg_id="another-id")
    with pytest.raises(CryptoError):
        await phone.read(replayed)
    assert phone.secure is not None
    phone.secure.members[pair.conversation_id] = [pair.client.id, pair.counselor.id, "eve"]
    with pytest.raises(CryptoError):
        await phone.read(real)  # a member slipped in: the signature no longer matches


def test_swapped_sdp_fingerprint_is_detected() -> None:
    caller = DeviceIdentity.generate("u1", "d1")
    as_peer = PeerDevice("u1", "d1", caller.public_signing_key, caller.public_encryption_key)
    sdp = "v=0\r\na=fingerprint:sha-256 AA:BB:CC\r\n"
    signature = sign_sdp(caller, "call-1", "offer", sdp)
    verify_sdp(as_peer, "call-1", "offer", sdp, signature)
    with pytest.raises(CryptoError):
        verify_sdp(as_peer, "call-1", "offer", sdp.replace("AA:BB:CC", "EE:FF:00"), signature)
