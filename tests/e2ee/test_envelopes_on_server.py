"""The server refuses envelopes it can prove wrong: unsigned, re-addressed, replayed, not
covering every current device, or addressed to devices that are not members'."""

from __future__ import annotations

from typing import Any

from rtclient.crypto import PeerDevice, seal
from rtserver.api.keys import DATABASE
from tests.support.clients import Api, connect
from tests.support.people import Devices, Pair, Person, open_direct
from tests.support.server import RunningServer


def peer(person: Person) -> PeerDevice:
    assert person.secure is not None
    identity = person.secure.identity
    return PeerDevice(
        person.id, person.device_id, identity.public_signing_key, identity.public_encryption_key
    )


async def send(server: RunningServer, person: Person, payload: dict[str, Any]) -> Any:
    sock = await connect(server.url, person.token)
    try:
        return await sock.call("message.send", payload)
    finally:
        await sock.close()


async def stored(server: RunningServer) -> int:
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        rows = await tx.session.execute(
            __import__("sqlalchemy").text("SELECT count(*) FROM messages")
        )
        return int(rows.scalar_one())


async def test_envelopes_the_server_must_refuse(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    client, counselor, cid = pair.client, pair.counselor, pair.conversation_id
    assert client.secure is not None
    me = client.secure.identity
    members = [client.id, counselor.id]
    everyone = [peer(client), peer(counselor)]

    def payload(envelope: dict[str, Any], client_msg_id: str = "m1") -> dict[str, Any]:
        return {"conversation_id": cid, "client_msg_id": client_msg_id, "envelope": envelope}

    # missing device: the counselor's device is not a recipient
    reply = await send(server, client, payload(seal(me, cid, members, "m1", b"x", [peer(client)])))
    assert reply["error"]["code"] == "missing_devices"
    assert reply["error"]["details"]["missing"] == [
        {"user_id": counselor.id, "device_id": counselor.device_id}
    ]
    # unknown device: addressed to someone outside the conversation
    outsider = Person(await api.register("outsider"))
    await clients.secure(server.url, outsider)
    reply = await send(
        server, client, payload(seal(me, cid, members, "m1", b"x", [*everyone, peer(outsider)]))
    )
    assert reply["error"]["code"] == "unknown_devices"
    # re-addressed: signed for another conversation, sent to this one
    other_counselor_conv = await open_direct(
        api, counselor, Person(await api.register("someone.else"))
    )
    reply = await send(
        server, client, payload(seal(me, other_counselor_conv, members, "m1", b"x", everyone))
    )
    assert reply["error"]["code"] == "bad_signature"
    # replayed under another client_msg_id
    original = seal(me, cid, members, "m1", b"x", everyone)
    reply = await send(server, client, payload(original, client_msg_id="m2"))
    assert reply["error"]["code"] == "bad_signature"
    # tampered ciphertext (signature covers it)
    tampered = {**original, "ciphertext": original["ciphertext"][:-4] + "AAAA"}
    reply = await send(server, client, payload(tampered))
    assert reply["error"]["code"] == "bad_signature"
    # a device without published keys cannot send
    fresh = Person(await api.login("bintang", "correct horse 42", device="unkeyed tablet"))
    reply = await send(server, fresh, payload({**original, "sender_device_id": fresh.device_id}))
    assert reply["error"]["code"] == "device_keys_missing"
    assert await stored(server) == 0
    # and the honest one goes through
    assert (await send(server, client, payload(original)))["ok"] is True
    assert await stored(server) == 1


async def test_revoked_device_drops_out_of_coverage(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    client, counselor, cid = pair.client, pair.counselor, pair.conversation_id
    laptop = Person(await api.login("bintang", "correct horse 42", device="laptop"))
    await clients.secure(server.url, laptop)
    assert client.secure is not None
    me = client.secure.identity
    members = [client.id, counselor.id]
    without_laptop = seal(me, cid, members, "m1", b"x", [peer(client), peer(counselor)])
    reply = await send(
        server, client, {"conversation_id": cid, "client_msg_id": "m1", "envelope": without_laptop}
    )
    assert reply["error"]["code"] == "missing_devices"
    await api.request("POST", "/api/v1/auth/logout", token=laptop.token)
    reply = await send(
        server, client, {"conversation_id": cid, "client_msg_id": "m1", "envelope": without_laptop}
    )
    assert reply["ok"] is True
