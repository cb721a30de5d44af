"""Durable, ordered, exactly-once chat over a real WebSocket, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from rtclient import ChatClient
from rtclient.chat import ChatError
from tests.chat.conftest import Devices, Pair, Person, chat, make_counselor
from tests.support.clients import Api, connect
from tests.support.server import RunningServer


async def test_send_is_acked_with_seq_and_reaches_every_device(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    phone = await chat(clients, server.url, pair.client)
    laptop_session = Person(await api.login("bintang", "correct horse 42", device="laptop"))
    laptop = await chat(clients, server.url, laptop_session)
    console = await chat(clients, server.url, pair.counselor)

    ack = await console.send_text(pair.conversation_id, "selamat malam")
    assert ack["seq"] == 1 and ack["duplicate"] is False and ack["sent_at"]
    assert (await asyncio.wait_for(console.inbox.get(), 5)).seq == 1  # recorded from the ack
    for device in (phone, laptop):
        got = await asyncio.wait_for(device.inbox.get(), 5)
        assert (got.conversation_id, got.seq, got.sender_user_id) == (
            pair.conversation_id,
            1,
            pair.counselor.id,
        )
        assert "selamat" not in str(got.envelope)
        assert await device.read(got) == "selamat malam"  # opened end to end

    ack2 = await phone.send_text(pair.conversation_id, "terima kasih")
    assert ack2["seq"] == 2
    assert (await asyncio.wait_for(laptop.inbox.get(), 5)).seq == 2  # sender's other device
    assert (await asyncio.wait_for(console.inbox.get(), 5)).seq == 2
    assert phone.live == [(pair.conversation_id, 1)]  # the sender gets its ack, not a copy
    assert [m.seq for m in phone.delivered] == [1, 2]


async def test_retry_with_same_client_msg_id_is_stored_once(
    server: RunningServer, pair: Pair, clients: Devices
) -> None:
    phone = await chat(clients, server.url, pair.client)
    console = await chat(clients, server.url, pair.counselor)
    first = await phone.send_text(pair.conversation_id, "halo", client_msg_id="m-1")
    again = await phone.send_text(pair.conversation_id, "halo", client_msg_id="m-1")
    assert (first["seq"], again["seq"]) == (1, 1)
    assert again["duplicate"] is True
    third = await phone.send_text(pair.conversation_id, "halo", client_msg_id="m-2")
    assert third["seq"] == 2
    # the console saw 1 then 2: a duplicate fan-out would have arrived in between
    assert [(await asyncio.wait_for(console.inbox.get(), 5)).seq for _ in range(2)] == [1, 2]
    assert console.events.empty()
    history = await console.call("history", {"conversation_id": pair.conversation_id})
    assert [m["client_msg_id"] for m in history["messages"]] == ["m-1", "m-2"]


async def test_concurrent_senders_see_one_gapless_order(
    api: Api, server: RunningServer, clients: Devices
) -> None:
    counselor = await make_counselor(api, server, "dr.group")
    members = [Person(await api.register(f"member{i}")) for i in range(4)]
    created = await api.request(
        "POST",
        "/api/v1/conversations",
        {
            "conversation": {
                "kind": "group",
                "title": "Support circle",
                "member_ids": [m.id for m in members],
            }
        },
        token=counselor.token,
    )
    assert created.status == 201
    conversation_id = created.body["id"]
    people = [counselor, *members]
    devices = [await chat(clients, server.url, p) for p in people]
    per_sender = 15

    async def burst(device: ChatClient, person: Person) -> list[int]:
        acks = await asyncio.gather(
            *(device.send_text(conversation_id, f"{person.id}-{i}") for i in range(per_sender))
        )
        return [a["seq"] for a in acks]

    seqs = await asyncio.gather(*(burst(d, p) for d, p in zip(devices, people, strict=True)))
    total = per_sender * len(people)
    assert sorted(s for chunk in seqs for s in chunk) == list(range(1, total + 1))

    async def caught_up(device: ChatClient) -> None:
        while device.cursors.get(conversation_id, 0) < total:
            await device.sync()

    await asyncio.wait_for(asyncio.gather(*(caught_up(d) for d in devices)), 20)
    history = await devices[0].call("sync", {"cursors": {conversation_id: 0}, "limit": 1000})
    order = [(m["seq"], m["client_msg_id"]) for m in history["messages"]]
    assert [seq for seq, _ in order] == list(range(1, total + 1))
    for device, person in zip(devices, people, strict=True):
        # what each device received (live + recovered) is the same gapless order, own
        # messages included once recovered by sync
        received = [(m.seq, m.client_msg_id) for m in device.delivered]
        assert [s for s, _ in received] == list(range(1, total + 1)), person.id
        assert received == order


async def test_offline_device_catches_up_by_sync_in_pages(
    server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    for i in range(45):
        await console.send_text(pair.conversation_id, f"m{i}")
    phone = ChatClient(server.url, pair.client.token)
    clients.chats.append(phone)
    await phone.sio.connect(server.url, auth={"token": pair.client.token}, transports=["websocket"])
    first = await phone.call("sync", {"cursors": {}, "limit": 20})
    assert [m["seq"] for m in first["messages"]] == list(range(1, 21))
    assert first["more"] is True and first["heads"] == {pair.conversation_id: 45}
    await phone.sync()
    assert [m.seq for m in phone.delivered] == list(range(1, 46))
    again = await phone.call("sync", {"cursors": {pair.conversation_id: 45}})
    assert again["messages"] == [] and again["more"] is False


async def test_history_pages_over_socket_and_rest(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    for i in range(7):
        await console.send_text(pair.conversation_id, f"m{i}")
    newest = await console.call("history", {"conversation_id": pair.conversation_id, "limit": 3})
    assert [m["seq"] for m in newest["messages"]] == [5, 6, 7] and newest["has_more"]
    older = await console.call(
        "history", {"conversation_id": pair.conversation_id, "before_seq": 5, "limit": 3}
    )
    assert [m["seq"] for m in older["messages"]] == [2, 3, 4]
    rest = await api.request(
        "GET",
        f"/api/v1/conversations/{pair.conversation_id}/messages?before_seq=3&limit=5",
        token=pair.client.token,
    )
    assert rest.status == 200
    assert [m["seq"] for m in rest.body["messages"]] == [1, 2] and not rest.body["has_more"]
    bad = await api.request(
        "GET",
        f"/api/v1/conversations/{pair.conversation_id}/messages?limit=1000",
        token=pair.client.token,
    )
    assert bad.status == 400 and bad.code == "invalid_request"


async def test_receipts_are_persisted_and_fanned_out(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    phone = await chat(clients, server.url, pair.client)
    for _ in range(3):
        await console.send_text(pair.conversation_id, "halo")
    reply = await phone.call("receipt.read", {"conversation_id": pair.conversation_id, "seq": 2})
    assert reply["read_seq"] == 2
    _, receipt = await asyncio.wait_for(_next_event(console, "receipt"), 5)
    assert receipt == {"conversation_id": pair.conversation_id, "user_id": pair.client.id, "seq": 2}
    back = await phone.call("receipt.read", {"conversation_id": pair.conversation_id, "seq": 1})
    assert back["read_seq"] == 2  # never moves backwards
    try:
        await phone.call("receipt.read", {"conversation_id": pair.conversation_id, "seq": 9})
        raise AssertionError("beyond the last seq must fail")
    except ChatError as exc:
        assert exc.code == "invalid_seq"
    listed = await api.request(
        "GET", f"/api/v1/conversations/{pair.conversation_id}", token=pair.counselor.token
    )
    reads = {m["user_id"]: m["read_seq"] for m in listed.body["members"]}
    assert reads[pair.client.id] == 2


async def _next_event(client: ChatClient, name: str) -> tuple[str, Any]:
    while True:
        event, data = await client.events.get()
        if event == name:
            return event, data


async def test_typing_reaches_the_other_member_with_ttl(
    server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    phone = await chat(clients, server.url, pair.client)
    await phone.call("typing", {"conversation_id": pair.conversation_id, "on": True})
    _, typing = await asyncio.wait_for(_next_event(console, "typing"), 5)
    assert typing["user_id"] == pair.client.id and typing["on"] is True
    assert typing["ttl_ms"] > 0


async def test_presence_is_shared_with_contacts_only(
    api: Api, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    stranger = Person(await api.register("stranger"))
    stranger_sock = await connect(server.url, stranger.token)
    try:
        phone = await chat(clients, server.url, pair.client)
        _, online = await asyncio.wait_for(_next_event(console, "presence"), 5)
        assert online["user_id"] == pair.client.id and online["state"] == "online"
        await phone.call("presence.set", {"state": "away"})
        _, away = await asyncio.wait_for(_next_event(console, "presence"), 5)
        assert away["state"] == "away"
        seen = await console.call("presence.query", {"user_ids": [pair.client.id]})
        assert seen["presence"][0]["state"] == "away" and seen["presence"][0]["last_seen"]
        hidden = await stranger_sock.call("presence.query", {"user_ids": [pair.client.id]})
        assert hidden == {"ok": True, "presence": []}
        await phone.close()
        _, gone = await asyncio.wait_for(_next_event(console, "presence"), 5)
        assert gone["state"] == "offline"
        assert stranger_sock.queue("presence").empty()
    finally:
        await stranger_sock.close()


def random_id() -> str:
    return uuid.uuid4().hex


async def test_a_device_stays_online_until_its_last_socket_closes(
    server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    first = await connect(server.url, pair.client.token)  # one device, two tabs
    second = await connect(server.url, pair.client.token)
    try:
        _, online = await asyncio.wait_for(_next_event(console, "presence"), 5)
        assert online["user_id"] == pair.client.id and online["state"] == "online"
        await first.close()
        await asyncio.sleep(0.3)
        seen = await console.call("presence.query", {"user_ids": [pair.client.id]})
        assert seen["presence"][0]["state"] == "online"
        await second.close()
        _, gone = await asyncio.wait_for(_next_event(console, "presence"), 5)
        assert gone["user_id"] == pair.client.id and gone["state"] == "offline"
    finally:
        await first.close()
        await second.close()
