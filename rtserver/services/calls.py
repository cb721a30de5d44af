"""Calls: invite, answer-wins, reject, hang up, trickle ICE, renegotiation, reconnect grace,
ring timeout, quality reports. See docs/calls.md.

The store decides every race (first answer, glare, a timeout against an answer) with a
compare-and-set on the call's state, so the outcome is the same whichever node each device is
on. Events go out after the commit; SDP and candidates are relayed, never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from rtserver.clock import Clock
from rtserver.domain import calls as rules
from rtserver.domain.accounts import Principal
from rtserver.domain.calls import (
    Call,
    CallMedia,
    CallRuleError,
    CallState,
    EndReason,
    QualityReport,
    QualitySummary,
    Side,
)
from rtserver.domain.chat import ConversationKind
from rtserver.domain.keys import sdp_body, verify
from rtserver.errors import AppError, Conflict, Invalid, NotFound
from rtserver.protocol import (
    CALL_ANSWERED,
    CALL_CANDIDATE,
    CALL_ENDED,
    CALL_INCOMING,
    CALL_PEER,
    CALL_RENEGOTIATE,
    CALL_SELECTED,
)
from rtserver.services.connections import Realtime
from rtserver.services.conversations import not_found as conversation_not_found
from rtserver.services.notifications import NotificationService
from rtserver.store.calls import OpenCallExists
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction
from rtserver.timefmt import wire_time

log = logging.getLogger(__name__)

HISTORY_MAX = 100
T = TypeVar("T")
MISSED_CALL = "call.missed"

_RULE_ERRORS: dict[str, type[AppError]] = {
    "call_not_found": NotFound,
    "call_ended": Conflict,
    "call_taken": Conflict,
    "call_not_active": Conflict,
    "not_in_call": Conflict,
    "bad_sdp": Invalid,
    "bad_candidate": Invalid,
}


def app_error(error: CallRuleError) -> AppError:
    return _RULE_ERRORS.get(error.code, Invalid)(error.message, code=error.code)


def call_not_found() -> NotFound:
    return NotFound("no such call", code="call_not_found")


@dataclass(frozen=True)
class SignedSdp:
    type: str
    sdp: str
    signature: str

    def wire(self) -> dict[str, str]:
        return {"type": self.type, "sdp": self.sdp, "signature": self.signature}


@dataclass(frozen=True)
class Stats:
    rtt_ms: float | None
    jitter_ms: float | None
    packet_loss_pct: float | None
    bitrate_kbps: float | None
    relayed: bool


def quality_out(summary: QualitySummary) -> dict[str, Any]:
    return {
        "reports": summary.reports,
        "rtt_ms_avg": summary.rtt_ms_avg,
        "rtt_ms_max": summary.rtt_ms_max,
        "jitter_ms_avg": summary.jitter_ms_avg,
        "packet_loss_pct_max": summary.packet_loss_pct_max,
        "bitrate_kbps_avg": summary.bitrate_kbps_avg,
        "relayed": summary.relayed,
    }


def call_out(call: Call, quality: QualitySummary) -> dict[str, Any]:
    """A call record as REST and `call.resume` show it to its participants."""
    return {
        "call_id": call.id,
        "conversation_id": call.conversation_id,
        "session_id": call.session_id,
        "state": call.state.value,
        "media": call.media.value,
        "media_used": [m.value for m in call.media_used],
        "caller": {"user_id": call.caller_id, "device_id": call.caller_device_id},
        "callee_user_id": call.callee_id,
        "answered_by_device_id": call.answered_device_id,
        "created_at": wire_time(call.created_at),
        "ring_deadline": wire_time(call.ring_deadline),
        "answered_at": wire_time(call.answered_at) if call.answered_at else None,
        "ended_at": wire_time(call.ended_at) if call.ended_at else None,
        "duration_seconds": call.duration_seconds,
        "end_reason": call.end_reason.value if call.end_reason else None,
        "ended_by_user_id": call.ended_by_user_id,
        "quality": quality_out(quality),
    }


def ended_event(call: Call, by_device_id: str | None) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "end_reason": call.end_reason.value if call.end_reason else None,
        "ended_by": (
            {"user_id": call.ended_by_user_id, "device_id": by_device_id}
            if call.ended_by_user_id
            else None
        ),
        "duration_seconds": call.duration_seconds,
    }


class CallService:
    def __init__(
        self,
        database: Database,
        realtime: Realtime,
        notifications: NotificationService,
        join_session: Callable[[Principal, str], Awaitable[str]],
        clock: Clock,
        *,
        ring_timeout: timedelta,
        reconnect_grace: timedelta,
    ) -> None:
        """`join_session(principal, session_id)` enters a booked session (checking its window)
        and returns the session's conversation id."""
        self._db = database
        self._realtime = realtime
        self._notifications = notifications
        self._join_session = join_session
        self._clock = clock
        self._ring_timeout = ring_timeout
        self._grace = reconnect_grace
        self._timers: dict[tuple[str, str], asyncio.Task[None]] = {}

    @property
    def reconnect_grace(self) -> timedelta:
        return self._grace

    # --- the call's life ------------------------------------------------------------------

    async def invite(
        self,
        principal: Principal,
        sid: str,
        call_id: str,
        conversation_id: str,
        session_id: str | None,
        media: CallMedia,
        offer: SignedSdp,
    ) -> Call:
        self._check_sdp(offer, "offer")
        if session_id is not None:
            session_conversation = await self._join_session(principal, session_id)
            if session_conversation != conversation_id:
                raise Invalid(
                    "the session takes place in another conversation",
                    code="session_conversation_mismatch",
                )
        now = self._clock.now()
        staged = []
        async with self._db.write() as tx:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None or conversation.member(principal.user_id) is None:
                raise conversation_not_found()
            if conversation.kind is not ConversationKind.DIRECT or len(conversation.members) != 2:
                raise Invalid(
                    "calls are between the two people of a direct conversation", code="not_direct"
                )
            callee_id = next(m for m in conversation.member_ids if m != principal.user_id)
            await self._verify_sdp(tx, principal, call_id, offer)
            if await tx.calls.exists(call_id):
                raise Conflict("this call id is taken", code="call_exists")
            call = Call(
                id=call_id,
                conversation_id=conversation_id,
                session_id=session_id,
                caller_id=principal.user_id,
                caller_device_id=principal.device_id,
                callee_id=callee_id,
                answered_device_id=None,
                media=media,
                media_used=(media,),
                state=CallState.RINGING,
                created_at=now,
                ring_deadline=now + self._ring_timeout,
            )
            existing = await tx.calls.open_in_conversation(conversation_id)
            if existing is not None:
                raise self._glare(principal, existing)
            busy = await tx.calls.in_active_call(callee_id)
            if busy:
                call = rules.end(call, EndReason.BUSY, None, now)
            try:
                await tx.calls.add(call, sid)
            except OpenCallExists:
                existing = await tx.calls.open_in_conversation(conversation_id)
                if existing is None:  # it ended between our insert and this read: try again
                    raise Conflict("a call was ending; retry", code="call_exists") from None
                raise self._glare(principal, existing) from None
            if busy:
                staged = await self._notifications.stage(
                    tx, [callee_id], MISSED_CALL, self._missed_payload(call)
                )
        if busy:
            await self._notifications.deliver(staged)
            raise Conflict("the person you are calling is in another call", code="callee_busy")
        await self._realtime.to_users(
            [callee_id],
            CALL_INCOMING,
            {
                "call_id": call.id,
                "conversation_id": conversation_id,
                "session_id": session_id,
                "media": media.value,
                "caller": {"user_id": principal.user_id, "device_id": principal.device_id},
                "sdp": offer.wire(),
                "ring_deadline": wire_time(call.ring_deadline),
            },
        )
        self._schedule(("ring", call.id), self._ring_timeout, lambda: self._ring_expired(call.id))
        return call

    async def answer(self, principal: Principal, sid: str, call_id: str, answer: SignedSdp) -> Call:
        self._check_sdp(answer, "answer")
        async with self._db.write() as tx:
            call = await self._participant_call(tx, principal, call_id, lock=True)
            answered = self._apply(
                lambda: rules.answer(call, principal.user_id, principal.device_id, self._now())
            )
            await self._verify_sdp(tx, principal, call_id, answer)
            if not await tx.calls.save(answered, expect=CallState.RINGING):
                raise await self._lost_race(tx, call_id)
            await tx.calls.bind(call_id, Side.CALLEE, sid)
        self._cancel(("ring", call_id))
        await self._realtime.to_devices(
            [call.caller_device_id],
            CALL_ANSWERED,
            {
                "call_id": call_id,
                "answered_by": {"user_id": principal.user_id, "device_id": principal.device_id},
                "sdp": answer.wire(),
                "answered_at": wire_time(answered.answered_at) if answered.answered_at else None,
            },
        )
        await self._realtime.to_users(
            [call.callee_id], CALL_SELECTED, {"call_id": call_id, "device_id": principal.device_id}
        )
        return answered

    async def reject(self, principal: Principal, call_id: str) -> Call:
        return await self._finish(
            principal,
            call_id,
            lambda call: rules.reject(call, principal.user_id, self._now()),
        )

    async def hangup(self, principal: Principal, call_id: str, reason: EndReason | None) -> Call:
        return await self._finish(
            principal,
            call_id,
            lambda call: rules.hangup(
                call, principal.user_id, principal.device_id, reason, self._now()
            ),
        )

    async def candidate(
        self, principal: Principal, call_id: str, candidate: dict[str, Any]
    ) -> None:
        self._apply(lambda: rules.check_candidate(candidate["candidate"]))
        async with self._db.read() as tx:
            call = await self._participant_call(tx, principal, call_id)
        self._apply(lambda: rules.require_in_call(call, principal.user_id, principal.device_id))
        payload = {
            "call_id": call_id,
            "from_device_id": principal.device_id,
            "candidate": candidate,
        }
        peer = call.peer_device(principal.device_id)
        if peer is not None:
            await self._realtime.to_devices([peer], CALL_CANDIDATE, payload)
        else:  # the caller, before the answer: every callee device may be the one to answer
            await self._realtime.to_users([call.callee_id], CALL_CANDIDATE, payload)

    async def renegotiate(
        self,
        principal: Principal,
        call_id: str,
        reason: str,
        media: CallMedia | None,
        sdp: SignedSdp,
    ) -> Call:
        self._check_sdp(sdp, None)
        async with self._db.write() as tx:
            call = await self._participant_call(tx, principal, call_id, lock=True)
            self._apply(lambda: rules.require_in_call(call, principal.user_id, principal.device_id))
            if call.state is not CallState.ACTIVE:
                raise app_error(CallRuleError("call_not_active", "the call has not been answered"))
            await self._verify_sdp(tx, principal, call_id, sdp)
            if sdp.type == "offer" and media is not None and media is not call.media:
                changed = self._apply(lambda: rules.change_media(call, media))
                if not await tx.calls.save(changed, expect=CallState.ACTIVE):
                    raise await self._lost_race(tx, call_id)
                call = changed
        peer = call.peer_device(principal.device_id)
        await self._realtime.to_devices(
            [peer] if peer else [],
            CALL_RENEGOTIATE,
            {
                "call_id": call_id,
                "from_device_id": principal.device_id,
                "reason": reason,
                "media": call.media.value,
                "sdp": sdp.wire(),
            },
        )
        return call

    async def resume(self, principal: Principal, sid: str, call_id: str) -> dict[str, Any]:
        async with self._db.write() as tx:
            call = await self._participant_call(tx, principal, call_id)
            side = self._apply(
                lambda: rules.require_in_call(call, principal.user_id, principal.device_id)
            )
            await tx.calls.bind(call_id, side, sid)
            quality = await tx.calls.quality([call_id])
        self._cancel(("lost", f"{call_id}:{side.value}"))
        await self._tell_peer(call, principal.device_id, "connected")
        return call_out(call, rules.summarise(quality[call_id]))

    async def report(self, principal: Principal, call_id: str, stats: Stats) -> None:
        async with self._db.write() as tx:
            call = await self._participant_call(tx, principal, call_id)
            self._apply(lambda: rules.require_in_call(call, principal.user_id, principal.device_id))
            await tx.calls.add_quality(
                QualityReport(
                    call_id=call_id,
                    device_id=principal.device_id,
                    rtt_ms=stats.rtt_ms,
                    jitter_ms=stats.jitter_ms,
                    packet_loss_pct=stats.packet_loss_pct,
                    bitrate_kbps=stats.bitrate_kbps,
                    relayed=stats.relayed,
                    reported_at=self._now(),
                )
            )

    async def socket_lost(self, principal: Principal, sid: str, call_ids: set[str]) -> None:
        """A socket that carried these calls is gone: start each call's reconnect grace."""
        for call_id in call_ids:
            async with self._db.write() as tx:
                call = await tx.calls.get(call_id)
                side = call.side_of_device(principal.device_id) if call else None
                if call is None or side is None:
                    continue
                if not await tx.calls.mark_lost(call_id, side, sid, self._now()):
                    continue  # ended, or the device already came back on another socket
            await self._tell_peer(call, principal.device_id, "reconnecting")
            self._schedule(
                ("lost", f"{call_id}:{side.value}"),
                self._grace,
                functools.partial(self._lost_expired, call_id, side, sid),
            )

    # --- reading ---------------------------------------------------------------------------

    async def get(self, principal: Principal, call_id: str) -> dict[str, Any]:
        async with self._db.read() as tx:
            call = await self._participant_call(tx, principal, call_id)
            quality = await tx.calls.quality([call_id])
        return call_out(call, rules.summarise(quality[call_id]))

    async def history(
        self, principal: Principal, conversation_id: str, session_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        async with self._db.read() as tx:
            conversation = await tx.conversations.get(conversation_id)
            if conversation is None or conversation.member(principal.user_id) is None:
                raise conversation_not_found()
            calls = await tx.calls.recent(conversation_id, session_id, min(limit, HISTORY_MAX))
            quality = await tx.calls.quality([c.id for c in calls])
        return [call_out(c, rules.summarise(quality[c.id])) for c in calls]

    async def ops_overview(self, window: timedelta) -> dict[str, Any]:
        """Live calls and recent outcomes for ops: states, media, quality; no people, no SDP."""
        now = self._now()
        async with self._db.read() as tx:
            live = await tx.calls.live()
            recent = await tx.calls.ended_since(now - window)
            quality = await tx.calls.quality([c.id for c in live])
        reasons: dict[str, int] = {}
        for call in recent:
            key = call.end_reason.value if call.end_reason else "unknown"
            reasons[key] = reasons.get(key, 0) + 1
        durations = [d for c in recent if (d := c.duration_seconds) is not None]
        return {
            "ringing": sum(1 for c in live if c.state is CallState.RINGING),
            "active": sum(1 for c in live if c.state is CallState.ACTIVE),
            "live": [
                {
                    "call_id": c.id,
                    "state": c.state.value,
                    "media": c.media.value,
                    "in_session": c.session_id is not None,
                    "seconds": round((now - (c.answered_at or c.created_at)).total_seconds(), 1),
                    "quality": quality_out(rules.summarise(quality[c.id])),
                }
                for c in live
            ],
            "recent": {
                "window_seconds": int(window.total_seconds()),
                "ended": len(recent),
                "end_reasons": reasons,
                "duration_seconds_avg": (
                    round(sum(durations) / len(durations), 1) if durations else None
                ),
            },
        }

    # --- timers ----------------------------------------------------------------------------

    async def sweep(self) -> int:
        """End what no node's timer ended (its node died): overdue rings and expired graces."""
        now = self._now()
        async with self._db.read() as tx:
            overdue = await tx.calls.overdue(now, now - self._grace)
        ended = 0
        for call_id, reason in overdue:
            if reason is EndReason.MISSED:
                outcome = await self._end_if(call_id, reason, only_if=CallState.RINGING)
            else:  # re-checked in the ending transaction: the device may have resumed since
                check = functools.partial(self._still_lost_before, call_id, now - self._grace)
                outcome = await self._end_if(call_id, reason, check=check)
            ended += outcome is not None
        return ended

    @staticmethod
    async def _still_lost_before(call_id: str, before: datetime, tx: Transaction) -> bool:
        return await tx.calls.lost_before(call_id, before)

    async def close(self) -> None:
        for task in self._timers.values():
            task.cancel()
        for task in list(self._timers.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._timers.clear()

    async def _ring_expired(self, call_id: str) -> None:
        await self._end_if(call_id, EndReason.MISSED, only_if=CallState.RINGING)

    async def _lost_expired(self, call_id: str, side: Side, sid: str) -> None:
        async def still_lost(tx: Transaction) -> bool:
            return await tx.calls.still_lost(call_id, side, sid)

        await self._end_if(call_id, EndReason.CONNECTION_LOST, check=still_lost)

    def _schedule(
        self, key: tuple[str, str], delay: timedelta, work: Callable[[], Awaitable[None]]
    ) -> None:
        self._cancel(key)

        async def run() -> None:
            await asyncio.sleep(delay.total_seconds())
            self._timers.pop(key, None)
            try:
                await work()
            except Exception:
                log.exception("call timer %s failed; the sweeper will retry", key[0])

        self._timers[key] = asyncio.create_task(run())

    def _cancel(self, key: tuple[str, str]) -> None:
        task = self._timers.pop(key, None)
        if task is not None:
            task.cancel()

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now()

    @staticmethod
    def _apply(step: Callable[[], T]) -> T:
        try:
            return step()
        except CallRuleError as error:
            raise app_error(error) from None

    def _check_sdp(self, sdp: SignedSdp, expected: str | None) -> None:
        """`expected`: the SDP type the event needs (renegotiation takes either)."""
        if expected is not None and sdp.type != expected:
            raise Invalid(f"expected an SDP {expected}, got {sdp.type}", code="bad_sdp")
        self._apply(lambda: rules.check_sdp(sdp.sdp, sdp.type))

    @staticmethod
    async def _verify_sdp(
        tx: Transaction, principal: Principal, call_id: str, sdp: SignedSdp
    ) -> None:
        keys = await tx.keys.device(principal.device_id)
        if keys is None:
            raise Invalid(
                "this device has no published keys to sign its SDP with",
                code="device_keys_missing",
            )
        body = sdp_body(call_id, sdp.type, sdp.sdp, principal.device_id)
        if not verify(keys.signing_key, body, sdp.signature):
            raise Invalid("the SDP signature does not verify", code="bad_signature")

    @staticmethod
    async def _participant_call(
        tx: Transaction, principal: Principal, call_id: str, *, lock: bool = False
    ) -> Call:
        call = await tx.calls.get(call_id, lock=lock)
        if call is None or not call.participant(principal.user_id):
            raise call_not_found()
        return call

    @staticmethod
    async def _lost_race(tx: Transaction, call_id: str) -> AppError:
        current = await tx.calls.get(call_id)
        if current is not None and current.state is CallState.ACTIVE:
            return Conflict("another device answered this call", code="call_taken")
        return Conflict("the call has ended", code="call_ended")

    def _glare(self, principal: Principal, existing: Call) -> Conflict:
        if existing.caller_id == principal.user_id:
            return Conflict(
                "you already have a call in this conversation",
                code="call_in_progress",
                details={"call_id": existing.id},
            )
        return Conflict(
            "the other person is calling you: answer their call",
            code="glare",
            details={"call_id": existing.id},
        )

    async def _finish(
        self, principal: Principal, call_id: str, step: Callable[[Call], Call]
    ) -> Call:
        async with self._db.write() as tx:
            call = await self._participant_call(tx, principal, call_id, lock=True)
            ended = self._apply(lambda: step(call))
            if not await tx.calls.save(ended, expect=call.state):
                raise await self._lost_race(tx, call_id)
        await self._after_end(ended, principal.device_id)
        return ended

    async def _end_if(
        self,
        call_id: str,
        reason: EndReason,
        *,
        only_if: CallState | None = None,
        check: Callable[[Transaction], Awaitable[bool]] | None = None,
    ) -> Call | None:
        """End a call for a timer or the sweeper, unless it ended or changed meanwhile."""
        staged = []
        async with self._db.write() as tx:
            call = await tx.calls.get(call_id, lock=True)
            if call is None or call.state is CallState.ENDED:
                return None
            if only_if is not None and call.state is not only_if:
                return None
            if check is not None and not await check(tx):
                return None
            ended = rules.end(call, reason, None, self._now())
            if not await tx.calls.save(ended, expect=call.state):
                return None
            if reason is EndReason.MISSED:
                staged = await self._notifications.stage(
                    tx, [call.callee_id], MISSED_CALL, self._missed_payload(call)
                )
        await self._notifications.deliver(staged)
        await self._after_end(ended, None)
        return ended

    async def _after_end(self, call: Call, by_device_id: str | None) -> None:
        self._cancel(("ring", call.id))
        for side in Side:
            self._cancel(("lost", f"{call.id}:{side.value}"))
        await self._realtime.to_users(
            [call.caller_id, call.callee_id], CALL_ENDED, ended_event(call, by_device_id)
        )

    async def _tell_peer(self, call: Call, device_id: str, state: str) -> None:
        peer = call.peer_device(device_id)
        if peer is None:
            return
        await self._realtime.to_devices(
            [peer],
            CALL_PEER,
            {
                "call_id": call.id,
                "device_id": device_id,
                "state": state,
                "grace_seconds": int(self._grace.total_seconds()),
            },
        )

    @staticmethod
    def _missed_payload(call: Call) -> dict[str, Any]:
        return {
            "call_id": call.id,
            "conversation_id": call.conversation_id,
            "caller_id": call.caller_id,
            "media": call.media.value,
            "at": wire_time(call.created_at),
        }
