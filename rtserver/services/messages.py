"""Messages: durable send with gapless seq and idempotent retry, sync, history, read receipts.

Order of a send: validate -> commit (seq taken inside the transaction) -> ack -> fan-out. The
fan-out is a hint; the store is the truth, and devices recover by `sync`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from rtserver.auth.throttle import Counters, CountersUnavailable
from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.chat import Message
from rtserver.domain.keys import coverage, envelope_body, verify
from rtserver.errors import Invalid, RateLimited
from rtserver.protocol import RECEIPT
from rtserver.services.connections import Realtime
from rtserver.services.conversations import not_found
from rtserver.store.chat import DuplicateClientMessage
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction
from rtserver.timefmt import wire_time

HISTORY_MAX = 100
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
        *,
        max_per_user_per_minute: int,
        sync_page: int,
    ) -> None:
        self._db = database
        self._realtime = realtime
        self._counters = counters
        self._clock = clock
        self._max_per_user = max_per_user_per_minute
        self._sync_page = sync_page

    async def send(
        self,
        principal: Principal,
        conversation_id: str,
        client_msg_id: str,
        envelope: dict[str, Any],
    ) -> SendResult:
        """Commit the message (or find the one this client_msg_id already stored). The caller
        acks with the seq and fans the message out to `member_ids`."""
        for attempt in range(2):
            try:
                async with self._db.write() as tx:
                    member_ids = await tx.conversations.member_ids(conversation_id)
                    if principal.user_id not in member_ids:
                        raise not_found()
                    existing = await tx.messages.by_client_id(
                        conversation_id, principal.user_id, client_msg_id
                    )
                    if existing is not None:
                        return SendResult(existing, duplicate=True, member_ids=member_ids)
                    await self._check_envelope(
                        tx, principal, conversation_id, member_ids, client_msg_id, envelope
                    )
                    if attempt == 0:
                        await self._check_user_rate(principal.user_id)
                    message = Message(
                        conversation_id=conversation_id,
                        seq=await tx.conversations.next_seq(conversation_id),
                        sender_id=principal.user_id,
                        sender_device_id=principal.device_id,
                        client_msg_id=client_msg_id,
                        envelope=envelope,
                        sent_at=self._clock.now(),
                    )
                    await tx.messages.add(message)
                    return SendResult(message, duplicate=False, member_ids=member_ids)
            except DuplicateClientMessage:
                # A concurrent retry committed this client_msg_id first (PostgreSQL); our
                # transaction, and the seq it took, rolled back. Read theirs.
                continue
        raise RuntimeError("unreachable: duplicate message vanished")  # pragma: no cover

    @staticmethod
    async def _check_envelope(
        tx: Transaction,
        principal: Principal,
        conversation_id: str,
        member_ids: list[str],
        client_msg_id: str,
        envelope: dict[str, Any],
    ) -> None:
        """The sender must be a current device of its user, the signature must bind the envelope
        to this conversation, its members and this client_msg_id, and every current device of
        every member must be able to open it."""
        current = await tx.keys.current_devices(member_ids)
        sender = current.get(principal.user_id, {}).get(principal.device_id)
        if sender is None:
            raise Invalid(
                "this device has no current keys: publish them and the device list first",
                code="device_keys_missing",
            )
        signed = envelope_body(
            envelope, conversation_id, member_ids, principal.user_id, client_msg_id
        )
        if not verify(sender.signing_key, signed, envelope["signature"]):
            raise Invalid("envelope signature does not verify", code="bad_signature")
        found = coverage(
            {user: list(devices) for user, devices in current.items()},
            [r["device_id"] for r in envelope["recipients"]],
        )
        if found.missing:
            raise Invalid(
                "some current devices cannot open this message; fetch their keys and resend",
                code="missing_devices",
                details={"missing": found.missing},
            )
        if found.unknown:
            raise Invalid(
                "the message is addressed to devices that are not current members' devices",
                code="unknown_devices",
                details={"devices": found.unknown},
            )

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
            mine = {c.id: c for c in await tx.conversations.of_user(principal.user_id)}
            not_member = sorted(set(cursors) - set(mine))
            wanted = {cid: cursors.get(cid, 0) for cid in mine}
            floors = {
                cid: conv.member(principal.user_id).joined_seq  # type: ignore[union-attr]
                for cid, conv in mine.items()
            }
            messages = await tx.messages.after(
                {cid: after for cid, after in wanted.items() if after < mine[cid].last_seq},
                floors,
                page + 1,
            )
        return SyncPage(
            messages=messages[:page],
            more=len(messages) > page,
            heads={cid: conv.last_seq for cid, conv in mine.items()},
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
