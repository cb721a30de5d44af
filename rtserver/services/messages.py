"""Messages: durable send with gapless seq and idempotent retry, sync, history, read receipts.

Order of a send: validate -> commit (seq taken inside the group commit's transaction) -> ack ->
fan-out. The fan-out is a hint; the store is the truth, and devices recover by `sync`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from rtserver.auth.throttle import Counters, CountersUnavailable
from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.chat import Message
from rtserver.domain.chat_send import (
    NOT_MEMBER,
    BatchSend,
    ConversationView,
    Refusal,
    SendKey,
    check_send,
)
from rtserver.errors import Conflict, Invalid, RateLimited
from rtserver.protocol import RECEIPT
from rtserver.services.connections import Realtime
from rtserver.services.conversation_views import ConversationViews
from rtserver.services.conversations import not_found
from rtserver.services.group_commit import Committed, GroupCommit
from rtserver.store import chat_batch
from rtserver.store.database import Database
from rtserver.timefmt import wire_time

HISTORY_MAX = 100
_RECHECKS = 3  # a send whose conversation changes under it this often is refused
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    message: Message
    duplicate: bool
    member_ids: list[str]


@dataclass(frozen=True)
class SyncPage:
    messages: list[Message]
    more: bool
    heads: dict[str, int]
    floors: dict[str, int]
    not_member: list[str]


def message_event(message: Message) -> dict[str, Any]:
    return {
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender": {"user_id": message.sender_id, "device_id": message.sender_device_id},
        "client_msg_id": message.client_msg_id,
        "envelope": message.envelope,
        "sent_at": wire_time(message.sent_at),
    }


class MessageService:
    def __init__(
        self,
        database: Database,
        realtime: Realtime,
        counters: Counters,
        clock: Clock,
        views: ConversationViews,
        committer: GroupCommit,
        *,
        max_per_user_per_minute: int,
        sync_page: int,
    ) -> None:
        self._db = database
        self._realtime = realtime
        self._counters = counters
        self._clock = clock
        self._views = views
        self._committer = committer
        self._max_per_user = max_per_user_per_minute
        self._sync_page = sync_page

    async def send(
        self,
        principal: Principal,
        conversation_id: str,
        client_msg_id: str,
        envelope: dict[str, Any],
        envelope_json: str,
    ) -> SendResult:
        """Commit the message (or find the one this client_msg_id already stored). The caller
        acks with the seq and fans the message out to `member_ids`.

        The envelope is checked against the cached conversation view (on a refusal, against a
        fresh one before answering); the group commit stores it only if that view is still the
        truth inside its transaction, else it is checked again against the view read there."""
        key = (conversation_id, principal.user_id, client_msg_id)
        view = await self._views.get(conversation_id)
        if self._check(view, principal, client_msg_id, envelope) is not None:
            view = await self._views.fresh(conversation_id)  # the cache may be behind
            refusal = self._check(view, principal, client_msg_id, envelope)
            if refusal is not None:
                return await self._refused(key, refusal)
        assert view is not None
        try:
            await self._check_user_rate(principal.user_id)
        except RateLimited:
            stored = await self._stored(key)
            if stored is None:
                raise
            return SendResult(stored, duplicate=True, member_ids=sorted(view.members))
        message = Message(
            conversation_id=conversation_id,
            seq=0,
            sender_id=principal.user_id,
            sender_device_id=principal.device_id,
            client_msg_id=client_msg_id,
            envelope=envelope,
            sent_at=self._clock.now(),
        )
        for _ in range(_RECHECKS):
            outcome = await self._committer.submit(BatchSend(key, view), message, envelope_json)
            if isinstance(outcome, Committed):
                return SendResult(outcome.message, outcome.duplicate, outcome.member_ids)
            refusal = self._check(outcome.view, principal, client_msg_id, envelope)
            if refusal is not None:
                return await self._refused(key, refusal)
            assert outcome.view is not None
            view = outcome.view
        raise Conflict(
            "the conversation kept changing while this message was sent; send it again",
            code="conversation_changed",
        )

    async def relay_members(self, principal: Principal, conversation_id: str) -> frozenset[str]:
        """Members of a conversation the caller belongs to, for ephemeral relays (typing); from
        the node's view cache (services.conversation_views says how fresh that is)."""
        view = await self._views.get(conversation_id)
        if view is None or principal.user_id not in view.members:
            view = await self._views.fresh(conversation_id)
            if view is None or principal.user_id not in view.members:
                raise not_found()
        return view.members

    @staticmethod
    def _check(
        view: ConversationView | None,
        principal: Principal,
        client_msg_id: str,
        envelope: dict[str, Any],
    ) -> Refusal | None:
        if view is None:
            return NOT_MEMBER
        return check_send(view, principal.user_id, principal.device_id, client_msg_id, envelope)

    async def _refused(self, key: SendKey, refusal: Refusal) -> SendResult:
        """Raise the refusal, unless this client_msg_id is already stored: a retry is answered
        with the stored message even if keys changed since (membership is checked first, so a
        former member learns nothing)."""
        if refusal is NOT_MEMBER:
            raise not_found()
        stored = await self._stored(key)
        if stored is None:
            raise Invalid(refusal.message, code=refusal.code, details=refusal.details)
        return SendResult(stored, duplicate=True, member_ids=[])

    async def _stored(self, key: SendKey) -> Message | None:
        async with self._db.read_connection() as connection:
            return (await chat_batch.stored(connection, [key])).get(key)

    async def _check_user_rate(self, user_id: str) -> None:
        """Per-user limit across devices and nodes. Fails open when the shared counters are
        away: a Redis outage may slow messages, never stop them."""
        try:
            count = await self._counters.hit(f"chat:user:{user_id}", 60)
        except CountersUnavailable:
            log.warning("chat rate counters unavailable; not limiting")
            return
        if count > self._max_per_user:
            _, ttl = await self._counters.get(f"chat:user:{user_id}")
            raise RateLimited(
                "too many messages from this account; slow down",
                code="rate_limited",
                retry_after=max(ttl, 1),
            )

    async def sync(
        self, principal: Principal, cursors: dict[str, int], limit: int | None = None
    ) -> SyncPage:
        """Everything after each cursor, in order, one page at a time. Conversations the user
        belongs to but did not name start from the beginning (a new device catches up)."""
        page = min(limit or self._sync_page, self._sync_page)
        async with self._db.read() as tx:
            mine = await tx.conversations.positions_of(principal.user_id)
            not_member = sorted(set(cursors) - set(mine))
            floors = {cid: joined for cid, (_, joined) in mine.items()}
            behind = {
                cid: after
                for cid, (last, _) in mine.items()
                if (after := cursors.get(cid, 0)) < last
            }
            messages = await tx.messages.after(behind, floors, page + 1)
        return SyncPage(
            messages=messages[:page],
            more=len(messages) > page,
            heads={cid: last for cid, (last, _) in mine.items()},
            floors=floors,
            not_member=not_member,
        )

    async def history(
        self, principal: Principal, conversation_id: str, before_seq: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        limit = max(1, min(limit, HISTORY_MAX))
        async with self._db.read() as tx:
            member = await tx.conversations.member(conversation_id, principal.user_id)
            if member is None:
                raise not_found()
            messages = await tx.messages.before(
                conversation_id, before_seq, member.joined_seq, limit + 1
            )
        has_more = len(messages) > limit
        return messages[-limit:] if has_more else messages, has_more

    async def mark_read(self, principal: Principal, conversation_id: str, seq: int) -> int:
        async with self._db.write() as tx:
            if await tx.conversations.member(conversation_id, principal.user_id) is None:
                raise not_found()
            last_seq = await tx.conversations.last_seq(conversation_id)
            if seq > last_seq:
                raise Invalid(
                    f"seq {seq} is beyond the last message ({last_seq})", code="invalid_seq"
                )
            read_seq = await tx.conversations.mark_read(conversation_id, principal.user_id, seq)
            member_ids = await tx.conversations.member_ids(conversation_id)
        await self._realtime.to_users(
            member_ids,
            RECEIPT,
            {"conversation_id": conversation_id, "user_id": principal.user_id, "seq": read_seq},
        )
        return read_seq
