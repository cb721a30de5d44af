"""Call events: call.invite, answer, candidate, reject, hangup, renegotiate, resume, stats.

Events of one socket are handled one after another (python-socketio would run them
concurrently), so a candidate sent right after an invite or an answer always finds the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from rtserver.domain.accounts import Principal
from rtserver.domain.rate import TokenBucket
from rtserver.errors import RateLimited
from rtserver.services.calls import CallService
from rtserver.timefmt import wire_time
from signaling.acks import SocketSessions, acked
from signaling.call_payloads import (
    CallAnswer,
    CallCandidate,
    CallHangup,
    CallInvite,
    CallRef,
    CallRenegotiate,
    CallStats,
)
from signaling.group import EventGroup

log = logging.getLogger(__name__)


class _Socket:
    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket
        self.lock = asyncio.Lock()
        self.calls: set[str] = set()


class CallEvents(EventGroup):
    def __init__(
        self, sessions: SocketSessions, calls: CallService, *, rate: float, burst: int
    ) -> None:
        super().__init__(sessions)
        self._calls = calls
        self._rate = rate
        self._burst = burst
        self._sockets: dict[str, _Socket] = {}

    async def socket_connected(self, sid: str, principal: Principal) -> None:
        pass  # its state is made by its first call event: most sockets never place a call

    async def socket_disconnected(self, sid: str, principal: Principal) -> None:
        state = self._sockets.pop(sid, None)
        if state is not None and state.calls:
            await self._calls.socket_lost(principal, sid, state.calls)

    @contextlib.asynccontextmanager
    async def _turn(self, sid: str) -> AsyncIterator[_Socket]:
        """Spend one token of the socket's bucket, then hold its lock for the event."""
        state = self._spend(sid)
        async with state.lock:
            yield state

    def _spend(self, sid: str) -> _Socket:
        state = self._sockets.get(sid)
        if state is None:
            state = self._sockets[sid] = _Socket(
                TokenBucket.full(self._rate, self._burst, time.monotonic())
            )
        if not state.bucket.take(time.monotonic(), 1.0):
            raise RateLimited(
                "too many call events on this connection; slow down",
                code="rate_limited",
                retry_after=max(1, round(state.bucket.retry_after(1.0))),
            )
        return state

    @acked(CallInvite)
    async def on_call_invite(
        self, sid: str, principal: Principal, payload: CallInvite
    ) -> dict[str, Any]:
        async with self._turn(sid) as state:
            call = await self._calls.invite(
                principal,
                sid,
                payload.call_id,
                payload.conversation_id,
                payload.session_id,
                payload.media,
                payload.sdp.signed(),
            )
            state.calls.add(call.id)
        return {
            "call_id": call.id,
            "state": call.state.value,
            "ring_deadline": wire_time(call.ring_deadline),
        }

    @acked(CallAnswer)
    async def on_call_answer(
        self, sid: str, principal: Principal, payload: CallAnswer
    ) -> dict[str, Any]:
        async with self._turn(sid) as state:
            call = await self._calls.answer(principal, sid, payload.call_id, payload.sdp.signed())
            state.calls.add(call.id)
        return {
            "call_id": call.id,
            "state": call.state.value,
            "answered_at": wire_time(call.answered_at) if call.answered_at else None,
        }

    @acked(CallCandidate)
    async def on_call_candidate(
        self, sid: str, principal: Principal, payload: CallCandidate
    ) -> dict[str, Any]:
        async with self._turn(sid):
            await self._calls.candidate(principal, payload.call_id, payload.candidate.model_dump())
        return {}

    @acked(CallRef)
    async def on_call_reject(
        self, sid: str, principal: Principal, payload: CallRef
    ) -> dict[str, Any]:
        async with self._turn(sid):
            call = await self._calls.reject(principal, payload.call_id)
        return {"call_id": call.id, "end_reason": call.end_reason}

    @acked(CallHangup)
    async def on_call_hangup(
        self, sid: str, principal: Principal, payload: CallHangup
    ) -> dict[str, Any]:
        async with self._turn(sid) as state:
            call = await self._calls.hangup(principal, payload.call_id, payload.reason)
            state.calls.discard(call.id)
        return {
            "call_id": call.id,
            "end_reason": call.end_reason,
            "duration_seconds": call.duration_seconds,
        }

    @acked(CallRenegotiate)
    async def on_call_renegotiate(
        self, sid: str, principal: Principal, payload: CallRenegotiate
    ) -> dict[str, Any]:
        async with self._turn(sid):
            call = await self._calls.renegotiate(
                principal, payload.call_id, payload.reason, payload.media, payload.sdp.signed()
            )
        return {"call_id": call.id, "media": call.media}

    @acked(CallRef)
    async def on_call_resume(
        self, sid: str, principal: Principal, payload: CallRef
    ) -> dict[str, Any]:
        async with self._turn(sid) as state:
            call = await self._calls.resume(principal, sid, payload.call_id)
            state.calls.add(payload.call_id)
        return {"call": call}

    @acked(CallStats)
    async def on_call_stats(
        self, sid: str, principal: Principal, payload: CallStats
    ) -> dict[str, Any]:
        async with self._turn(sid):
            await self._calls.report(principal, payload.call_id, payload.stats())
        return {}
