"""Fan-out between nodes over Redis: only to the nodes that hold a recipient, and knowing when it
may have missed something.

An emit to rooms is published only to the other nodes that have sockets in those rooms (see
signaling.room_directory): when every recipient is on this node nothing goes to Redis but the
room lookup. Emits to a whole namespace, and python-socketio's other messages (disconnects,
callbacks), still go to every node on the shared channel.

python-socketio's AsyncRedisManager drops what is published while its subscription is down and
reconnects on its own schedule, silently. This manager re-subscribes quickly and, once Redis has
confirmed the new subscription (or a probe found it deaf, see signaling.fanout_subscription),
records this node's rooms again and tells its sockets to `sync`: anything committed while the
node was deaf is then read from the store. If this node failed to write to Redis, it retries
(with backoff, until Redis answers) recording its rooms again and then asks every node's
sockets to sync.

Writes are pipelined: every emit and room change queued while the event loop runs one iteration
goes to Redis in one pipeline (one write, one read of the replies), in the order they were made,
and each emit still returns only once Redis has taken it. Messages are encoded with orjson.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from rtserver.protocol import SYNC_REQUIRED
from signaling.direct_emit import DirectEmit
from signaling.fanout_subscription import PROBE, PROBE_SECONDS, WatchedSubscription
from signaling.packets import OrjsonCodec
from signaling.room_directory import FANOUT_SCRIPT, RoomDirectory, node_channel_prefix, room_key
from signaling.room_index import IndexedRooms
from signaling.rooms import addressed_across_nodes

log = logging.getLogger(__name__)

Resync = Callable[[], Awaitable[None]]
# How long a write to Redis (and a connect waiting for its rooms to be recorded) may take. A
# Redis that does not answer must not hold connects and emits: past it the write has failed,
# it is retried with the next one, and every node's sockets are asked to sync.
REDIS_TIMEOUT_SECONDS = 2.0
REPAIR_BACKOFF_SECONDS = (0.25, 5.0)  # first and longest wait between retries of a failed write
# ("publish", payload) on the shared channel; ("fanout", room keys, payload) to the rooms'
# other nodes; ("sadd" | "srem", room key): this node has sockets in the room, or no longer;
# ("mark",) this node's rooms are recorded; ("marked",) whether they still are (and refresh);
# ("probe",) to this node's own channel; ("ping",) a write that only retries recording rooms.
Write = tuple[Any, ...]


class ResyncingRedisManager(
    WatchedSubscription,
    RoomDirectory,
    IndexedRooms,
    socketio.AsyncRedisManager,  # type: ignore[misc]
    DirectEmit,
):
    connected: bool  # set by the parent's _redis_connect

    def __init__(
        self,
        url: str,
        channel: str,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        options = {"socket_connect_timeout": timeout, "socket_keepalive": True}
        super().__init__(
            url,
            channel=channel,
            json=OrjsonCodec,
            redis_options=options,
            probe_seconds=probe_seconds,
        )
        self._timeout = timeout
        self._repair: asyncio.Task[None] | None = None
        self._resync_local: Resync | None = None
        self._publish_failed = False
        self._rooms_unrecorded = False
        self._outbox: list[tuple[Write, asyncio.Future[Any]]] = []
        self._last_queued: asyncio.Future[Any] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._resync: asyncio.Task[None] | None = None
        self._node_prefix = node_channel_prefix(channel)
        self._node_channel = self._node_prefix + self.host_id
        self._marker = f"{channel}:recorded:{self.host_id}"

    def on_resubscribed(self, resync_local: Resync) -> None:
        self._resync_local = resync_local

    def initialize(self) -> None:
        super().initialize()
        if not self.write_only:
            self._start_watching()

    async def close(self) -> None:
        """Stops listening, watching and retrying; closes the connections to Redis."""
        if self._repair is not None:
            self._repair.cancel()
            await asyncio.gather(self._repair, return_exceptions=True)
        await self._stop_listening()
        if self.redis is not None:
            await self.redis.aclose()

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # We need Redis's subscribe confirmation: only after it is the new subscription live.
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=False)

    async def enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        """Returns once Redis knows this node is in the room (see signaling.room_directory), or
        once the write failed (within two timeouts): then the room is recorded by the retries
        (`_retry_recording`)."""
        if not (self.is_connected(sid, namespace) or self.is_pre_connected(sid, namespace)):
            # python-socketio would ask the socket's node over Redis, and nothing here could
            # wait for that node to record the room before the caller emits to it.
            raise ValueError("a socket enters rooms on the node that holds it")
        await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        await self._all_queued_written()

    def _record_room(self, namespace: str, room: Any, present: bool) -> None:
        self._queue(("sadd" if present else "srem", room_key(self.channel, namespace, room)))

    async def _publish(self, data: Any) -> Any:
        """Queue the message for the next pipeline; its result once Redis has answered (how
        many nodes got it, None if it could not be published)."""
        payload = self.json.dumps(data)
        room = data.get("room") if data.get("method") == "emit" else None
        rooms = room if isinstance(room, list) else [room]
        if room is not None and all(addressed_across_nodes(r) for r in rooms):
            namespace = data.get("namespace") or "/"
            keys = [room_key(self.channel, namespace, r) for r in rooms]
            write: Write = ("fanout", keys, payload)
        else:
            write = ("publish", payload)
        return await asyncio.shield(self._queue(write))

    def _queue(self, write: Write) -> asyncio.Future[Any]:
        written: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._outbox.append((write, written))
        self._last_queued = written
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._write_queued(), name="fanout-publish")
        return written

    async def _all_queued_written(self) -> None:
        if self._last_queued is not None and not self._last_queued.done():
            await asyncio.shield(self._last_queued)

    async def _write_queued(self) -> None:
        await asyncio.sleep(0)  # let this loop iteration queue what it will
        while self._outbox:
            batch, self._outbox = self._outbox, []
            writes = [write for write, _ in batch]
            recovering, self._rooms_unrecorded = self._rooms_unrecorded, False
            if recovering:
                writes = self._room_records() + writes
            results = await self._pipeline(writes)
            for (_, written), result in zip(batch, results[-len(batch) :], strict=True):
                if not written.done():
                    written.set_result(result)
            if recovering and not self._rooms_unrecorded and self._publish_failed:
                self._publish_failed = False
                self._resync = asyncio.create_task(
                    self._ask_every_node_to_sync(), name="fanout-resync"
                )

    def _room_records(self) -> list[Write]:
        rooms = self.local_rooms()
        return [("sadd", room_key(self.channel, ns, room)) for ns, room in rooms] + [("mark",)]

    async def _pipeline(self, writes: list[Write]) -> list[Any]:
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                async with self.redis.pipeline(transaction=False) as pipe:
                    for write in writes:
                        self._add(pipe, write)
                    return list(await asyncio.wait_for(pipe.execute(), self._timeout))
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
                log.error("cannot write to Redis (attempt %d of 2): %s", attempt, reason)
                self.connected = False
        self._publish_failed = self._rooms_unrecorded = True
        if self._repair is None or self._repair.done():
            self._repair = asyncio.create_task(self._retry_recording(), name="fanout-repair")
        return [None] * len(writes)

    def _add(self, pipe: Any, write: Write) -> None:
        kind = write[0]
        if kind == "publish":
            pipe.publish(self.channel, write[1])
        elif kind == "fanout":
            keys, payload = write[1], write[2]
            pipe.eval(FANOUT_SCRIPT, len(keys), *keys, self.host_id, self._node_prefix, payload)
        elif kind == "sadd":
            pipe.sadd(write[1], self.host_id)
        elif kind == "srem":
            pipe.srem(write[1], self.host_id)
        elif kind == "mark":
            pipe.set(self._marker, 1, ex=self._marker_ttl())
        elif kind == "marked":
            pipe.expire(self._marker, self._marker_ttl())
        elif kind == "probe":
            pipe.publish(self._node_channel, PROBE)
        else:
            pipe.ping()

    def _marker_ttl(self) -> int:
        # outlives several probes; gone after a crash, like nothing else this node leaves
        return max(60, int(self._probe_seconds * 6))

    async def _retry_recording(self) -> None:
        """After a failed write, retry until Redis takes this node's rooms again: nothing else
        may write for a while, and until then emits from other nodes do not reach it."""
        delay, longest = REPAIR_BACKOFF_SECONDS
        while self._rooms_unrecorded:
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)
            if self._rooms_unrecorded:
                await asyncio.shield(self._queue(("ping",)))

    async def _after_subscribed(self, interrupted: bool) -> None:
        # While this node was not listening, others' publishes to it removed it from its rooms
        # (and Redis may have restarted empty): record them all again before anything else.
        for write in self._room_records():
            self._queue(write)
        await self._all_queued_written()
        if not (interrupted or self.local_rooms()):
            return  # the first subscription, with no socket yet
        log.warning("fan-out recorded this node's rooms again; asking sockets to sync")
        if self._resync_local is not None:
            await self._resync_local()
        if self._publish_failed:
            self._publish_failed = False
            await self._ask_every_node_to_sync()

    async def _ask_every_node_to_sync(self) -> None:
        await self.emit(SYNC_REQUIRED, {"reason": "bus_reconnected"}, namespace="/")
