"""Fan-out between nodes over Redis that knows when it may have missed something.

python-socketio's AsyncRedisManager drops what is published while its subscription is down and
reconnects on its own schedule, silently. This manager re-subscribes quickly and, once Redis has
confirmed the new subscription, tells this node's sockets to `sync`: anything committed while
the node was deaf is then read from the store. If this node failed to publish, it also asks
every node's sockets to sync once Redis is back.

Publishing is pipelined: every emit queued while the event loop runs one iteration goes to Redis
in one pipeline (one write, one read of the replies), in the order the emits were made, and each
emit still returns only once Redis has taken its message. Messages are encoded with orjson.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio

from rtserver.protocol import SYNC_REQUIRED
from signaling.direct_emit import DirectEmit
from signaling.packets import OrjsonCodec
from signaling.room_index import IndexedRooms

log = logging.getLogger(__name__)

Resync = Callable[[], Awaitable[None]]


class ResyncingRedisManager(IndexedRooms, socketio.AsyncRedisManager, DirectEmit):  # type: ignore[misc]
    connected: bool  # set by the parent's _redis_connect

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel, json=OrjsonCodec)
        self._resync_local: Resync | None = None
        self._publish_failed = False
        self._outbox: list[tuple[str, asyncio.Future[Any]]] = []
        self._publisher: asyncio.Task[None] | None = None

    def on_resubscribed(self, resync_local: Resync) -> None:
        self._resync_local = resync_local

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # We need Redis's subscribe confirmation: only after it is the new subscription live.
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=False)

    async def _publish(self, data: Any) -> Any:
        """Queue the message for the next pipeline; its result once Redis has answered (the
        number of subscribers that got it, None if it could not be published)."""
        sent: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._outbox.append((self.json.dumps(data), sent))
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_queued(), name="fanout-publish")
        return await asyncio.shield(sent)

    async def _publish_queued(self) -> None:
        await asyncio.sleep(0)  # let this loop iteration queue what it will
        while self._outbox:
            batch, self._outbox = self._outbox, []
            results = await self._pipeline([payload for payload, _ in batch])
            for (_, sent), result in zip(batch, results, strict=True):
                if not sent.done():
                    sent.set_result(result)

    async def _pipeline(self, payloads: list[str]) -> list[Any]:
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                async with self.redis.pipeline(transaction=False) as pipe:
                    for payload in payloads:
                        pipe.publish(self.channel, payload)
                    return list(await pipe.execute())
            except Exception as exc:
                log.error("cannot publish to Redis (attempt %d of 2): %s", attempt, exc)
                self.connected = False
        self._publish_failed = True
        return [None] * len(payloads)

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
