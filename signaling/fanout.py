"""Fan-out between nodes over Redis that knows when it may have missed something.

python-socketio's AsyncRedisManager drops what is published while its subscription is down and
reconnects on its own schedule, silently. This manager re-subscribes quickly and, once Redis has
confirmed the new subscription, tells this node's sockets to `sync`: anything committed while
the node was deaf is then read from the store. If this node failed to publish, it also asks
every node's sockets to sync once Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio

from rtserver.protocol import SYNC_REQUIRED

log = logging.getLogger(__name__)

Resync = Callable[[], Awaitable[None]]


class ResyncingRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel)
        self._resync_local: Resync | None = None
        self._publish_failed = False

    def on_resubscribed(self, resync_local: Resync) -> None:
        self._resync_local = resync_local

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # We need Redis's subscribe confirmation: only after it is the new subscription live.
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=False)

    async def _publish(self, data: Any) -> Any:
        result = await super()._publish(data)
        if result is None:  # the parent gives up after two attempts and returns nothing
            self._publish_failed = True
        return result

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        delay = 0.1
        subscribed = False
        interrupted = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed = True
                async for message in self.pubsub.listen():
                    if message.get("type") == "subscribe":
                        delay = 0.1
                        if interrupted:
                            interrupted = False
                            await self._after_outage()
                        continue
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("fan-out lost Redis (%s); retrying in %.1fs", type(exc).__name__, delay)
                subscribed, interrupted = False, True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _after_outage(self) -> None:
        log.warning("fan-out re-subscribed to Redis; asking sockets to sync")
        if self._resync_local is not None:
            await self._resync_local()
        if self._publish_failed:
            self._publish_failed = False
            await self.emit(SYNC_REQUIRED, {"reason": "bus_reconnected"}, namespace="/")
