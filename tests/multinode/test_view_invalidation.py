"""A membership change on one node reaches the conversation-view cache of the other over the
bus: the removed member, connected to the other node with its cache warm, is refused and hears
nothing more, long before the cache's TTL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtclient import ChatClient
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.people import Devices, Person, chat
from tests.support.server import RunningServer, create_counselor, serve_subprocess

pytestmark = [
    pytest.mark.multinode,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]


@pytest.fixture
def nodes(
    make_settings: SettingsFactory, redis_url: str, tmp_path: Path, backend: str
) -> Iterator[tuple[RunningServer, RunningServer]]:
    settings = make_settings(redis_url=redis_url, chat_view_cache_seconds=300)
    with serve_subprocess(settings, tmp_path) as a, serve_subprocess(settings, tmp_path) as b:
        yield a, b


async def test_removal_on_one_node_empties_the_other_nodes_cache(
    nodes: tuple[RunningServer, RunningServer], clients: Devices
) -> None:
    a, b = nodes
    api_a, api_b = Api(a.url, clients.http), Api(b.url, clients.http)
    await create_counselor(a, "dr.nodes")
    owner = Person(await api_a.login("dr.nodes", "counselor pw 123", device="console"))
    staying = Person(await api_a.register("staying.nodes"))
    leaving = Person(await api_b.register("leaving.nodes"))
    created = await api_a.request(
        "POST",
        "/api/v1/conversations",
        {
            "conversation": {
                "kind": "group",
                "title": "Two nodes",
                "member_ids": [staying.id, leaving.id],
            }
        },
        token=owner.token,
    )
    cid = str(created.body["id"])
    owner_chat = await chat(clients, a.url, owner)
    staying_chat = await chat(clients, b.url, staying)  # node b relays to leaving's socket
    leaving_chat = await chat(clients, b.url, leaving)
    for device in (leaving_chat, staying_chat):  # warm node b's cache for the conversation
        await device.send_text(cid, "hello")
        assert (await device.call("typing", {"conversation_id": cid, "on": True}))["ok"]
    removed = await api_a.request(
        "DELETE", f"/api/v1/conversations/{cid}/members/{leaving.id}", token=owner.token
    )
    assert removed.status == 200
    # Node b drops its entry when the bus brings the change: typing (relayed from the cache
    # alone) is refused within moments, not after the 300 s TTL.
    deadline = time.monotonic() + 5
    while True:
        reply = await leaving_chat.sio.call("typing", {"conversation_id": cid, "on": True})
        if not reply["ok"]:
            break
        assert time.monotonic() < deadline, "node b kept relaying for a removed member"
        await asyncio.sleep(0.02)
    assert reply["error"]["code"] == "conversation_not_found"
    late = await leaving_chat.sio.call("history", {"conversation_id": cid})
    assert late["error"]["code"] == "conversation_not_found"
    before = len(leaving_chat.live)
    while not leaving_chat.events.empty():
        leaving_chat.events.get_nowait()
    ack = await owner_chat.send_text(cid, "after")
    await _until_seq(staying_chat, ack["seq"])
    assert (await staying_chat.call("typing", {"conversation_id": cid, "on": True}))["ok"]
    assert (await leaving_chat.sio.call("session.info", {}))["ok"]
    assert len(leaving_chat.live) == before
    seen = []
    while not leaving_chat.events.empty():
        seen.append(leaving_chat.events.get_nowait()[0])
    assert "typing" not in seen and "message" not in seen


async def _until_seq(device: ChatClient, seq: int) -> None:
    while device.cursors.get(next(iter(device.cursors)), 0) < seq:
        await asyncio.wait_for(device.inbox.get(), 5)
