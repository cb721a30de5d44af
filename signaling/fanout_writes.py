"""The fan-out's writes to Redis: pipelined, in order, each answered, and what a failure costs.

Every emit and room change queued while the event loop runs one iteration goes to Redis in one
pipeline (one write, one read of the replies), in the order they were made; each write's future
gets its reply once Redis has answered, or None if it was not carried out.

A failed write is never sent again: a resent publish could reach clients twice, and one that
timed out or broke its connection mid-way may already have run. Instead this node's room
records are suspect (a SADD may be lost, Redis may have restarted empty), so:
- the node retries recording all its rooms (and any SREM that failed) with backoff, 0.25 s to
  5 s, until Redis takes them;
- while Redis is unreachable (the last pipeline timed out or lost its connection), other writes
  are answered None at once, so that connects and emits do not wait on a Redis that is away;
  after a command Redis refused (OOM, READONLY, WRONGTYPE) they still go, since it answers;
- once the records are back, this node's sockets sync (other nodes' emits may have skipped
  it), and the other nodes' too if a message was among the lost writes. Writes dropped while
  the last retry was in flight make one more round of records first;
- a refused message whose records stand makes the other nodes' sockets sync at once (this
  node's had it: local recipients are served before the publish).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from signaling.fanout_subscription import PROBE
from signaling.room_directory import FANOUT_SCRIPT

log = logging.getLogger(__name__)

REPAIR_BACKOFF_SECONDS = (0.25, 5.0)  # first and longest wait between retries of the records
WRITES_PER_TIMEOUT = 5000  # a pipeline longer than this (all the records) gets more time
# ("publish", payload) on the shared channel; ("fanout", room keys, payload) to the rooms'
# other nodes; ("sadd", room key) this node has sockets in the room; ("srem", room key,
# namespace, room) no longer; ("mark",) this node's rooms are recorded; ("marked",) whether
# they still are (and refresh); ("probe",) to this node's own channel; ("ping",) a retry of
# the records (they are sent with the pipeline that carries it).
Write = tuple[Any, ...]
MESSAGES = ("publish", "fanout")
Outcome = Literal["ok", "refused", "unreachable"]


class PipelinedWrites:
    """Mixin for signaling.fanout.ResyncingRedisManager."""

    redis: Any
    channel: str
    host_id: str
    rooms: dict[str, dict[Any, Any]]
    listening: asyncio.Event
    _confirmed: bool
    _timeout: float
    _node_channel: str
    _node_prefix: str
    _marker: str
    _probe_seconds: float
    # provided by the manager (annotations only)
    local_rooms: Callable[[], list[tuple[str, Any]]]
    _room_key: Callable[[str, Any], str]
    _others_sync_message: Callable[[], bytes]
    _resync_local_sockets: Callable[[], Coroutine[Any, Any, None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outbox: list[tuple[Write, asyncio.Future[Any]]] = []
        self._in_flight: list[tuple[Write, asyncio.Future[Any]]] = []
        self._last_queued: asyncio.Future[Any] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._repair: asyncio.Task[None] | None = None
        self._aftermath: set[asyncio.Task[None]] = set()
        self._rooms_unrecorded = False  # the records are suspect: the repair is retrying them
        self._unreachable = False  # writes other than the repair's are answered at once
        self._dropped = False  # a write was lost since the records were last taken
        self._publish_failed = False  # a lost write carried a message
        self._unremoved: dict[str, tuple[str, Any]] = {}  # room key -> (namespace, room)
        self._closed = False

    def _queue(self, write: Write) -> asyncio.Future[Any]:
        written: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if write[0] != "ping":  # a caller waiting for its writes must not wait for a retry
            self._last_queued = written
        if self._closed or (self._unreachable and write[0] != "ping"):
            if self._closed:
                self._publish_failed = self._publish_failed or write[0] in MESSAGES
            else:
                self._lost([write], unreachable=True)
            written.set_result(None)
            return written
        self._outbox.append((write, written))
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._write_queued(), name="fanout-publish")
        return written

    async def _all_queued_written(self) -> None:
        if self._last_queued is not None and not self._last_queued.done():
            await asyncio.shield(self._last_queued)

    async def _write_queued(self) -> None:
        await asyncio.sleep(0)  # let this loop iteration queue what it will
        while self._outbox:
            self._in_flight, self._outbox = self._outbox, []
            writes = [write for write, _ in self._in_flight]
            results: list[Any] = [None] * len(writes)
            try:
                results = await self._write_batch(writes)
            except Exception:
                log.exception("writing to Redis failed unexpectedly")
                self._lost(writes, unreachable=False)
            finally:
                for (_, written), result in zip(self._in_flight, results, strict=True):
                    if not written.done():
                        written.set_result(result)
                self._in_flight = []

    async def _write_batch(self, writes: list[Write]) -> list[Any]:
        recovering = self._rooms_unrecorded and any(write[0] == "ping" for write in writes)
        records: list[Write] = []
        if recovering:
            self._dropped = False
            records = self._room_records()
        results, outcome = await self._send(records + writes)
        if outcome != "unreachable":
            self._unreachable = False
        taken, sent = results[: len(records)], results[len(records) :]
        if recovering and _records_taken(outcome, taken, writes, sent):
            if self._dropped:  # lost while this retry was in flight: another round now
                self._queue(("ping",))
            else:
                self._recovered()
        return sent

    def _room_records(self) -> list[Write]:
        present = [("sadd", self._room_key(ns, room)) for ns, room in self.local_rooms()]
        absent = [
            ("srem", key, ns, room)
            for key, (ns, room) in self._unremoved.items()
            if room not in self.rooms.get(ns, {})
        ]
        return [*present, *absent, ("mark",)]

    async def _send(self, writes: list[Write]) -> tuple[list[Any], Outcome]:
        timeout = self._timeout * max(1.0, len(writes) / WRITES_PER_TIMEOUT)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for write in writes:
                    self._add(pipe, write)
                replies = list(await asyncio.wait_for(pipe.execute(raise_on_error=False), timeout))
        except Exception as exc:
            log.error("cannot write to Redis: %s", str(exc) or repr(exc))
            await self._drop_connections()
            self._lost(writes, unreachable=True)
            return [None] * len(writes), "unreachable"
        refused = [w for w, r in zip(writes, replies, strict=True) if isinstance(r, Exception)]
        if not refused:
            return replies, "ok"
        first = next(r for r in replies if isinstance(r, Exception))
        log.error("Redis refused %d of %d writes: %s", len(refused), len(writes), first)
        await self._drop_connections()  # READONLY: a new connection may reach the new primary
        self._lost(refused, unreachable=False)
        return [None if isinstance(r, Exception) else r for r in replies], "refused"

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

    async def _drop_connections(self) -> None:
        # a pipeline cut off by the timeout may leave replies unread on its connection
        with contextlib.suppress(Exception):
            await self.redis.connection_pool.disconnect()

    def _lost(self, writes: list[Write], *, unreachable: bool) -> None:
        if any(write[0] in MESSAGES for write in writes):
            self._publish_failed = True
        for write in writes:
            if write[0] == "srem":
                self._unremoved[write[1]] = (write[2], write[3])
        self._dropped = True
        if not unreachable and all(write[0] in MESSAGES for write in writes):
            # Redis answers and only messages were refused: the records stand
            if not self._rooms_unrecorded:
                self._start(self._sync_after_refusal(), "fanout-refused")
            return
        self._rooms_unrecorded = True
        self._unreachable = self._unreachable or unreachable
        self.listening.clear()
        if not self._closed and (self._repair is None or self._repair.done()):
            self._repair = asyncio.create_task(self._retry_recording(), name="fanout-repair")

    def _recovered(self) -> None:
        self._rooms_unrecorded = False
        self._unremoved.clear()
        if self._confirmed:
            self.listening.set()
        self._start(self._resync_local_sockets(), "fanout-resync")  # also drops stale views
        if self._publish_failed and not self._closed:
            self._ask_other_nodes_to_sync()

    async def _sync_after_refusal(self) -> None:
        await asyncio.sleep(REPAIR_BACKOFF_SECONDS[0])  # gathers refusals; at most 4 a second
        if self._publish_failed and not self._rooms_unrecorded and not self._closed:
            self._ask_other_nodes_to_sync()

    def _ask_other_nodes_to_sync(self) -> None:
        self._publish_failed = False
        self._queue(("publish", self._others_sync_message()))  # if lost, counted again

    def _start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        if self._closed or any(t.get_name() == name for t in self._aftermath):
            work.close()
            return
        task = asyncio.create_task(work, name=name)
        self._aftermath.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._aftermath.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def _retry_recording(self) -> None:
        delay, longest = REPAIR_BACKOFF_SECONDS
        while self._rooms_unrecorded and not self._closed:
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)
            if self._rooms_unrecorded and not self._closed:
                await asyncio.shield(self._queue(("ping",)))

    async def _stop_writing(self) -> None:
        """Sends what is queued (within the timeout), then nothing more; every write still
        waiting is answered None."""
        self._closed = True
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._publisher), self._timeout)
        tasks = [t for t in (self._publisher, self._repair, *self._aftermath) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for write, written in [*self._in_flight, *self._outbox]:
            if not written.done():
                written.set_result(None)
                self._publish_failed = self._publish_failed or write[0] in MESSAGES
        self._in_flight, self._outbox = [], []
        if self._publish_failed:
            await self._last_word()

    async def _last_word(self) -> None:
        """Messages Redis did not take and no retry will cover: ask the other nodes to sync."""
        try:
            message = self._others_sync_message()
            await asyncio.wait_for(self.redis.publish(self.channel, message), self._timeout)
        except Exception as exc:
            log.error("closing with lost messages; the other nodes were not told to sync: %r", exc)


def _records_taken(
    outcome: Outcome, records: list[Any], writes: list[Write], sent: list[Any]
) -> bool:
    """Whether a recovery batch recorded the rooms: a refused message in it does not count
    against them, a refused record or ping does."""
    if outcome != "refused":
        return outcome == "ok"
    pings = (result for write, result in zip(writes, sent, strict=True) if write[0] == "ping")
    return None not in records and None not in pings
