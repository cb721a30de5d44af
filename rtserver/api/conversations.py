"""/api/v1/conversations: my conversations, group rooms and their members, message history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rtserver.api.keys import CONVERSATIONS, MESSAGES
from rtserver.api.routing import Call, RouteTable
from rtserver.domain.chat import Conversation, ConversationKind, MemberRole
from rtserver.services.messages import message_event

routes = RouteTable("conversations")
Id = Annotated[str, Field(min_length=1, max_length=64)]


class MemberOut(BaseModel):
    user_id: str
    role: MemberRole
    read_seq: int


class ConversationOut(BaseModel):
    id: str
    kind: ConversationKind
    title: str | None
    created_at: datetime
    last_seq: int
    members: list[MemberOut]


class ConversationList(BaseModel):
    conversations: list[ConversationOut]


class OpenDirect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["direct"]
    client_id: Id


class CreateGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["group"]
    title: str = Field(min_length=1, max_length=120)
    member_ids: list[Id] = Field(default_factory=list, max_length=49)


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation: OpenDirect | CreateGroup = Field(discriminator="kind")


class AddMember(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: Id
    role: Literal["member", "moderator"] = "member"


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before_seq: int | None = Field(default=None, ge=1)
    limit: int = Field(default=50, ge=1, le=100)


class MessagePage(BaseModel):
    messages: list[dict[str, Any]]
    has_more: bool


def conversation_out(conversation: Conversation) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        kind=conversation.kind,
        title=conversation.title,
        created_at=conversation.created_at,
        last_seq=conversation.last_seq,
        members=[
            MemberOut(user_id=m.user_id, role=m.role, read_seq=m.read_seq)
            for m in conversation.members
        ],
    )


@routes.route("GET", "/api/v1/conversations", summary="My conversations", response=ConversationList)
async def list_conversations(call: Call[None]) -> ConversationList:
    found = await call.request.app[CONVERSATIONS].mine(call.principal)
    return ConversationList(conversations=[conversation_out(c) for c in found])


@routes.route(
    "POST",
    "/api/v1/conversations",
    summary="Open a direct conversation with a client, or create a group room (counselors)",
    body=CreateConversation,
    response=ConversationOut,
    status=201,
    errors=("user_not_found", "invalid_participants", "too_many_members"),
)
async def create_conversation(call: Call[CreateConversation]) -> ConversationOut:
    service = call.request.app[CONVERSATIONS]
    spec = call.body.conversation
    if isinstance(spec, OpenDirect):
        created = await service.open_direct_as(call.principal, spec.client_id)
    else:
        created = await service.create_group(call.principal, spec.title, spec.member_ids)
    return conversation_out(created)


@routes.route(
    "GET",
    "/api/v1/conversations/{conversation_id}",
    summary="One of my conversations",
    response=ConversationOut,
    errors=("conversation_not_found",),
)
async def get_conversation(call: Call[None]) -> ConversationOut:
    return conversation_out(
        await call.request.app[CONVERSATIONS].get(
            call.principal, call.request.match_info["conversation_id"]
        )
    )


@routes.route(
    "GET",
    "/api/v1/conversations/{conversation_id}/messages",
    summary="A page of history before `before_seq` (newest page without it), oldest first",
    query=HistoryQuery,
    response=MessagePage,
    errors=("conversation_not_found",),
)
async def message_history(call: Call[None]) -> MessagePage:
    query: HistoryQuery = call.query
    messages, has_more = await call.request.app[MESSAGES].history(
        call.principal, call.request.match_info["conversation_id"], query.before_seq, query.limit
    )
    return MessagePage(messages=[message_event(m) for m in messages], has_more=has_more)


@routes.route(
    "POST",
    "/api/v1/conversations/{conversation_id}/members",
    summary="Add a member to a group room (owner or moderator)",
    body=AddMember,
    response=ConversationOut,
    errors=("conversation_not_found", "not_a_group", "user_not_found", "too_many_members"),
)
async def add_member(call: Call[AddMember]) -> ConversationOut:
    return conversation_out(
        await call.request.app[CONVERSATIONS].add_member(
            call.principal,
            call.request.match_info["conversation_id"],
            call.body.user_id,
            MemberRole(call.body.role),
        )
    )


@routes.route(
    "DELETE",
    "/api/v1/conversations/{conversation_id}/members/{user_id}",
    summary="Remove a member from a group room, or leave it",
    response=ConversationOut,
    errors=("conversation_not_found", "not_a_group", "member_not_found", "owner_cannot_leave"),
)
async def remove_member(call: Call[None]) -> ConversationOut:
    return conversation_out(
        await call.request.app[CONVERSATIONS].remove_member(
            call.principal,
            call.request.match_info["conversation_id"],
            call.request.match_info["user_id"],
        )
    )
