"""Conversations: opening direct ones, group rooms and their members, who may see what."""

from __future__ import annotations

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal, Role
from rtserver.domain.chat import (
    Conversation,
    ConversationKind,
    MemberRole,
    may_create_group,
    may_join_rooms,
    may_manage_members,
    may_open_direct,
    pair_key,
)
from rtserver.errors import Forbidden, Invalid, NotFound
from rtserver.ids import new_id
from rtserver.protocol import CONVERSATION_UPDATED
from rtserver.services.connections import Realtime
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction

MAX_GROUP_MEMBERS = 50


def not_found() -> NotFound:
    # The same answer whether it does not exist or the caller is not a member: non-members must
    # not learn that a conversation exists.
    return NotFound("no such conversation", code="conversation_not_found")


class ConversationService:
    def __init__(self, database: Database, realtime: Realtime, clock: Clock) -> None:
        self._db = database
        self._realtime = realtime
        self._clock = clock

    async def open_direct(self, counselor_id: str, client_id: str) -> Conversation:
        """The one conversation of a counselor-client pair, created on first use. Called by a
        counselor through the API and by booking confirmation."""
        key = pair_key(counselor_id, client_id)
        async with self._db.write() as tx:
            existing = await tx.conversations.by_pair(key)
            if existing:
                return existing
            await self._require_roles(tx, counselor_id, client_id)
            await tx.conversations.add(
                new_id(),
                ConversationKind.DIRECT,
                None,
                key,
                counselor_id,
                self._clock.now(),
                [(counselor_id, MemberRole.OWNER), (client_id, MemberRole.MEMBER)],
            )
            conversation = await tx.conversations.by_pair(key)
        assert conversation is not None
        await self._announce(conversation)
        return conversation

    async def open_direct_as(self, principal: Principal, client_id: str) -> Conversation:
        if principal.role is not Role.COUNSELOR:
            raise Forbidden("only a counselor can open a conversation with a client")
        return await self.open_direct(principal.user_id, client_id)

    async def create_group(
        self, principal: Principal, title: str, member_ids: list[str]
    ) -> Conversation:
        if not may_create_group(principal.role):
            raise Forbidden("only a counselor can create a group room")
        others = sorted(set(member_ids) - {principal.user_id})
        if len(others) + 1 > MAX_GROUP_MEMBERS:
            raise Invalid(
                f"a group has at most {MAX_GROUP_MEMBERS} members", code="too_many_members"
            )
        conversation_id = new_id()
        async with self._db.write() as tx:
            for user_id in others:
                await self._require_joinable(tx, user_id)
            await tx.conversations.add(
                conversation_id,
                ConversationKind.GROUP,
                title,
                None,
                principal.user_id,
                self._clock.now(),
                [(principal.user_id, MemberRole.OWNER)] + [(u, MemberRole.MEMBER) for u in others],
            )
            conversation = await tx.conversations.get(conversation_id)
        assert conversation is not None
        await self._announce(conversation)
        return conversation

    async def add_member(
        self, principal: Principal, conversation_id: str, user_id: str, role: MemberRole
    ) -> Conversation:
        async with self._db.write() as tx:
            conversation = await self._managed_group(tx, principal, conversation_id)
            if len(conversation.members) >= MAX_GROUP_MEMBERS:
                raise Invalid(
                    f"a group has at most {MAX_GROUP_MEMBERS} members", code="too_many_members"
                )
            await self._require_joinable(tx, user_id)
            if role is MemberRole.OWNER:
                raise Invalid("a group has one owner", code="invalid_member_role")
            await tx.conversations.add_member(conversation_id, user_id, role, self._clock.now())
            updated = await tx.conversations.get(conversation_id)
        assert updated is not None
        await self._announce(updated)
        return updated

    async def remove_member(
        self, principal: Principal, conversation_id: str, user_id: str
    ) -> Conversation:
        async with self._db.write() as tx:
            conversation = await tx.conversations.get(conversation_id)
            caller = conversation.member(principal.user_id) if conversation else None
            if conversation is None or caller is None:
                raise not_found()
            leaving_self = user_id == principal.user_id
            if conversation.kind is not ConversationKind.GROUP:
                raise Invalid("members of a direct conversation cannot change", code="not_a_group")
            target = conversation.member(user_id)
            if target is None:
                raise NotFound("not a member", code="member_not_found")
            if target.role is MemberRole.OWNER:
                raise Invalid("the owner cannot leave or be removed", code="owner_cannot_leave")
            if not leaving_self and not may_manage_members(caller.role):
                raise Forbidden("only the owner or a moderator can remove members")
            await tx.conversations.remove_member(conversation_id, user_id)
            updated = await tx.conversations.get(conversation_id)
        assert updated is not None
        await self._announce(updated, also=[user_id])
        return updated

    async def mine(self, principal: Principal) -> list[Conversation]:
        async with self._db.read() as tx:
            return await tx.conversations.of_user(principal.user_id)

    async def get(self, principal: Principal, conversation_id: str) -> Conversation:
        async with self._db.read() as tx:
            conversation = await tx.conversations.get(conversation_id)
        if conversation is None or conversation.member(principal.user_id) is None:
            raise not_found()
        return conversation

    async def member_ids(self, principal: Principal, conversation_id: str) -> list[str]:
        """Members of a conversation the caller belongs to (conversation_not_found otherwise)."""
        async with self._db.read() as tx:
            member_ids = await tx.conversations.member_ids(conversation_id)
        if principal.user_id not in member_ids:
            raise not_found()
        return member_ids

    async def _managed_group(
        self, tx: Transaction, principal: Principal, conversation_id: str
    ) -> Conversation:
        conversation = await tx.conversations.get(conversation_id)
        caller = conversation.member(principal.user_id) if conversation else None
        if conversation is None or caller is None:
            raise not_found()
        if conversation.kind is not ConversationKind.GROUP:
            raise Invalid("members of a direct conversation cannot change", code="not_a_group")
        if not may_manage_members(caller.role):
            raise Forbidden("only the owner or a moderator can add members")
        return conversation

    @staticmethod
    async def _require_joinable(tx: Transaction, user_id: str) -> None:
        user = await tx.users.get(user_id)
        if user is None or not user.active:
            raise NotFound("no such user", code="user_not_found")
        if not may_join_rooms(user.role):
            raise Invalid("only clients and counselors can be members", code="invalid_participants")

    @staticmethod
    async def _require_roles(tx: Transaction, counselor_id: str, client_id: str) -> None:
        counselor = await tx.users.get(counselor_id)
        client = await tx.users.get(client_id)
        if counselor is None or client is None or not client.active:
            raise NotFound("no such user", code="user_not_found")
        if not may_open_direct(counselor.role, client.role):
            raise Invalid(
                "a direct conversation is between a counselor and a client",
                code="invalid_participants",
            )

    async def _announce(self, conversation: Conversation, also: list[str] | None = None) -> None:
        await self._realtime.to_users(
            [*conversation.member_ids, *(also or [])],
            CONVERSATION_UPDATED,
            {"conversation_id": conversation.id, "last_seq": conversation.last_seq},
        )
