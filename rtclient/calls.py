"""Voice and video calls for one signed-in device (what the mobile app does), over its Socket.IO
connection: place, ring, answer, reject, hang up, glare, renegotiate, resume. See docs/calls.md.

Every SDP this device sends is signed with its device key, and every SDP it receives is
verified against the sender's device key from the Keyring (pinned master key): a call whose
signature does not verify is refused, since only the DTLS fingerprints in the signed SDP stop
a server in the middle.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import socketio

from rtclient.call import Call, CallEnd
from rtclient.crypto import CryptoError, DeviceIdentity, sign_sdp, verify_sdp
from rtclient.errors import CallError
from rtclient.ice import IceConfig, fetch_ice_config
from rtclient.keyring import Keyring

__all__ = ["Call", "CallDevice", "CallEnd", "CallError"]

log = logging.getLogger(__name__)

SERVER_EVENTS = (
    "call.incoming",
    "call.answered",
    "call.selected",
    "call.candidate",
    "call.renegotiate",
    "call.peer",
    "call.ended",
)


class CallDevice:
    """Calls of one device. `sio` must be connected and signed in as `identity`'s device;
    after a reconnect, `attach()` the new socket and `resume_calls()`."""

    def __init__(
        self,
        sio: socketio.AsyncClient,
        identity: DeviceIdentity,
        keyring: Keyring,
        *,
        stats_interval: float = 5.0,
        timeout: float = 10.0,
        connect_timeout: float = 15.0,
        auto_restart: bool = True,
        ice_config: IceConfig | None = None,
    ) -> None:
        self.identity = identity
        self.keyring = keyring
        self.stats_interval = stats_interval
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.auto_restart = auto_restart
        self.fixed_ice_config = ice_config  # None: fetch GET /api/v1/turn before each offer
        self.calls: dict[str, Call] = {}
        self.incoming: asyncio.Queue[Call] = asyncio.Queue()
        self._arrived = asyncio.Condition()
        self.sio = sio
        self.attach(sio)

    @property
    def me(self) -> dict[str, str]:
        return {"user_id": self.identity.user_id, "device_id": self.identity.device_id}

    def attach(self, sio: socketio.AsyncClient) -> None:
        """Use `sio` (a new connection after a drop) for signalling from now on."""
        self.sio = sio
        for event in SERVER_EVENTS:
            sio.on(event, self._handler(event))

    def _handler(self, event: str) -> Any:
        method = "on_" + event.removeprefix("call.")

        async def handle(data: Any) -> None:
            if not isinstance(data, dict):
                return
            if event == "call.incoming":
                await self._on_incoming(data)
                return
            call = self.calls.get(str(data.get("call_id")))
            if call is not None:
                await getattr(call, method)(data)

        return handle

    # requests --------------------------------------------------------------------------------

    async def request(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send an acked event; returns the ack or raises CallError with the server's code."""
        try:
            reply = await self.sio.call(event, payload, timeout=self.timeout)
        except (socketio.exceptions.SocketIOError, TimeoutError) as exc:
            raise CallError("signalling_unavailable", f"{event}: {exc!r}") from exc
        if not isinstance(reply, dict) or not reply.get("ok"):
            error = reply.get("error", {}) if isinstance(reply, dict) else {}
            raise CallError(
                str(error.get("code", "bad_reply")),
                str(error.get("message", "")),
                error.get("details"),
            )
        return reply

    async def ice_config(self) -> IceConfig:
        if self.fixed_ice_config is not None:
            return self.fixed_ice_config
        return await fetch_ice_config(self.keyring.http, self.keyring.base_url, self.keyring.token)

    def signed(self, call_id: str, kind: str, sdp: str) -> dict[str, str]:
        return {"type": kind, "sdp": sdp, "signature": sign_sdp(self.identity, call_id, kind, sdp)}

    async def verify(
        self, sender: dict[str, Any], call_id: str, kind: str, sdp: dict[str, Any]
    ) -> None:
        """Raise CryptoError unless `sdp` is a `kind` signed by `sender`'s published device
        key (refetching that user's keys once, for a device added since we last looked)."""
        if not isinstance(sdp, dict) or sdp.get("type") != kind:
            raise CryptoError(f"expected a signed {kind}")
        user_id, device_id = str(sender.get("user_id")), str(sender.get("device_id"))
        for attempt in range(2):
            devices = {d.device_id: d for d in await self.keyring.devices_of(user_id)}
            if device_id in devices:
                verify_sdp(
                    devices[device_id], call_id, kind, str(sdp.get("sdp")), str(sdp["signature"])
                )
                return
            if attempt == 0:
                self.keyring.forget(user_id)
        raise CryptoError(f"{user_id}/{device_id} has no published device key")

    async def peer_of(self, conversation_id: str) -> str:
        """The other member of a direct conversation (who may answer our calls)."""
        async with self.keyring.http.get(
            f"{self.keyring.base_url}/api/v1/conversations/{conversation_id}",
            headers={"Authorization": f"Bearer {self.keyring.token}"},
        ) as response:
            body = await response.json()
            if response.status != 200:
                error = body.get("error", {}) if isinstance(body, dict) else {}
                raise CallError(str(error.get("code", response.status)), "no such conversation")
        others = [m["user_id"] for m in body["members"] if m["user_id"] != self.identity.user_id]
        if len(others) != 1:
            raise CallError("not_direct", "calls are between the two people of a conversation")
        return str(others[0])

    # calls -----------------------------------------------------------------------------------

    async def place_call(
        self, conversation_id: str, media: str = "video", session_id: str | None = None
    ) -> Call:
        """Invite the other member. On glare the server picked the other invite: this device
        drops its offer and answers that call, which is what this returns then."""
        call_id = str(uuid.uuid4())
        call = Call(
            self,
            call_id,
            conversation_id,
            media,
            "caller",
            await self.peer_of(conversation_id),
            session_id=session_id,
        )
        self.calls[call_id] = call
        try:
            await call.invite()
        except CallError as exc:
            del self.calls[call_id]
            winner = exc.details.get("call_id")
            if exc.code != "glare" or not winner:
                raise
            log.info("glare: answering call %s instead of our %s", winner, call_id)
            incoming = await self.wait_for_call(str(winner))
            await incoming.answer()
            return incoming
        except BaseException:
            self.calls.pop(call_id, None)
            raise
        return call

    async def next_incoming(self, timeout: float = 10.0) -> Call:
        """The next call ringing on this device (skipping any that stopped ringing)."""
        async with asyncio.timeout(timeout):
            while True:
                call = await self.incoming.get()
                if call.state == "ringing":
                    return call

    async def wait_for_call(self, call_id: str, timeout: float | None = None) -> Call:
        async with asyncio.timeout(timeout or self.timeout), self._arrived:
            await self._arrived.wait_for(lambda: call_id in self.calls)
        return self.calls[call_id]

    async def _on_incoming(self, event: dict[str, Any]) -> None:
        call_id = str(event.get("call_id"))
        caller = event.get("caller") or {}
        if call_id in self.calls or not isinstance(caller, dict):
            return
        call = Call(
            self,
            call_id,
            str(event.get("conversation_id")),
            str(event.get("media", "audio")),
            "callee",
            str(caller.get("user_id")),
            str(caller.get("device_id")),
            event.get("session_id"),
        )
        call.ring_deadline = event.get("ring_deadline")
        self.calls[call_id] = call
        if not await call.on_incoming(event):
            return
        self.incoming.put_nowait(call)
        async with self._arrived:
            self._arrived.notify_all()

    async def resume_calls(self) -> list[dict[str, Any]]:
        """After a reconnect: `call.resume` every call this device is in."""
        return [await call.resume() for call in list(self.calls.values()) if call.state == "active"]

    async def close(self) -> None:
        """Stop all media (no signalling: hang up first to end calls on the server)."""
        for call in list(self.calls.values()):
            await call.close()
