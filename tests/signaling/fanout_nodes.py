"""Fan-out managers against a real Redis without a Socket.IO server around them: each `Node`
is a ResyncingRedisManager whose server only records what reaches its sockets."""

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

REFUSING_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


class RecordingServer:
    """What a manager needs of its Socket.IO server: it records what reaches its sockets."""

    packet_class = FastPacket
    logger = logging.getLogger("test-fanout")

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


class Node:
    def __init__(self, url: str, channel: str, **options: float) -> None:
        self.name = f"node-{uuid.uuid4().hex[:8]}"
        self.server = RecordingServer()
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

    def refuse_writes(self) -> aioredis.Redis:
        """Points the node's writes at a Redis that refuses connections; returns its client."""
        working: aioredis.Redis = self.manager.redis
        self.manager.redis = aioredis.Redis.from_url(REFUSING_REDIS)
        return working

    async def accept_writes(self, working: aioredis.Redis) -> None:
        refusing, self.manager.redis = self.manager.redis, working
        await refusing.aclose()


async def until(check: Callable[[], bool], seconds: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def wrong_type_room(redis: aioredis.Redis, node: Node, room: str) -> str:
    """Makes the room's key a string: Redis refuses SADD to it and the fan-out script's
    SMEMBERS on it (WRONGTYPE) until the key is deleted. Returns the key."""
    key = room_key(node.manager.channel, "/", room)
    await redis.set(key, "x")
    return key


async def members(redis: aioredis.Redis, channel: str, room: str) -> set[str]:
    found = await redis.smembers(room_key(channel, "/", room))
    return {m.decode() if isinstance(m, bytes) else m for m in found}


NodeFactory = Callable[..., Awaitable[Node]]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def start_node(redis_url: str, redis_prefix: str) -> AsyncIterator[NodeFactory]:
    started: list[Node] = []

    async def start(**options: float) -> Node:
        node = Node(redis_url, f"{redis_prefix}:socketio", **options)
        started.append(node)
        await node.start()
        return node

    yield start
    for node in started:
        await node.manager.close()


@pytest.fixture
async def nodes(start_node: NodeFactory) -> tuple[Node, Node]:
    return await start_node(), await start_node()
