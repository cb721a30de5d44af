"""The fan-out's subscription to Redis: this node's own channel and the shared one, confirmed,
probed, and subscribed again when it fails, loudly or silently.

python-socketio's AsyncRedisManager drops what is published while its subscription is down and
reconnects on its own schedule, silently. Here the subscription is made again at once (then at
most every 2 s), and once Redis has confirmed it the manager records its rooms again and its
sockets sync (`_after_subscribed`, signaling.fanout).

A subscription can also fail without an error: a connection half-open behind a NAT, Redis
dropping a client it thinks is gone. Every `probe_seconds` the node publishes a probe to its own
channel and refreshes a marker key that it wrote with its room records: no receiver, or no probe
back within the timeout, and it subscribes again; the marker gone (FLUSHALL, Redis restarted
empty without dropping the connection) and it records its rooms again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

PROBE_SECONDS = 10.0
PROBE = b"fanout-probe"


class WatchedSubscription:
    """Mixin for signaling.fanout.ResyncingRedisManager, before python-socketio's manager."""

    channel: str
    thread: asyncio.Task[None]
    server: Any
    pubsub: Any
    _node_channel: str
    _timeout: float
    # provided by the manager (annotations only: a method here would hide python-socketio's)
    _redis_connect: Callable[[], None]
    _thread: Callable[[], Coroutine[Any, Any, None]]
    _queue: Callable[[tuple[Any, ...]], asyncio.Future[Any]]
    _after_subscribed: Callable[[bool], Awaitable[None]]

    def __init__(self, *args: Any, probe_seconds: float = PROBE_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._probe_seconds = probe_seconds
        self._probe_heard = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None
        self._listener_pubsub: Any = None
        self._interrupted = False
        self.listening = asyncio.Event()  # subscribed, and this node's rooms recorded

    def _start_watching(self) -> None:
        self._watch = asyncio.create_task(self._watch_subscription(), name="fanout-watch")

    async def _stop_listening(self) -> None:
        self.listening.clear()
        tasks = [t for t in (self._watch, getattr(self, "thread", None)) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_listener_pubsub()

    async def _listen(self) -> AsyncIterator[Any]:
        shared, own = self.channel.encode(), self._node_channel.encode()
        async for message in self._redis_listen_with_retries():
            if message.get("type") != "message":
                continue
            channel = message.get("channel")
            if channel == own and message["data"] == PROBE:
                self._probe_heard.set()
            elif channel in (own, shared):
                yield message["data"]

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        delay = 0.1
        subscribed = False
        node_channel = self._node_channel.encode()
        while True:
            try:
                if not subscribed:
                    await self._close_listener_pubsub()
                    self._redis_connect()
                    # its own reference: a failed write reconnects and replaces self.pubsub
                    self._listener_pubsub = pubsub = self.pubsub
                    await pubsub.subscribe(self.channel, self._node_channel)
                    subscribed = True
                async for message in pubsub.listen():
                    if message.get("type") == "subscribe":
                        if message.get("channel") == node_channel:  # confirmed last
                            delay = 0.1
                            interrupted, self._interrupted = self._interrupted, False
                            await self._after_subscribed(interrupted)
                            self.listening.set()
                        continue
                    yield message
                raise ConnectionError("the subscription ended")  # never spin on listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("fan-out lost Redis (%s); retrying in %.1fs", type(exc).__name__, delay)
                subscribed, self._interrupted = False, True
                self.listening.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _close_listener_pubsub(self) -> None:
        pubsub, self._listener_pubsub = self._listener_pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), self._timeout)

    async def _watch_subscription(self) -> None:
        deaf_before = False
        while True:
            await asyncio.sleep(self._probe_seconds)
            try:
                if self.listening.is_set():
                    deaf_before = False
                    await self._probe()
                elif deaf_before:  # a whole interval without a confirmed subscription
                    await self._subscribe_again("was not confirmed for a whole probe interval")
                else:
                    deaf_before = True
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("probing the fan-out subscription failed")

    async def _probe(self) -> None:
        self._probe_heard.clear()
        probe, marked = self._queue(("probe",)), self._queue(("marked",))
        receivers = await asyncio.shield(probe)
        still_marked = await asyncio.shield(marked)
        if receivers is None:
            return  # the write failed: _retry_recording records the rooms again
        if receivers == 0:
            await self._subscribe_again("is not known to Redis")  # records the rooms again too
            return
        if not still_marked:
            log.warning("Redis lost this node's room records (flushed or restarted)")
            await self._after_subscribed(True)  # interrupted
        try:
            await asyncio.wait_for(self._probe_heard.wait(), self._timeout)
        except TimeoutError:
            await self._subscribe_again("did not deliver a probe")

    async def _subscribe_again(self, why: str) -> None:
        log.warning("fan-out subscription %s; subscribing again", why)
        self.listening.clear()
        self._interrupted = True
        self.thread.cancel()
        await asyncio.gather(self.thread, return_exceptions=True)
        await self._close_listener_pubsub()
        self.thread = self.server.start_background_task(self._thread)
