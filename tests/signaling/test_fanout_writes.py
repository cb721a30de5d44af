"""The fan-out's writes against a real Redis (signaling.fanout_writes): pipelined in order, each
answered once Redis took it; after a failure the node records its rooms again, retrying until
Redis takes them, and then the right sockets sync; nothing is sent twice and nothing waits on a
Redis that is away."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson
import redis.asyncio as aioredis

from signaling.fanout import ResyncingRedisManager
from signaling.room_directory import room_key
from tests.signaling.fanout_nodes import (
    REFUSING_REDIS,
    Node,
    RecordingServer,
    members,
    until,
    wrong_type_room,
)


async def _subscriber(url: str, channel: str) -> aioredis.client.PubSub:
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    return pubsub


async def _received(pubsub: aioredis.client.PubSub, count: int) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    deadline = asyncio.get_running_loop().time() + 5
    while len(found) < count and asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(timeout=1)  # None also for a subscribe confirmation
        if message is not None:
            found.append(orjson.loads(message["data"]))
    return found


async def test_concurrent_emits_go_out_in_order_and_each_is_answered(
    redis_url: str, redis_prefix: str
) -> None:
    channel = f"{redis_prefix}:socketio"
    pubsub = await _subscriber(redis_url, channel)
    manager = ResyncingRedisManager(redis_url, channel)
    try:
        results = await asyncio.gather(
            *(manager._publish({"method": "emit", "n": n}) for n in range(300))
        )
        assert results == [1] * 300  # one subscriber took each message
        assert [m["n"] for m in await _received(pubsub, 300)] == list(range(300))
        assert manager._publish_failed is False
        assert await manager._publish({"method": "emit", "n": "after"}) == 1
        assert [m["n"] for m in await _received(pubsub, 1)] == ["after"]
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await manager.close()


async def test_a_publish_redis_refuses_is_reported_and_remembered(redis_prefix: str) -> None:
    manager = ResyncingRedisManager(REFUSING_REDIS, f"{redis_prefix}:socketio")
    try:
        results = await asyncio.gather(*(manager._publish({"n": n}) for n in range(3)))
        assert results == [None, None, None]
        assert manager._publish_failed is True  # the next re-subscription asks everyone to sync
    finally:
        await manager.close()


async def test_after_a_lost_message_every_node_syncs_once_the_rooms_are_recorded_again(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    channel = a.manager.channel
    await a.connect("user:a")
    await b.connect("user:b")
    await redis.delete(room_key(channel, "/", "user:a"))  # as if Redis restarted empty
    working = a.refuse_writes()
    await a.manager.emit("lost", {}, namespace="/", room="user:b")
    await asyncio.sleep(0.5)  # a retry or two fail too
    assert a.manager._publish_failed
    assert not a.manager.listening.is_set()  # /readyz: the rooms are not recorded

    await a.accept_writes(working)  # Redis is back, and node a has nothing more to write
    await until(lambda: "sync.required" in b.events())  # b may have missed "lost"
    assert await members(redis, channel, "user:a") == {a.manager.host_id}
    assert a.manager.listening.is_set()
    assert not a.manager._publish_failed


async def test_after_a_lost_room_record_only_this_node_syncs(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    await b.connect("user:b")
    working = a.refuse_writes()
    await a.connect("user:a")  # its record is lost: b's emits to user:a would skip node a
    await a.accept_writes(working)
    await until(lambda: a.resyncs == 1)
    await asyncio.sleep(0.2)
    assert "sync.required" not in a.events() + b.events()  # nothing was published and lost
    await b.manager.emit("reaches", {}, namespace="/", room="user:a")
    await until(lambda: a.events() == ["reaches"])


async def test_a_room_left_while_redis_refused_is_removed_once_it_is_back(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, _ = nodes
    channel = a.manager.channel
    sid = await a.connect("user:a", "user:left")
    working = a.refuse_writes()
    await a.manager.leave_room(sid, "/", "user:left")
    await a.manager._all_queued_written()
    assert await members(redis, channel, "user:left") == {a.manager.host_id}
    await a.accept_writes(working)
    await until(lambda: a.resyncs == 1)
    assert await members(redis, channel, "user:left") == set()
    assert await members(redis, channel, "user:a") == {a.manager.host_id}


@contextlib.asynccontextmanager
async def _silent_redis(prefix: str, timeout: float) -> AsyncIterator[ResyncingRedisManager]:
    """A manager whose Redis takes commands and never answers."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    manager = ResyncingRedisManager(
        f"redis://127.0.0.1:{port}/0", f"{prefix}:socketio", timeout=timeout
    )
    manager.set_server(RecordingServer())
    try:
        yield manager
    finally:
        server.close()
        await manager.close()


async def test_a_redis_that_does_not_answer_holds_connects_once_and_not_again(
    redis_prefix: str,
) -> None:
    loop = asyncio.get_running_loop()
    async with _silent_redis(redis_prefix, timeout=1.0) as manager:
        started = loop.time()
        sid = await manager.connect("eio-1", "/")
        await asyncio.wait_for(manager.enter_room(sid, "/", "user:a"), 5)
        assert loop.time() - started < 1.8  # one attempt of 1 s, not two
        assert set(manager.get_rooms(sid, "/")) == {sid, "user:a"}  # it works on this node
        # The records are retried (each retry waits its 1 s): meanwhile nothing waits for Redis.
        slowest = 0.0
        for n in range(30):
            started = loop.time()
            sid = await manager.connect(f"eio-{n + 2}", "/")
            await manager.enter_room(sid, "/", f"user:{n}")
            assert await manager._publish({"method": "emit", "room": "user:a"}) is None
            await manager.enter_room(sid, "/", "user:a")  # held already: nothing to write
            slowest = max(slowest, loop.time() - started)
            await asyncio.sleep(0.1)
        assert slowest < 0.5
        assert manager._publish_failed and manager._rooms_unrecorded


async def test_a_command_redis_keeps_refusing_does_not_stop_the_others(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    await b.connect("user:b")
    odd = await wrong_type_room(redis, a, "user:odd")
    await a.connect("user:a", "user:odd")
    assert a.manager._rooms_unrecorded
    published = await a.manager._publish(
        {"method": "emit", "event": "once", "data": [{}], "namespace": "/", "room": "user:b"}
    )
    assert published == 1  # Redis answers: messages still go, once each
    await asyncio.sleep(0.6)  # the records' retries are refused too
    assert a.manager._rooms_unrecorded and a.resyncs == 0

    await redis.delete(odd)
    await until(lambda: a.resyncs == 1)  # recorded at last, and only node a syncs
    assert await members(redis, a.manager.channel, "user:odd") == {a.manager.host_id}
    await asyncio.sleep(0.2)
    assert b.events() == ["once"]


async def test_close_answers_a_write_redis_never_answered(redis_prefix: str) -> None:
    async with _silent_redis(redis_prefix, timeout=0.5) as manager:
        pending = asyncio.ensure_future(manager._publish({"method": "emit", "room": "user:a"}))
        await asyncio.sleep(0.05)
        await manager.close()
        assert await asyncio.wait_for(pending, 1) is None


async def test_close_sends_what_is_queued_and_leaves_nothing_running(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    await b.connect("user:b")
    a.manager._queue(("ping",))
    sent = a.manager._publish(
        {"method": "emit", "event": "last", "data": [{}], "namespace": "/", "room": "user:b"}
    )
    closing = asyncio.ensure_future(a.manager.close())
    assert await sent == 1
    await closing
    await until(lambda: b.events() == ["last"])
    manager = a.manager
    tasks = [manager._publisher, manager._repair, *manager._aftermath, manager._watch]
    tasks.append(manager.thread)
    assert all(task is None or task.done() for task in tasks)
    assert await manager._publish({"method": "emit", "room": "user:b"}) is None  # not sent
    assert manager._repair is None and manager._publisher is tasks[0]  # nothing started


async def test_after_an_outage_that_also_cut_the_subscription_both_sides_sync(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    await a.connect("user:a")
    await b.connect("user:b")
    working = a.refuse_writes()
    await a.manager.emit("lost", {}, namespace="/", room="user:b")
    for client in await redis.client_list(_type="pubsub"):
        if client["name"] == a.name:
            await redis.client_kill_filter(_id=client["id"])
    await asyncio.sleep(0.3)
    await a.accept_writes(working)
    await until(lambda: "sync.required" in b.events())  # b may have missed "lost"
    await until(lambda: a.resyncs >= 1)  # a's own hook: its sockets sync, its views drop
    await until(lambda: a.manager.listening.is_set())
    assert "sync.required" not in a.events()  # a's sockets are told once, by the hook


async def test_a_refused_message_makes_every_node_sync_and_leaves_the_records_alone(
    nodes: tuple[Node, Node], redis: aioredis.Redis
) -> None:
    a, b = nodes
    await b.connect("user:b")
    await wrong_type_room(redis, a, "user:odd")
    await a.manager.emit("refused", {}, namespace="/", room=["user:odd", "user:b"])
    await until(lambda: "sync.required" in b.events())  # b may have missed "refused"
    assert "refused" not in b.events()
    assert a.manager.listening.is_set() and not a.manager._rooms_unrecorded
    assert a.resyncs == 0
