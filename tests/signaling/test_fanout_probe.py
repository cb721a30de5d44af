"""The fan-out's probe against a real Redis (signaling.fanout_subscription): a subscription that
failed without an error, or room records Redis lost, are found and made good, and a healthy or
merely busy subscription is left alone."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis

from signaling.room_directory import room_key
from tests.signaling.fanout_nodes import Node, NodeFactory, members, until


async def _drop_subscription(node: Node) -> None:
    """Redis forgets the node's own channel; the node's connection stays up and says nothing."""
    assert node.manager._listener is not None
    _, pubsub = node.manager._listener
    await pubsub.unsubscribe(node.own_channel)
    await until(lambda: node.own_channel.encode() not in pubsub.channels)


async def _sender_and_probed(start_node: NodeFactory) -> tuple[Node, Node]:
    """Node a sends; node b, in room user:b, has its probe run by hand (its interval is long)."""
    a = await start_node()
    b = await start_node(probe_seconds=60)
    await b.connect("user:b")
    return a, b


async def test_the_probe_finds_a_subscription_redis_no_longer_has(
    start_node: NodeFactory, redis: aioredis.Redis
) -> None:
    a, b = await _sender_and_probed(start_node)
    await _drop_subscription(b)
    await a.manager.emit("unheard", {}, namespace="/", room="user:b")
    assert await members(redis, a.manager.channel, "user:b") == set()  # nobody received it

    await b.manager._probe()
    await until(lambda: b.resyncs == 1)  # subscribed again, rooms recorded, sockets sync
    assert await members(redis, a.manager.channel, "user:b") == {b.manager.host_id}
    await a.manager.emit("heard", {}, namespace="/", room="user:b")
    await until(lambda: b.events() == ["heard"])


async def test_the_probe_finds_a_subscription_that_delivers_nothing(
    start_node: NodeFactory, redis_url: str
) -> None:
    b = await start_node(probe_seconds=60, timeout=0.5)  # the probe is run by hand here
    await b.connect("user:b")
    # Redis still counts a receiver on b's channel (as with a half-open connection), but
    # nothing published there reaches b.
    stranger = aioredis.Redis.from_url(redis_url).pubsub()
    await stranger.subscribe(b.own_channel)
    try:
        await _drop_subscription(b)
        await b.manager._probe()
        await until(lambda: b.resyncs == 1)
        assert b.manager._listener is not None
        assert b.own_channel.encode() in b.manager._listener[1].channels
    finally:
        await stranger.aclose()  # type: ignore[no-untyped-call]


async def test_the_probe_finds_room_records_redis_lost(
    start_node: NodeFactory, redis: aioredis.Redis
) -> None:
    a, b = await _sender_and_probed(start_node)
    channel = a.manager.channel
    # as FLUSHALL would (other tests share this Redis)
    await redis.delete(room_key(channel, "/", "user:b"), f"{channel}:recorded:{b.manager.host_id}")

    await b.manager._probe()
    await until(lambda: b.resyncs == 1)
    assert await members(redis, channel, "user:b") == {b.manager.host_id}
    await a.manager.emit("after", {}, namespace="/", room="user:b")
    await until(lambda: b.events() == ["after"])


async def test_a_healthy_subscription_passes_the_probe_quietly(start_node: NodeFactory) -> None:
    b = await start_node(probe_seconds=0.1)
    await b.connect("user:b")
    await asyncio.sleep(1.0)  # about ten probes
    assert b.resyncs == 0
    assert not b.manager._publish_failed


async def test_a_listener_behind_its_backlog_is_not_taken_for_a_deaf_one(
    start_node: NodeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    a = await start_node()
    b = await start_node(probe_seconds=60, timeout=1.0)  # the probe is run by hand here
    await b.connect("user:b")
    deliver = b.server._send_eio_packet

    async def slowly(eio_sid: str, pkt: Any) -> None:
        await asyncio.sleep(0.25)  # a node busy elsewhere: its listener reads 4 messages/s
        await deliver(eio_sid, pkt)

    b.server._send_eio_packet = slowly  # type: ignore[method-assign]
    for n in range(10):
        await a.manager.emit("backlog", {"n": n}, namespace="/", room="user:b")
    with caplog.at_level(logging.WARNING, logger="signaling"):
        await b.manager._probe()  # its reply waits behind 2.5 s of backlog: 2.5 timeouts
    assert "subscribing again" not in caplog.text
    assert b.events() == ["backlog"] * 10
    assert b.resyncs == 0


async def test_subscribing_again_leaves_no_connection_behind(
    start_node: NodeFactory, redis: aioredis.Redis
) -> None:
    b = await start_node(probe_seconds=60)
    await b.connect("user:b")

    async def connections() -> int:
        return sum(1 for c in await redis.client_list() if c["name"] == b.name)

    before = await connections()
    for _ in range(3):
        await b.manager._subscribe_again("is tested")
        await until(lambda: b.manager.listening.is_set())
    assert await connections() == before
