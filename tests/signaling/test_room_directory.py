"""The room directory against a real Redis (signaling.room_directory, signaling.fanout): a node
is recorded in a room while it has sockets there, an emit reaches only the other nodes holding
a recipient, a node nobody hears is dropped from its rooms, and a node records its rooms again
when its subscription returns."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from signaling.room_directory import room_key
from tests.signaling.fanout_nodes import Node, members, until


async def test_a_node_is_in_a_room_while_it_has_sockets_there(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    first = await a.connect("user:x")
    assert await members(redis, channel, "user:x") == {a.manager.host_id}
    assert not await redis.exists(room_key(channel, "/", first))  # only its node emits there
    second = await a.connect("user:x")
    await b.connect("user:x")
    assert await members(redis, channel, "user:x") == {a.manager.host_id, b.manager.host_id}

    await a.manager.disconnect(first, "/", ignore_queue=True)  # as the server does
    await a.manager._all_queued_written()
    assert await members(redis, channel, "user:x") == {a.manager.host_id, b.manager.host_id}
    await a.manager.leave_room(second, "/", "user:x")
    await a.manager._all_queued_written()
    assert await members(redis, channel, "user:x") == {b.manager.host_id}


async def test_an_emit_reaches_only_the_other_nodes_holding_a_recipient(
    nodes: tuple[Node, Node], redis_url: str
) -> None:
    a, b = nodes
    spy = aioredis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    await spy.psubscribe(f"{a.manager.channel}*")
    published: list[bytes] = []

    async def listen() -> None:
        async for message in spy.listen():
            if message["data"] != b"fanout-probe":
                published.append(message["channel"])

    listener = asyncio.create_task(listen())
    try:
        await a.connect("user:a")
        await b.connect("user:b")

        await a.manager.emit("local", {}, namespace="/", room="user:a")
        assert a.events() == ["local"]
        await a.manager.emit("remote", {}, namespace="/", room="user:b")
        await a.manager.emit("both", {}, namespace="/", room=["user:a", "user:b"])
        await a.manager.emit("nobody", {}, namespace="/", room="user:c")
        await until(lambda: b.events() == ["remote", "both"])
        assert a.events() == ["local", "both"]

        await a.manager.emit("everyone", {}, namespace="/")  # the whole namespace: every node
        await until(lambda: b.events()[-1:] == ["everyone"])
        assert a.events() == ["local", "both", "everyone"]
        await asyncio.sleep(0.2)
        node_b = f"{a.manager.channel}:node:{b.manager.host_id}".encode()
        # "local" and "nobody" were never published; "remote" and "both" only to node b
        assert published == [node_b, node_b, a.manager.channel.encode()]
    finally:
        listener.cancel()
        await spy.aclose()  # type: ignore[no-untyped-call]


async def test_an_emit_to_a_room_outside_the_directory_reaches_every_node(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    sid = await b.connect("user:b", "call:1")
    assert not await redis.exists(room_key(a.manager.channel, "/", "call:1"))
    await a.manager.emit("to-the-socket", {}, namespace="/", room=sid)
    await a.manager.emit("to-the-call", {}, namespace="/", room=["call:1", "user:nobody"])
    await until(lambda: b.events() == ["to-the-socket", "to-the-call"])


async def test_a_socket_enters_rooms_only_on_its_own_node(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    sid = await b.connect()
    with pytest.raises(ValueError, match="node that holds it"):
        await a.manager.enter_room(sid, "/", "user:b")


async def test_a_node_nobody_hears_is_dropped_from_its_rooms(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    await b.connect("user:b")
    await redis.sadd(room_key(channel, "/", "user:b"), "gone-node")
    await a.manager.emit("hello", {}, namespace="/", room="user:b")
    await until(lambda: b.events() == ["hello"])
    assert await members(redis, channel, "user:b") == {b.manager.host_id}


async def test_rooms_lost_by_redis_are_recorded_again_when_the_subscription_returns(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    await b.connect("user:b")
    await redis.delete(room_key(channel, "/", "user:b"))  # as after a restart of Redis
    for client in await redis.client_list(_type="pubsub"):
        if client["name"] == b.name:
            await redis.client_kill_filter(_id=client["id"])

    await until(lambda: b.resyncs == 1)  # its sockets are told to sync, after the rooms
    assert await members(redis, channel, "user:b") == {b.manager.host_id}
    await a.manager.emit("after", {}, namespace="/", room="user:b")
    await until(lambda: b.events() == ["after"])
