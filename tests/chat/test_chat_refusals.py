"""Who may not do what in chat, and bad input: each refused with a stable code, nothing stored."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rtclient.crypto import PeerDevice, seal
from rtserver.api.keys import DATABASE
from tests.chat.conftest import Devices, Pair, Person, chat, make_counselor
from tests.conftest import SettingsFactory
from tests.support.clients import Api, connect
from tests.support.server import RunningServer, serve_in_process


async def stored(server: RunningServer, conversation_id: str) -> int:
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        return await tx.messages.count(conversation_id)


async def test_non_member_can_do_nothing_with_a_conversation(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    await console.send_text(pair.conversation_id, "halo")
    outsider = Person(await api.register("outsider"))
    other_counselor = await make_counselor(api, server, "dr.other")
    for person in (outsider, other_counselor):
        own = await clients.secure(server.url, person)
        self_only = PeerDevice(
            person.id,
            person.device_id,
            own.identity.public_signing_key,
            own.identity.public_encryption_key,
        )
        shaped = seal(own.identity, pair.conversation_id, [person.id], "x", b"hi", [self_only])
        sock = await connect(server.url, person.token)
        try:
            cid = pair.conversation_id
            attempts: list[tuple[str, dict[str, Any]]] = [
                (
                    "message.send",
                    {"conversation_id": cid, "client_msg_id": "x", "envelope": shaped},
                ),
                ("history", {"conversation_id": cid}),
                ("receipt.read", {"conversation_id": cid, "seq": 1}),
                ("typing", {"conversation_id": cid, "on": True}),
            ]
            for event, payload in attempts:
                reply = await sock.call(event, payload)
                assert reply["ok"] is False, event
                assert reply["error"]["code"] == "conversation_not_found", event
            synced = await sock.call("sync", {"cursors": {cid: 0}})
            assert synced["messages"] == [] and synced["not_member"] == [cid]
            assert cid not in synced["heads"]
            presence = await sock.call("presence.query", {"user_ids": [pair.client.id]})
            assert presence["presence"] == []
        finally:
            await sock.close()
        rest = await api.request(
            "GET", f"/api/v1/conversations/{pair.conversation_id}", token=person.token
        )
        assert rest.status == 404 and rest.code == "conversation_not_found"
        history = await api.request(
            "GET", f"/api/v1/conversations/{pair.conversation_id}/messages", token=person.token
        )
        assert history.code == "conversation_not_found"
    # unknown and foreign conversations answer the same
    sock = await connect(server.url, outsider.token)
    try:
        unknown = await sock.call("history", {"conversation_id": "no-such-conversation"})
        assert unknown["error"]["code"] == "conversation_not_found"
    finally:
        await sock.close()
    assert await stored(server, pair.conversation_id) == 1


def with_envelope(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**payload, "envelope": {**payload["envelope"], **changes}}


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda v: {**v, "extra": 1}, "invalid_payload"),
        (lambda v: {k: x for k, x in v.items() if k != "envelope"}, "invalid_payload"),
        (lambda v: {**v, "client_msg_id": "has space"}, "invalid_payload"),
        (lambda v: with_envelope(v, v=2), "invalid_payload"),
        (lambda v: with_envelope(v, nonce="not base64!"), "invalid_payload"),
        (lambda v: with_envelope(v, nonce="AAAA"), "invalid_payload"),
        (lambda v: with_envelope(v, signature="AAAA"), "invalid_payload"),
        (lambda v: with_envelope(v, ephemeral_key="AAAA"), "invalid_payload"),
        (lambda v: with_envelope(v, recipients=[]), "invalid_payload"),
        (lambda v: with_envelope(v, plaintext="hello"), "invalid_payload"),
        (lambda v: with_envelope(v, sender_device_id="someone-else"), "bad_envelope"),
        (lambda v: with_envelope(v, ciphertext="QUFB" * 13000), "too_large"),
        (lambda v: "just text", "invalid_payload"),
    ],
)
async def test_bad_sends_are_refused(
    server: RunningServer, pair: Pair, clients: Devices, make: Any, code: str
) -> None:
    valid = {
        "conversation_id": pair.conversation_id,
        "client_msg_id": "c-1",
        "envelope": await clients.sealed(server.url, pair.client, pair.conversation_id),
    }
    sock = await connect(server.url, pair.client.token)
    try:
        reply = await sock.call("message.send", make(valid))
        assert reply["ok"] is False and reply["error"]["code"] == code, reply
        assert reply["error"]["message"]
        assert (await sock.call("message.send", valid))["ok"] is True  # the valid one passes
    finally:
        await sock.close()
    assert await stored(server, pair.conversation_id) == 1


async def test_unknown_event_and_bad_sync(server: RunningServer, pair: Pair) -> None:
    sock = await connect(server.url, pair.client.token)
    try:
        assert (await sock.call("message.delete", {}))["error"]["code"] == "unknown_event"
        bad = await sock.call("sync", {"cursors": {pair.conversation_id: -1}})
        assert bad["error"]["code"] == "invalid_payload"
        bad = await sock.call("presence.set", {"state": "invisible"})
        assert bad["error"]["code"] == "invalid_payload"
    finally:
        await sock.close()


async def test_connection_rate_limit(
    make_settings: SettingsFactory, http: Any, clients: Devices
) -> None:
    settings = make_settings(chat_rate_per_connection=1.0, chat_burst_per_connection=3)
    async with serve_in_process(settings) as server:
        api = Api(server.url, http)
        counselor = await make_counselor(api, server, "dr.rate")
        client = Person(await api.register("fast.typist"))
        created = await api.request(
            "POST",
            "/api/v1/conversations",
            {"conversation": {"kind": "direct", "client_id": client.id}},
            token=counselor.token,
        )
        sock = await connect(server.url, client.token)
        try:
            replies = [
                await sock.call(
                    "message.send",
                    {
                        "conversation_id": created.body["id"],
                        "client_msg_id": f"m{i}",
                        "envelope": await clients.sealed(
                            server.url, client, created.body["id"], "x", f"m{i}"
                        ),
                    },
                )
                for i in range(5)
            ]
            assert [r["ok"] for r in replies] == [True, True, True, False, False]
            assert replies[3]["error"]["code"] == "rate_limited"
            assert replies[3]["error"]["details"]["retry_after"] >= 1
            assert await stored(server, created.body["id"]) == 3
        finally:
            await sock.close()


async def test_user_rate_limit_across_devices(
    make_settings: SettingsFactory, http: Any, clients: Devices
) -> None:
    settings = make_settings(chat_max_per_user_per_minute=4)
    async with serve_in_process(settings) as server:
        api = Api(server.url, http)
        counselor = await make_counselor(api, server, "dr.user.rate")
        client = Person(await api.register("busy.client"))
        laptop = Person(await api.login("busy.client", "correct horse 42", device="laptop"))
        created = await api.request(
            "POST",
            "/api/v1/conversations",
            {"conversation": {"kind": "direct", "client_id": client.id}},
            token=counselor.token,
        )
        for person in (client, laptop):  # both devices keyed before anyone seals
            await clients.secure(server.url, person)
        socks = [await connect(server.url, client.token), await connect(server.url, laptop.token)]
        try:
            oks = []
            for i in range(6):
                device = socks[i % 2]
                person = (client, laptop)[i % 2]
                reply = await device.call(
                    "message.send",
                    {
                        "conversation_id": created.body["id"],
                        "client_msg_id": f"u{i}",
                        "envelope": await clients.sealed(
                            server.url, person, created.body["id"], "x", f"u{i}"
                        ),
                    },
                )
                oks.append(reply["ok"])
            assert oks == [True] * 4 + [False] * 2
        finally:
            for sock in socks:
                await sock.close()


async def test_conversation_rest_rules(api: Api, server: RunningServer, pair: Pair) -> None:
    # a client cannot open conversations or create groups
    for body in (
        {"kind": "direct", "client_id": pair.counselor.id},
        {"kind": "group", "title": "x", "member_ids": []},
    ):
        reply = await api.request(
            "POST", "/api/v1/conversations", {"conversation": body}, token=pair.client.token
        )
        assert reply.status == 403, body
    # a counselor cannot open a direct conversation with another counselor or a ghost
    other = await make_counselor(api, server, "dr.peer")
    peer = await api.request(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "direct", "client_id": other.id}},
        token=pair.counselor.token,
    )
    assert peer.status == 400 and peer.code == "invalid_participants"
    ghost = await api.request(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "direct", "client_id": "nobody"}},
        token=pair.counselor.token,
    )
    assert ghost.status == 404 and ghost.code == "user_not_found"
    # opening the same pair again returns the same conversation
    again = await api.request(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "direct", "client_id": pair.client.id}},
        token=pair.counselor.token,
    )
    assert again.body["id"] == pair.conversation_id
    # direct conversations have fixed members
    added = await api.request(
        "POST",
        f"/api/v1/conversations/{pair.conversation_id}/members",
        {"user_id": other.id},
        token=pair.counselor.token,
    )
    assert added.code == "not_a_group"
    mine = await api.request("GET", "/api/v1/conversations", token=pair.client.token)
    assert [c["id"] for c in mine.body["conversations"]] == [pair.conversation_id]


async def test_group_membership_lifecycle(
    api: Api, server: RunningServer, clients: Devices
) -> None:
    owner = await make_counselor(api, server, "dr.owner")
    first = Person(await api.register("first.member"))
    late = Person(await api.register("late.member"))
    created = await api.request(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "group", "title": "Circle", "member_ids": [first.id]}},
        token=owner.token,
    )
    cid = created.body["id"]
    owner_chat = await chat(clients, server.url, owner)
    await owner_chat.send_text(cid, "before the late member")
    # a plain member cannot add people
    refused = await api.request(
        "POST", f"/api/v1/conversations/{cid}/members", {"user_id": late.id}, token=first.token
    )
    assert refused.status == 403
    added = await api.request(
        "POST", f"/api/v1/conversations/{cid}/members", {"user_id": late.id}, token=owner.token
    )
    assert added.status == 200 and len(added.body["members"]) == 3
    await owner_chat.send_text(cid, "after")
    late_chat = await chat(clients, server.url, late)
    assert [m.seq for m in late_chat.delivered] == [2]  # nothing from before they joined
    history = await late_chat.call("history", {"conversation_id": cid})
    assert [m["seq"] for m in history["messages"]] == [2]
    # the owner cannot be removed; a member can leave; a removed member loses access
    owner_out = await api.request(
        "DELETE", f"/api/v1/conversations/{cid}/members/{owner.id}", token=first.token
    )
    assert owner_out.code == "owner_cannot_leave"
    left = await api.request(
        "DELETE", f"/api/v1/conversations/{cid}/members/{late.id}", token=late.token
    )
    assert left.status == 200
    gone = await late_chat.sio.call("history", {"conversation_id": cid})
    assert gone["error"]["code"] == "conversation_not_found"
    await asyncio.sleep(0)
