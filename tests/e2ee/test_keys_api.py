"""Publishing and fetching keys over real HTTP: only verified, only by the device itself."""

from __future__ import annotations

from typing import Any

from rtclient.crypto import DeviceIdentity, MasterIdentity, sign_device_list
from rtserver.api.keys import DATABASE
from tests.support.clients import Api
from tests.support.people import Devices, Pair, Person
from tests.support.server import RunningServer


async def put(api: Api, path: str, body: Any, person: Person) -> Any:
    return await api.request("PUT", path, body, token=person.token)


async def test_publish_fetch_and_contacts_only(api: Api, server: RunningServer, pair: Pair) -> None:
    keys = await api.request(
        "GET", f"/api/v1/keys/users/{pair.client.id}", token=pair.counselor.token
    )
    assert keys.status == 200
    assert keys.body["master_key"]["version"] == 1
    assert keys.body["device_list"]["devices"] == [pair.client.device_id]
    assert [d["device_id"] for d in keys.body["devices"]] == [pair.client.device_id]
    stranger = Person(await api.register("stranger"))
    hidden = await api.request("GET", f"/api/v1/keys/users/{pair.client.id}", token=stranger.token)
    assert hidden.status == 404 and hidden.code == "user_not_found"


async def test_refusals_change_nothing(api: Api, server: RunningServer, pair: Pair) -> None:
    client = pair.client
    assert client.secure is not None
    master = client.secure.master
    other_master = MasterIdentity.generate()

    # a device cannot publish keys for another device, even of the same user
    laptop = Person(await api.login("bintang", "correct horse 42", device="laptop"))
    laptop_identity = DeviceIdentity.generate(client.id, laptop.device_id)
    wrong = await put(
        api,
        f"/api/v1/keys/devices/{laptop.device_id}",
        laptop_identity.keys_signed_by(master),
        client,
    )
    assert wrong.status == 403 and wrong.code == "not_this_device"
    # keys signed by another master key are refused
    forged = await put(
        api,
        f"/api/v1/keys/devices/{laptop.device_id}",
        laptop_identity.keys_signed_by(other_master),
        laptop,
    )
    assert forged.code == "bad_signature"
    # a device's identity key never changes
    swapped = DeviceIdentity.generate(client.id, client.device_id)
    immutable = await put(
        api, f"/api/v1/keys/devices/{client.device_id}", swapped.keys_signed_by(master), client
    )
    assert immutable.status == 409 and immutable.code == "device_keys_immutable"
    # device lists: signed by the master, newer than the last, naming only own devices
    stale = await put(
        api,
        "/api/v1/keys/device-list",
        sign_device_list(master, client.id, 1, [client.device_id]),
        client,
    )
    assert stale.code == "stale_device_list"
    bad = await put(
        api,
        "/api/v1/keys/device-list",
        sign_device_list(other_master, client.id, 2, [client.device_id]),
        client,
    )
    assert bad.code == "bad_signature"
    foreign = await put(
        api,
        "/api/v1/keys/device-list",
        sign_device_list(master, client.id, 2, [client.device_id, pair.counselor.device_id]),
        client,
    )
    assert foreign.code == "unknown_devices"
    # malformed bodies
    for body in ({"public_key": "short"}, {"public_key": "A" * 44, "extra": 1}, {}):
        reply = await put(api, "/api/v1/keys/master", body, client)
        assert reply.status == 400 and reply.code == "invalid_request", body
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        listing = await tx.keys.device_list(client.id)
        stored = await tx.keys.device(client.device_id)
    assert listing is not None and listing.version == 1
    assert stored is not None and stored.signing_key == client.secure.identity.public_signing_key


async def test_device_without_master_is_refused(api: Api) -> None:
    fresh = Person(await api.register("fresh.user"))
    identity = DeviceIdentity.generate(fresh.id, fresh.device_id)
    reply = await put(
        api,
        f"/api/v1/keys/devices/{fresh.device_id}",
        identity.keys_signed_by(MasterIdentity.generate()),
        fresh,
    )
    assert reply.code == "master_key_missing"


async def test_key_backup_is_opaque_and_versioned(
    api: Api, server: RunningServer, clients: Devices
) -> None:
    from rtclient.crypto import decrypt_backup, encrypt_backup

    person = Person(await api.register("backup.user"))
    missing = await api.request("GET", "/api/v1/keys/backup", token=person.token)
    assert missing.status == 404 and missing.code == "backup_not_found"
    sealed = encrypt_backup(
        {"master": "bWFzdGVy"}, "frasa sandi", opslimit=2, memlimit=8 * 1024 * 1024
    )
    stored = await put(api, "/api/v1/keys/backup", {"version": 1, **sealed}, person)
    assert stored.status == 200
    again = await put(api, "/api/v1/keys/backup", {"version": 1, **sealed}, person)
    assert again.code == "stale_backup"
    weak = {**sealed, "kdf": {**sealed["kdf"], "memlimit": 1024}}
    assert (await put(api, "/api/v1/keys/backup", {"version": 2, **weak}, person)).status == 400
    fetched = await api.request("GET", "/api/v1/keys/backup", token=person.token)
    assert decrypt_backup(fetched.body, "frasa sandi") == {"master": "bWFzdGVy"}


async def test_new_device_restores_the_backup_and_reads_old_history(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    import asyncio

    from rtclient.crypto import open_envelope
    from rtclient.secure import SecureDevice
    from tests.support.people import chat

    phone = await chat(clients, server.url, pair.client)
    console = await chat(clients, server.url, pair.counselor)
    await console.send_text(pair.conversation_id, "pesan lama")
    old = await asyncio.wait_for(phone.inbox.get(), 5)
    assert pair.client.secure is not None
    await pair.client.secure.upload_backup(
        "frasa sandi klien", 1, opslimit=2, memlimit=8 * 1024 * 1024
    )

    laptop = Person(await api.login("bintang", "correct horse 42", device="new laptop"))
    master, old_devices = await SecureDevice.restore_backup(
        server.url, laptop.token, laptop.id, "frasa sandi klien", clients.http
    )
    assert master.public_key == pair.client.secure.master.public_key
    phone_keys = next(d for d in old_devices if d.device_id == pair.client.device_id)
    sender = (await pair.client.secure.keyring.devices_of(pair.counselor.id))[0]
    text = open_envelope(
        phone_keys,
        old.envelope,
        pair.conversation_id,
        [pair.client.id, pair.counselor.id],
        sender,
        old.client_msg_id,
    )
    assert text == b"pesan lama"
