"""The bus: small JSON messages between nodes. In-process for one node, Redis pub/sub for many.

The bus is a hint, not the truth: a message published while Redis is away is lost, so anything
that matters is also in the store and recoverable from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Bus(Protocol):
    def subscribe(self, topic: str, handler: Handler) -> None: ...

    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        for handler in self._handlers.get(topic, []):
            await handler(message)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class RedisBus:
    """One pub/sub connection per node, re-established with backoff after a Redis outage."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:bus:"
        self._handlers: dict[str, list[Handler]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def subscribe(self, topic: str, handler: Handler) -> None:
        if self._task is not None:
            raise RuntimeError("subscribe before the bus starts")
        self._handlers.setdefault(topic, []).append(handler)

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, json.dumps(message))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="redis-bus")
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout=2)
        except TimeoutError:
            # Start anyway: /readyz reports Redis down, and the listener keeps retrying.
            log.warning("bus: Redis not reachable at start; retrying in the background")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        delay = 0.1
        first = True
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(*(self._prefix + t for t in self._handlers))
                    self._subscribed.set()
                    if not first:
                        log.warning("bus reconnected to Redis")
                    first, delay = False, 0.1
                    async for raw in pubsub.listen():
                        await self._dispatch(raw)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("bus lost Redis (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _dispatch(self, raw: dict[str, Any]) -> None:
        topic = raw["channel"].decode()[len(self._prefix) :]
        try:
            message = json.loads(raw["data"])
        except ValueError:
            log.error("bus: undecodable message on %s", topic)
            return
        for handler in self._handlers.get(topic, []):
            try:
                await handler(message)
            except Exception:
                log.exception("bus handler for %s failed", topic)
