"""The send path's caches and group commit, seen from real clients on SQLite and PostgreSQL: a
member removed while every cache is warm can neither send nor hear anything afterwards, and a
refused send among concurrent ones leaves the others stored in one gapless order."""

from __future__ import annotations

import asyncio
from typing import Any

from rtclient import ChatClient
from tests.chat.conftest import Devices, Person, chat, make_counselor
from tests.support.clients import Api
from tests.support.server import RunningServer


async def _group(api: Api, owner: Person, members: list[Person]) -> str:
    created = await api.request(
        "POST",
        "/api/v1/conversations",
        {
            "conversation": {
                "kind": "group",
                "title": "Circle",
                "member_ids": [m.id for m in members],
            }
        },
        token=owner.token,
    )
    assert created.status == 201, created.body
    return str(created.body["id"])


def _drain(device: ChatClient) -> list[tuple[str, Any]]:
    events = []
    while not device.events.empty():
        events.append(device.events.get_nowait())
    return events


async def _next_event(device: ChatClient, name: str) -> Any:
    while True:
        event, payload = await asyncio.wait_for(device.events.get(), 5)
        if event == name:
            return payload


async def test_a_removed_member_can_neither_send_nor_hear(
    api: Api, server: RunningServer, clients: Devices
) -> None:
    owner = await make_counselor(api, server, "dr.cache")
    staying = Person(await api.register("staying.member"))
    leaving = Person(await api.register("leaving.member"))
    cid = await _group(api, owner, [staying, leaving])
    owner_chat, staying_chat, leaving_chat = [
        await chat(clients, server.url, p) for p in (owner, staying, leaving)
    ]
    # Warm every cache: each member sends and types once, and hears the others.
    for device in (owner_chat, staying_chat, leaving_chat):
        await device.send_text(cid, "hello")
        assert (await device.call("typing", {"conversation_id": cid, "on": True}))["ok"]
    assert [m.seq for m in leaving_chat.delivered] == [1, 2, 3]
    # A message sealed (and signed) for the membership it had, to send once removed.
    late = await clients.sealed(server.url, leaving, cid, "still here?", "late-1")
    removed = await api.request(
        "DELETE", f"/api/v1/conversations/{cid}/members/{leaving.id}", token=owner.token
    )
    assert removed.status == 200
    refused = await leaving_chat.sio.call(
        "message.send", {"conversation_id": cid, "client_msg_id": "late-1", "envelope": late}
    )
    assert refused["error"]["code"] == "conversation_not_found"
    typing = await leaving_chat.sio.call("typing", {"conversation_id": cid, "on": True})
    assert typing["error"]["code"] == "conversation_not_found"
    _drain(leaving_chat)
    # The others go on; the former member's socket gets none of it. Each ack returns after
    # the fan-out was queued, and a reply on the same socket arrives after anything queued
    # for it before: so once `session.info` answers, nothing more is on its way.
    _drain(owner_chat)
    ack = await owner_chat.send_text(cid, "after the removal")
    assert ack["seq"] == 4
    while (await asyncio.wait_for(staying_chat.inbox.get(), 5)).seq < 4:
        pass
    assert (await staying_chat.call("typing", {"conversation_id": cid, "on": True}))["ok"]
    assert (await _next_event(owner_chat, "typing"))["user_id"] == staying.id
    assert (await leaving_chat.sio.call("session.info", {}))["ok"]
    assert max(seq for _, seq in leaving_chat.live) < 4
    assert [m.seq for m in leaving_chat.delivered] == [1, 2, 3]
    assert [e for e, _ in _drain(leaving_chat) if e in ("typing", "message")] == []
    history = await owner_chat.call("history", {"conversation_id": cid})
    assert [m["client_msg_id"] for m in history["messages"]].count("late-1") == 0


async def test_a_refused_send_among_concurrent_ones_leaves_the_rest_gapless(
    api: Api, server: RunningServer, clients: Devices
) -> None:
    owner = await make_counselor(api, server, "dr.batch")
    members = [Person(await api.register(f"batch.member{i}")) for i in range(3)]
    cid = await _group(api, owner, members)
    people = [owner, *members]
    devices = [await chat(clients, server.url, p) for p in people]
    sends = [
        (device, person, f"{person.id}-{i}")
        for i in range(4)
        for device, person in zip(devices, people, strict=True)
    ]
    envelopes = [await clients.sealed(server.url, p, cid, "hi", cmid) for _, p, cmid in sends]
    forged = await clients.sealed(server.url, members[0], cid, "x", "other-id")

    async def send(device: ChatClient, envelope: dict[str, Any], client_msg_id: str) -> Any:
        payload = {"conversation_id": cid, "client_msg_id": client_msg_id, "envelope": envelope}
        return await device.sio.call("message.send", payload)

    replies = await asyncio.gather(
        *(send(d, e, cmid) for (d, _, cmid), e in zip(sends, envelopes, strict=True)),
        send(devices[1], forged, "forged-1"),  # another client id: the signature is wrong
    )
    *accepted, bad = replies
    assert bad["error"]["code"] == "bad_signature"
    assert all(r["ok"] for r in accepted)
    assert sorted(r["seq"] for r in accepted) == list(range(1, len(sends) + 1))
    history = await devices[0].call("sync", {"cursors": {cid: 0}, "limit": 1000})
    assert [m["seq"] for m in history["messages"]] == list(range(1, len(sends) + 1))
    assert "forged-1" not in {m["client_msg_id"] for m in history["messages"]}
