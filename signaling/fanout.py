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
node was deaf is then read from the store. Writes are pipelined, and a failed write makes the
node record its rooms again and its sockets (and, if a message was lost, the other nodes')
sync (signaling.fanout_writes).
Messages are encoded with orjson.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
import socketio

from rtserver.protocol import SYNC_REQUIRED
from signaling.direct_emit import DirectEmit
from signaling.fanout_subscription import PROBE_SECONDS, WatchedSubscription
from signaling.fanout_writes import PipelinedWrites, Write
from signaling.packets import OrjsonCodec
from signaling.room_directory import RoomDirectory, node_channel_prefix, room_key
from signaling.room_index import IndexedRooms
from signaling.rooms import addressed_across_nodes

log = logging.getLogger(__name__)

Resync = Callable[[], Awaitable[None]]
# How long a write to Redis (and a connect waiting for its rooms to be recorded) may take. A
# Redis that does not answer must not hold connects and emits.
REDIS_TIMEOUT_SECONDS = 2.0


class ResyncingRedisManager(
    WatchedSubscription,
    PipelinedWrites,
    RoomDirectory,
    IndexedRooms,
    socketio.AsyncRedisManager,  # type: ignore[misc]
    DirectEmit,
):
    def __init__(
        self,
        url: str,
        channel: str,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        # redis-py's TCP keepalive (on by default) drops a dead peer's connection within ~45 s
        options: dict[str, Any] = {"socket_connect_timeout": timeout}
        super().__init__(
            url,
            channel=channel,
            json=OrjsonCodec,
            redis_options=options,
            probe_seconds=probe_seconds,
        )
        self._timeout = timeout
        self._resync_local: Resync | None = None
        self._node_prefix = node_channel_prefix(channel)
        self._node_channel = self._node_prefix + self.host_id
        self._marker = f"{channel}:recorded:{self.host_id}"
        # one client for every write; redis-py reconnects its pool as needed (the subscription
        # has a client of its own)
        self.redis = aioredis.Redis.from_url(url, **options)

    def on_resubscribed(self, resync_local: Resync) -> None:
        self._resync_local = resync_local

    def initialize(self) -> None:
        super().initialize()
        if not self.write_only:
            self._start_watching()

    async def close(self) -> None:
        """Sends what is queued, then stops writing, listening and watching."""
        await self._stop_writing()
        await self._stop_listening()
        await self.redis.aclose()

    async def enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        """Returns once Redis knows this node is in the room (see signaling.room_directory), or
        once the write failed (within two timeouts, or at once while earlier writes' failure is
        being repaired): then the room is recorded by the repair (signaling.fanout_writes)."""
        if not (self.is_connected(sid, namespace) or self.is_pre_connected(sid, namespace)):
            # python-socketio would ask the socket's node over Redis, and nothing here could
            # wait for that node to record the room before the caller emits to it.
            raise ValueError("a socket enters rooms on the node that holds it")
        await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        await self._all_queued_written()

    def _room_key(self, namespace: str, room: Any) -> str:
        return room_key(self.channel, namespace, room)

    def _record_room(self, namespace: str, room: Any, present: bool) -> None:
        key = self._room_key(namespace, room)
        self._queue(("sadd", key) if present else ("srem", key, namespace, room))

    async def _publish(self, data: Any) -> Any:
        """Queue the message for the next pipeline; its result once Redis has answered (how
        many nodes got it, None if it could not be published)."""
        payload = self.json.dumps(data)
        room = data.get("room") if data.get("method") == "emit" else None
        rooms = room if isinstance(room, list) else [room]
        if room is not None and all(addressed_across_nodes(r) for r in rooms):
            namespace = data.get("namespace") or "/"
            keys = [self._room_key(namespace, r) for r in rooms]
            write: Write = ("fanout", keys, payload)
        else:
            write = ("publish", payload)
        return await asyncio.shield(self._queue(write))

    async def _after_subscribed(self, interrupted: bool) -> bool:
        """Records this node's rooms and, unless this is the first subscription with no socket
        yet, tells its sockets to sync. Whether the rooms are recorded."""
        if self._rooms_unrecorded:
            # the repair records them and then syncs the sockets; let it try now
            self._queue(("ping",))
            return False
        # While this node was not listening, others' publishes to it removed it from its rooms
        # (and Redis may have restarted empty): record them all again before anything else.
        for write in self._room_records():
            self._queue(write)
        await self._all_queued_written()
        if self._rooms_unrecorded:
            return False  # lost: as above
        if interrupted or self.local_rooms():
            log.warning("fan-out recorded this node's rooms again; asking sockets to sync")
            await self._resync_local_sockets()
        return not self._rooms_unrecorded

    def _others_sync_message(self) -> bytes:
        """`sync.required` to every socket of the other nodes, as python-socketio publishes an
        emit to the namespace (a node skips what carries its own host id)."""
        message = {
            "method": "emit",
            "event": SYNC_REQUIRED,
            "data": [{"reason": "bus_reconnected"}],
            "binary": False,
            "namespace": "/",
            "room": None,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }
        encoded: bytes = self.json.dumps(message)
        return encoded

    async def _resync_local_sockets(self) -> None:
        if self._resync_local is not None:
            await self._resync_local()
