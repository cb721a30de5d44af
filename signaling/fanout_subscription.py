"""The fan-out's subscription to Redis: this node's own channel and the shared one, confirmed,
probed, and subscribed again when it fails, loudly or silently.

python-socketio's AsyncRedisManager drops what is published while its subscription is down and
reconnects on its own schedule, silently. Here the subscription is made again at once (then at
most every 2 s), on a Redis client of its own, and once Redis has confirmed it the manager
records its rooms again and its sockets sync (`_after_subscribed`, signaling.fanout).

A subscription can also fail without an error: a connection half-open behind a NAT, Redis
dropping a client it thinks is gone. Every `probe_seconds` the node publishes a probe to its own
channel and refreshes a marker key that it wrote with its room records: no receiver, or no probe
back within the timeout (and nothing else read meanwhile), and it subscribes again; the marker
gone (FLUSHALL, Redis restarted empty without dropping the connection) and it records its rooms
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

PROBE_SECONDS = 10.0
PROBE = b"fanout-probe"
# The listener hands the event loop back after this many messages read in a row: Redis's
# replies arrive in large reads, and a backlog must not hold every socket's traffic.
LISTENER_TURN = 64


class WatchedSubscription:
    """Mixin for signaling.fanout.ResyncingRedisManager, before python-socketio's manager."""

    channel: str
    redis_url: str
    redis_options: dict[str, Any]
    thread: asyncio.Task[None]
    server: Any
    _node_channel: str
    _timeout: float
    _closed: bool
    # provided by the manager (annotations only: a method here would hide python-socketio's)
    _thread: Callable[[], Coroutine[Any, Any, None]]
    _queue: Callable[[tuple[Any, ...]], asyncio.Future[Any]]
    _after_subscribed: Callable[[bool], Awaitable[bool]]

    def __init__(self, *args: Any, probe_seconds: float = PROBE_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._probe_seconds = probe_seconds
        self._probe_heard = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None
        self._listener: tuple[Any, Any] | None = None  # (client, pubsub)
        self._interrupted = False
        self._confirmed = False  # Redis confirmed the subscription
        self._read = 0  # messages read, a sign of life while a probe is awaited
        self.listening = asyncio.Event()  # subscribed, and this node's rooms recorded

    def _start_watching(self) -> None:
        self._watch = asyncio.create_task(self._watch_subscription(), name="fanout-watch")

    async def _stop_listening(self) -> None:
        self.listening.clear()
        self._confirmed = False
        tasks = [t for t in (self._watch, getattr(self, "thread", None)) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_listener()

    async def _listen(self) -> AsyncIterator[Any]:
        shared, own = self.channel.encode(), self._node_channel.encode()
        async for message in self._redis_listen_with_retries():
            if message.get("type") != "message":
                continue
            self._read += 1
            if self._read % LISTENER_TURN == 0:
                await asyncio.sleep(0)
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
                    await self._close_listener()
                    client = aioredis.Redis.from_url(self.redis_url, **self.redis_options)
                    # We need Redis's subscribe confirmation: only after it is the new
                    # subscription live.
                    pubsub = client.pubsub(ignore_subscribe_messages=False)
                    self._listener = (client, pubsub)
                    await pubsub.subscribe(self.channel, self._node_channel)
                    subscribed = True
                async for message in pubsub.listen():
                    if message.get("type") == "subscribe":
                        if message.get("channel") == node_channel:  # confirmed last
                            delay = 0.1
                            self._confirmed = True
                            interrupted, self._interrupted = self._interrupted, False
                            recorded = await self._after_subscribed(interrupted)
                            if recorded and self._confirmed and not self._closed:
                                self.listening.set()
                        continue
                    yield message
                raise ConnectionError("the subscription ended")  # never spin on listen()
            except asyncio.CancelledError:
                self._confirmed = False
                raise
            except Exception as exc:
                log.warning("fan-out lost Redis (%s); retrying in %.1fs", type(exc).__name__, delay)
                subscribed, self._interrupted, self._confirmed = False, True, False
                self.listening.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        client, pubsub = listener
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), self._timeout)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), self._timeout)

    async def _watch_subscription(self) -> None:
        unconfirmed_before = False
        while True:
            await asyncio.sleep(self._probe_seconds)
            try:
                if self._confirmed:  # also while the records fail: deafness must still show
                    await self._probe()
                if self._confirmed:
                    unconfirmed_before = False  # (rooms unrecorded: the writes' retries run)
                elif unconfirmed_before:  # a whole interval without a confirmed subscription
                    await self._subscribe_again("was not confirmed for a whole probe interval")
                else:
                    unconfirmed_before = True
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("probing the fan-out subscription failed")

    async def _probe(self) -> None:
        self._probe_heard.clear()
        probe, marked = self._queue(("probe",)), self._queue(("marked",))
        receivers = await asyncio.shield(probe)
        still_marked = await asyncio.shield(marked)
        read_before = self._read
        if receivers is None:
            return  # the write failed: the records are retried, then sockets sync
        if receivers == 0:
            await self._subscribe_again("is not known to Redis")  # records the rooms again too
            return
        if not still_marked:
            log.warning("Redis lost this node's room records (flushed or restarted)")
            await self._after_subscribed(True)  # interrupted
        if await self._heard_within(self._timeout):
            return
        # a listener that read other messages meanwhile is alive, only behind
        if self._read == read_before or not await self._heard_within(self._probe_seconds):
            await self._subscribe_again("did not deliver a probe")

    async def _heard_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._probe_heard.wait(), seconds)
        await asyncio.sleep(0)  # the listener may have run in the timer's own iteration
        return self._probe_heard.is_set()

    async def _subscribe_again(self, why: str) -> None:
        if self._closed:
            return
        log.warning("fan-out subscription %s; subscribing again", why)
        self.listening.clear()
        self._interrupted = True
        self._confirmed = False
        self.thread.cancel()
        await asyncio.gather(self.thread, return_exceptions=True)
        await self._close_listener()
        self.thread = self.server.start_background_task(self._thread)
