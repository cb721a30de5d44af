"""Conversations and messages: value types and the membership rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from rtserver.domain.accounts import Role


class ConversationKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"


class MemberRole(StrEnum):
    OWNER = "owner"
    MODERATOR = "moderator"
    MEMBER = "member"


@dataclass(frozen=True)
class Member:
    user_id: str
    role: MemberRole
    joined_at: datetime
    joined_seq: int
    read_seq: int


@dataclass(frozen=True)
class Conversation:
    id: str
    kind: ConversationKind
    title: str | None
    created_by: str
    created_at: datetime
    last_seq: int
    members: tuple[Member, ...]

    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(m.user_id for m in self.members)


@dataclass(frozen=True)
class Message:
    conversation_id: str
    seq: int
    sender_id: str
    sender_device_id: str
    client_msg_id: str
    envelope: dict[str, Any]
    sent_at: datetime


def pair_key(user_a: str, user_b: str) -> str:
    """The one key of a direct conversation between two users, whoever opens it."""
    first, second = sorted((user_a, user_b))
    return f"{first}:{second}"


def may_open_direct(opener: Role, other: Role) -> bool:
    """Direct conversations are counselor <-> client; a client cannot open one by themselves
    (they get one when a booking is confirmed)."""
    return opener is Role.COUNSELOR and other is Role.CLIENT


def may_create_group(creator: Role) -> bool:
    return creator is Role.COUNSELOR


def may_join_rooms(role: Role) -> bool:
    """Group rooms are for clients and counselors; staff accounts never read conversations."""
    return role in (Role.CLIENT, Role.COUNSELOR)


def may_manage_members(role: MemberRole) -> bool:
    return role in (MemberRole.OWNER, MemberRole.MODERATOR)
