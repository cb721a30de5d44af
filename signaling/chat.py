"""Chat events: message.send, sync, history, receipt.read, typing."""

from __future__ import annotations

import time
from typing import Any

import orjson

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.chat import Message
from rtserver.domain.rate import TokenBucket
from rtserver.errors import Invalid, RateLimited
from rtserver.protocol import MESSAGE, TYPING_EVENT
from rtserver.services.messages import MessageService, message_event
from rtserver.timefmt import wire_time
from signaling.acks import SocketSessions, acked
from signaling.chat_payloads import History, MessageSend, ReceiptRead, Sync, Typing
from signaling.group import EventGroup
from signaling.rooms import user_room
from signaling.server import SocketServer


def _messages(messages: list[Message]) -> list[dict[str, Any]]:
    return [message_event(m) for m in messages]


class ChatEvents(EventGroup):
    def __init__(
        self,
        sessions: SocketSessions,
        sio: SocketServer,
        messages: MessageService,
        clock: Clock,
        *,
        max_envelope_bytes: int,
        rate: float,
        burst: int,
        typing_ttl_seconds: float,
    ) -> None:
        super().__init__(sessions)
        self._sio = sio
        self._messages = messages
        self._clock = clock
        self._max_envelope_bytes = max_envelope_bytes
        self._rate = rate
        self._burst = burst
        self._typing_ttl_ms = int(typing_ttl_seconds * 1000)
        self._buckets: dict[str, TokenBucket] = {}

    async def socket_connected(self, sid: str, principal: Principal) -> None:
        pass  # its bucket is made full by its first event, as it would have refilled by then

    async def socket_disconnected(self, sid: str, principal: Principal) -> None:
        self._buckets.pop(sid, None)

    def _spend(self, sid: str, cost: float = 1.0) -> None:
        now = time.monotonic()
        bucket = self._buckets.get(sid)
        if bucket is None:
            bucket = self._buckets[sid] = TokenBucket.full(self._rate, self._burst, now)
        if not bucket.take(now, cost):
            raise RateLimited(
                "sending too fast on this connection; slow down",
                code="rate_limited",
                retry_after=max(1, round(bucket.retry_after(cost))),
            )

    @acked(MessageSend)
    async def on_message_send(
        self, sid: str, principal: Principal, payload: MessageSend
    ) -> dict[str, Any]:
        envelope = payload.envelope.model_dump()
        if envelope["sender_device_id"] != principal.device_id:
            raise Invalid("envelope names another sending device", code="bad_envelope")
        envelope_json = orjson.dumps(envelope).decode()  # as stored; its size is what is limited
        if len(envelope_json) > self._max_envelope_bytes:
            raise Invalid(
                f"envelope larger than {self._max_envelope_bytes} bytes", code="too_large"
            )
        self._spend(sid)
        result = await self._messages.send(
            principal, payload.conversation_id, payload.client_msg_id, envelope, envelope_json
        )
        if not result.duplicate:
            await self._sio.emit(
                MESSAGE,
                message_event(result.message),
                room=[user_room(u) for u in result.member_ids],
                skip_sid=sid,
            )
        return {
            "seq": result.message.seq,
            "sent_at": wire_time(result.message.sent_at),
            "duplicate": result.duplicate,
        }

    @acked(Sync)
    async def on_sync(self, sid: str, principal: Principal, payload: Sync) -> dict[str, Any]:
        page = await self._messages.sync(principal, dict(payload.cursors), payload.limit)
        return {
            "messages": _messages(page.messages),
            "more": page.more,
            "heads": page.heads,
            "floors": page.floors,
            "not_member": page.not_member,
        }

    @acked(History)
    async def on_history(self, sid: str, principal: Principal, payload: History) -> dict[str, Any]:
        messages, has_more = await self._messages.history(
            principal, payload.conversation_id, payload.before_seq, payload.limit
        )
        return {"messages": _messages(messages), "has_more": has_more}

    @acked(ReceiptRead)
    async def on_receipt_read(
        self, sid: str, principal: Principal, payload: ReceiptRead
    ) -> dict[str, Any]:
        self._spend(sid, 0.25)
        read_seq = await self._messages.mark_read(principal, payload.conversation_id, payload.seq)
        return {"read_seq": read_seq}

    @acked(Typing)
    async def on_typing(self, sid: str, principal: Principal, payload: Typing) -> dict[str, Any]:
        self._spend(sid, 0.25)
        member_ids = await self._messages.relay_members(principal, payload.conversation_id)
        others = [user_room(u) for u in member_ids if u != principal.user_id]
        if others:
            await self._sio.emit(
                TYPING_EVENT,
                {
                    "conversation_id": payload.conversation_id,
                    "user_id": principal.user_id,
                    "on": payload.on,
                    "ttl_ms": self._typing_ttl_ms,
                },
                room=others,
            )
        return {}
