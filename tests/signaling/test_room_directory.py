"""The room directory against a real Redis (signaling.room_directory, signaling.fanout): a node
is recorded in a room while it has sockets there, an emit reaches only the other nodes holding
a recipient, a node nobody hears is dropped from its rooms, and a node records its rooms again
after Redis lost them or a write failed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from signaling.fanout import ResyncingRedisManager
from signaling.packets import FastPacket
from signaling.room_directory import room_key


class _Server:
    """What a manager needs of its Socket.IO server: it records what reaches its sockets."""

    packet_class = FastPacket
    logger = logging.getLogger("test-room-directory")

    def __init__(self) -> None:
        self.eio = self
        self._issued = 0
        self.received: list[tuple[str, Any]] = []

    def generate_id(self) -> str:
        self._issued += 1
        return f"{id(self)}-{self._issued}"

    async def _send_eio_packet(self, eio_sid: str, pkt: Any) -> None:
        self.received.append((eio_sid, orjson.loads(pkt.data[1:])))

    def start_background_task(self, target: Any, *args: Any) -> asyncio.Task[Any]:
        return asyncio.create_task(target(*args))


class _Node:
    def __init__(self, url: str, channel: str, **options: float) -> None:
        self.name = f"node-{uuid.uuid4().hex[:8]}"
        self.server = _Server()
        self.manager = ResyncingRedisManager(f"{url}?client_name={self.name}", channel, **options)
        self.manager.set_server(self.server)
        self.resyncs = 0

        async def resync() -> None:
            self.resyncs += 1

        self.manager.on_resubscribed(resync)

    async def start(self) -> None:
        self.manager.initialize()
        await asyncio.wait_for(self.manager.listening.wait(), 5)

    async def connect(self, *rooms: str) -> str:
        eio_sid = f"eio-{uuid.uuid4().hex[:8]}"
        sid: str = await self.manager.connect(eio_sid, "/")
        for room in rooms:
            await self.manager.enter_room(sid, "/", room)
        return sid

    def events(self) -> list[str]:
        return [data[0] for _, data in self.server.received]

    @property
    def own_channel(self) -> str:
        return f"{self.manager.channel}:node:{self.manager.host_id}"


async def _until(check: Any, seconds: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


NodeFactory = Callable[..., Awaitable[_Node]]


@pytest.fixture
async def start_node(redis_url: str, redis_prefix: str) -> AsyncIterator[NodeFactory]:
    started: list[_Node] = []

    async def start(**options: float) -> _Node:
        node = _Node(redis_url, f"{redis_prefix}:socketio", **options)
        started.append(node)
        await node.start()
        return node

    yield start
    for node in started:
        await node.manager.close()


@pytest.fixture
async def nodes(start_node: NodeFactory) -> tuple[_Node, _Node]:
    return await start_node(), await start_node()


async def _members(redis: aioredis.Redis, channel: str, room: str) -> set[str]:
    members = await redis.smembers(room_key(channel, "/", room))
    return {m.decode() if isinstance(m, bytes) else m for m in members}


async def test_a_node_is_in_a_room_while_it_has_sockets_there(
    nodes: tuple[_Node, _Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    first = await a.connect("user:x")
    assert await _members(redis, channel, "user:x") == {a.manager.host_id}
    assert not await redis.exists(room_key(channel, "/", first))  # only its node emits there
    second = await a.connect("user:x")
    await b.connect("user:x")
    assert await _members(redis, channel, "user:x") == {a.manager.host_id, b.manager.host_id}

    await a.manager.disconnect(first, "/", ignore_queue=True)  # as the server does
    await a.manager._all_queued_written()
    assert await _members(redis, channel, "user:x") == {a.manager.host_id, b.manager.host_id}
    await a.manager.leave_room(second, "/", "user:x")
    await a.manager._all_queued_written()
    assert await _members(redis, channel, "user:x") == {b.manager.host_id}


async def test_an_emit_reaches_only_the_other_nodes_holding_a_recipient(
    nodes: tuple[_Node, _Node], redis_url: str
) -> None:
    a, b = nodes
    spy = aioredis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    await spy.psubscribe(f"{a.manager.channel}*")
    published: list[bytes] = []

    async def listen() -> None:
        async for message in spy.listen():
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
        await _until(lambda: b.events() == ["remote", "both"])
        assert a.events() == ["local", "both"]

        await a.manager.emit("everyone", {}, namespace="/")  # the whole namespace: every node
        await _until(lambda: b.events()[-1:] == ["everyone"])
        assert a.events() == ["local", "both", "everyone"]
        await asyncio.sleep(0.2)
        node_b = f"{a.manager.channel}:node:{b.manager.host_id}".encode()
        # "local" and "nobody" were never published; "remote" and "both" only to node b
        assert published == [node_b, node_b, a.manager.channel.encode()]
    finally:
        listener.cancel()
        await spy.aclose()  # type: ignore[no-untyped-call]


async def test_an_emit_to_a_room_outside_the_directory_reaches_every_node(
    nodes: tuple[_Node, _Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    sid = await b.connect("user:b", "call:1")
    assert not await redis.exists(room_key(a.manager.channel, "/", "call:1"))
    await a.manager.emit("to-the-socket", {}, namespace="/", room=sid)
    await a.manager.emit("to-the-call", {}, namespace="/", room=["call:1", "user:nobody"])
    await _until(lambda: b.events() == ["to-the-socket", "to-the-call"])


async def test_a_socket_enters_rooms_only_on_its_own_node(nodes: tuple[_Node, _Node]) -> None:
    a, b = nodes
    sid = await b.connect()
    with pytest.raises(ValueError, match="node that holds it"):
        await a.manager.enter_room(sid, "/", "user:b")


async def test_a_node_nobody_hears_is_dropped_from_its_rooms(
    nodes: tuple[_Node, _Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    await b.connect("user:b")
    await redis.sadd(room_key(channel, "/", "user:b"), "gone-node")
    await a.manager.emit("hello", {}, namespace="/", room="user:b")
    await _until(lambda: b.events() == ["hello"])
    assert await _members(redis, channel, "user:b") == {b.manager.host_id}


async def test_rooms_lost_by_redis_are_recorded_again_when_the_subscription_returns(
    nodes: tuple[_Node, _Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    await b.connect("user:b")
    await redis.delete(room_key(channel, "/", "user:b"))  # as after a restart of Redis
    for client in await redis.client_list(_type="pubsub"):
        if client["name"] == b.name:
            await redis.client_kill_filter(_id=client["id"])

    await _until(lambda: b.resyncs == 1)  # its sockets are told to sync, after the rooms
    assert await _members(redis, channel, "user:b") == {b.manager.host_id}
    await a.manager.emit("after", {}, namespace="/", room="user:b")
    await _until(lambda: b.events() == ["after"])


async def test_after_a_failed_write_the_rooms_are_recorded_again_and_every_node_syncs(
    nodes: tuple[_Node, _Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    await a.connect("user:a")
    await b.connect("user:b")
    url = a.manager.redis_url
    await redis.delete(room_key(channel, "/", "user:a"))
    a.manager.redis_url, a.manager.connected = "redis://127.0.0.1:1/0", False  # Redis refuses
    await a.manager.emit("lost", {}, namespace="/", room="user:b")
    assert a.manager._publish_failed

    a.manager.redis_url, a.manager.connected = url, False  # and is back
    await a.manager.emit("next", {}, namespace="/", room="user:b")
    assert await _members(redis, channel, "user:a") == {a.manager.host_id}
    await _until(lambda: "sync.required" in b.events())  # b may have missed "lost"
    assert not a.manager._publish_failed


async def test_a_redis_that_does_not_answer_holds_no_connect_for_long(redis_prefix: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the commands, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    manager = ResyncingRedisManager(
        f"redis://127.0.0.1:{port}/0", f"{redis_prefix}:socketio", timeout=0.3
    )
    manager.set_server(_Server())
    try:
        started = asyncio.get_running_loop().time()
        sid = await manager.connect("eio-1", "/")
        await asyncio.wait_for(manager.enter_room(sid, "/", "user:a"), 5)
        assert asyncio.get_running_loop().time() - started < 1.0  # two attempts of 0.3 s
        assert set(manager.get_rooms(sid, "/")) == {sid, "user:a"}  # it works on this node
        result = await manager._publish({"method": "emit", "room": "user:a"})
        assert result is None  # both attempts timed out
        assert manager._publish_failed
    finally:
        server.close()
        await manager.close()


async def test_a_failed_write_is_retried_until_redis_takes_the_rooms_again(
    nodes: tuple[_Node, _Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    await a.connect("user:a")
    await b.connect("user:b")
    url = a.manager.redis_url
    await redis.delete(room_key(channel, "/", "user:a"))
    a.manager.redis_url, a.manager.connected = "redis://127.0.0.1:1/0", False  # Redis refuses
    await a.manager.emit("lost", {}, namespace="/", room="user:b")
    await asyncio.sleep(0.5)  # a retry or two fail too
    assert a.manager._publish_failed

    a.manager.redis_url = url  # Redis is back, and node a has nothing more to write
    await _until(lambda: "sync.required" in b.events())
    assert await _members(redis, channel, "user:a") == {a.manager.host_id}
    assert not a.manager._publish_failed


async def _drop_subscription(node: _Node) -> None:
    """Redis forgets the node's own channel; the node's connection stays up and says nothing."""
    pubsub = node.manager._listener_pubsub
    await pubsub.unsubscribe(node.own_channel)
    await _until(lambda: node.own_channel.encode() not in pubsub.channels)


async def test_the_probe_finds_a_subscription_redis_no_longer_has(
    start_node: NodeFactory, redis: aioredis.Redis
) -> None:
    a = await start_node()
    b = await start_node(probe_seconds=0.3, timeout=0.5)
    await b.connect("user:b")
    await _drop_subscription(b)
    await a.manager.emit("unheard", {}, namespace="/", room="user:b")
    assert await _members(redis, a.manager.channel, "user:b") == set()  # nobody received it

    await _until(lambda: b.resyncs == 1)  # subscribed again, rooms recorded, sockets sync
    assert await _members(redis, a.manager.channel, "user:b") == {b.manager.host_id}
    await a.manager.emit("heard", {}, namespace="/", room="user:b")
    await _until(lambda: b.events() == ["heard"])


async def test_the_probe_finds_a_subscription_that_delivers_nothing(
    start_node: NodeFactory, redis_url: str
) -> None:
    b = await start_node(probe_seconds=0.3, timeout=0.5)
    await b.connect("user:b")
    # Redis still counts a receiver on b's channel (as with a half-open connection), but
    # nothing published there reaches b.
    stranger = aioredis.Redis.from_url(redis_url).pubsub()
    await stranger.subscribe(b.own_channel)
    try:
        await _drop_subscription(b)
        await _until(lambda: b.resyncs == 1)
        assert b.own_channel.encode() in b.manager._listener_pubsub.channels
    finally:
        await stranger.aclose()  # type: ignore[no-untyped-call]


async def test_the_probe_finds_room_records_redis_lost(
    start_node: NodeFactory, redis: aioredis.Redis
) -> None:
    a = await start_node()
    b = await start_node(probe_seconds=0.3)
    await b.connect("user:b")
    channel = a.manager.channel
    # as FLUSHALL would (other tests share this Redis)
    await redis.delete(room_key(channel, "/", "user:b"), f"{channel}:recorded:{b.manager.host_id}")

    await _until(lambda: b.resyncs == 1)
    assert await _members(redis, channel, "user:b") == {b.manager.host_id}
    await a.manager.emit("after", {}, namespace="/", room="user:b")
    await _until(lambda: b.events() == ["after"])


async def test_a_healthy_subscription_passes_the_probe_quietly(start_node: NodeFactory) -> None:
    b = await start_node(probe_seconds=0.1)
    await b.connect("user:b")
    await asyncio.sleep(1.0)  # about ten probes
    assert b.resyncs == 0
    assert not b.manager._publish_failed
