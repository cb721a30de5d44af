"""The Redis fan-out's pipelined publishing against a real Redis: order kept, every emit
answered once Redis took it, failures reported (and remembered for the resync)."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio as aioredis

from signaling.fanout import ResyncingRedisManager


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
    manager = ResyncingRedisManager("redis://127.0.0.1:1/0", f"{redis_prefix}:socketio")
    try:
        results = await asyncio.gather(*(manager._publish({"n": n}) for n in range(3)))
        assert results == [None, None, None]
        assert manager._publish_failed is True  # the next re-subscription asks everyone to sync
    finally:
        await manager.close()
