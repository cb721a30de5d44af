"""One call as this device sees it: ringing -> active -> ended, its media connection(s), the
candidates in flight, renegotiation (ICE restart, video -> audio), resume and quality reports.

Socket.IO runs each received event in its own task, so everything that changes a call takes
`Call.lock`: handlers acquire it before their first real await, in arrival order (the lock is
FIFO), which keeps offer, answer and candidates in the order the server sent them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rtclient.connection import MediaConnection, kinds_in
from rtclient.crypto import CryptoError
from rtclient.errors import CallError
from rtclient.ice import IceError, is_relayed, parse_candidate
from rtclient.media import FrameCounter
from rtclient.quality import QualityReport, QualitySampler
from rtclient.renegotiation import Renegotiation
from rtclient.trickle import CandidateInbox, send_candidates

if TYPE_CHECKING:
    from rtclient.calls import CallDevice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallEnd:
    reason: str  # the server's end_reason, or "answered_elsewhere" for a callee device
    ended_by: dict[str, Any] | None = None
    duration_seconds: float | None = None
    failure: str | None = None  # why this device gave up, if it did


class Call:
    def __init__(
        self,
        device: CallDevice,
        call_id: str,
        conversation_id: str,
        media: str,
        role: str,
        peer_user_id: str,
        peer_device_id: str | None = None,
        session_id: str | None = None,
    ) -> None:
        self.device = device
        self.call_id = call_id
        self.conversation_id = conversation_id
        self.session_id = session_id
        self.media = media
        self.role = role  # "caller" or "callee"
        self.peer_user_id = peer_user_id
        self.peer_device_id = peer_device_id
        self.state = "ringing"
        self.offer_sdp: str | None = None  # a callee's verified incoming offer
        self.ring_deadline: str | None = None
        self.connection: MediaConnection | None = None
        self.frames = FrameCounter()
        self.quality = QualitySampler()
        self.peer_states: list[str] = []
        self.reports_sent = 0
        self.failure: str | None = None
        self.lock = asyncio.Lock()
        self.ended: asyncio.Future[CallEnd] = asyncio.get_running_loop().create_future()
        self.renegotiation = Renegotiation(self)
        self.inbox = CandidateInbox()
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        return f"<Call {self.call_id} {self.role} {self.state} {self.media}>"

    # waiting -------------------------------------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_active(self, timeout: float = 10.0) -> None:
        await self.wait_until(lambda: self.state != "ringing", timeout)
        if self.state != "active":
            raise CallError("call_ended", f"the call ended: {self.ended.result()}")

    async def wait_connected(self, timeout: float = 15.0) -> None:
        """Until the current media connection is up (ICE and DTLS done)."""
        await self.wait_until(
            lambda: (
                self.state == "ended"
                or (self.connection is not None and self.connection.connected.is_set())
            ),
            timeout,
        )
        if self.state == "ended":
            raise CallError("call_ended", f"the call ended: {self.ended.result()}")

    async def wait_ended(self, timeout: float = 10.0) -> CallEnd:
        return await asyncio.wait_for(asyncio.shield(self.ended), timeout)

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # placing and answering ----------------------------------------------------------------------

    def new_connection(self, kinds: list[str], ice: Any) -> MediaConnection:
        return MediaConnection(ice, kinds, self.frames, self.renegotiation.connection_lost)

    def kinds_for(self, offered: list[str] | None = None) -> list[str]:
        wanted = ["audio", "video"] if self.media == "video" else ["audio"]
        return [k for k in offered if k in wanted] if offered is not None else wanted

    async def invite(self) -> None:
        async with self.lock:
            connection = self.new_connection(self.kinds_for(), await self.device.ice_config())
            self.connection = connection
            try:
                sdp, candidates = await connection.offer()
                payload = {
                    "call_id": self.call_id,
                    "conversation_id": self.conversation_id,
                    "session_id": self.session_id,
                    "media": self.media,
                    "sdp": self.device.signed(self.call_id, "offer", sdp),
                }
                ack = await self.device.request("call.invite", payload)
            except CallError:
                self.connection = None
                await connection.close()
                raise
            self.ring_deadline = ack.get("ring_deadline")
            await self.trickle(candidates)

    async def answer(self) -> None:
        async with self.lock:
            if self.state != "ringing" or self.offer_sdp is None:
                raise CallError("call_ended", f"cannot answer a call that is {self.state}")
            offered = kinds_in(self.offer_sdp)
            connection = self.new_connection(
                self.kinds_for(offered), await self.device.ice_config()
            )
            self.connection = connection
            try:
                await connection.accept_offer(self.offer_sdp)
                await self.inbox.release_to(connection)
                sdp, candidates = await connection.answer()
            except IceError as exc:
                self.failure = exc.code
                await self.refuse("call.reject")
                raise
            try:
                signed = self.device.signed(self.call_id, "answer", sdp)
                ack = await self.device.request(
                    "call.answer", {"call_id": self.call_id, "sdp": signed}
                )
            except CallError as exc:
                self.connection = None
                await connection.close()
                if exc.code == "call_taken":
                    await self.finish(CallEnd("answered_elsewhere"))
                raise
            self.state = "active"
            log.debug("answered %s at %s", self.call_id, ack.get("answered_at"))
            await self.trickle(candidates)
            self._started()
        await self.notify()

    async def reject(self) -> None:
        async with self.lock:
            await self.device.request("call.reject", {"call_id": self.call_id})
            await self.finish(CallEnd("rejected", ended_by=self.device.me))

    async def hangup(self, reason: str = "hangup") -> CallEnd:
        async with self.lock:
            if self.state == "ended":
                return self.ended.result()
            payload = {"call_id": self.call_id, "reason": reason}
            try:
                ack = await self.device.request("call.hangup", payload)
            except CallError as exc:
                if exc.code != "call_ended":
                    raise
                ack = None  # the peer ended it first: its call.ended says how
            if ack is not None:
                end = CallEnd(
                    ack.get("end_reason", reason), self.device.me, ack.get("duration_seconds")
                )
                await self.finish(end)
        return await self.wait_ended(self.device.timeout)

    async def resume(self) -> dict[str, Any]:
        """After this device's socket came back (on any node): rejoin the call."""
        ack = await self.device.request("call.resume", {"call_id": self.call_id})
        record = dict(ack.get("call") or {})
        if record.get("state") == "ended":
            async with self.lock:
                await self.finish(
                    CallEnd(str(record.get("end_reason")), None, record.get("duration_seconds"))
                )
        return record

    async def trickle(self, candidates: list[dict[str, Any]]) -> None:
        await send_candidates(self.device.request, self.call_id, candidates)

    def _started(self) -> None:
        """Active with a remote description: watch the connection and report quality."""
        if self.connection is not None:
            self.spawn(self._watch(self.connection))
        if self.device.stats_interval > 0:
            self.spawn(self._report_quality())

    async def _watch(self, connection: MediaConnection) -> None:
        try:
            await connection.wait_connected(self.device.connect_timeout)
        except TimeoutError:
            if connection is self.connection and self.state == "active":
                self.failure = "ice_failed"
                with contextlib.suppress(CallError):
                    await self.hangup()
            return
        await self.notify()

    # events from the server (the device routes them here) ----------------------------------------

    async def on_incoming(self, event: dict[str, Any]) -> bool:
        """Check the offer's signature; a forged one is declined. True if the call rings."""
        caller = {"user_id": self.peer_user_id, "device_id": self.peer_device_id}
        async with self.lock:
            try:
                await self.device.verify(caller, self.call_id, "offer", event.get("sdp") or {})
            except CryptoError as exc:
                log.warning("call %s refused: %s", self.call_id, exc)
                self.failure = "bad_signature"
                await self.refuse("call.reject")
                return False
            self.offer_sdp = str(event["sdp"]["sdp"])
        return True

    async def on_answered(self, event: dict[str, Any]) -> None:
        async with self.lock:
            if self.state != "ringing" or self.connection is None:
                return
            answerer = event.get("answered_by") or {}
            try:
                if answerer.get("user_id") != self.peer_user_id:
                    raise CryptoError("answered by someone who is not the other member")
                await self.device.verify(answerer, self.call_id, "answer", event["sdp"])
            except CryptoError:
                self.failure = "bad_signature"
                await self.refuse("call.hangup")
                return
            self.peer_device_id = answerer.get("device_id")
            await self.connection.accept_answer(event["sdp"]["sdp"])
            await self.inbox.release_to(self.connection)
            self.state = "active"
            self._started()
        await self.notify()

    async def on_candidate(self, event: dict[str, Any]) -> None:
        try:
            remote = parse_candidate(event.get("candidate") or {})
        except ValueError as exc:
            log.warning("call %s: %s", self.call_id, exc)
            return
        async with self.lock:
            await self.inbox.route(remote, (self.renegotiation.pending, self.connection))

    async def on_selected(self, event: dict[str, Any]) -> None:
        async with self.lock:
            if event.get("device_id") != self.device.me["device_id"] and self.state == "ringing":
                await self.finish(CallEnd("answered_elsewhere"))

    async def on_peer(self, event: dict[str, Any]) -> None:
        self.peer_states.append(str(event.get("state")))
        await self.notify()

    async def on_ended(self, event: dict[str, Any]) -> None:
        async with self.lock:
            end = CallEnd(
                str(event.get("end_reason")),
                event.get("ended_by"),
                event.get("duration_seconds"),
                self.failure,
            )
            await self.finish(end)

    async def on_renegotiate(self, event: dict[str, Any]) -> None:
        await self.renegotiation.on_event(event)

    async def restart_ice(self) -> None:
        """A network change: negotiate a new connection (new ICE credentials, new candidates,
        fresh TURN allocation) and move the media to it."""
        await self.renegotiation.start("ice_restart", None)

    async def change_media(self, media: str) -> None:
        """Video -> audio (or back): a new connection with only the kinds `media` allows."""
        await self.renegotiation.start("media_change", media)

    @property
    def restarts(self) -> int:
        """Renegotiations this device completed (either side may have started them)."""
        return self.renegotiation.completed

    # quality --------------------------------------------------------------------------------------

    async def send_stats(self) -> QualityReport | None:
        """Sample the current connection and send one `call.stats` report."""
        connection = self.connection
        if connection is None or not connection.connected.is_set():
            return None
        report = await self.quality.sample(connection.pc)
        await self.device.request("call.stats", report.payload(self.call_id))
        self.reports_sent += 1
        await self.notify()
        return report

    async def _report_quality(self) -> None:
        while self.state == "active":
            await asyncio.sleep(self.device.stats_interval)  # a period, not a synchronisation
            try:
                await self.send_stats()
            except CallError as exc:
                log.info("call %s: stats not taken: %s", self.call_id, exc)

    def relayed(self) -> bool:
        return self.connection is not None and is_relayed(self.connection.pc)

    # ending ---------------------------------------------------------------------------------------

    async def refuse(self, event: str) -> None:
        """This device will not take part (bad signature, no TURN): decline or hang up."""
        try:
            ack = await self.device.request(event, {"call_id": self.call_id})
            reason = ack.get("end_reason", "rejected" if event == "call.reject" else "hangup")
        except CallError as exc:
            reason = exc.code
        await self.finish(CallEnd(str(reason), self.device.me, None, self.failure))

    async def finish(self, end: CallEnd) -> None:
        if self.state == "ended":
            return
        self.state = "ended"
        if not self.ended.done():
            self.ended.set_result(end)
        await self.renegotiation.drop(CallError("call_ended", end.reason))
        await self.close()
        await self.notify()

    async def close(self) -> None:
        """Stop media and background work without telling the server (see hangup)."""
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        for connection in (self.connection, self.renegotiation.pending):
            if connection is not None:
                await connection.close()
        await self.frames.close()
