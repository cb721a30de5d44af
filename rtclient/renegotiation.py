"""Renegotiating an active call over `call.renegotiate`: an ICE restart after a network change,
or a media change (video -> audio).

aiortc 1.16 cannot restart ICE on a live RTCPeerConnection (createOffer has no iceRestart
option; RTCIceTransport.start() keeps the first remote credentials), so every renegotiation
negotiates a *new* connection: new ICE ufrag/password, new candidates (and a fresh TURN
allocation), new DTLS certificate, only the kinds the call's media allows. The call keeps
using the old connection until the new one connects, then closes the old one. If both sides
offer at once, the caller's offer wins and the callee answers it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from rtclient.connection import MediaConnection, kinds_in
from rtclient.crypto import CryptoError
from rtclient.errors import CallError

if TYPE_CHECKING:
    from rtclient.call import Call

log = logging.getLogger(__name__)


class Renegotiation:
    def __init__(self, call: Call) -> None:
        self.call = call
        self.pending: MediaConnection | None = None  # negotiated, not yet carrying the call
        self.completed = 0
        self._answer: asyncio.Future[str] | None = None
        self._running = asyncio.Lock()  # one renegotiation this device starts at a time

    @property
    def offering(self) -> bool:
        """This device sent an offer and waits for its answer."""
        return self._answer is not None and not self._answer.done()

    async def start(self, reason: str, media: str | None) -> None:
        call = self.call
        async with self._running:
            async with call.lock:
                if call.state != "active":
                    raise CallError("call_not_active", f"the call is {call.state}")
                if media is not None:
                    call.media = media
                connection = call.new_connection(call.kinds_for(), await call.device.ice_config())
                self.pending = connection
                self._answer = answer = asyncio.get_running_loop().create_future()
                sdp, candidates = await connection.offer()
                payload: dict[str, Any] = {
                    "call_id": call.call_id,
                    "reason": reason,
                    "sdp": call.device.signed(call.call_id, "offer", sdp),
                }
                if media is not None:
                    payload["media"] = media
                await call.device.request("call.renegotiate", payload)
                await call.trickle(candidates)
            try:
                remote = await asyncio.wait_for(answer, call.device.timeout)
            except CallError as exc:  # the peer's simultaneous offer won; we answered it
                log.debug("call %s: our offer superseded: %s", call.call_id, exc)
                return
            except TimeoutError:
                async with call.lock:
                    await self.drop(CallError("renegotiation_timeout", "no answer"))
                raise CallError("renegotiation_timeout", "the peer did not answer") from None
            async with call.lock:
                if self.pending is not connection:
                    return
                await connection.accept_answer(remote)
                await call.inbox.release_to(connection)
            if not await self._switch_when_connected(connection):
                raise CallError("ice_failed", "the new connection did not connect")

    async def on_event(self, event: dict[str, Any]) -> None:
        """The peer's `call.renegotiate`: the answer to our offer, or an offer to answer."""
        call = self.call
        sdp = event.get("sdp") or {}
        sender = {"user_id": call.peer_user_id, "device_id": event.get("from_device_id")}
        async with call.lock:
            if call.state != "active":
                return
            try:
                if sender["device_id"] != call.peer_device_id:
                    raise CryptoError("renegotiation from a device that is not in the call")
                await call.device.verify(sender, call.call_id, str(sdp.get("type")), sdp)
            except CryptoError as exc:
                log.warning("call %s: hanging up: %s", call.call_id, exc)
                call.failure = "bad_signature"
                await call.refuse("call.hangup")
                return
            if sdp["type"] == "answer":
                if self._answer is not None and not self._answer.done():
                    self._answer.set_result(str(sdp["sdp"]))
                return
            if self.offering and call.role == "caller":
                return  # glare: our offer wins, the callee will answer it
            await self.drop(CallError("superseded", "the peer renegotiated"))
            await self._answer_offer(event, str(sdp["sdp"]))

    async def _answer_offer(self, event: dict[str, Any], offer: str) -> None:
        call = self.call
        call.media = str(event.get("media") or call.media)
        connection = call.new_connection(
            call.kinds_for(kinds_in(offer)), await call.device.ice_config()
        )
        self.pending = connection
        await connection.accept_offer(offer)
        await call.inbox.release_to(connection)
        sdp, candidates = await connection.answer()
        payload = {
            "call_id": call.call_id,
            "reason": event.get("reason", "ice_restart"),
            "sdp": call.device.signed(call.call_id, "answer", sdp),
        }
        await call.device.request("call.renegotiate", payload)
        await call.trickle(candidates)
        call.spawn(self._switch_when_connected(connection))

    async def _switch_when_connected(self, connection: MediaConnection) -> bool:
        """Move the call to `connection` once it is up; False if it never came up."""
        call = self.call
        try:
            await connection.wait_connected(call.device.connect_timeout)
        except TimeoutError:
            async with call.lock:
                if self.pending is connection:
                    await self.drop(CallError("ice_failed", "no media path"))
            return False
        async with call.lock:
            if self.pending is not connection or call.state != "active":
                return False
            old, call.connection, self.pending = call.connection, connection, None
            call.quality.restart()
            self.completed += 1
            if old is not None:
                await old.close()
        await call.notify()
        return True

    async def drop(self, why: CallError) -> None:
        """Abandon the renegotiation in progress (the call keeps its current connection)."""
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(why)
            self._answer.exception()  # marked retrieved: the waiter may have given up already
        if self.pending is not None:
            await self.pending.close()
            self.pending = None

    def connection_lost(self, connection: MediaConnection) -> None:
        """The call's connection failed (its network went away): restart ICE, once at a time."""
        call = self.call
        if (
            connection is call.connection
            and call.state == "active"
            and call.device.auto_restart
            and not self._running.locked()
        ):
            call.spawn(self._restart_quietly())

    async def _restart_quietly(self) -> None:
        try:
            await self.start("ice_restart", None)
        except CallError as exc:
            log.warning("call %s: ICE restart failed: %s", self.call.call_id, exc)
